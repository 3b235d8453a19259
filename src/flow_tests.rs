//! Table-driven tests of the onboarding state machine: every step, success and failure, and
//! resume from a saved profile. No I/O: messages in, effects and state out.

use super::*;
use crate::profile::{Profile, RequestKind, RequestRecord, SystemSpec, TestCallRecord};
use chrono::TimeZone;

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "974760673";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn key_info() -> KeyInfo {
    KeyInfo {
        kid: "kid-1".into(),
        path: "/keys/k.pem".into(),
        public_jwk: serde_json::json!({"kty": "RSA"}),
        bits: 2048,
        thumbprint: "tp-1".into(),
        warning: None,
    }
}

fn request(status: RequestStatus) -> RequestRecord {
    RequestRecord {
        id: "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11".into(),
        kind: RequestKind::Standard,
        customer_org: CUSTOMER.into(),
        external_ref: None,
        status,
        confirm_url: Some("http://127.0.0.1:1/accessmanagement/ui/systemuser/request?id=x".into()),
        created_at: t0(),
        checked_at: None,
        change: None,
    }
}

/// Profiles at each stage of the onboarding.
fn profile_at(stage: Step) -> Profile {
    let mut p = Profile::new("t", EnvSetting::new(EnvKind::Sandbox));
    if stage <= Step::Key {
        return p;
    }
    p.kid = Some("kid-1".into());
    p.key_path = Some("/keys/k.pem".into());
    if stage <= Step::Client {
        return p;
    }
    p.vendor_org = Some(VENDOR.into());
    p.client_id = Some("client-1".into());
    p.scopes = crate::altinn::client::VENDOR_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    p.client_registered = true;
    if stage <= Step::System {
        return p;
    }
    let mut spec = SystemSpec::simple("smartcloud", "SmartCloud", "Accounting");
    spec.rights = vec!["ske-krav-og-betalinger".into()];
    p.system = Some(spec);
    p.system_registered = Some(crate::profile::RegistrationRecord {
        system_id: format!("{VENDOR}_smartcloud"),
        at: t0(),
        outcome: "created".into(),
        client_id: Some("client-1".into()),
    });
    if stage <= Step::Request {
        return p;
    }
    p.requests.push(request(RequestStatus::New));
    if stage <= Step::Polling {
        return p;
    }
    p.requests[0].status = RequestStatus::Accepted;
    if stage <= Step::TestCall {
        return p;
    }
    p.last_test_call = Some(TestCallRecord {
        url: "u".into(),
        method: "GET".into(),
        status: 200,
        elapsed_ms: 3,
        at: t0(),
        system_user_id: None,
        body_excerpt: None,
    });
    p
}

fn flow_at(stage: Step) -> Flow {
    let mut f = Flow::resume(profile_at(stage));
    f.step = stage;
    f
}

fn is_save(e: &Effect) -> bool {
    matches!(e, Effect::SaveProfile(_))
}

#[test]
fn resume_lands_on_the_first_unfinished_step() {
    let cases = [
        (Step::Key, Step::Key),
        (Step::Client, Step::Client),
        (Step::System, Step::System),
        (Step::Request, Step::Request),
        (Step::Approval, Step::Approval),
        (Step::TestCall, Step::TestCall),
        (Step::Done, Step::Done),
    ];
    for (stage, expected) in cases {
        assert_eq!(
            resume_step(&profile_at(stage)),
            expected,
            "profile at {stage:?}"
        );
        assert_eq!(Flow::resume(profile_at(stage)).step, expected);
    }
    // A rejected request sends the user back to the request step.
    let mut p = profile_at(Step::Approval);
    p.requests[0].status = RequestStatus::Rejected;
    assert_eq!(resume_step(&p), Step::Request);
    // A changed client id means the system must be registered again.
    let mut p = profile_at(Step::Done);
    p.client_id = Some("other".into());
    assert_eq!(resume_step(&p), Step::System);
    // A brand-new profile starts by choosing the environment.
    assert_eq!(
        Flow::new(Profile::new("n", EnvSetting::default())).step,
        Step::Environment
    );
}

#[test]
fn environment_step() {
    let mut f = Flow::new(Profile::new("n", EnvSetting::default()));
    let fx = f.update(Msg::SelectEnvironment(EnvSetting::new(EnvKind::Sandbox)));
    assert_eq!(f.step, Step::Key);
    assert!(fx.iter().any(is_save));

    // Custom without URLs is refused, nothing is sent or saved.
    let mut f = Flow::new(Profile::new("n", EnvSetting::default()));
    let fx = f.update(Msg::SelectEnvironment(EnvSetting::new(EnvKind::Custom)));
    assert!(fx.is_empty());
    assert_eq!(
        f.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::Validation)
    );

    // Switching environment forgets the client, system and requests but keeps the key.
    let mut f = flow_at(Step::Done);
    f.update(Msg::SelectEnvironment(EnvSetting::new(EnvKind::Tt02)));
    assert!(
        f.profile.requests.is_empty()
            && f.profile.system_registered.is_none()
            && !f.profile.client_registered
    );
    assert!(f.profile.kid.is_some());
    assert_eq!(f.step, Step::Client);
}

