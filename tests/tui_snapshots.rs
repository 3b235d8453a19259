//! Snapshot tests of every wizard step in its main states (empty form, invalid input, in
//! progress, error, success) at 80x24 and at a narrow 50x20, rendered with ratatui's
//! `TestBackend`. States are built directly from `Flow` data, with fixed ids and paths; the
//! flow never holds private keys or tokens, and the snapshots are checked for key material.

use altinn_onboard::altinn::model::RequestStatus;
use altinn_onboard::env::{EnvKind, EnvSetting};
use altinn_onboard::flow::{
    Busy, Effect, ErrorKind, Failure, Flow, KeyInfo, Msg, PollState, RegistrationSummary, Step,
    TestCallSummary,
};
use altinn_onboard::profile::{
    Profile, RegistrationRecord, RequestKind, RequestRecord, SystemSpec, TestCallRecord,
};
use altinn_onboard::tui::app::{App, AppOptions, Overlay, seeded_for};
use altinn_onboard::tui::theme::Theme;
use altinn_onboard::tui::ui;
use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const KID: &str = "onboard-2026-11-24-a1b2c3";
const CLIENT: &str = "3f0e8a52-6f3c-4c1e-9a57-2b8e1c0d4f11";
const REQ: &str = "9b2d4c1e-0a7f-4e3b-8c5d-6f1a2b3c4d5e";
const URL: &str = "http://127.0.0.1:41234/accessmanagement/ui/systemuser/request?id=9b2d4c1e-0a7f-4e3b-8c5d-6f1a2b3c4d5e";

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn opts(kind: EnvKind) -> AppOptions {
    AppOptions {
        default_test_url: "http://127.0.0.1:41234/reference/whoami".into(),
        headless: None,
        seeded_orgs: seeded_for(kind),
        theme: Theme::plain(),
    }
}

fn key_info() -> KeyInfo {
    KeyInfo {
        kid: KID.into(),
        path: PathBuf::from("/home/dev/.config/altinn-onboard/keys/default-onboard.pem"),
        public_jwk: serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "e": "AQAB",
            "n": "xjlCRBqkQSuHPLsUj0Cqh2ZZUd6A1Q7hWJ8jD0d9SpFmT7QzAbC0123456789abcdefghijklmnopqrstuvwxyz"
        }),
        bits: 2048,
        thumbprint: KID.into(),
        warning: None,
    }
}

/// A profile with everything up to (not including) `step` done.
fn profile_until(kind: EnvKind, step: Step) -> Profile {
    let mut p = Profile::new("default", EnvSetting::new(kind));
    p.created_at = t0();
    p.updated_at = t0();
    if step > Step::Key {
        p.kid = Some(KID.into());
        p.key_path = Some(key_info().path);
    }
    if step > Step::Client {
        p.vendor_org = Some("312345676".into());
        p.client_id = Some(CLIENT.into());
        p.scopes = altinn_onboard::altinn::client::VENDOR_SCOPES
            .iter()
            .map(|s| s.to_string())
            .collect();
        p.client_registered = true;
    }
    if step > Step::System {
        let mut s = SystemSpec::simple("onboard-demo", "Onboard demo", "Demo system");
        s.rights = vec!["altinn-onboard-sandbox-reference".into()];
        p.system = Some(s);
        p.system_registered = Some(RegistrationRecord {
            system_id: "312345676_onboard-demo".into(),
            at: t0(),
            outcome: "created".into(),
            client_id: Some(CLIENT.into()),
        });
        p.customer_org = Some("310904473".into());
    }
    if step > Step::Request {
        let accepted = step > Step::Polling;
        p.requests.push(RequestRecord {
            id: REQ.into(),
            kind: RequestKind::Standard,
            customer_org: "310904473".into(),
            external_ref: None,
            status: if accepted {
                RequestStatus::Accepted
            } else {
                RequestStatus::New
            },
            confirm_url: Some(URL.into()),
            created_at: t0(),
            checked_at: Some(t0()),
            change: None,
        });
    }
    if step > Step::TestCall {
        p.last_test_call = Some(test_record());
    }
    p
}

