//! Recorded responses of the real metadata APIs (`tests/fixtures/metadata/`, sources named in
//! its `sources.md`) parsed into the rights domain's types, and judged by the pre-flight.

use altinn_onboard::profile::{RequestKind, SystemSpec};
use altinn_onboard::rights::{
    self, Fit, Outcome, Purpose, RightCandidate, RightKind, filter_resources, preflight,
    resource_keywords,
};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/metadata")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn find<'a>(list: &'a [RightCandidate], id: &str) -> &'a RightCandidate {
    list.iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} in the fixture"))
}

#[test]
fn resource_search_answer() {
    let v = fixture("resource_search.json");
    let all = rights::parse_resource_list(&v);
    assert_eq!(all.len(), v.as_array().unwrap().len(), "every entry parses");
    assert_eq!(all.len(), 37);

    let generic = find(&all, "generic-access-resource");
    assert_eq!(generic.kind, RightKind::Resource);
    assert_eq!(
        generic.resource_type.as_deref(),
        Some("GenericAccessResource")
    );
    assert_eq!(generic.urn, "urn:altinn:resource:generic-access-resource");
    assert!(generic.standard().is_yes());

    // Types no system user can hold: AUTH.VLD-00017.
    for id in ["jks_audi_a3", "se_1337_1338", "ttd_skattegrunnlag"] {
        let c = find(&all, id);
        assert!(
            matches!(c.standard(), Fit::No { ref code, .. } if code == "AUTH.VLD-00017"),
            "{id}: {:?}",
            c.standard()
        );
    }
    // A delegable type with `delegable: false`: AUTH-00070 at approval.
    let am = find(&all, "altinn_access_management");
    assert_eq!(am.resource_type.as_deref(), Some("Systemresource"));
    assert_eq!(am.delegable, Some(false));
    assert!(matches!(am.standard(), Fit::No { ref code, .. } if code == "AUTH-00070"));
    // `delegable` absent: the model's default, true.
    let sys = find(&all, "system_resource");
    assert_eq!(sys.delegable, Some(true));
    assert_eq!(sys.resource_type.as_deref(), Some("SystemResource"));
    assert!(
        sys.standard().is_yes(),
        "type names match case-insensitively"
    );
    // The Maskinporten scopes among the resource references.
    let mp = find(&all, "ttd-am-k6");
    assert_eq!(mp.scopes, ["test:am/k6.read", "test:am/k6.write"]);
    assert_eq!(
        mp.owner.as_ref().and_then(|o| o.code.as_deref()),
        Some("TTD")
    );

    // The local filter over the list (the registry's search has no free-text term).
    let with_words: Vec<(RightCandidate, Vec<String>)> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| RightCandidate::from_service_resource(r).map(|c| (c, resource_keywords(r))))
        .collect();
    let hits = filter_resources(&with_words, "authparties-main");
    assert!(hits.len() >= 3 && hits.iter().all(|c| c.id.contains("authparties-main")));
}

#[test]
fn single_resource_answer() {
    let v = fixture("resource_ske-innrapportering-boligsameie.json");
    let c = RightCandidate::from_service_resource(&v).expect("parses");
    assert_eq!(c.id, "ske-innrapportering-boligsameie");
    assert_eq!(
        c.name.nb,
        "Boligsameie – rapportering av tredjepartsopplysninger"
    );
    assert_eq!(
        c.name.en.as_deref(),
        Some("Jointly owned property – third-party data reporting")
    );
    let owner = c.owner.as_ref().expect("competent authority");
    assert_eq!(
        (
            owner.org_no.as_deref(),
            owner.code.as_deref(),
            owner.name.as_str()
        ),
        (Some("974761076"), Some("skd"), "Skatteetaten")
    );
    assert!(c.standard().is_yes());
    assert!(c.matches("urn:altinn:resource:ske-innrapportering-boligsameie"));
}

#[test]
fn package_search_and_lookup_answers() {
    let hits = rights::parse_package_search(&fixture("package_search.json"));
    let urns: Vec<&str> = hits.iter().map(|c| c.urn.as_str()).collect();
    assert_eq!(
        urns,
        [
            "urn:altinn:accesspackage:skatt-naering",
            "urn:altinn:accesspackage:baerekraft",
            "urn:altinn:accesspackage:eksplisitt",
            "urn:altinn:accesspackage:regnskapsforer-lonn",
        ]
    );
    // Flags as recorded (mid-2025: isAssignable false throughout; see sources.md).
    let lonn = find(&hits, "urn:altinn:accesspackage:regnskapsforer-lonn");
    assert!(lonn.is_client_only());
    assert!(matches!(lonn.standard(), Fit::No { ref code, .. } if code == "AUTH-00064"));
    assert!(lonn.agent().is_yes());
    let eksplisitt = find(&hits, "urn:altinn:accesspackage:eksplisitt");
    assert_eq!(
        (eksplisitt.delegable, eksplisitt.assignable),
        (Some(false), Some(false))
    );
    assert!(eksplisitt.standard().is_no() && eksplisitt.agent().is_no());

    let one = RightCandidate::from_package_dto(&fixture("package_by_urn_skatt-naering.json"))
        .expect("PackageDto");
    assert_eq!(
        one.package_id.as_deref(),
        Some("1dba50d6-f604-48e9-bd41-82321b13e85c")
    );
    assert_eq!(one.name.nb, "Skatt næring");
    let area = one.area.as_ref().expect("area");
    assert_eq!(area.urn, "accesspackage:area:skatt_avgift_regnskap_og_toll");
    assert!(one.matches("skatt-naering") && one.matches("urn:altinn:accesspackage:skatt-naering"));

    // The pre-flight on these flags: eksplisitt can never be registered; the client-only
    // package refuses a standard request and passes an agent one.
    let mut spec = SystemSpec::simple("s", "S", "S");
    spec.access_packages = vec![
        "urn:altinn:accesspackage:eksplisitt".into(),
        "regnskapsforer-lonn".into(),
    ];
    spec.is_visible = false;
    let reg = preflight(&spec, Purpose::Register, &hits);
    assert_eq!(reg.first_code(), Some("AUTH.VLD-00008"));
    spec.access_packages.remove(0);
    let std = preflight(&spec, Purpose::Request(RequestKind::Standard), &hits);
    assert_eq!(std.first_code(), Some("AUTH-00064"));
    let agent = preflight(&spec, Purpose::Request(RequestKind::Agent), &hits);
    assert!(agent.findings.iter().all(|f| f.outcome == Outcome::Ok));
}

#[test]
fn package_resources_answer() {
    let list = rights::parse_package_resources(&fixture("package_resources_baerekraft.json"));
    assert_eq!(list.len(), 7);
    let a = find(&list, "HMS-DOC-001");
    assert_eq!(a.name.nb, "HMS-dokumentasjon");
    assert_eq!(a.resource_type.as_deref(), Some("GenericAccessResource"));
    let owner = a.owner.as_ref().expect("provider");
    assert_eq!(
        (owner.code.as_deref(), owner.name.as_str()),
        (Some("digdir"), "Digitaliseringsdirektoratet")
    );
    assert_eq!(a.delegable, None, "a ResourceDto carries no `delegable`");
    assert_eq!(a.standard(), Fit::Unknown);
    // A 204 (no body) is an empty list.
    assert!(rights::parse_package_resources(&Value::Null).is_empty());
}
