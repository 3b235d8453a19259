//! Table tests of the rights picker's messages: debounce and stale answers, picks and
//! refusals with the pre-flight's codes, resolve of what was chosen before, confirm into the
//! system's rights. Messages in, effects and state out; no I/O.

use super::*;
use crate::env::{EnvKind, EnvSetting};
use crate::flow::{Effect, ErrorKind, Flow, Msg, Step, SystemForm};
use crate::profile::Profile;
use crate::rights::Source;
use chrono::{TimeZone, Utc};
use serde_json::json;

fn resource(id: &str, kind: &str, delegable: bool) -> RightCandidate {
    RightCandidate::from_service_resource(&json!({
        "identifier": id, "title": {"nb": id}, "resourceType": kind, "delegable": delegable,
        "hasCompetentAuthority": {"organization": "974761076", "orgcode": "skd", "name": {"nb": "Skatteetaten"}}
    }))
    .expect("a resource")
}

fn package(code: &str, delegable: bool, assignable: bool) -> RightCandidate {
    RightCandidate::from_package_dto(&json!({
        "id": format!("id-{code}"), "urn": format!("urn:altinn:accesspackage:{code}"), "name": code,
        "isDelegable": delegable, "isAssignable": assignable,
        "area": {"urn": "accesspackage:area:skatt", "name": "Skatt"}
    }))
    .expect("a package")
}

fn found(candidates: Vec<RightCandidate>) -> Result<SearchResult, Failure> {
    Ok(SearchResult {
        candidates,
        source: Source::Network,
    })
}

/// A flow at the system step with the picker open on nothing chosen, its first search
/// answered with `results`.
fn open_with(visible: bool, results: Vec<RightCandidate>) -> Flow {
    let mut p = Profile::new("t", EnvSetting::new(EnvKind::Sandbox));
    p.kid = Some("kid-1".into());
    p.key_path = Some("/keys/k.pem".into());
    p.vendor_org = Some("310904473".into());
    p.client_id = Some("client-1".into());
    p.scopes = vec!["altinn:authentication/systemregister.write".into()];
    p.client_registered = true;
    let mut f = Flow::resume(p);
    assert_eq!(f.step, Step::System);
    f.update(Msg::Picker(PickerMsg::Open {
        rights: vec![],
        packages: vec![],
        visible,
    }));
    f.update(Msg::Picker(PickerMsg::Found {
        seq: 1,
        result: found(results),
    }));
    f
}

fn picker(f: &Flow) -> &RightsPicker {
    f.picker.as_ref().expect("the picker is open")
}

fn searches(fx: &[Effect]) -> Vec<(u64, String, SearchKind)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Picker(PickerEffect::Search { seq, term, kind }) => {
                Some((*seq, term.clone(), *kind))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn open_searches_at_once_and_looks_up_what_the_form_names() {
    let mut f = open_with(true, vec![]);
    let fx = f.update(Msg::Picker(PickerMsg::Open {
        rights: vec!["urn:altinn:resource:ske-krav-og-betalinger".into()],
        packages: vec!["skatt-naering".into(), "Not A Package!".into()],
        visible: true,
    }));
    assert_eq!(
        fx,
        vec![
            Effect::Picker(PickerEffect::Search {
                seq: 1,
                term: String::new(),
                kind: SearchKind::Resources
            }),
            Effect::Picker(PickerEffect::Resolve {
                seq: 1,
                rights: vec!["ske-krav-og-betalinger".into()],
                packages: vec!["urn:altinn:accesspackage:skatt-naering".into()],
            }),
        ]
    );
    let p = picker(&f);
    let ids: Vec<&str> = p.picked.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "ske-krav-og-betalinger",
            "urn:altinn:accesspackage:skatt-naering",
            "Not A Package!"
        ]
    );
    assert_eq!(p.picked[0].verdict, Verdict::Pending);
    assert!(
        matches!(&p.picked[2].verdict, Verdict::Refused(f) if f.reason.contains("lower-case")),
        "what was typed wrong stays, refused: {:?}",
        p.picked[2]
    );
    // Only packages chosen: the picker starts on packages.
    let fx = f.update(Msg::Picker(PickerMsg::Open {
        rights: vec![],
        packages: vec!["skatt-naering".into()],
        visible: true,
    }));
    assert_eq!(searches(&fx), [(1, String::new(), SearchKind::Packages)]);
}