/// Issue 17 item 6: a switch to TT02 and back keeps the sandbox's progress, TT02 never gets
/// the sandbox's client id, and TT02's own progress comes back too.
#[test]
fn environment_switches_keep_each_environments_progress() {
    let mut f = flow_at(Step::Done);
    let sandbox = f.profile.clone();
    let sandbox_client = sandbox.client_id.clone().expect("client id");
    f.update(Msg::SelectEnvironment(EnvSetting::new(EnvKind::Tt02)));
    assert_eq!(f.profile.environment.kind, EnvKind::Tt02);
    assert_eq!(
        f.profile.client_id, None,
        "TT02 must not get the sandbox's client id"
    );
    assert!(f.profile.requests.is_empty() && f.profile.vendor_org.is_none());
    assert_eq!(f.step, Step::Client);
    assert!(
        f.notice.as_deref().is_some_and(|n| n.contains("kept")),
        "{:?}",
        f.notice
    );
    // TT02 progress of its own.
    f.update(Msg::SubmitClient {
        vendor_org: "312345676".into(),
        client_id: "11111111-2222-3333-4444-555555555555".into(),
        scopes: "altinn:authentication/systemregister.write".into(),
    });
    assert_eq!(f.error, None);
    // Back to the sandbox: everything as it was, the key included.
    let fx = f.update(Msg::SelectEnvironment(EnvSetting::new(EnvKind::Sandbox)));
    assert!(fx.iter().any(is_save));
    assert_eq!(
        f.profile.client_id.as_deref(),
        Some(sandbox_client.as_str())
    );
    assert_eq!(f.profile.requests, sandbox.requests);
    assert_eq!(f.profile.system_registered, sandbox.system_registered);
    assert_eq!(f.profile.last_test_call, sandbox.last_test_call);
    assert_eq!(f.profile.kid, sandbox.kid);
    assert_eq!(f.step, Step::Done);
    // And TT02's client is waiting there.
    f.update(Msg::SelectEnvironment(EnvSetting::new(EnvKind::Tt02)));
    assert_eq!(
        f.profile.client_id.as_deref(),
        Some("11111111-2222-3333-4444-555555555555")
    );
    assert_eq!(f.profile.vendor_org.as_deref(), Some("312345676"));
    // A new key must be uploaded again everywhere.
    f.update(Msg::KeyReady(Ok(KeyInfo {
        kid: "kid-2".into(),
        thumbprint: "tp-2".into(),
        ..key_info()
    })));
    assert!(
        f.profile
            .environments
            .values()
            .all(|s| !s.client_registered)
    );
}

/// Issue 17 item 2: a changed vendor org on the sandbox replaces the client (the old one is
/// named so the portal can retire it); on TT02 the user hears that a client's org is fixed.
#[test]
fn a_changed_vendor_org_replaces_the_client() {
    let mut f = flow_at(Step::Done);
    let old = f.profile.client_id.clone();
    let fx = f.update(Msg::SubmitClient {
        vendor_org: "312345676".into(),
        client_id: String::new(),
        scopes: "altinn:authentication/systemregister.write".into(),
    });
    assert!(
        matches!(&fx[..], [Effect::RegisterClient { client_id: None, previous, vendor_org, .. }]
            if *previous == old && vendor_org == "312345676"),
        "{fx:?}"
    );
    assert!(f.profile.requests.is_empty() && f.profile.system_registered.is_none());
    // The same org again: no replacement.
    let mut f = flow_at(Step::Done);
    let fx = f.update(Msg::SubmitClient {
        vendor_org: VENDOR.into(),
        client_id: String::new(),
        scopes: "altinn:authentication/systemregister.write".into(),
    });
    assert!(
        matches!(&fx[..], [Effect::RegisterClient { previous: None, .. }]),
        "{fx:?}"
    );
    // TT02: keeping the client id with another org is allowed (the profile may have had the
    // typo) but the user is told a client's org is fixed in the portal.
    let mut p = profile_at(Step::System);
    p.environment = EnvSetting::new(EnvKind::Tt02);
    let mut f = Flow::resume(p);
    let id = f.profile.client_id.clone().unwrap_or_default();
    f.update(Msg::SubmitClient {
        vendor_org: "312345676".into(),
        client_id: id,
        scopes: "altinn:authentication/systemregister.write".into(),
    });
    assert_eq!(f.error, None);
    assert!(
        f.notice
            .as_deref()
            .is_some_and(|n| n.contains("fixed in the self-service portal")),
        "{:?}",
        f.notice
    );
}

