//! Format 3 (issue 12, "Profiles hold many customers"): a profile keeps every customer, and
//! format-1 and format-2 files (fixtures in `tests/fixtures/profiles/`, written the way those
//! versions wrote them) migrate: their customer and requests become entries, in every
//! environment's state, and the old file is kept as `.v1.bak` / `.v2.bak` on the first save.

use altinn_onboard::altinn::model::RequestStatus;
use altinn_onboard::env::{EnvKind, EnvSetting};
use altinn_onboard::profile::{
    CustomerStatus, PROFILE_FORMAT_VERSION, Profile, ProfileStore, RequestKind, RequestRecord,
};

fn store_with(name: &str, fixture: &str) -> (tempfile::TempDir, ProfileStore) {
    let home = tempfile::tempdir().expect("tempdir");
    let store = ProfileStore::at(home.path());
    let path = store.profile_path(name);
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/profiles/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    std::fs::write(&path, bytes).expect("write");
    (home, store)
}

#[test]
fn a_format_1_profile_becomes_a_customer_list() {
    assert_eq!(PROFILE_FORMAT_VERSION, 3);
    let (_home, store) = store_with("acme", "v1.json");
    let original = std::fs::read(store.profile_path("acme")).expect("read");
    let mut p = store.load("acme").expect("load").expect("profile");
    // Both customers of the old request log, in the order they were first asked.
    let orgs: Vec<&str> = p.customers.iter().map(|c| c.org.as_str()).collect();
    assert_eq!(orgs, ["312345676", "313456781"]);
    let havbris = p.customer("312345676").expect("havbris");
    assert_eq!(havbris.status, CustomerStatus::Rejected);
    assert_eq!(havbris.requests.len(), 1);
    let nordlys = p.customer("313456781").expect("nordlys");
    assert_eq!(nordlys.status, CustomerStatus::Accepted);
    assert_eq!(nordlys.external_refs(), ["nordlys-1"]);
    assert!(nordlys.requests[0].confirm_url.is_some());
    // The old last test call was the current customer's token check.
    let check = nordlys.last_token_check.as_ref().expect("token check");
    assert!(check.ok, "{check:?}");
    assert!(check.result.contains("HTTP 200"), "{check:?}");
    assert_eq!(
        nordlys.system_user_id.as_deref(),
        Some("9b2d4c1e-0a7f-4e3b-8c5d-6f1a2b3c4d5e")
    );
    assert!(havbris.last_token_check.is_none());
    // The current customer and request are what they were.
    assert_eq!(p.customer_org.as_deref(), Some("313456781"));
    assert_eq!(
        p.current_request().map(|r| r.id.as_str()),
        Some("9b2d4c1e-0a7f-4e3b-8c5d-6f1a2b3c4d5e")
    );

    store.save(&mut p).expect("save");
    let backup = store
        .profile_path("acme")
        .with_file_name("acme.json.v1.bak");
    assert_eq!(std::fs::read(&backup).expect("backup"), original);
    let again = store.load("acme").expect("load").expect("profile");
    assert_eq!(again.version, 3);
    assert_eq!(again.customers, p.customers);
}

#[test]
fn a_format_2_profile_migrates_every_environment() {
    let (_home, store) = store_with("acme", "v2.json");
    let mut p = store.load("acme").expect("load").expect("profile");
    assert_eq!(p.environment.kind, EnvKind::Tt02);
    let tt02 = p.customer("315678900").expect("tt02 customer");
    assert_eq!(tt02.status, CustomerStatus::Pending);
    assert_eq!(tt02.requests[0].kind, RequestKind::Agent);
    // The sandbox's progress, put aside, got its customers too: the newest request counts.
    let sandbox = &p.environments["sandbox"];
    assert_eq!(sandbox.customers.len(), 1);
    let havbris = &sandbox.customers[0];
    assert_eq!(havbris.org, "312345676");
    assert_eq!(havbris.requests.len(), 2);
    assert_eq!(havbris.status, CustomerStatus::Accepted);

    store.save(&mut p).expect("save");
    assert!(
        store
            .profile_path("acme")
            .with_file_name("acme.json.v2.bak")
            .exists()
    );
    // A switch back brings the sandbox's customers with it.
    let mut p = store.load("acme").expect("load").expect("profile");
    p.switch_environment(EnvSetting::new(EnvKind::Sandbox));
    assert_eq!(p.customer_org.as_deref(), Some("312345676"));
    assert_eq!(p.customers.len(), 1);
    assert_eq!(p.environments["tt02"].customers[0].org, "315678900");
}

fn request(id: &str, org: &str, status: RequestStatus, minute: u32) -> RequestRecord {
    RequestRecord {
        id: id.into(),
        kind: RequestKind::Standard,
        customer_org: org.into(),
        external_ref: None,
        status,
        confirm_url: Some(format!("https://confirm/{id}")),
        created_at: chrono::DateTime::parse_from_rfc3339(&format!("2026-12-01T10:{minute:02}:00Z"))
            .expect("time")
            .into(),
        checked_at: None,
        change: None,
    }
}