#[test]
fn typing_waits_for_a_pause_and_only_the_last_term_is_searched() {
    let mut f = open_with(true, vec![]);
    let steps: &[(PickerMsg, Vec<Effect>)] = &[
        (
            PickerMsg::Term("k".into()),
            vec![Effect::Picker(PickerEffect::Wait {
                seq: 2,
                after: DEBOUNCE,
            })],
        ),
        (
            PickerMsg::Term("kr".into()),
            vec![Effect::Picker(PickerEffect::Wait {
                seq: 3,
                after: DEBOUNCE,
            })],
        ),
        // The same text again (a cursor move) starts nothing.
        (PickerMsg::Term("kr".into()), vec![]),
        // The first timer is stale: no search for "k".
        (PickerMsg::Due { seq: 2 }, vec![]),
        (
            PickerMsg::Due { seq: 3 },
            vec![Effect::Picker(PickerEffect::Search {
                seq: 3,
                term: "kr".into(),
                kind: SearchKind::Resources,
            })],
        ),
        // Switching searches at once, under a new number.
        (
            PickerMsg::SwitchKind,
            vec![Effect::Picker(PickerEffect::Search {
                seq: 4,
                term: "kr".into(),
                kind: SearchKind::Packages,
            })],
        ),
    ];
    for (msg, want) in steps {
        assert_eq!(&f.update(Msg::Picker(msg.clone())), want, "{msg:?}");
        assert!(picker(&f).loading);
    }
    for e in steps.iter().flat_map(|(_, e)| e) {
        let Effect::Picker(p) = e else { unreachable!() };
        assert_eq!(
            e.is_remote(),
            !matches!(p, PickerEffect::Wait { .. }),
            "the timer is local, searches remote: {e:?}"
        );
    }
}

#[test]
fn an_answer_for_an_older_term_is_dropped() {
    let mut f = open_with(true, vec![]);
    f.update(Msg::Picker(PickerMsg::Term("sk".into())));
    f.update(Msg::Picker(PickerMsg::Term("skatt".into())));
    // The newer search answers first, the older one later: the older is dropped.
    f.update(Msg::Picker(PickerMsg::Found {
        seq: 3,
        result: found(vec![package("skatt-naering", true, true)]),
    }));
    f.update(Msg::Picker(PickerMsg::Found {
        seq: 2,
        result: found(vec![package("skattegrunnlag", true, true)]),
    }));
    let p = picker(&f);
    assert!(!p.loading);
    let ids: Vec<&str> = p.results.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["urn:altinn:accesspackage:skatt-naering"]);
    // A failure says why and shows no results; an offline answer carries the note.
    f.update(Msg::Picker(PickerMsg::Term("x".into())));
    f.update(Msg::Picker(PickerMsg::Found {
        seq: 4,
        result: Err(Failure::new(ErrorKind::Network, "could not fetch …")),
    }));
    let p = picker(&f);
    assert!(p.results.is_empty() && p.error.as_deref() == Some("could not fetch …"));
    f.update(Msg::Picker(PickerMsg::Term("y".into())));
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    f.update(Msg::Picker(PickerMsg::Found {
        seq: 5,
        result: Ok(SearchResult {
            candidates: vec![resource("a", "GenericAccessResource", true)],
            source: Source::Cache {
                fetched_at: at,
                offline: true,
            },
        }),
    }));
    let p = picker(&f);
    assert_eq!(p.error, None);
    assert_eq!(
        p.note.as_deref(),
        Some("offline: results from cache of 2026-01-02 03:04 UTC")
    );
}

