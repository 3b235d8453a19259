//! Table tests of the customers screen's messages: messages in, effects and state out.

use super::*;
use crate::altinn::model::{RequestInfo, RequestStatus, SystemUserInfo};
use crate::env::EnvSetting;
use crate::flow::{ErrorKind, Msg, StatusUpdate, TestCallSummary};
use crate::profile::{Profile, RegistrationRecord, SystemSpec};
use chrono::TimeZone;

const VENDOR: &str = "310904473";
const ACCEPTED: &str = "312345676";
const PENDING: &str = "313456781";
const TIMED_OUT: &str = "315678900";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn req(id: &str, org: &str, status: &str, timed_out: bool) -> RequestInfo {
    serde_json::from_value(serde_json::json!({
        "id": id, "systemId": format!("{VENDOR}_smartcloud"), "partyOrgNo": org,
        "status": status, "created": "2026-11-20T10:00:00Z", "timedOut": timed_out,
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
    }))
    .expect("request")
}

fn listing() -> Listing {
    Listing {
        system_id: format!("{VENDOR}_smartcloud"),
        requests: vec![
            req("a1", ACCEPTED, "Accepted", false),
            req("p1", PENDING, "New", false),
            req("t1", TIMED_OUT, "New", true),
        ],
        agent_requests: vec![],
        system_users: vec![
            serde_json::from_value::<SystemUserInfo>(serde_json::json!({
                "id": "c2a1e0f4-1111-2222-3333-444455556666",
                "systemId": format!("{VENDOR}_smartcloud"), "reporteeOrgNo": ACCEPTED,
            }))
            .expect("system user"),
        ],
        pages: 3,
    }
}

/// A profile with a registered system (nothing asked of any customer yet).
fn registered() -> Profile {
    let mut p = Profile::new("t", EnvSetting::new(EnvKind::Sandbox));
    p.kid = Some("kid-1".into());
    p.key_path = Some("/keys/k.pem".into());
    p.vendor_org = Some(VENDOR.into());
    p.client_id = Some("client-1".into());
    p.scopes = vec!["altinn:authentication/systemuser.request.read".into()];
    p.client_registered = true;
    let mut spec = SystemSpec::simple("smartcloud", "SmartCloud", "Accounting");
    spec.rights = vec!["ske-krav-og-betalinger".into()];
    p.system = Some(spec);
    p.system_registered = Some(RegistrationRecord {
        system_id: format!("{VENDOR}_smartcloud"),
        at: t0(),
        outcome: "created".into(),
        client_id: Some("client-1".into()),
    });
    p
}

/// The screen open, its first load in flight (generation 1).
fn loading() -> Flow {
    let mut f = Flow::resume(registered());
    f.update(Msg::OpenCustomers);
    f
}

/// The screen open with the three customers of [`listing`] loaded.
fn loaded() -> Flow {
    let mut f = loading();
    f.update(Msg::CustomersLoaded {
        generation: 1,
        result: Ok(CustomersLoad {
            listing: listing(),
            at: t0(),
        }),
    });
    f
}

fn progress(page: usize, items: usize) -> LoadProgress {
    LoadProgress {
        list: ListKind::Requests,
        page,
        items,
        more: true,
    }
}

fn is_save(e: &Effect) -> bool {
    matches!(e, Effect::SaveProfile(_))
}