fn test_record() -> TestCallRecord {
    TestCallRecord {
        url: "http://127.0.0.1:41234/reference/whoami".into(),
        method: "GET".into(),
        status: 200,
        elapsed_ms: 12,
        at: t0(),
        system_user_id: Some("c2a1e0f4-1111-2222-3333-444455556666".into()),
        body_excerpt: None,
    }
}

fn app_at(kind: EnvKind, step: Step) -> App {
    let mut flow = Flow::resume(profile_until(kind, step));
    flow.step = step;
    if step > Step::Key {
        flow.key = Some(key_info());
    }
    App::new(flow, opts(kind))
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    let text = term.backend().to_string();
    assert!(
        !text.contains("PRIVATE KEY"),
        "key material on screen:\n{text}"
    );
    assert!(!has_jwt(&text), "a token on screen:\n{text}");
    text
}

/// Both sizes of one state.
macro_rules! snap {
    ($name:expr, $app:expr) => {{
        let app = &$app;
        insta::assert_snapshot!(format!("{}_80x24", $name), render(app, 80, 24));
        insta::assert_snapshot!(format!("{}_50x20", $name), render(app, 50, 20));
    }};
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn type_text(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn clear_field(app: &mut App) {
    press(app, KeyCode::End);
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
}

fn fail(kind: ErrorKind, m: &str) -> Failure {
    Failure::new(kind, m)
}

#[test]
fn environment_step() {
    let fresh = App::new(
        Flow::new(Profile::new("default", EnvSetting::default())),
        opts(EnvKind::Sandbox),
    );
    assert_eq!(fresh.flow.step, Step::Environment);
    snap!("env_empty", fresh);

    let mut custom = App::new(
        Flow::new(Profile::new("default", EnvSetting::default())),
        opts(EnvKind::Sandbox),
    );
    for _ in 0..3 {
        press(&mut custom, KeyCode::Down);
    }
    press(&mut custom, KeyCode::Tab);
    type_text(&mut custom, "http://example.com/");
    snap!("env_custom_invalid", custom);

    let mut prod = App::new(
        Flow::new(Profile::new("default", EnvSetting::default())),
        opts(EnvKind::Sandbox),
    );
    press(&mut prod, KeyCode::Down);
    press(&mut prod, KeyCode::Down);
    press(&mut prod, KeyCode::Enter);
    assert_eq!(prod.flow.step, Step::Key);
    assert_eq!(prod.flow.profile.environment.kind, EnvKind::Prod);
    snap!("key_prod_empty", prod);
}

#[test]
fn key_step() {
    let empty = app_at(EnvKind::Sandbox, Step::Key);
    snap!("key_empty", empty);

    let mut busy = app_at(EnvKind::Sandbox, Step::Key);
    let fx = busy.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(fx.len(), 1, "Enter generates a key");
    assert_eq!(busy.flow.busy, Some(Busy::Key));
    snap!("key_busy", busy);

    let mut err = app_at(EnvKind::Sandbox, Step::Key);
    press(&mut err, KeyCode::Char('i'));
    type_text(&mut err, "/tmp/nope.pem");
    press(&mut err, KeyCode::Enter);
    err.handle_msg(Msg::KeyReady(Err(fail(
        ErrorKind::Local,
        "cannot read key file /tmp/nope.pem: No such file or directory (os error 2)",
    ))));
    snap!("key_error", err);

    let mut pasted = app_at(EnvKind::Sandbox, Step::Key);
    press(&mut pasted, KeyCode::Char('i'));
    pasted.handle_term(&ratatui::crossterm::event::Event::Paste(
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
            .into(),
    ));
    snap!("key_paste_redacted", pasted);

    let mut done = app_at(EnvKind::Tt02, Step::Key);
    done.handle_msg(Msg::KeyReady(Ok(key_info())));
    done.handle_msg(Msg::GoTo(Step::Key));
    snap!("key_success_tt02", done);
    press(&mut done, KeyCode::Char('c'));
    assert!(done.clipboard.as_deref().is_some_and(|c| c.contains(KID)));
}

#[test]
fn client_step() {
    let empty = app_at(EnvKind::Sandbox, Step::Client);
    snap!("client_form", empty);

    let mut invalid = app_at(EnvKind::Sandbox, Step::Client);
    // The sandbox form is prefilled, so the wizard starts in command mode; Tab edits.
    assert!(invalid.focused_field().is_none());
    press(&mut invalid, KeyCode::Tab);
    clear_field(&mut invalid);
    type_text(&mut invalid, "12345");
    snap!("client_invalid", invalid);

    let mut busy = app_at(EnvKind::Sandbox, Step::Client);
    let fx = busy.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(fx.len(), 1);
    snap!("client_busy", busy);

    busy.handle_msg(Msg::ClientRegistered(Err(fail(
        ErrorKind::Network,
        "could not reach http://127.0.0.1:41234/sandbox/clients: connection refused\n  hint: is the sandbox running?",
    ))));
    snap!("client_error", busy);

    let mut tt02 = app_at(EnvKind::Tt02, Step::Client);
    clear_field(&mut tt02);
    type_text(&mut tt02, "312345676");
    press(&mut tt02, KeyCode::Tab);
    type_text(&mut tt02, CLIENT);
    press(&mut tt02, KeyCode::Enter);
    assert!(tt02.awaiting_upload());
    snap!("client_tt02_upload", tt02);

    // Issue 17, trap 4: the whole JWK (j), written to a file whose path is shown. The file
    // itself is written by the driver (tests/tui_keys.rs); here it reports where.
    press(&mut tt02, KeyCode::Char('j'));
    assert_eq!(tt02.overlay, Overlay::Jwk);
    let path = tt02.public_jwk_path().expect("a path for the public JWK");
    assert_eq!(
        path,
        PathBuf::from("/home/dev/.config/altinn-onboard/keys/default-onboard.public.jwk.json")
    );
    assert_eq!(tt02.jwk_export.as_ref().map(|(p, _)| p), Some(&path));
    tt02.jwk_file = Some(Ok(path));
    snap!("jwk_view_tt02", tt02);
    // A small terminal scrolls it: the closing brace comes into view, the title goes.
    let top = render(&tt02, 40, 12);
    assert!(
        top.contains("Public JWK") && !top.contains("\"use\""),
        "{top}"
    );
    assert!(top.contains("↑↓ scroll (0/"), "{top}");
    for _ in 0..10 {
        press(&mut tt02, KeyCode::Down);
    }
    let bottom = render(&tt02, 40, 12);
    assert!(!bottom.contains("Public JWK"), "{bottom}");
    assert!(bottom.contains("\"use\": \"sig\""), "{bottom}");
    assert!(
        bottom
            .lines()
            .rev()
            .nth(1)
            .is_some_and(|l| l.starts_with("\"}")),
        "{bottom}"
    );
    press(&mut tt02, KeyCode::Up);
    assert!(tt02.jwk_scroll > 0 && tt02.jwk_scroll < 10);
    press(&mut tt02, KeyCode::Esc);
    assert_eq!(tt02.overlay, Overlay::None);
}

#[test]
fn system_step() {
    let form = app_at(EnvKind::Sandbox, Step::System);
    snap!("system_form", form);

    let mut invalid = app_at(EnvKind::Sandbox, Step::System);
    press(&mut invalid, KeyCode::Tab);
    clear_field(&mut invalid);
    type_text(&mut invalid, "Bad Name!");
    snap!("system_invalid", invalid);

    let mut json = app_at(EnvKind::Sandbox, Step::System);
    press(&mut json, KeyCode::Esc);
    press(&mut json, KeyCode::Char('v'));
    snap!("system_json", json);

    let mut busy = app_at(EnvKind::Sandbox, Step::System);
    busy.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(busy.flow.busy, Some(Busy::System));
    snap!("system_busy", busy);

    busy.handle_msg(Msg::SystemRegistered(Err(fail(
        ErrorKind::Rejected,
        "HTTP 400 AUTH.VLD-00003: one or more rights are not known resources (altinn-onboard-sandbox-referense)\n  hint: check the resource ids in the Resource Registry",
    ))));
    snap!("system_error", busy);

    let mut ok = app_at(EnvKind::Sandbox, Step::System);
    ok.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    ok.handle_msg(Msg::SystemRegistered(Ok(RegistrationSummary {
        system_id: "312345676_onboard-demo".into(),
        outcome: "updated".into(),
        changes: vec!["isVisible: false -> true".into()],
        client_id: CLIENT.into(),
        at: t0(),
    })));
    assert_eq!(ok.flow.step, Step::Request);
    snap!("request_after_system", ok);
}

#[test]
fn request_step() {
    let form = app_at(EnvKind::Sandbox, Step::Request);
    snap!("request_form", form);

    let mut picked = app_at(EnvKind::Sandbox, Step::Request);
    press(&mut picked, KeyCode::Down);
    press(&mut picked, KeyCode::Down);
    assert_eq!(
        picked.forms.request.customer.value(),
        altinn_onboard::sandbox::seeded_orgs()[2].org_no
    );
    press(&mut picked, KeyCode::Tab);
    press(&mut picked, KeyCode::Tab);
    press(&mut picked, KeyCode::Char(' '));
    assert!(
        picked.forms.request.agent.on(),
        "space toggles the agent request"
    );
    snap!("request_picked_agent", picked);

    let mut invalid = app_at(EnvKind::Sandbox, Step::Request);
    press(&mut invalid, KeyCode::Tab);
    clear_field(&mut invalid);
    type_text(&mut invalid, "310904474");
    press(&mut invalid, KeyCode::Enter);
    snap!("request_invalid", invalid);

    let mut busy = app_at(EnvKind::Sandbox, Step::Request);
    busy.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(busy.flow.busy, Some(Busy::Request));
    snap!("request_busy", busy);
    busy.handle_msg(Msg::RequestCreated(Err(fail(
        ErrorKind::Rejected,
        "HTTP 403 AUTH-00042: the vendor token lacks altinn:authentication/systemuser.request.write\n  hint: add the scope to the client",
    ))));
    snap!("request_error", busy);
}

#[test]
fn approval_step() {
    let app = app_at(EnvKind::Sandbox, Step::Approval);
    snap!("approval", app);

    let mut headless = app_at(EnvKind::Sandbox, Step::Approval);
    headless.opts.headless = Some("this is an SSH session".into());
    snap!("approval_headless", headless);

    let mut qr = app_at(EnvKind::Sandbox, Step::Approval);
    press(&mut qr, KeyCode::Char('z'));
    assert_eq!(qr.overlay, Overlay::Qr);
    insta::assert_snapshot!("approval_qr_overlay_100x40", render(&qr, 100, 40));
}

#[test]
fn polling_step() {
    let mut app = app_at(EnvKind::Sandbox, Step::Approval);
    let now = Instant::now();
    app.now = now;
    let fx = app.handle_msg(Msg::StartPolling);
    assert_eq!(fx.len(), 1);
    let generation = app.flow.polling.as_ref().unwrap().generation;
    // Two answers "still New": the interval backs off.
    for _ in 0..2 {
        app.handle_msg(Msg::StatusPolled {
            generation,
            result: Ok(altinn_onboard::flow::StatusUpdate {
                request_id: REQ.into(),
                status: RequestStatus::New,
                confirm_url: None,
                at: t0(),
                refusal: None,
            }),
        });
    }
    app.now = now + Duration::from_millis(1500);
    app.poll_started = Some(now - Duration::from_secs(4));
    app.next_poll_at = Some(now + Duration::from_millis(2500));
    assert!(app.flow.in_flight());
    snap!("polling_active", app);

    // q while polling asks first.
    press(&mut app, KeyCode::Char('q'));
    assert_eq!(app.overlay, Overlay::ConfirmQuit);
    assert!(!app.quit);
    snap!("polling_confirm_quit", app);
    press(&mut app, KeyCode::Char('n'));

    app.handle_msg(Msg::StatusPolled {
        generation,
        result: Ok(altinn_onboard::flow::StatusUpdate {
            request_id: REQ.into(),
            status: RequestStatus::Rejected,
            confirm_url: None,
            at: t0(),
            refusal: None,
        }),
    });
    snap!("polling_rejected", app);
}

/// A refused approval on the sandbox (issue 10): the polling step shows the code, the right,
/// why and what to change while it keeps polling (the request is still New).
#[test]
fn polling_refused() {
    let mut app = app_at(EnvKind::Sandbox, Step::Approval);
    let now = Instant::now();
    app.now = now;
    app.handle_msg(Msg::StartPolling);
    let generation = app.flow.polling.as_ref().unwrap().generation;
    let refusal = altinn_onboard::flow::ApprovalRefusal {
        code: "AUTH-00071".into(),
        status: 403,
        title: "DelegationCheck failed with error: The resource is not delegable because it is a Maskinporten schema resource.".into(),
        detail: "The resource skd-maskinportenschemaid-8 is a MaskinportenSchema resource; it cannot be delegated to a system user.".into(),
        subject: Some("skd-maskinportenschemaid-8".into()),
        fix: "The vendor must remove the MaskinportenSchema resource skd-maskinportenschemaid-8 from the system and send a new request.".into(),
        person: "kari".into(),
        person_name: "Kari Havbris".into(),
        at: t0(),
    };
    app.handle_msg(Msg::StatusPolled {
        generation,
        result: Ok(altinn_onboard::flow::StatusUpdate {
            request_id: REQ.into(),
            status: RequestStatus::New,
            confirm_url: None,
            at: t0(),
            refusal: Some(refusal.clone()),
        }),
    });
    assert_eq!(
        app.flow.polling.as_ref().and_then(|p| p.refusal.as_ref()),
        Some(&refusal)
    );
    assert!(
        app.flow.in_flight(),
        "a refusal keeps the request New: polling goes on"
    );
    app.now = now + Duration::from_millis(1500);
    app.poll_started = Some(now - Duration::from_secs(4));
    app.next_poll_at = Some(now + Duration::from_millis(2500));
    snap!("polling_refused", app);
}

fn test_summary(status: u16) -> TestCallSummary {
    let mut record = test_record();
    record.status = status;
    TestCallSummary {
        record,
        token_claims: serde_json::json!({
            "iss": "http://127.0.0.1:41234/",
            "client_id": CLIENT,
            "scope": "altinn:authentication/systemregister.write",
            "authorization_details": [{"type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:310904473"},
                "systemuser_id": ["c2a1e0f4-1111-2222-3333-444455556666"]}],
        }),
        token_expires_in: 119,
        response_json: Some(serde_json::json!({
            "systemUserId": "c2a1e0f4-1111-2222-3333-444455556666",
            "customerOrg": "310904473", "vendorOrg": "312345676"
        })),
        headers: vec![],
    }
}

#[test]
fn test_call_step() {
    let form = app_at(EnvKind::Sandbox, Step::TestCall);
    snap!("test_form", form);

    let mut invalid = app_at(EnvKind::Sandbox, Step::TestCall);
    press(&mut invalid, KeyCode::Char('e'));
    type_text(&mut invalid, "http://api.example.com/x");
    snap!("test_invalid", invalid);

    let mut busy = app_at(EnvKind::Sandbox, Step::TestCall);
    busy.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(busy.flow.busy, Some(Busy::TestCall));
    snap!("test_busy", busy);

    let mut err = app_at(EnvKind::Sandbox, Step::TestCall);
    err.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    err.handle_msg(Msg::TestCallDone(Ok(test_summary(403))));
    snap!("test_error_403", err);

    let mut ok = app_at(EnvKind::Sandbox, Step::TestCall);
    ok.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    ok.handle_msg(Msg::TestCallDone(Ok(test_summary(200))));
    assert_eq!(ok.flow.step, Step::Done);
    ok.handle_msg(Msg::GoTo(Step::TestCall));
    snap!("test_success", ok);
}

#[test]
fn done_step_and_help() {
    let mut app = app_at(EnvKind::Sandbox, Step::Done);
    snap!("done", app);
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.overlay, Overlay::Help);
    snap!("help", app);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('q'));
    assert!(app.quit, "q quits at once when nothing is in flight");
}