#[test]
fn key_step() {
    type Case = (Msg, bool, Option<ErrorKind>);
    let cases: Vec<Case> = vec![
        (
            Msg::GenerateKey {
                bits: 2048,
                kid: None,
            },
            true,
            None,
        ),
        (
            Msg::GenerateKey {
                bits: 1024,
                kid: None,
            },
            false,
            Some(ErrorKind::Validation),
        ),
        (
            Msg::GenerateKey {
                bits: 4096,
                kid: Some("has space".into()),
            },
            false,
            Some(ErrorKind::Validation),
        ),
        (
            Msg::ImportKey {
                source: "  ".into(),
                kid: None,
            },
            false,
            Some(ErrorKind::Validation),
        ),
        (
            Msg::ImportKey {
                source: "/tmp/key.pem".into(),
                kid: None,
            },
            true,
            None,
        ),
    ];
    for (msg, emits, err) in cases {
        let mut f = flow_at(Step::Key);
        let fx = f.update(msg.clone());
        assert_eq!(!fx.is_empty(), emits, "{msg:?}");
        assert_eq!(f.error.as_ref().map(|e| e.kind), err, "{msg:?}");
        assert_eq!(f.busy.is_some(), emits);
    }
    let mut f = flow_at(Step::Key);
    f.update(Msg::GenerateKey {
        bits: 2048,
        kid: None,
    });
    let fx = f.update(Msg::KeyReady(Ok(key_info())));
    assert_eq!(f.step, Step::Client);
    assert_eq!(f.profile.kid.as_deref(), Some("kid-1"));
    assert!(fx.iter().any(is_save) && f.busy.is_none());

    let mut f = flow_at(Step::Key);
    f.update(Msg::KeyReady(Err(Failure::new(
        ErrorKind::Local,
        "unreadable",
    ))));
    assert_eq!(f.step, Step::Key);
    assert_eq!(f.step_state(Step::Key), StepState::Failed);
}

#[test]
fn client_step_on_the_sandbox_registers_the_client() {
    let mut f = flow_at(Step::Client);
    let fx = f.update(Msg::SubmitClient {
        vendor_org: "12345678".into(),
        client_id: String::new(),
        scopes: "a:b".into(),
    });
    assert!(fx.is_empty());
    assert!(f.error.as_ref().and_then(|e| e.field.clone()).is_some());

    let mut f = flow_at(Step::Client);
    let fx = f.update(Msg::SubmitClient {
        vendor_org: VENDOR.into(),
        client_id: String::new(),
        scopes: crate::altinn::client::VENDOR_SCOPES.join(" "),
    });
    assert!(
        matches!(&fx[..], [Effect::RegisterClient { vendor_org, client_id: None, .. }] if vendor_org == VENDOR)
    );
    let fx = f.update(Msg::ClientRegistered(Ok("new-client".into())));
    assert_eq!(f.step, Step::System);
    assert_eq!(f.profile.client_id.as_deref(), Some("new-client"));
    assert!(f.profile.client_registered && fx.iter().any(is_save));

    let mut f = flow_at(Step::Client);
    f.update(Msg::SubmitClient {
        vendor_org: VENDOR.into(),
        client_id: String::new(),
        scopes: "a:b".into(),
    });
    f.update(Msg::ClientRegistered(Err(Failure::new(
        ErrorKind::Network,
        "down",
    ))));
    assert_eq!(f.step, Step::Client);
    assert_eq!(f.error.as_ref().map(|e| e.kind), Some(ErrorKind::Network));
}

#[test]
fn client_step_on_tt02_waits_for_the_portal_upload() {
    let mut p = profile_at(Step::Client);
    p.environment = EnvSetting::new(EnvKind::Tt02);
    let mut f = Flow::resume(p);
    let fx = f.update(Msg::SubmitClient {
        vendor_org: VENDOR.into(),
        client_id: String::new(),
        scopes: "a:b".into(),
    });
    assert!(
        fx.is_empty() && f.error.is_some(),
        "a client id is required outside the sandbox"
    );
    let fx = f.update(Msg::SubmitClient {
        vendor_org: VENDOR.into(),
        client_id: "0b5a0ab1-2c3d-4e5f-8a9b-0c1d2e3f4a5b".into(),
        scopes: "a:b".into(),
    });
    assert!(fx.iter().all(is_save) && !fx.is_empty());
    assert_eq!(f.step, Step::Client);
    f.update(Msg::ConfirmClientUploaded);
    assert_eq!(f.step, Step::System);
    assert!(f.profile.client_registered);
}

#[test]
fn system_step() {
    let form = SystemForm {
        name: "smartcloud".into(),
        display_name: "SmartCloud".into(),
        rights: "ske-krav-og-betalinger".into(),
        is_visible: true,
        ..Default::default()
    };
    let mut f = flow_at(Step::System);
    let fx = f.update(Msg::SubmitSystem(form.clone()));
    let Some(Effect::RegisterSystem { registration }) = fx.first() else {
        panic!("expected RegisterSystem, got {fx:?}")
    };
    assert_eq!(registration.id, format!("{VENDOR}_smartcloud"));
    assert_eq!(registration.client_id, vec!["client-1".to_string()]);
    assert_eq!(
        registration.rights[0].resource_id(),
        Some("ske-krav-og-betalinger")
    );
    assert!(registration.is_visible);
    let summary = RegistrationSummary {
        system_id: registration.id.clone(),
        outcome: "created".into(),
        changes: vec![],
        client_id: "client-1".into(),
        at: t0(),
    };
    f.update(Msg::SystemRegistered(Ok(summary)));
    assert_eq!(f.step, Step::Request);
    assert_eq!(resume_step(&f.profile), Step::Request);

    let mut f = flow_at(Step::System);
    f.update(Msg::SubmitSystem(form));
    f.update(Msg::SystemRegistered(Err(Failure::new(
        ErrorKind::Rejected,
        "AUTH.VLD-00004",
    ))));
    assert_eq!(
        (f.step, f.error.as_ref().map(|e| e.kind)),
        (Step::System, Some(ErrorKind::Rejected))
    );
}