type Check = fn(&Flow, &[Effect]);
/// (case, state before, message, what must hold after)
type Case = (&'static str, fn() -> Flow, Msg, Check);

fn cases() -> Vec<Case> {
    vec![
        (
            "opening before the system is registered is refused",
            || {
                let mut p = registered();
                p.system_registered = None;
                Flow::resume(p)
            },
            Msg::OpenCustomers,
            |f, fx| {
                assert!(fx.is_empty() && !f.customers.shown);
                let e = f.error.as_ref().expect("error");
                assert_eq!(e.kind, ErrorKind::Validation);
                assert!(e.message.contains("register the system first"), "{e:?}");
            },
        ),
        (
            "opening loads every customer once",
            || Flow::resume(registered()),
            Msg::OpenCustomers,
            |f, fx| {
                assert_eq!(fx, [Effect::LoadCustomers { generation: 1 }]);
                assert!(f.customers.shown && f.customers.loading.is_some());
                assert!(f.busy.is_none(), "a load blocks nothing");
            },
        ),
        (
            "opening again while it loads starts no second load",
            || {
                let mut f = loading();
                f.update(Msg::CloseCustomers);
                f
            },
            Msg::OpenCustomers,
            |f, fx| {
                assert!(fx.is_empty());
                assert!(f.customers.shown && f.customers.loading.is_some());
            },
        ),
        (
            "opening after a load shows its rows without reading again",
            || {
                let mut f = loaded();
                f.update(Msg::CloseCustomers);
                f
            },
            Msg::OpenCustomers,
            |f, fx| {
                assert!(fx.is_empty() && f.customers.shown);
                assert_eq!(f.customers.rows.as_ref().map(Vec::len), Some(3));
            },
        ),
        (
            "closing leaves the load running",
            loading,
            Msg::CloseCustomers,
            |f, fx| {
                assert!(fx.is_empty() && !f.customers.shown);
                assert!(f.customers.loading.is_some());
            },
        ),
        (
            "a page is counted",
            || {
                let mut f = loading();
                f.update(Msg::CustomersProgress {
                    generation: 1,
                    progress: progress(1, 50),
                });
                f
            },
            Msg::CustomersProgress {
                generation: 1,
                progress: progress(2, 100),
            },
            |f, fx| {
                assert!(fx.is_empty());
                let l = f.customers.loading.expect("loading");
                assert_eq!((l.pages, l.items()), (2, 100));
                assert_eq!(l.last.map(|p| p.page), Some(2));
            },
        ),
        (
            "a page of an older load is dropped",
            loading,
            Msg::CustomersProgress {
                generation: 0,
                progress: progress(1, 50),
            },
            |f, _| assert_eq!(f.customers.loading.expect("loading").pages, 0),
        ),
        (
            "a finished load becomes rows, is remembered and saved once",
            loading,
            Msg::CustomersLoaded {
                generation: 1,
                result: Ok(CustomersLoad {
                    listing: listing(),
                    at: t0(),
                }),
            },
            |f, fx| {
                assert_eq!(fx.len(), 1);
                let Effect::SaveProfile(p) = &fx[0] else {
                    panic!("{fx:?}")
                };
                assert!(f.customers.loading.is_none());
                let rows = f.customers.rows.as_ref().expect("rows");
                let got: Vec<_> = rows.iter().map(|r| (r.org.as_str(), r.status)).collect();
                assert_eq!(
                    got,
                    [
                        (ACCEPTED, CustomerStatus::Accepted),
                        (PENDING, CustomerStatus::Pending),
                        (TIMED_OUT, CustomerStatus::TimedOut)
                    ]
                );
                // The sandbox's names for its seeded organisations.
                assert_eq!(rows[0].name.as_deref(), Some("Havbris Bakeri AS"));
                assert_eq!(p.customers.len(), 3);
                let c = p.customer(ACCEPTED).expect("remembered");
                assert_eq!(c.status, CustomerStatus::Accepted);
                assert_eq!(c.checked_at, Some(t0()));
                assert_eq!((f.customers.loaded_at, f.customers.pages), (Some(t0()), 3));
            },
        ),
        (
            "a result of an older load is dropped",
            loading,
            Msg::CustomersLoaded {
                generation: 0,
                result: Ok(CustomersLoad {
                    listing: listing(),
                    at: t0(),
                }),
            },
            |f, fx| {
                assert!(fx.is_empty() && f.customers.rows.is_none());
                assert!(f.customers.loading.is_some());
            },
        ),
        (
            "a failed load keeps the earlier rows and says why",
            || {
                let mut f = loaded();
                f.update(Msg::LoadCustomers);
                f
            },
            Msg::CustomersLoaded {
                generation: 2,
                result: Err(Failure::new(ErrorKind::Network, "connection refused")),
            },
            |f, fx| {
                assert!(fx.is_empty() && f.customers.loading.is_none());
                assert_eq!(f.customers.rows.as_ref().map(Vec::len), Some(3));
                let e = f.customers.error.as_ref().expect("error");
                assert_eq!(e.message, "connection refused");
            },
        ),
        (
            "reload reads again with a new generation",
            loaded,
            Msg::LoadCustomers,
            |f, fx| {
                assert_eq!(fx, [Effect::LoadCustomers { generation: 2 }]);
                assert!(f.customers.loading.is_some() && f.customers.rows.is_some());
            },
        ),
        (
            "reload while loading is ignored",
            loading,
            Msg::LoadCustomers,
            |f, fx| {
                assert!(fx.is_empty());
                assert_eq!(f.customers.generation, 1);
            },
        ),
        (
            "selecting a pending customer makes it current and fetches its confirmUrl",
            loaded,
            Msg::SelectCustomer {
                org: PENDING.into(),
            },
            |f, fx| {
                assert_eq!(
                    fx[0],
                    Effect::RefreshRequest {
                        request_id: "p1".into(),
                        agent: false
                    }
                );
                assert!(fx.len() == 2 && is_save(&fx[1]), "{fx:?}");
                assert_eq!(f.profile.customer_org.as_deref(), Some(PENDING));
                assert_eq!(
                    f.profile.current_request().map(|r| r.id.as_str()),
                    Some("p1")
                );
                assert_eq!(f.step, Step::Approval);
                assert!(f.customers.shown, "the screen stays up");
            },
        ),
        (
            "a token check selects an accepted customer and runs the test call for it",
            loaded,
            Msg::CheckCustomerToken {
                org: ACCEPTED.into(),
            },
            |f, fx| {
                let [Effect::TestCall { customer_org, .. }] = fx else {
                    panic!("{fx:?}")
                };
                assert_eq!(customer_org, ACCEPTED);
                assert_eq!((f.step, f.busy), (Step::TestCall, Some(Busy::TestCall)));
                assert_eq!(f.profile.customer_org.as_deref(), Some(ACCEPTED));
            },
        ),
        (
            "no token check for a customer without a system user",
            loaded,
            Msg::CheckCustomerToken {
                org: TIMED_OUT.into(),
            },
            |f, fx| {
                assert!(fx.is_empty() && f.busy.is_none());
                let e = f.error.as_ref().expect("error");
                assert!(
                    e.message.contains("has no system user (timed out)"),
                    "{e:?}"
                );
                assert_eq!(f.profile.customer_org, None, "nothing selected");
            },
        ),
        (
            "a change request starts from the Done step with the customer selected",
            loaded,
            Msg::StartChange {
                org: ACCEPTED.into(),
            },
            |f, fx| {
                assert!(fx.len() == 1 && is_save(&fx[0]), "{fx:?}");
                assert_eq!(f.step, Step::Done);
                assert!(!f.customers.shown);
                assert_eq!(f.profile.customer_org.as_deref(), Some(ACCEPTED));
                let n = f.notice.as_deref().unwrap_or_default();
                assert!(
                    n.contains("312345676 (Havbris Bakeri AS)") && n.contains("change"),
                    "{n}"
                );
            },
        ),
        (
            "no change request for a pending customer",
            loaded,
            Msg::StartChange {
                org: PENDING.into(),
            },
            |f, fx| {
                assert!(fx.is_empty() && f.customers.shown);
                assert!(
                    f.error
                        .as_ref()
                        .is_some_and(|e| e.message.contains("no system user to change (pending)"))
                );
            },
        ),
        (
            "a customer the list does not name is refused",
            loaded,
            Msg::SelectCustomer {
                org: "999999999".into(),
            },
            |f, fx| {
                assert!(fx.is_empty());
                assert!(
                    f.error
                        .as_ref()
                        .is_some_and(|e| e.message.contains("does not name it"))
                );
            },
        ),
        (
            "row actions wait for work in progress",
            || {
                let mut f = loaded();
                f.update(Msg::CheckCustomerToken {
                    org: ACCEPTED.into(),
                });
                f
            },
            Msg::StartChange {
                org: ACCEPTED.into(),
            },
            |f, fx| {
                assert!(fx.is_empty() && f.customers.shown);
                assert_eq!(f.busy, Some(Busy::TestCall));
                assert!(
                    f.error
                        .as_ref()
                        .is_some_and(|e| e.message.contains("wait for the work"))
                );
            },
        ),
        (
            "a finished token check shows on the customer's row",
            || {
                let mut f = loaded();
                f.update(Msg::CheckCustomerToken {
                    org: ACCEPTED.into(),
                });
                f
            },
            Msg::TestCallDone(Ok(TestCallSummary {
                record: TestCallRecord {
                    url: "http://127.0.0.1:1/reference/whoami".into(),
                    method: "GET".into(),
                    status: 200,
                    elapsed_ms: 5,
                    at: t0(),
                    system_user_id: None,
                    body_excerpt: None,
                },
                token_claims: serde_json::json!({}),
                token_expires_in: 60,
                response_json: None,
                headers: vec![],
            })),
            |f, _| {
                let row = f.customers.row(ACCEPTED).expect("row");
                let check = row.last_token_check.as_ref().expect("checked");
                assert!(
                    check.ok && check.result.starts_with("HTTP 200"),
                    "{check:?}"
                );
                assert!(
                    f.customers
                        .row(PENDING)
                        .expect("row")
                        .last_token_check
                        .is_none()
                );
            },
        ),
        (
            "a session that cannot open ends the load that waited for it, with why",
            loading,
            Msg::SessionFailed(Failure::new(ErrorKind::Network, "connection refused")),
            |f, _| {
                assert!(f.customers.loading.is_none());
                let e = f.customers.error.as_ref().expect("error");
                assert_eq!(e.message, "connection refused");
            },
        ),
        (
            "a switch of environment forgets the rows and drops the load in flight",
            loading,
            Msg::SelectEnvironment(EnvSetting::new(EnvKind::Tt02)),
            |f, _| {
                assert!(!f.customers.shown && f.customers.loading.is_none());
                assert_eq!(f.customers.generation, 2);
            },
        ),
    ]
}

#[test]
fn customers_screen_messages() {
    for (case, before, msg, check) in cases() {
        let mut f = before();
        let fx = f.update(msg);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&f, &fx)));
        assert!(result.is_ok(), "case failed: {case}");
    }
}