#[test]
fn prod_badge_and_tiny_terminal() {
    let app = app_at(EnvKind::Prod, Step::System);
    insta::assert_snapshot!("prod_system_40x12", render(&app, 40, 12));
    // Degenerate sizes must not panic.
    for (w, h) in [(1, 1), (10, 3), (20, 5), (59, 10), (60, 10)] {
        render(&app, w, h);
    }
}

#[test]
fn polling_state_is_built_by_the_flow() {
    // The polling screen renders from the flow's PollState (snapshots above build it through
    // messages too): starting to poll builds it for the current request with no checks yet,
    // and each answer is counted, timestamped and backs the interval off.
    let mut app = app_at(EnvKind::Sandbox, Step::Approval);
    let fx = app.handle_msg(Msg::StartPolling);
    let [
        Effect::PollStatus {
            request_id,
            after,
            generation,
            ..
        },
    ] = fx.as_slice()
    else {
        panic!("StartPolling should ask for one status check, got {fx:?}");
    };
    assert_eq!(request_id, REQ);
    assert_eq!(*after, Duration::ZERO, "the first check is at once");
    let first = app.flow.poll_config.first;
    assert_eq!(
        app.flow.polling,
        Some(PollState {
            request_id: REQ.into(),
            generation: *generation,
            attempts: 0,
            interval: first,
            started_at: None,
            last_checked_at: None,
            last_error: None,
            active: true,
            refusal: None,
        })
    );

    let generation = *generation;
    app.handle_msg(Msg::StatusPolled {
        generation,
        result: Ok(altinn_onboard::flow::StatusUpdate {
            request_id: REQ.into(),
            status: RequestStatus::New,
            confirm_url: None,
            at: t0(),
            refusal: None,
        }),
    });
    let p = app.flow.polling.clone().expect("still polling");
    assert_eq!(p.attempts, 1);
    assert_eq!(p.started_at, Some(t0()));
    assert_eq!(p.last_checked_at, Some(t0()));
    assert!(p.active);
    assert!(
        p.interval > first,
        "the interval backs off: {:?}",
        p.interval
    );
}