#[test]
fn request_step() {
    let mut f = flow_at(Step::Request);
    let fx = f.update(Msg::SubmitRequest(RequestForm {
        customer_org: CUSTOMER.into(),
        agent: false,
        external_ref: String::new(),
    }));
    let Some(Effect::CreateRequest {
        body,
        agent: false,
        delete_first: None,
    }) = fx.first()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(body.party_org_no, CUSTOMER);
    assert_eq!(body.system_id, format!("{VENDOR}_smartcloud"));
    assert!(body.external_ref.is_none() && body.rights.as_ref().is_some_and(|r| r.len() == 1));

    // An agent request needs access packages on the system.
    let mut f = flow_at(Step::Request);
    let fx = f.update(Msg::SubmitRequest(RequestForm {
        customer_org: CUSTOMER.into(),
        agent: true,
        external_ref: String::new(),
    }));
    assert!(
        fx.is_empty()
            && f.error
                .as_ref()
                .is_some_and(|e| e.message.contains("AUTH-00058"))
    );

    // New → approval; Accepted (a re-POST of an approved triple) → straight to the test call.
    for (status, step) in [
        (RequestStatus::New, Step::Approval),
        (RequestStatus::Accepted, Step::TestCall),
        (RequestStatus::Rejected, Step::Request),
    ] {
        let mut f = flow_at(Step::Request);
        f.update(Msg::RequestCreated(Ok(request(status.clone()))));
        assert_eq!(f.step, step, "{status}");
        assert_eq!(f.profile.customer_org.as_deref(), Some(CUSTOMER));
    }

    // A rejected request for the same customer is deleted before a new one is made.
    let mut p = profile_at(Step::Approval);
    p.requests[0].status = RequestStatus::Rejected;
    let mut f = Flow::resume(p);
    let fx = f.update(Msg::SubmitRequest(RequestForm {
        customer_org: CUSTOMER.into(),
        agent: false,
        external_ref: String::new(),
    }));
    assert!(
        matches!(&fx[..], [Effect::CreateRequest { delete_first: Some(id), .. }] if id == "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11")
    );
}

#[test]
fn approval_opens_the_browser_and_then_polls_even_when_headless() {
    let mut f = flow_at(Step::Approval);
    let fx = f.update(Msg::OpenBrowser);
    assert!(matches!(&fx[..], [Effect::OpenBrowser { url }] if url.contains("request?id=")));
    let fx = f.update(Msg::BrowserOpened(Err(Failure::new(
        ErrorKind::Local,
        "not opening a browser: this is an SSH session",
    ))));
    assert_eq!(f.step, Step::Polling);
    assert!(matches!(&fx[..], [Effect::PollStatus { after, .. }] if after.is_zero()));
    assert!(f.notice.as_deref().is_some_and(|n| n.contains("QR")));
}

fn update(status: RequestStatus) -> StatusUpdate {
    StatusUpdate {
        request_id: "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11".into(),
        status,
        confirm_url: None,
        at: t0(),
        refusal: None,
    }
}

#[test]
fn polling_backs_off_and_reacts_to_the_answer() {
    let mut f = flow_at(Step::Approval);
    f.update(Msg::StartPolling);
    let generation_id = f.polling.as_ref().map(|p| p.generation).unwrap_or_default();
    let mut last = Duration::ZERO;
    for _ in 0..6 {
        let fx = f.update(Msg::StatusPolled {
            generation: generation_id,
            result: Ok(update(RequestStatus::New)),
        });
        let [Effect::PollStatus { after, .. }] = &fx[..] else {
            panic!("{fx:?}")
        };
        assert!(*after >= last && *after <= f.poll_config.max);
        last = *after;
    }
    assert!(last > f.poll_config.first, "the interval grows");

    // Transient trouble: keep polling, show it.
    let fx = f.update(Msg::StatusPolled {
        generation: generation_id,
        result: Err(Failure::new(ErrorKind::Network, "connection refused")),
    });
    assert!(matches!(&fx[..], [Effect::PollStatus { .. }]));
    assert!(f.polling.as_ref().is_some_and(|p| p.last_error.is_some()));

    // An answer from an older generation is ignored.
    assert!(
        f.update(Msg::StatusPolled {
            generation: generation_id - 1,
            result: Ok(update(RequestStatus::Accepted))
        })
        .is_empty()
    );
    assert_eq!(f.step, Step::Polling);

    let fx = f.update(Msg::StatusPolled {
        generation: generation_id,
        result: Ok(update(RequestStatus::Accepted)),
    });
    assert_eq!(f.step, Step::TestCall);
    assert!(fx.iter().any(is_save));
    assert_eq!(f.profile.requests[0].status, RequestStatus::Accepted);
}

#[test]
fn polling_outcomes() {
    let cases = [
        (
            Ok(update(RequestStatus::Rejected)),
            Step::Polling,
            Some(ErrorKind::Refused),
        ),
        (
            Ok(update(RequestStatus::Timedout)),
            Step::Polling,
            Some(ErrorKind::Refused),
        ),
        (Ok(update(RequestStatus::Accepted)), Step::TestCall, None),
        (
            Err(Failure::new(ErrorKind::Rejected, "AUTH-00010")),
            Step::Polling,
            Some(ErrorKind::Rejected),
        ),
    ];
    for (result, step, err) in cases {
        let mut f = flow_at(Step::Approval);
        f.update(Msg::StartPolling);
        let fx = f.update(Msg::StatusPolled {
            generation: 1,
            result: result.clone(),
        });
        assert_eq!(f.step, step, "{result:?}");
        assert_eq!(f.error.as_ref().map(|e| e.kind), err, "{result:?}");
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::PollStatus { .. })),
            "polling stops on {result:?}"
        );
        assert!(!f.in_flight());
    }
}