/// A poll for one customer's request stops when another customer is selected (its answer
/// would otherwise move the wizard for the wrong customer).
#[test]
fn selecting_another_customer_stops_the_poll() {
    let mut f = loaded();
    f.update(Msg::SelectCustomer {
        org: PENDING.into(),
    });
    let fx = f.update(Msg::StartPolling);
    let Some(Effect::PollStatus { generation, .. }) = fx.first().cloned() else {
        panic!("{fx:?}")
    };
    f.update(Msg::StartChange {
        org: ACCEPTED.into(),
    });
    assert!(!f.polling.as_ref().expect("poll").active);
    let late = f.update(Msg::StatusPolled {
        generation,
        result: Ok(StatusUpdate {
            request_id: "p1".into(),
            status: RequestStatus::Accepted,
            confirm_url: None,
            at: t0(),
            refusal: None,
        }),
    });
    assert!(late.is_empty());
    assert_eq!(f.step, Step::Done);
}

/// A token check made on the screen survives a reload (the profile's customer list has it
/// before the new rows are folded).
#[test]
fn a_reload_keeps_the_token_check_made_since() {
    let mut f = loaded();
    f.update(Msg::CheckCustomerToken {
        org: ACCEPTED.into(),
    });
    f.update(Msg::TestCallDone(Ok(TestCallSummary {
        record: TestCallRecord {
            url: "http://127.0.0.1:1/reference/whoami".into(),
            method: "GET".into(),
            status: 200,
            elapsed_ms: 5,
            at: t0(),
            system_user_id: None,
            body_excerpt: None,
        },
        token_claims: serde_json::json!({}),
        token_expires_in: 60,
        response_json: None,
        headers: vec![],
    })));
    assert_eq!(
        f.update(Msg::LoadCustomers),
        [Effect::LoadCustomers { generation: 2 }]
    );
    f.update(Msg::CustomersLoaded {
        generation: 2,
        result: Ok(CustomersLoad {
            listing: listing(),
            at: t0(),
        }),
    });
    let row = f.customers.row(ACCEPTED).expect("row");
    assert!(
        row.last_token_check.as_ref().is_some_and(|c| c.ok),
        "{row:?}"
    );
}