#[test]
fn the_current_customer_stays_selectable() {
    let home = tempfile::tempdir().expect("tempdir");
    let store = ProfileStore::at(home.path());
    let mut p = Profile::new("many", EnvSetting::new(EnvKind::Sandbox));
    p.upsert_request(request("a", "312345676", RequestStatus::New, 1));
    p.upsert_request(request("b", "313456781", RequestStatus::New, 2));
    p.customer_org = Some("313456781".into());
    assert_eq!(p.customers.len(), 2);
    // Polling changes the flow's record in place; the save brings the customer up to date.
    p.requests[1].status = RequestStatus::Accepted;
    store.save(&mut p).expect("save");
    assert_eq!(
        p.customer("313456781").expect("b").status,
        CustomerStatus::Accepted
    );

    assert!(p.select_customer("312345676"));
    assert_eq!(p.customer_org.as_deref(), Some("312345676"));
    assert_eq!(p.current_request().map(|r| r.id.as_str()), Some("a"));
    assert!(!p.select_customer("999999999"), "an unknown customer");
    assert_eq!(p.customer_org.as_deref(), Some("312345676"));

    // A customer known only from the list (no flow record yet) becomes current with its
    // newest request, which the flow can then poll.
    p.customer_mut("315678900")
        .note_request(altinn_onboard::profile::CustomerRequest {
            id: "c".into(),
            kind: RequestKind::Standard,
            external_ref: Some("row-3".into()),
            status: RequestStatus::New,
            timed_out: true,
            confirm_url: None,
            created_at: chrono::Utc::now(),
            change: None,
        });
    assert_eq!(
        p.customer("315678900").expect("c").status,
        CustomerStatus::TimedOut
    );
    assert!(p.select_customer("315678900"));
    let current = p.current_request().expect("current");
    assert_eq!(
        (current.id.as_str(), &current.status),
        ("c", &RequestStatus::Timedout)
    );
    store.save(&mut p).expect("save");
    let loaded = store.load("many").expect("load").expect("profile");
    assert_eq!(loaded.customers.len(), 3);
    assert_eq!(loaded.customer_org.as_deref(), Some("315678900"));
}

/// A change request's record (what it adds, to which system user) survives the customer list:
/// a list answer that knows nothing of it does not wipe it, and it comes back as the flow's
/// record.
#[test]
fn a_change_requests_record_survives_the_customer_list() {
    use altinn_onboard::profile::ChangeRecord;
    let mut p = Profile::new("change", EnvSetting::new(EnvKind::Sandbox));
    let mut rec = request("chg", "312345676", RequestStatus::New, 3);
    rec.kind = RequestKind::Change;
    rec.change = Some(ChangeRecord {
        system_user_id: "su-1".into(),
        add_rights: vec!["ttd_systembruker-salary".into()],
        add_access_packages: vec![],
    });
    p.upsert_request(rec.clone());
    p.sync_customers();
    let mut from_list = altinn_onboard::profile::CustomerRequest::from(&rec);
    from_list.change = None;
    from_list.status = RequestStatus::Accepted;
    p.customer_mut("312345676").note_request(from_list);
    let kept = p
        .customer("312345676")
        .expect("customer")
        .requests
        .iter()
        .find(|r| r.id == "chg")
        .expect("the change request")
        .clone();
    assert_eq!(kept.status, RequestStatus::Accepted);
    assert_eq!(kept.change, rec.change);
    assert_eq!(kept.to_record("312345676").change, rec.change);
}

/// The last test call is credited to the customer whose system user made it, not to whichever
/// customer is current when the profile is next saved.
#[test]
fn a_token_check_stays_with_its_customer() {
    let mut p = Profile::new("checks", EnvSetting::new(EnvKind::Sandbox));
    p.upsert_request(request("a", "312345676", RequestStatus::Accepted, 1));
    p.upsert_request(request("b", "313456781", RequestStatus::Accepted, 2));
    p.customer_mut("312345676").system_user_id = Some("su-a".into());
    p.customer_org = Some("313456781".into());
    p.last_test_call = Some(altinn_onboard::profile::TestCallRecord {
        url: "https://example.test/whoami".into(),
        method: "GET".into(),
        status: 200,
        elapsed_ms: 5,
        at: chrono::Utc::now(),
        system_user_id: Some("su-a".into()),
        body_excerpt: None,
    });
    p.sync_customers();
    assert!(
        p.customer("312345676")
            .expect("a")
            .last_token_check
            .is_some(),
        "the check is a's"
    );
    let b = p.customer("313456781").expect("b");
    assert!(b.last_token_check.is_none(), "not b's: {b:?}");
    assert_eq!(b.system_user_id, None);
}