#[test]
fn cancelling_polling_drops_late_answers() {
    let mut f = flow_at(Step::Approval);
    f.update(Msg::StartPolling);
    assert!(f.in_flight());
    assert!(f.update(Msg::CancelPolling).is_empty());
    assert_eq!(f.step, Step::Approval);
    assert!(!f.in_flight());
    assert!(
        f.update(Msg::StatusPolled {
            generation: 1,
            result: Ok(update(RequestStatus::Accepted))
        })
        .is_empty()
    );
    assert_eq!(f.step, Step::Approval);
}

#[test]
fn test_call_step() {
    let mut f = flow_at(Step::TestCall);
    let fx = f.update(Msg::SubmitTestCall {
        url: Some("http://example.com/api".into()),
    });
    assert!(
        fx.is_empty()
            && f.error
                .as_ref()
                .is_some_and(|e| e.kind == ErrorKind::Validation),
        "plain http off loopback is refused"
    );
    let fx = f.update(Msg::SubmitTestCall { url: None });
    let [
        Effect::TestCall {
            url: None,
            method,
            body: None,
            customer_org,
            external_ref: None,
            scope,
        },
    ] = &fx[..]
    else {
        panic!("{fx:?}")
    };
    assert_eq!(customer_org, CUSTOMER);
    assert_eq!(method, "GET");
    assert_eq!(scope.len(), 3);
    for (status, step, err) in [
        (200, Step::Done, None),
        (403, Step::TestCall, Some(ErrorKind::Rejected)),
    ] {
        let mut f = flow_at(Step::TestCall);
        f.update(Msg::SubmitTestCall { url: None });
        let record = TestCallRecord {
            url: "u".into(),
            method: "GET".into(),
            status,
            elapsed_ms: 1,
            at: t0(),
            system_user_id: None,
            body_excerpt: None,
        };
        let fx = f.update(Msg::TestCallDone(Ok(TestCallSummary {
            record,
            token_claims: serde_json::json!({}),
            token_expires_in: 120,
            response_json: None,
            headers: vec![],
        })));
        assert_eq!((f.step, f.error.as_ref().map(|e| e.kind)), (step, err));
        assert!(fx.iter().any(is_save), "the result is saved either way");
    }
}

#[test]
fn retry_repeats_the_failed_effect() {
    let mut f = flow_at(Step::System);
    let first = f.update(Msg::SubmitSystem(SystemForm {
        name: "smartcloud".into(),
        is_visible: true,
        rights: "ske-krav-og-betalinger".into(),
        ..Default::default()
    }));
    f.update(Msg::SystemRegistered(Err(Failure::new(
        ErrorKind::Network,
        "timed out",
    ))));
    assert_eq!(f.update(Msg::Retry), first);
    assert!(f.error.is_none() && f.busy.is_some());
}

#[test]
fn steps_can_be_revisited_but_not_skipped() {
    let mut f = flow_at(Step::Request);
    f.update(Msg::GoTo(Step::Key));
    assert_eq!(f.step, Step::Key);
    assert_eq!(f.step_state(Step::Client), StepState::Done);
    f.update(Msg::GoTo(Step::TestCall));
    assert_eq!(f.step, Step::Key);
    assert!(f.error.is_some());
    f.update(Msg::GoTo(Step::Request));
    assert_eq!(f.step, Step::Request);
}

#[test]
fn a_failed_save_keeps_the_state() {
    let mut f = flow_at(Step::Key);
    f.update(Msg::KeyReady(Ok(key_info())));
    f.update(Msg::ProfileSaved(Err(Failure::new(
        ErrorKind::Local,
        "disk full",
    ))));
    assert_eq!(f.profile.kid.as_deref(), Some("kid-1"));
    assert!(
        f.error
            .as_ref()
            .is_some_and(|e| e.message.contains("disk full"))
    );
}

#[test]
fn request_body_preview_matches_what_is_sent() {
    let form = RequestForm {
        customer_org: CUSTOMER.into(),
        agent: false,
        external_ref: "r-1".into(),
    };
    let f = flow_at(Step::Request);
    let before = f.profile.clone();
    let preview = f.request_body(&form).expect("valid form");
    let mut g = flow_at(Step::Request);
    let fx = g.update(Msg::SubmitRequest(form));
    assert!(matches!(&fx[..], [Effect::CreateRequest { body, .. }] if *body == preview));
    let bad = RequestForm {
        customer_org: "1".into(),
        ..Default::default()
    };
    assert!(f.request_body(&bad).unwrap_err().contains("9 digits"));
    assert_eq!(f.profile, before, "a preview changes nothing");
}

#[test]
fn a_pasted_key_never_shows_in_debug_output() {
    let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretpart\n-----END PRIVATE KEY-----";
    let mut f = flow_at(Step::Key);
    let msg = Msg::ImportKey {
        source: pem.into(),
        kid: None,
    };
    assert!(!format!("{msg:?}").contains("secretpart"));
    let fx = f.update(msg);
    assert!(!format!("{fx:?}").contains("secretpart"), "{fx:?}");
}