/// What is saved, as the store writes it (it syncs the customer list from the flow's records
/// and last test call before every save).
fn saved(fx: &[Effect]) -> Profile {
    let Some(Effect::SaveProfile(p)) = fx.iter().rev().find(|e| is_save(e)) else {
        panic!("no save in {fx:?}")
    };
    let mut p = (**p).clone();
    p.sync_customers();
    p
}

/// A request answered while the wizard was closed: the flow's own record still says New, and
/// must not undo the list's answer when the profile is saved.
#[test]
fn the_lists_answer_outlives_a_stale_flow_record() {
    let mut p = registered();
    for (id, org) in [("p1", PENDING), ("t1", TIMED_OUT)] {
        // From JSON, as the profile stores it (fields added later take their defaults).
        let rec: crate::profile::RequestRecord = serde_json::from_value(serde_json::json!({
            "id": id, "kind": "standard", "customer_org": org, "status": "New",
            "created_at": t0(),
        }))
        .expect("record");
        p.upsert_request(rec);
    }
    let mut f = Flow::resume(p);
    f.update(Msg::OpenCustomers);
    let mut l = listing();
    l.requests[1] = req("p1", PENDING, "Rejected", false);
    let fx = f.update(Msg::CustomersLoaded {
        generation: 1,
        result: Ok(CustomersLoad {
            listing: l,
            at: t0(),
        }),
    });
    let p = saved(&fx);
    assert_eq!(
        p.customer(PENDING).expect("c").status,
        CustomerStatus::Rejected
    );
    assert_eq!(
        p.customer(TIMED_OUT).expect("c").status,
        CustomerStatus::TimedOut
    );
}