#[test]
fn picks_follow_the_preflight_and_refusals_carry_code_and_fix() {
    // (candidate, visible system, refused with this code / picked)
    let cases: Vec<(RightCandidate, bool, Option<&str>)> = vec![
        (
            resource("ske-krav-og-betalinger", "GenericAccessResource", true),
            true,
            None,
        ),
        (
            resource("skd-maskinportenschemaid-8", "MaskinportenSchema", true),
            true,
            Some("AUTH.VLD-00017"),
        ),
        (
            resource("se_1337_1338", "Altinn2Service", true),
            true,
            Some("AUTH.VLD-00017"),
        ),
        (
            resource("eformidling-dpo-meldingsutveksling", "BrokerService", false),
            true,
            Some("AUTH-00070"),
        ),
        (package("skatt-naering", true, true), true, None),
        (
            package("regnskapsforer-lonn", true, false),
            true,
            Some("AUTH.VLD-00018"),
        ),
        (package("regnskapsforer-lonn", true, false), false, None),
        (
            package("vergemal-skatteetaten-skatt", false, false),
            false,
            Some("AUTH.VLD-00008"),
        ),
        (package("hovedadministrator", false, true), true, None),
    ];
    for (c, visible, refused) in cases {
        let mut f = open_with(visible, vec![c.clone()]);
        assert_eq!(f.update(Msg::Picker(PickerMsg::Toggle)), vec![]);
        let p = picker(&f);
        match refused {
            Some(code) => {
                assert!(p.picked.is_empty(), "{} must not be picked", c.id);
                let r = p.refusal.as_ref().expect("the refusal is shown");
                assert_eq!(r.code.as_deref(), Some(code), "{}", c.id);
                assert!(!r.reason.is_empty(), "{r:?}");
                // The fix says what to do instead of picking it (it is not in the system yet).
                let fix = r.fix.as_deref().expect("a fix");
                assert!(!fix.starts_with("remove"), "{fix}");
                if code == "AUTH.VLD-00018" {
                    assert!(fix.contains("Visible to no"), "{fix}");
                }
                // Typing on clears it: it was about the row left behind.
                f.update(Msg::Picker(PickerMsg::Term("x".into())));
                assert_eq!(picker(&f).refusal, None);
            }
            None => {
                assert_eq!(p.picked.len(), 1, "{} is picked", c.id);
                assert_eq!(p.picked[0].verdict, Verdict::Ok);
                assert_eq!(p.refusal, None);
                // Space again unpicks.
                f.update(Msg::Picker(PickerMsg::Toggle));
                assert!(picker(&f).picked.is_empty());
            }
        }
    }
}

#[test]
fn picks_outside_the_results_stay_listed_and_can_be_unpicked() {
    let krav = resource("ske-krav-og-betalinger", "GenericAccessResource", true);
    let mut f = open_with(true, vec![krav.clone()]);
    f.update(Msg::Picker(PickerMsg::Toggle));
    // A new search without it: the pick is a row after the results.
    f.update(Msg::Picker(PickerMsg::SwitchKind));
    f.update(Msg::Picker(PickerMsg::Found {
        seq: 2,
        result: found(vec![
            package("skatt-naering", true, true),
            package("skattegrunnlag", true, true),
        ]),
    }));
    let rows = picker(&f).rows();
    assert_eq!(rows.len(), 3);
    assert!(matches!(rows[2], Row::Picked(p) if p.id == "ske-krav-og-betalinger"));
    // The cursor stops at the ends.
    f.update(Msg::Picker(PickerMsg::Move(-5)));
    assert_eq!(picker(&f).cursor, 0);
    f.update(Msg::Picker(PickerMsg::Toggle));
    f.update(Msg::Picker(PickerMsg::Move(10)));
    assert_eq!(picker(&f).cursor, 2);
    f.update(Msg::Picker(PickerMsg::Toggle));
    let p = picker(&f);
    assert_eq!(
        p.selection(),
        Selection {
            rights: vec![],
            packages: vec!["urn:altinn:accesspackage:skatt-naering".into()],
        }
    );
    assert_eq!(p.cursor, 1, "the cursor stays on a row");
}