#[test]
fn a_different_key_under_the_same_kid_must_be_registered_again() {
    let mut f = flow_at(Step::Done);
    f.profile.key_thumbprint = Some("tp-1".into());
    f.update(Msg::KeyReady(Ok(key_info())));
    assert!(
        f.profile.client_registered,
        "the same key again changes nothing"
    );
    let other = KeyInfo {
        thumbprint: "tp-2".into(),
        ..key_info()
    };
    f.update(Msg::KeyReady(Ok(other)));
    assert!(
        !f.profile.client_registered,
        "same kid, other key: the client must get it"
    );
    assert_eq!(resume_step(&f.profile), Step::Client);
}

/// A session that cannot open (the embedded sandbox fails to start, an unreachable custom
/// environment) arrives as a message: whatever was waiting stops, the error shows on the step
/// the user is on, nothing is saved, and Retry asks again for the dropped effect.
#[test]
fn a_failed_session_stops_what_waited_and_can_be_retried() {
    struct Case {
        name: &'static str,
        at: Step,
        before: fn(&mut Flow) -> Vec<Effect>,
    }
    let cases = [
        Case {
            name: "nothing in flight",
            at: Step::Key,
            before: |_| vec![],
        },
        Case {
            name: "a system registration waiting",
            at: Step::System,
            before: |f| {
                f.update(Msg::SubmitSystem(SystemForm {
                    name: "smartcloud".into(),
                    is_visible: true,
                    rights: "ske-krav-og-betalinger".into(),
                    ..Default::default()
                }))
            },
        },
        Case {
            name: "a poll waiting",
            at: Step::Approval,
            before: |f| f.update(Msg::StartPolling),
        },
    ];
    for c in cases {
        let mut f = flow_at(c.at);
        let waiting = (c.before)(&mut f);
        let step = f.step;
        let fx = f.update(Msg::SessionFailed(
            Failure::new(ErrorKind::Network, "could not bind 127.0.0.1:0")
                .with_upstream(None, None),
        ));
        assert!(fx.is_empty(), "{}: {fx:?}", c.name);
        assert!(f.busy.is_none(), "{}", c.name);
        assert!(!f.in_flight(), "{}: nothing is left in flight", c.name);
        let e = f.error.clone().expect("an error");
        assert_eq!(
            (e.step, e.kind),
            (step, ErrorKind::Network),
            "{}: shown on the current step",
            c.name
        );
        assert!(
            e.message
                .starts_with("could not open the sandbox environment: could not bind"),
            "{}: {}",
            c.name,
            e.message
        );
        if !waiting.is_empty() {
            // A new poll gets a new generation; otherwise the same effect is asked for again.
            let same = |fx: Vec<Effect>| -> Vec<Effect> {
                fx.into_iter()
                    .map(|e| match e {
                        Effect::PollStatus {
                            request_id,
                            agent,
                            after,
                            ..
                        } => Effect::PollStatus {
                            request_id,
                            agent,
                            after,
                            generation: 0,
                        },
                        e => e,
                    })
                    .collect()
            };
            assert_eq!(
                same(f.update(Msg::Retry)),
                same(waiting),
                "{}: retry",
                c.name
            );
        }
    }
}

/// A remote's error code and HTTP status travel with the failure into the flow's error.
#[test]
fn a_failure_keeps_the_upstream_code_and_status() {
    let mut f = flow_at(Step::Request);
    f.update(Msg::SubmitRequest(RequestForm {
        customer_org: CUSTOMER.into(),
        agent: false,
        external_ref: String::new(),
    }));
    f.update(Msg::RequestCreated(Err(Failure::new(
        ErrorKind::Rejected,
        "Altinn rejected it",
    )
    .with_upstream(Some("AUTH-00002".into()), Some(400)))));
    let e = f.error.expect("an error");
    assert_eq!(
        (e.code.as_deref(), e.status, e.kind),
        (Some("AUTH-00002"), Some(400), ErrorKind::Rejected)
    );
}

#[test]
fn an_opened_session_refreshes_a_pending_requests_confirm_url() {
    let mut f = flow_at(Step::Approval);
    f.profile.requests = vec![request(RequestStatus::New)];
    let fx = f.update(Msg::SessionOpened);
    assert_eq!(
        fx,
        [Effect::RefreshRequest {
            request_id: request(RequestStatus::New).id,
            agent: false
        }]
    );
    assert_eq!(f.busy, None, "a quiet refresh: nothing blocks the screen");
    let new_url = "http://127.0.0.1:2/accessmanagement/ui/systemuser/request?id=x";
    let fx = f.update(Msg::RequestRefreshed(Ok(StatusUpdate {
        confirm_url: Some(new_url.into()),
        ..update(RequestStatus::New)
    })));
    assert!(fx.iter().any(is_save), "{fx:?}");
    let rec = f.profile.current_request().unwrap();
    assert_eq!(rec.confirm_url.as_deref(), Some(new_url));
    // The same answer again changes nothing; a failure keeps what was saved.
    let fx = f.update(Msg::RequestRefreshed(Ok(StatusUpdate {
        confirm_url: Some(new_url.into()),
        ..update(RequestStatus::New)
    })));
    assert!(fx.is_empty(), "{fx:?}");
    let fx = f.update(Msg::RequestRefreshed(Err(Failure::new(
        ErrorKind::Network,
        "down",
    ))));
    assert!(fx.is_empty() && f.error.is_none());
    assert_eq!(
        f.profile.current_request().unwrap().confirm_url.as_deref(),
        Some(new_url)
    );
    // An answered request, or one being polled, needs no refresh.
    f.profile.requests = vec![request(RequestStatus::Accepted)];
    assert!(f.update(Msg::SessionOpened).is_empty());
    f.profile.requests = vec![request(RequestStatus::New)];
    let _ = f.update(Msg::StartPolling);
    assert!(f.update(Msg::SessionOpened).is_empty());
}

