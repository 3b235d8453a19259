//! The Done step's change request (`c`), as snapshots at 80x24 and 50x20: the form, a right
//! the system does not have (refused with the `system register` to run), in progress, waiting
//! for the customer (confirmUrl and QR code), approved, and "no change needed". States are
//! driven through the real key handling and flow messages; ids and URLs are fixed.

use altinn_onboard::altinn::model::RequestStatus;
use altinn_onboard::env::{EnvKind, EnvSetting};
use altinn_onboard::flow::{Busy, ChangeOutcome, Effect, Flow, Msg, StatusUpdate, Step};
use altinn_onboard::profile::{
    ChangeRecord, Profile, RegistrationRecord, RequestKind, RequestRecord, SystemSpec,
    TestCallRecord,
};
use altinn_onboard::tui::app::{App, AppOptions, seeded_for};
use altinn_onboard::tui::theme::Theme;
use altinn_onboard::tui::ui;
use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const CLIENT: &str = "3f0e8a52-6f3c-4c1e-9a57-2b8e1c0d4f11";
const REQ: &str = "9b2d4c1e-0a7f-4e3b-8c5d-6f1a2b3c4d5e";
const CHANGE: &str = "5e6f7a8b-1c2d-4e3f-9a0b-c1d2e3f4a5b6";
const CHANGE_URL: &str = "http://127.0.0.1:41234/accessmanagement/ui/systemuser/changerequest?id=5e6f7a8b-1c2d-4e3f-9a0b-c1d2e3f4a5b6&DONTCHOOSEREPORTEE=true";
const CUSTOMER: &str = "310904473";
const FIRST: &str = "altinn-onboard-sandbox-reference";
const SECOND: &str = "ttd_systembruker-salary";

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

/// A finished onboarding whose system has FIRST and SECOND, and whose system user (for
/// CUSTOMER) was asked for FIRST.
fn done_app() -> App {
    let mut p = Profile::new("default", EnvSetting::new(EnvKind::Sandbox));
    p.created_at = t0();
    p.updated_at = t0();
    p.kid = Some("onboard-2026-11-24-a1b2c3".into());
    p.key_path = Some("/home/dev/.config/altinn-onboard/keys/default-onboard.pem".into());
    p.vendor_org = Some("312345676".into());
    p.client_id = Some(CLIENT.into());
    p.scopes = altinn_onboard::altinn::client::VENDOR_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    p.client_registered = true;
    let mut s = SystemSpec::simple("onboard-demo", "Onboard demo", "Demo system");
    s.rights = vec![FIRST.into(), SECOND.into()];
    p.system = Some(s);
    p.system_registered = Some(RegistrationRecord {
        system_id: "312345676_onboard-demo".into(),
        at: t0(),
        outcome: "updated".into(),
        client_id: Some(CLIENT.into()),
    });
    p.customer_org = Some(CUSTOMER.into());
    p.requests.push(RequestRecord {
        id: REQ.into(),
        kind: RequestKind::Standard,
        customer_org: CUSTOMER.into(),
        external_ref: None,
        status: RequestStatus::Accepted,
        confirm_url: None,
        created_at: t0(),
        checked_at: Some(t0()),
        change: None,
    });
    p.last_test_call = Some(TestCallRecord {
        url: "http://127.0.0.1:41234/reference/whoami".into(),
        method: "GET".into(),
        status: 200,
        elapsed_ms: 12,
        at: t0(),
        system_user_id: Some(REQ.into()),
        body_excerpt: None,
    });
    let flow = Flow::resume(p);
    assert_eq!(flow.step, Step::Done);
    App::new(
        flow,
        AppOptions {
            default_test_url: "http://127.0.0.1:41234/reference/whoami".into(),
            headless: None,
            seeded_orgs: seeded_for(EnvKind::Sandbox),
            theme: Theme::plain(),
        },
    )
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    term.backend().to_string()
}