#[test]
fn resolve_judges_what_was_chosen_before() {
    let mut f = open_with(true, vec![]);
    f.update(Msg::Picker(PickerMsg::Open {
        rights: vec![
            "ske-krav-og-betalinger".into(),
            "skd-maskinportenschemaid-8".into(),
            "no-such-resource".into(),
            "offline-one".into(),
        ],
        packages: vec!["skatt-naering".into()],
        visible: true,
    }));
    let lookup = Lookup {
        found: vec![
            resource("ske-krav-og-betalinger", "GenericAccessResource", true),
            resource("skd-maskinportenschemaid-8", "MaskinportenSchema", true),
            package("skatt-naering", true, true),
        ],
        not_found: vec!["no-such-resource".into()],
        unchecked: vec![("offline-one".into(), "could not fetch".into())],
        note: None,
    };
    // A look-up for an earlier opening is dropped.
    f.update(Msg::Picker(PickerMsg::Resolved {
        seq: 7,
        lookup: lookup.clone(),
    }));
    assert!(
        picker(&f)
            .picked
            .iter()
            .all(|p| p.verdict == Verdict::Pending)
    );
    f.update(Msg::Picker(PickerMsg::Resolved { seq: 1, lookup }));
    let verdicts: Vec<(String, String)> = picker(&f)
        .picked
        .iter()
        .map(|p| {
            let v = match &p.verdict {
                Verdict::Ok => "ok".to_string(),
                Verdict::Refused(f) => f.code.clone().unwrap_or_default(),
                Verdict::Unchecked(_) => "unchecked".into(),
                Verdict::Pending => "pending".into(),
            };
            (p.id.clone(), v)
        })
        .collect();
    let want = [
        ("ske-krav-og-betalinger", "ok"),
        ("skd-maskinportenschemaid-8", "AUTH.VLD-00017"),
        ("no-such-resource", "AUTH.VLD-00003"),
        ("offline-one", "unchecked"),
        ("urn:altinn:accesspackage:skatt-naering", "ok"),
    ];
    assert_eq!(
        verdicts,
        want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );
    // Confirm refuses while a refused right is picked, and says to unpick it.
    assert_eq!(f.update(Msg::Picker(PickerMsg::Confirm)), vec![]);
    let p = picker(&f);
    let r = p.refusal.as_ref().expect("the refusal");
    assert_eq!(r.subject, "skd-maskinportenschemaid-8");
    assert!(
        r.fix.as_deref().unwrap_or("").contains("unpick it"),
        "{r:?}"
    );
    assert!(f.picked.is_none());
}

#[test]
fn confirm_hands_the_picks_to_the_system_registration() {
    let mut f = open_with(
        true,
        vec![
            resource("ske-krav-og-betalinger", "GenericAccessResource", true),
            resource("ttd_systembruker-salary", "GenericAccessResource", true),
        ],
    );
    f.update(Msg::Picker(PickerMsg::Toggle));
    f.update(Msg::Picker(PickerMsg::Move(1)));
    f.update(Msg::Picker(PickerMsg::Toggle));
    f.update(Msg::Picker(PickerMsg::SwitchKind));
    f.update(Msg::Picker(PickerMsg::Found {
        seq: 2,
        result: found(vec![package("skatt-naering", true, true)]),
    }));
    f.update(Msg::Picker(PickerMsg::Toggle));
    assert_eq!(f.update(Msg::Picker(PickerMsg::Confirm)), vec![]);
    assert!(f.picker.is_none());
    let sel = f.picked.clone().expect("the picks");
    assert_eq!(
        sel.rights,
        ["ske-krav-og-betalinger", "ttd_systembruker-salary"]
    );
    assert_eq!(sel.packages, ["urn:altinn:accesspackage:skatt-naering"]);
    assert!(
        f.notice
            .as_deref()
            .unwrap_or("")
            .contains("2 right(s) and 1 access package(s)")
    );
    // The form takes them; Enter registers the system with exactly these.
    let form = SystemForm {
        name: "smartcloud".into(),
        rights: sel.rights.join(" "),
        access_packages: sel.packages.join(" "),
        is_visible: true,
        ..SystemForm::default()
    };
    let fx = f.update(Msg::SubmitSystem(form));
    let [Effect::RegisterSystem { registration }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let rights: Vec<&str> = registration
        .rights
        .iter()
        .map(|r| r.resource[0].value.as_str())
        .collect();
    assert_eq!(
        rights,
        ["ske-krav-og-betalinger", "ttd_systembruker-salary"]
    );
    assert_eq!(
        registration.access_packages[0].urn,
        "urn:altinn:accesspackage:skatt-naering"
    );
    let spec = f.profile.system.as_ref().expect("the spec");
    assert_eq!(spec.rights, sel.rights);
    assert_eq!(spec.access_packages, sel.packages);
}

#[test]
fn cancel_and_leaving_close_it_and_late_answers_change_nothing() {
    let mut f = open_with(true, vec![]);
    f.update(Msg::Picker(PickerMsg::Term("krav".into())));
    f.update(Msg::Picker(PickerMsg::Cancel));
    assert!(f.picker.is_none() && f.picked.is_none());
    let late = Msg::Picker(PickerMsg::Found {
        seq: 2,
        result: found(vec![resource("a", "GenericAccessResource", true)]),
    });
    assert_eq!(f.update(late.clone()), vec![]);
    assert_eq!(f.update(Msg::Picker(PickerMsg::Due { seq: 2 })), vec![]);
    assert!(f.picker.is_none());
    let mut f = open_with(true, vec![]);
    f.update(Msg::GoTo(Step::Client));
    assert!(f.picker.is_none(), "leaving the step closes the picker");
}