#[test]
fn client_step_on_a_custom_server_that_is_not_a_sandbox_waits_for_the_upload() {
    let mut p = profile_at(Step::Client);
    p.environment = EnvSetting {
        kind: EnvKind::Custom,
        maskinporten_url: Some("http://127.0.0.1:1/".into()),
        altinn_url: Some("http://127.0.0.1:1".into()),
    };
    let mut f = Flow::resume(p);
    let id = "0b5a0ab1-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
    let fx = f.update(Msg::SubmitClient {
        vendor_org: VENDOR.into(),
        client_id: id.into(),
        scopes: "a:b".into(),
    });
    // The runner asks the server what it is; the flow cannot know.
    assert!(matches!(&fx[..], [Effect::RegisterClient { client_id: Some(c), .. }] if c == id));
    // The server's metadata says it is no sandbox: the id is kept, the upload awaits the user.
    let fx = f.update(Msg::ClientAwaitsUpload {
        client_id: id.into(),
    });
    assert!(fx.iter().any(is_save));
    assert_eq!(f.step, Step::Client);
    assert_eq!(f.profile.client_id.as_deref(), Some(id));
    assert!(!f.profile.client_registered && f.client_awaits_upload && f.busy.is_none());
    assert!(
        f.notice
            .as_deref()
            .is_some_and(|n| n.contains("not an altinn-onboard sandbox"))
    );
    f.update(Msg::ConfirmClientUploaded);
    assert_eq!(f.step, Step::System);
    assert!(f.profile.client_registered && !f.client_awaits_upload);
}

/// A Done flow whose system has a second right and a package, for change requests.
fn change_flow() -> Flow {
    let mut f = flow_at(Step::Done);
    if let Some(s) = f.profile.system.as_mut() {
        s.rights.push("ttd_systembruker-salary".into());
        s.access_packages
            .push("urn:altinn:accesspackage:skatt-naering".into());
    }
    f
}

fn change_form(customer: &str, rights: &str, packages: &str) -> ChangeForm {
    ChangeForm {
        customer_org: customer.into(),
        add_rights: rights.into(),
        add_access_packages: packages.into(),
    }
}

#[test]
fn change_requests_are_checked_before_anything_is_sent() {
    // (form, what the error says) — every case refused with no effect, nothing changed.
    let cases: [(ChangeForm, &str); 6] = [
        (
            change_form("123", "ttd_systembruker-salary", ""),
            "organisation number",
        ),
        (
            change_form(CUSTOMER, "", ""),
            "name at least one resource or access package",
        ),
        (change_form(CUSTOMER, "not a resource!", ""), "resource"),
        (
            change_form(CUSTOMER, "eformidling-dpo-meldingsutveksling", ""),
            "register the right on the system first: system register --name smartcloud --resource ske-krav-og-betalinger --resource ttd_systembruker-salary --resource eformidling-dpo-meldingsutveksling",
        ),
        (
            change_form(CUSTOMER, "", "regnskapsforer-lonn"),
            "--access-package urn:altinn:accesspackage:regnskapsforer-lonn",
        ),
        (
            change_form(
                CUSTOMER,
                "ske-krav-og-betalinger",
                "skatt-naering regnskapsforer-lonn",
            ),
            "regnskapsforer-lonn not registered on the system",
        ),
    ];
    for (form, expected) in cases {
        let mut f = change_flow();
        let before = f.profile.clone();
        let fx = f.update(Msg::SubmitChange(form.clone()));
        assert!(fx.is_empty(), "{form:?}: {fx:?}");
        let err = f
            .error
            .clone()
            .unwrap_or_else(|| panic!("{form:?} accepted"));
        assert_eq!(err.kind, ErrorKind::Validation, "{form:?}");
        assert_eq!(err.step, Step::Done, "{form:?}");
        assert!(err.message.contains(expected), "{form:?}: {}", err.message);
        assert_eq!(f.profile, before);
        assert!(f.busy.is_none());
    }
    // No system yet, and an agent system user: refused too.
    let mut f = flow_at(Step::System);
    f.update(Msg::SubmitChange(change_form(
        CUSTOMER,
        "ske-krav-og-betalinger",
        "",
    )));
    assert!(
        f.error
            .unwrap()
            .message
            .contains("register the system first")
    );
    let mut f = change_flow();
    f.profile.requests[0].kind = RequestKind::Agent;
    let fx = f.update(Msg::SubmitChange(change_form(
        CUSTOMER,
        "",
        "skatt-naering",
    )));
    assert!(fx.is_empty());
    assert!(f.error.unwrap().message.contains("agent system user"));
}