/// A token check belongs to the customer it was made for, whichever customer is selected
/// afterwards.
#[test]
fn a_token_check_stays_with_its_customer() {
    let mut f = loaded();
    f.update(Msg::CheckCustomerToken {
        org: ACCEPTED.into(),
    });
    f.update(Msg::TestCallDone(Ok(TestCallSummary {
        record: TestCallRecord {
            url: "http://127.0.0.1:1/reference/whoami".into(),
            method: "GET".into(),
            status: 200,
            elapsed_ms: 5,
            at: t0(),
            system_user_id: Some("c2a1e0f4-1111-2222-3333-444455556666".into()),
            body_excerpt: None,
        },
        token_claims: serde_json::json!({}),
        token_expires_in: 60,
        response_json: None,
        headers: vec![],
    })));
    f.customers.shown = true;
    let fx = f.update(Msg::SelectCustomer {
        org: PENDING.into(),
    });
    let p = saved(&fx);
    assert!(p.customer(ACCEPTED).expect("a").last_token_check.is_some());
    let pending = p.customer(PENDING).expect("p");
    assert!(
        pending.last_token_check.is_none() && pending.system_user_id.is_none(),
        "{pending:?}"
    );
    assert!(f.profile.last_test_call.is_none() && f.test.is_none());
}