macro_rules! snap {
    ($name:expr, $app:expr) => {{
        let app = &$app;
        insta::assert_snapshot!(format!("{}_80x24", $name), render(app, 80, 24));
        insta::assert_snapshot!(format!("{}_50x20", $name), render(app, 50, 20));
    }};
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn type_text(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// `c`, the resource typed, Enter: the effects the flow asks for.
fn send_change(app: &mut App, resources: &str) -> Vec<Effect> {
    press(app, KeyCode::Char('c'));
    type_text(app, resources);
    press(app, KeyCode::Enter)
}

fn outcome(status: RequestStatus, asked: &[&str], already: &[&str]) -> ChangeOutcome {
    ChangeOutcome {
        record: RequestRecord {
            id: CHANGE.into(),
            kind: RequestKind::Change,
            customer_org: CUSTOMER.into(),
            external_ref: None,
            status: status.clone(),
            confirm_url: (status == RequestStatus::New).then(|| CHANGE_URL.to_string()),
            created_at: t0(),
            checked_at: Some(t0()),
            change: Some(ChangeRecord {
                system_user_id: REQ.into(),
                add_rights: asked.iter().map(|s| s.to_string()).collect(),
                add_access_packages: vec![],
            }),
        },
        already_rights: already.iter().map(|s| s.to_string()).collect(),
        already_access_packages: vec![],
    }
}

#[test]
fn the_change_form_opens_with_c_and_sends_a_change_request() {
    let mut app = done_app();
    snap!("change_done_before", app);
    press(&mut app, KeyCode::Char('c'));
    type_text(&mut app, SECOND);
    snap!("change_form", app);
    let effects = press(&mut app, KeyCode::Enter);
    assert!(
        effects.iter().any(|e| matches!(e,
            Effect::CreateChangeRequest { system_id, customer_org, add_rights, .. }
                if system_id == "312345676_onboard-demo" && customer_org == CUSTOMER && add_rights == &vec![SECOND.to_string()])),
        "{effects:?}"
    );
    snap!("change_busy", app);
}

#[test]
fn a_right_the_system_lacks_is_refused_with_the_command_that_registers_it() {
    let mut app = done_app();
    let effects = send_change(&mut app, "ske-krav-og-betalinger");
    assert!(effects.is_empty(), "{effects:?}");
    let err = app.flow.error.clone().expect("refused");
    assert!(
        err.message.contains(
            "register the right on the system first: system register --name onboard-demo --resource altinn-onboard-sandbox-reference --resource ttd_systembruker-salary --resource ske-krav-og-betalinger"
        ),
        "{}",
        err.message
    );
    snap!("change_not_registered", app);
}

#[test]
fn waiting_for_the_customer_shows_the_link_and_qr_then_the_answer() {
    let mut app = done_app();
    send_change(&mut app, SECOND);
    let effects = app.handle_msg(Msg::ChangeRequested(Ok(outcome(
        RequestStatus::New,
        &[SECOND],
        &[],
    ))));
    let generation = effects
        .iter()
        .find_map(|e| match e {
            Effect::PollStatus {
                request_id,
                generation,
                ..
            } if request_id == CHANGE => Some(*generation),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no poll: {effects:?}"));
    assert!(effects.iter().any(|e| matches!(e, Effect::SaveProfile(_))));
    // The wizard stays on Done, the change request is recorded, the system-user request is
    // still the current one.
    assert_eq!(app.flow.step, Step::Done);
    assert_eq!(app.flow.profile.current_request().unwrap().id, REQ);
    assert_eq!(app.flow.profile.newest_request().unwrap().id, CHANGE);
    snap!("change_pending", app);

    // o opens the change request's page (not the system-user request's), without blocking
    // keys or starting another poll: the change request's poll goes on.
    let effects = press(&mut app, KeyCode::Char('o'));
    assert!(
        matches!(effects.as_slice(), [Effect::OpenBrowser { url }] if url == CHANGE_URL),
        "{effects:?}"
    );
    assert_eq!(app.flow.busy, Some(Busy::Polling));
    let effects = app.handle_msg(Msg::BrowserOpened(Ok(())));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(app.flow.step, Step::Done);
    assert_eq!(app.flow.busy, Some(Busy::Polling));
    assert!(app.flow.polling.as_ref().is_some_and(|p| p.active));
    assert_eq!(
        app.flow.notice.as_deref(),
        Some("opened the change request's approval page in your browser")
    );

    app.handle_msg(Msg::StatusPolled {
        generation,
        result: Ok(StatusUpdate {
            request_id: CHANGE.into(),
            status: RequestStatus::Accepted,
            confirm_url: Some(CHANGE_URL.into()),
            at: t0(),
            refusal: None,
        }),
    });
    assert_eq!(app.flow.step, Step::Done);
    assert!(app.flow.error.is_none());
    assert_eq!(
        app.flow.notice.as_deref(),
        Some(
            "the customer approved the change: the system user for 310904473 now has ttd_systembruker-salary"
        )
    );
    snap!("change_accepted", app);
}

#[test]
fn nothing_to_change_is_said_as_a_success() {
    let mut app = done_app();
    send_change(&mut app, FIRST);
    let effects = app.handle_msg(Msg::ChangeRequested(Ok(outcome(
        RequestStatus::NoChangeNeeded,
        &[],
        &[FIRST],
    ))));
    // Nothing to poll and nothing to keep: Altinn stored nothing.
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(app.flow.profile.newest_request().unwrap().id, REQ);
    assert!(app.flow.error.is_none());
    snap!("change_no_change_needed", app);
}