#[test]
fn a_change_request_is_created_polled_and_answered_on_the_done_step() {
    let mut f = change_flow();
    f.profile.requests[0].external_ref = Some("kunde-1".into());
    let fx = f.update(Msg::SubmitChange(change_form(
        CUSTOMER,
        "ttd_systembruker-salary, ttd_systembruker-salary",
        "skatt-naering",
    )));
    assert_eq!(
        fx,
        vec![Effect::CreateChangeRequest {
            system_id: format!("{VENDOR}_smartcloud"),
            customer_org: CUSTOMER.into(),
            external_ref: Some("kunde-1".into()),
            add_rights: vec!["ttd_systembruker-salary".into()],
            add_access_packages: vec!["urn:altinn:accesspackage:skatt-naering".into()],
        }]
    );
    assert_eq!(f.busy, Some(Busy::Change));

    let rec = |status: RequestStatus| RequestRecord {
        id: "change-1".into(),
        kind: RequestKind::Change,
        customer_org: CUSTOMER.into(),
        external_ref: Some("kunde-1".into()),
        status,
        confirm_url: Some(
            "https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/changerequest?id=change-1"
                .into(),
        ),
        created_at: t0(),
        checked_at: None,
        change: Some(crate::profile::ChangeRecord {
            system_user_id: REQ_ID.into(),
            add_rights: vec!["ttd_systembruker-salary".into()],
            add_access_packages: vec![],
        }),
    };
    let outcome = ChangeOutcome {
        record: rec(RequestStatus::New),
        already_rights: vec![],
        already_access_packages: vec!["urn:altinn:accesspackage:skatt-naering".into()],
    };
    let fx = f.update(Msg::ChangeRequested(Ok(outcome)));
    assert!(is_save(&fx[0]), "{fx:?}");
    let Effect::PollStatus {
        request_id,
        generation,
        ..
    } = fx[1].clone()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(request_id, "change-1");
    // Still on Done; the system user's request stays the current one.
    assert_eq!(f.step, Step::Done);
    assert_eq!(
        f.profile.current_request().map(|r| r.id.as_str()),
        Some(REQ_ID)
    );
    assert_eq!(
        f.profile.newest_request().map(|r| r.id.as_str()),
        Some("change-1")
    );
    assert_eq!(resume_step(&f.profile), Step::Done);

    // (answer, error kind, step after, notice contains)
    let cases = [
        (RequestStatus::New, None, Step::Done, None),
        (
            RequestStatus::Accepted,
            None,
            Step::Done,
            Some("the system user for 974760673 now has ttd_systembruker-salary"),
        ),
        (
            RequestStatus::Rejected,
            Some(ErrorKind::Refused),
            Step::Done,
            None,
        ),
    ];
    for (answer, kind, step, notice) in cases {
        let mut g = f.clone();
        let fx = g.update(Msg::StatusPolled {
            generation,
            result: Ok(StatusUpdate {
                request_id: "change-1".into(),
                status: answer.clone(),
                confirm_url: None,
                at: t0(),
                refusal: None,
            }),
        });
        assert_eq!(g.step, step, "{answer}");
        assert_eq!(g.error.as_ref().map(|e| e.kind), kind, "{answer}");
        if let Some(n) = notice {
            assert!(
                g.notice.as_deref().unwrap_or("").contains(n),
                "{:?}",
                g.notice
            );
        }
        let polls_again = fx.iter().any(|e| matches!(e, Effect::PollStatus { .. }));
        assert_eq!(polls_again, answer.is_pending(), "{answer}: {fx:?}");
        assert_eq!(
            g.profile.newest_request().map(|r| r.status.clone()),
            Some(answer.clone())
        );
    }
    // Cancelling keeps the Done step (no approval step for a change request).
    let mut g = f.clone();
    g.update(Msg::CancelPolling);
    assert_eq!(g.step, Step::Done);

    // NoChangeNeeded: a success, not kept (Altinn stored nothing), nothing to poll.
    let mut g = change_flow();
    g.update(Msg::SubmitChange(change_form(
        CUSTOMER,
        "ske-krav-og-betalinger",
        "",
    )));
    let fx = g.update(Msg::ChangeRequested(Ok(ChangeOutcome {
        record: rec(RequestStatus::NoChangeNeeded),
        already_rights: vec!["ske-krav-og-betalinger".into()],
        already_access_packages: vec![],
    })));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(g.error.is_none());
    assert_eq!(g.profile.requests.len(), 1);
    assert!(
        g.notice
            .as_deref()
            .is_some_and(|n| n.contains("already has ske-krav-og-betalinger")),
        "{:?}",
        g.notice
    );
    // A refusal from Altinn is shown on the Done step with its code.
    let mut g = change_flow();
    g.update(Msg::SubmitChange(change_form(
        CUSTOMER,
        "ttd_systembruker-salary",
        "",
    )));
    g.update(Msg::ChangeRequested(Err(Failure::new(
        ErrorKind::Rejected,
        "no",
    )
    .with_upstream(Some("AUTH-00015".into()), Some(404)))));
    let e = g.error.unwrap();
    assert_eq!(
        (e.step, e.code.as_deref()),
        (Step::Done, Some("AUTH-00015"))
    );
    assert!(g.busy.is_none());
}

const REQ_ID: &str = "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11";