/// A JWT-looking string (header.payload.): `eyJ` alone can occur in random key ids.
fn has_jwt(text: &str) -> bool {
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices("eyJ").any(|(i, _)| {
        let mut parts = text[i..].splitn(3, '.');
        let (Some(h), Some(p), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        h.len() >= 8 && h.chars().all(b64) && p.len() >= 8 && p.chars().all(b64)
    })
}

/// Issue 17 item 5: what a first try on TT02 needs, where it is needed, at 80x24.
#[test]
fn tt02_guidance() {
    // Before the key step: choosing TT02 shows what must be in place at Digdir.
    let mut env = App::new(
        Flow::new(Profile::new("default", EnvSetting::default())),
        opts(EnvKind::Sandbox),
    );
    press(&mut env, KeyCode::Down);
    let text = render(&env, 80, 24);
    for must in ["terms of use", "Samarbeidsportalen", "system vendor"] {
        assert!(text.contains(must), "{must}:\n{text}");
    }
    insta::assert_snapshot!("tt02_environment_80x24", text);

    // The key step: the portal's kid for a pasted PEM versus ours.
    let key = App::new(
        Flow::resume(Profile::new("default", EnvSetting::new(EnvKind::Tt02))),
        opts(EnvKind::Tt02),
    );
    let text = render(&key, 80, 24);
    assert!(text.contains("--kid"), "{text}");
    insta::assert_snapshot!("tt02_key_80x24", text);

    // The request step: customers are Tenor test organisations, approved by their DAGL.
    let request = app_at(EnvKind::Tt02, Step::Request);
    let text = render(&request, 80, 24);
    for must in ["Tenor", "DAGL"] {
        assert!(text.contains(must), "{must}:\n{text}");
    }
    insta::assert_snapshot!("tt02_request_80x24", text);

    // The approval step: log in with TestID as the DAGL.
    let approval = app_at(EnvKind::Tt02, Step::Approval);
    let text = render(&approval, 80, 24);
    for must in ["TestID", "DAGL"] {
        assert!(text.contains(must), "{must}:\n{text}");
    }
    insta::assert_snapshot!("tt02_approval_80x24", text);

    // None of it on the sandbox.
    let sandbox = app_at(EnvKind::Sandbox, Step::Approval);
    assert!(!render(&sandbox, 80, 24).contains("TestID"));
}
