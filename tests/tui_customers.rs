//! The wizard's customers screen: snapshots with 0, 3 and 120 customers at 80x24 and 50x20
//! and one frame while pages load (states built through the flow's own messages, with fixed
//! ids and times), the keys that scroll, filter and act on a row, and a load that stays in
//! flight (its loader waits on a channel) while the screen takes keys.

use altinn_onboard::altinn::model::{RequestInfo, SystemUserInfo};
use altinn_onboard::customers::{ListKind, Listing, LoadProgress};
use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::{CustomersLoad, Effect, Flow, Msg, Step};
use altinn_onboard::maskinporten::TokenCache;
use altinn_onboard::profile::{
    CustomerStatus, Profile, ProfileStore, RegistrationRecord, RequestRecord, SystemSpec,
    TestCallRecord,
};
use altinn_onboard::runner::Runner;
use altinn_onboard::tui::app::{App, AppOptions, Overlay, seeded_for};
use altinn_onboard::tui::driver::CustomersLoader;
use altinn_onboard::tui::theme::Theme;
use altinn_onboard::tui::{Driver, Headless, ui};
use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const VENDOR: &str = "310904473";
const CLIENT: &str = "3f0e8a52-6f3c-4c1e-9a57-2b8e1c0d4f11";
const SYSTEM: &str = "310904473_smartcloud";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

/// A profile whose system is registered and whose first customer approved and passed a test
/// call (the wizard's Done step).
fn profile() -> Profile {
    let mut p = Profile::new("default", EnvSetting::new(EnvKind::Sandbox));
    p.created_at = t0();
    p.updated_at = t0();
    p.kid = Some("onboard-2026-11-24-a1b2c3".into());
    p.key_path = Some("/home/dev/.config/altinn-onboard/keys/default-onboard.pem".into());
    p.vendor_org = Some(VENDOR.into());
    p.client_id = Some(CLIENT.into());
    p.scopes = altinn_onboard::altinn::client::VENDOR_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    p.client_registered = true;
    let mut s = SystemSpec::simple("smartcloud", "SmartCloud", "Accounting");
    s.rights = vec!["ske-krav-og-betalinger".into()];
    s.access_packages = vec!["urn:altinn:accesspackage:skatt-naering".into()];
    p.system = Some(s);
    p.system_registered = Some(RegistrationRecord {
        system_id: SYSTEM.into(),
        at: t0(),
        outcome: "created".into(),
        client_id: Some(CLIENT.into()),
    });
    p.customer_org = Some("312345676".into());
    // From JSON, as the profile stores it (fields added later take their defaults).
    let rec: RequestRecord = serde_json::from_value(serde_json::json!({
        "id": "9b2d4c1e-0a7f-4e3b-8c5d-6f1a2b3c4d5e", "kind": "standard",
        "customer_org": "312345676", "status": "Accepted",
        "created_at": t0(), "checked_at": t0(),
    }))
    .unwrap();
    p.upsert_request(rec);
    p.last_test_call = Some(TestCallRecord {
        url: "http://127.0.0.1:41234/reference/whoami".into(),
        method: "GET".into(),
        status: 200,
        elapsed_ms: 12,
        at: t0() + chrono::Duration::minutes(5),
        system_user_id: Some("c2a1e0f4-1111-2222-3333-444455556666".into()),
        body_excerpt: None,
    });
    p.sync_customers();
    p
}

fn request(id: &str, org: &str, status: &str, timed_out: bool, agent: bool) -> RequestInfo {
    let mut v = serde_json::json!({
        "id": id, "systemId": SYSTEM, "partyOrgNo": org, "status": status,
        "created": "2026-11-20T10:00:00Z", "timedOut": timed_out,
        "externalRef": org,
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
        "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
    });
    if agent {
        v["rights"] = serde_json::json!([]);
    }
    serde_json::from_value(v).unwrap()
}

fn system_user(id: &str, org: &str) -> SystemUserInfo {
    serde_json::from_value(serde_json::json!({
        "id": id, "systemId": SYSTEM, "reporteeOrgNo": org, "externalRef": org,
    }))
    .unwrap()
}

/// Three seeded organisations: one accepted (with the profile's token check), one pending,
/// one timed out.
fn three() -> Listing {
    Listing {
        system_id: SYSTEM.into(),
        requests: vec![
            request(
                "9b2d4c1e-0a7f-4e3b-8c5d-6f1a2b3c4d5e",
                "312345676",
                "Accepted",
                false,
                false,
            ),
            request(
                "5e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b",
                "313456781",
                "New",
                false,
                false,
            ),
            request(
                "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                "315678900",
                "New",
                true,
                false,
            ),
        ],
        agent_requests: vec![],
        system_users: vec![system_user(
            "c2a1e0f4-1111-2222-3333-444455556666",
            "312345676",
        )],
        pages: 3,
    }
}

/// 120 customers (three pages of requests): every status, a few agent requests.
fn many() -> Listing {
    let mut l = Listing {
        system_id: SYSTEM.into(),
        pages: 6,
        ..Listing::default()
    };
    for i in 0..120u32 {
        let org = format!("{}", 400_000_000 + i * 7);
        let id = format!("{i:08x}-0000-4000-8000-000000000000");
        let (status, timed_out) = match i % 6 {
            0..=2 => ("Accepted", false),
            3 => ("New", false),
            4 => ("Rejected", false),
            _ => ("New", true),
        };
        let agent = i % 10 == 9;
        let r = request(&id, &org, status, timed_out, agent);
        if agent {
            l.agent_requests.push(r);
        } else {
            l.requests.push(r);
        }
        // Every sixth accepted customer has since deleted its system user (withdrawn).
        if status == "Accepted" && i % 18 != 0 {
            l.system_users.push(system_user(
                &format!("{i:08x}-5555-4000-8000-000000000000"),
                &org,
            ));
        }
    }
    l
}

fn opts() -> AppOptions {
    AppOptions {
        default_test_url: "http://127.0.0.1:41234/reference/whoami".into(),
        headless: Some("running a test".into()),
        seeded_orgs: seeded_for(EnvKind::Sandbox),
        theme: Theme::plain(),
    }
}

/// The Done step with the customers screen open and `listing` loaded (or still loading).
fn app_with(listing: Option<Listing>) -> App {
    let mut flow = Flow::resume(profile());
    flow.step = Step::Done;
    let mut app = App::new(flow, opts());
    let fx = app.handle_key(key(KeyCode::Char('l')));
    assert_eq!(fx, [Effect::LoadCustomers { generation: 1 }]);
    if let Some(listing) = listing {
        let fx = app.handle_msg(Msg::CustomersLoaded {
            generation: 1,
            result: Ok(CustomersLoad { listing, at: t0() }),
        });
        assert!(matches!(fx.as_slice(), [Effect::SaveProfile(_)]), "{fx:?}");
    }
    app
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    term.backend().to_string()
}

fn snap(name: &str, app: &App) {
    for (w, h) in [(80, 24), (50, 20)] {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(app, w, h));
    }
}

fn empty() -> Listing {
    Listing {
        system_id: SYSTEM.into(),
        pages: 3,
        ..Listing::default()
    }
}

#[test]
fn no_customers() {
    snap("customers_0", &app_with(Some(empty())));
}

#[test]
fn three_customers() {
    let mut app = app_with(Some(three()));
    let rows = app.flow.customers.rows.clone().unwrap();
    assert_eq!(rows.len(), 3);
    // The profile's token check shows on its customer's row.
    assert!(rows[0].last_token_check.as_ref().is_some_and(|c| c.ok));
    snap("customers_3", &app);
    // Help lists the screen's own keys while it is up.
    app.handle_key(key(KeyCode::Char('?')));
    insta::assert_snapshot!("customers_help_80x24", render(&app, 80, 24));
    app.handle_key(key(KeyCode::Esc));
    assert!(app.customers_shown() && app.overlay == Overlay::None);
    // The pending customer: Enter shows its approval QR (its confirmUrl is fetched first).
    app.handle_key(key(KeyCode::Down));
    let fx = app.handle_key(key(KeyCode::Enter));
    assert!(
        matches!(fx.first(), Some(Effect::RefreshRequest { request_id, .. }) if request_id.starts_with("5e1f2a3b")),
        "{fx:?}"
    );
    assert_eq!(app.overlay, Overlay::Qr);
    assert_eq!(app.flow.profile.customer_org.as_deref(), Some("313456781"));
    assert!(render(&app, 80, 24).contains("asking Altinn for it"));
    app.handle_msg(Msg::RequestRefreshed(Ok(altinn_onboard::flow::StatusUpdate {
        request_id: "5e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b".into(),
        status: altinn_onboard::altinn::model::RequestStatus::New,
        confirm_url: Some("http://127.0.0.1:41234/accessmanagement/ui/systemuser/request?id=5e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b".into()),
        at: t0(),
        refusal: None,
    })));
    let qr = render(&app, 80, 24);
    assert!(qr.contains("▀") && qr.contains("id=5e1f2a3b"), "{qr}");
    // esc closes the QR, a second esc the customers screen: the wizard is at the approval
    // step for the customer chosen.
    app.handle_key(key(KeyCode::Esc));
    assert!(app.customers_shown());
    app.handle_key(key(KeyCode::Esc));
    assert!(!app.customers_shown());
    assert_eq!(app.flow.step, Step::Approval);
}

#[test]
fn one_hundred_and_twenty_customers_scroll_and_filter() {
    let mut app = app_with(Some(many()));
    assert_eq!(app.flow.customers.rows.as_ref().unwrap().len(), 120);
    snap("customers_120", &app);
    // PgDn moves by the rows shown; End reaches the last row, which is then on screen.
    render(&app, 80, 24);
    let page = app.customers.page.get();
    assert!(page > 5, "{page}");
    app.handle_key(key(KeyCode::PageDown));
    assert_eq!(app.customers.selected, page);
    app.handle_key(key(KeyCode::End));
    let last = app.customer_rows().last().unwrap().org.clone();
    let screen = render(&app, 80, 24);
    assert!(screen.contains(&format!("▸ {last}")), "{screen}");
    assert!(
        screen.contains(&format!("rows {}-120", 121 - page)),
        "{screen}"
    );
    // f: pending only, then accepted, ...
    app.handle_key(key(KeyCode::Char('f')));
    assert_eq!(app.customers.filter, Some(CustomerStatus::Pending));
    assert_eq!(app.customer_rows().len(), 20);
    assert!(
        app.customer_rows()
            .iter()
            .all(|r| r.status == CustomerStatus::Pending)
    );
    app.handle_key(key(KeyCode::Char('f')));
    assert_eq!(app.customers.filter, Some(CustomerStatus::Accepted));
    snap("customers_120_accepted", &app);
    // t on an accepted row: the test call for that customer.
    let org = app.selected_customer().unwrap().org.clone();
    let fx = app.handle_key(key(KeyCode::Char('t')));
    assert!(
        matches!(fx.as_slice(), [Effect::TestCall { customer_org, .. }] if *customer_org == org),
        "{fx:?}"
    );
}

#[test]
fn while_pages_load() {
    let mut app = app_with(None);
    snap("customers_loading_first", &app);
    for (page, items) in [(1, 50), (2, 100)] {
        app.handle_msg(Msg::CustomersProgress {
            generation: 1,
            progress: LoadProgress {
                list: ListKind::Requests,
                page,
                items,
                more: true,
            },
        });
    }
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("loading: page 2, 100 so far (requests page 2)"),
        "{screen}"
    );
    snap("customers_loading", &app);
}

/// Before a system is registered `l` does nothing; the Done step advertises it.
#[test]
fn the_key_needs_a_registered_system_and_is_named_on_the_done_step() {
    let mut p = profile();
    p.system_registered = None;
    let mut app = App::new(Flow::resume(p), opts());
    assert!(app.handle_key(key(KeyCode::Char('l'))).is_empty());
    assert!(!app.customers_shown());
    let mut flow = Flow::resume(profile());
    flow.step = Step::Done;
    let app = App::new(flow, opts());
    let screen = render(&app, 100, 30);
    assert!(screen.contains("l customers"), "{screen}");
    // Every other step too, once registered (not advertised there).
    let mut flow = Flow::resume(profile());
    flow.step = Step::Request;
    let mut app = App::new(flow, opts());
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(
        app.handle_key(key(KeyCode::Char('l'))),
        [Effect::LoadCustomers { generation: 1 }]
    );
}

/// A loader that reports one page, then waits until the test hands it the listing.
fn blocked_loader() -> (CustomersLoader, tokio::sync::oneshot::Sender<Listing>) {
    let (tx, rx) = tokio::sync::oneshot::channel::<Listing>();
    let rx = Arc::new(Mutex::new(Some(rx)));
    let loader: CustomersLoader = Arc::new(move |_runner, _profile, mut progress| {
        let rx = rx.lock().unwrap().take();
        Box::pin(async move {
            progress(LoadProgress {
                list: ListKind::Requests,
                page: 1,
                items: 50,
                more: true,
            });
            let listing = rx
                .expect("one load")
                .await
                .expect("the test sends the listing");
            Ok(CustomersLoad { listing, at: t0() })
        })
    });
    (loader, tx)
}

/// The screen takes keys (scroll, filter, help, quit) while a load is in flight: the load runs
/// in a task and only its messages come back through the event channel.
#[tokio::test(flavor = "multi_thread")]
async fn keys_work_while_a_load_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ProfileStore::at(dir.path()));
    // Nothing listens here: the runner is never asked (the loader stands in for it).
    let env = Environment::from_parts(
        EnvKind::Sandbox,
        "http://127.0.0.1:9/",
        "http://127.0.0.1:9",
    )
    .unwrap();
    let runner =
        Arc::new(Runner::new(env, store.clone(), Arc::new(TokenCache::in_memory())).unwrap());
    let (loader, release) = blocked_loader();
    let mut flow = Flow::resume(profile());
    flow.step = Step::Done;
    let app = App::new(flow, opts());
    let driver = Driver::new(runner, EnvSetting::default()).with_customers_loader(loader);
    let mut h = Headless::new(app, driver);

    h.key(KeyCode::Char('l'));
    assert!(h.app.customers_shown() && h.app.customers_loading());
    assert!(
        h.run_until(Duration::from_secs(30), |a| a
            .flow
            .customers
            .loading
            .is_some_and(|l| l.pages == 1))
            .await,
        "the first page was reported"
    );
    // The load is blocked; every key is still handled.
    h.key(KeyCode::Char('f'));
    assert_eq!(h.app.customers.filter, Some(CustomerStatus::Pending));
    h.key(KeyCode::Char('?'));
    assert_eq!(h.app.overlay, Overlay::Help);
    h.key(KeyCode::Esc);
    assert_eq!(h.app.overlay, Overlay::None);
    h.key(KeyCode::Char('f'));
    h.key(KeyCode::Char('f'));
    h.key(KeyCode::Char('f'));
    h.key(KeyCode::Char('f'));
    h.key(KeyCode::Char('f'));
    assert_eq!(h.app.customers.filter, None, "round the six filters");
    h.key(KeyCode::Char('r'));
    assert_eq!(h.app.flow.customers.generation, 1, "no second load");
    assert!(h.app.customers_loading(), "still in flight");

    release.send(three()).unwrap();
    assert!(
        h.run_until(Duration::from_secs(30), |a| a.flow.customers.rows.is_some())
            .await
    );
    assert_eq!(h.app.customer_rows().len(), 3);
    h.key(KeyCode::Down);
    assert_eq!(
        h.app.selected_customer().map(|r| r.org.as_str()),
        Some("313456781")
    );
    // The profile is saved once with every customer.
    assert!(
        h.run_until(Duration::from_secs(30), |_| store
            .load("default")
            .is_ok_and(|p| p.is_some_and(|p| p.customers.len() == 3)))
            .await
    );
    h.key(KeyCode::Char('q'));
    assert!(h.app.quit, "q quits from the customers screen");
}

/// Quitting does not wait for a load in flight.
#[tokio::test(flavor = "multi_thread")]
async fn quitting_while_loading_needs_no_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ProfileStore::at(dir.path()));
    let env = Environment::from_parts(
        EnvKind::Sandbox,
        "http://127.0.0.1:9/",
        "http://127.0.0.1:9",
    )
    .unwrap();
    let runner =
        Arc::new(Runner::new(env, store.clone(), Arc::new(TokenCache::in_memory())).unwrap());
    let (loader, _release) = blocked_loader();
    let mut flow = Flow::resume(profile());
    flow.step = Step::Done;
    let driver = Driver::new(runner, EnvSetting::default()).with_customers_loader(loader);
    let mut h = Headless::new(App::new(flow, opts()), driver);
    h.key(KeyCode::Char('l'));
    assert!(h.app.customers_loading());
    h.key(KeyCode::Char('q'));
    assert!(h.app.quit && h.app.overlay == Overlay::None);
}

/// Run a message and the effects it causes through the runner (no polling needed here).
async fn drive(flow: &mut Flow, runner: &Runner, msg: Msg) {
    let mut queue: std::collections::VecDeque<Effect> = flow.update(msg).into();
    while let Some(effect) = queue.pop_front() {
        let snapshot = flow.profile.clone();
        if let Some(reply) = runner.run(effect, &snapshot).await {
            queue.extend(flow.update(reply));
        }
    }
}

/// The real thing on the sandbox: three customers asked (one approves, one rejects, one
/// waits), the screen loads them through the runner page by page, a token check for the
/// accepted one, and the profile saved with all three.
#[tokio::test(flavor = "multi_thread")]
async fn the_screen_lists_the_sandboxs_customers_and_checks_a_token() {
    use altinn_onboard::flow::{RequestForm, SystemForm};
    use altinn_onboard::sandbox::{self, SandboxConfig};
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ProfileStore::at(dir.path()));
    let sb = sandbox::start(SandboxConfig::default()).await.unwrap();
    let env = Environment::from_parts(EnvKind::Sandbox, &sb.issuer(), &sb.base_url()).unwrap();
    let runner =
        Arc::new(Runner::new(env, store.clone(), Arc::new(TokenCache::in_memory())).unwrap());
    let mut flow = Flow::new(Profile::new("default", EnvSetting::new(EnvKind::Sandbox)));
    let steps = [
        Msg::SelectEnvironment(EnvSetting::new(EnvKind::Sandbox)),
        Msg::GenerateKey {
            bits: 2048,
            kid: None,
        },
        Msg::SubmitClient {
            vendor_org: VENDOR.into(),
            client_id: String::new(),
            scopes: altinn_onboard::altinn::client::VENDOR_SCOPES.join(" "),
        },
        Msg::SubmitSystem(SystemForm {
            name: "smartcloud".into(),
            rights: "ske-krav-og-betalinger".into(),
            is_visible: true,
            ..Default::default()
        }),
    ];
    for msg in steps {
        drive(&mut flow, &runner, msg).await;
        assert!(flow.error.is_none(), "{:?}", flow.error);
    }
    let mut ids = Vec::new();
    for org in ["312345676", "313456781", "315678900"] {
        drive(
            &mut flow,
            &runner,
            Msg::SubmitRequest(RequestForm {
                customer_org: org.into(),
                ..Default::default()
            }),
        )
        .await;
        ids.push(flow.profile.current_request().unwrap().id.clone());
    }
    let http = reqwest::Client::new();
    for (id, what) in [(&ids[0], "approve"), (&ids[1], "reject")] {
        let resp = http
            .post(format!("{}/sandbox/requests/{id}/{what}", sb.base_url()))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{what}: {}", resp.status());
    }

    let mut app_opts = opts();
    app_opts.default_test_url = runner.default_test_url();
    let mut h = Headless::new(
        App::new(flow, app_opts),
        Driver::new(runner.clone(), EnvSetting::default()),
    );
    h.key(KeyCode::Esc);
    h.key(KeyCode::Char('l'));
    assert!(h.app.customers_shown(), "{:?}", h.app.flow.error);
    assert!(
        h.run_until(Duration::from_secs(60), |a| a.flow.customers.rows.is_some()
            || a.flow.customers.error.is_some())
            .await
    );
    assert_eq!(h.app.flow.customers.error, None);
    // One page of each of the three lists.
    assert_eq!(h.app.flow.customers.pages, 3);
    let got: Vec<(String, CustomerStatus)> = h
        .app
        .customer_rows()
        .iter()
        .map(|r| (r.org.clone(), r.status))
        .collect();
    assert_eq!(
        got,
        [
            ("312345676".to_string(), CustomerStatus::Accepted),
            ("313456781".to_string(), CustomerStatus::Rejected),
            ("315678900".to_string(), CustomerStatus::Pending),
        ]
    );
    // t on the accepted customer: a system-user token and the reference API.
    h.key(KeyCode::Home);
    h.key(KeyCode::Char('t'));
    assert!(h.app.flow.busy.is_some());
    assert!(h.settle(Duration::from_secs(60)).await);
    let row = h.app.selected_customer().unwrap();
    let check = row.last_token_check.as_ref().expect("checked");
    assert!(check.ok, "{check:?} {:?}", h.app.flow.error);
    assert!(
        h.run_until(Duration::from_secs(30), |_| store
            .load("default")
            .ok()
            .flatten()
            .is_some_and(|p| p.customers.len() == 3
                && p.customer("312345676").is_some_and(|c| c
                    .last_token_check
                    .as_ref()
                    .is_some_and(|t| t.ok))
                && p.customer("313456781")
                    .is_some_and(|c| c.status == CustomerStatus::Rejected)))
            .await,
        "saved: {:?}",
        store.load("default")
    );
    sb.shutdown().await;
}

/// The smallest terminal the wizard draws in still shows rows and the selection.
#[test]
fn the_smallest_terminal_still_shows_the_selected_row() {
    let mut app = app_with(Some(many()));
    for _ in 0..30 {
        app.handle_key(key(KeyCode::Down));
    }
    let org = app.selected_customer().unwrap().org.clone();
    for (w, h) in [(40, 12), (60, 14)] {
        let screen = render(&app, w, h);
        assert!(screen.contains(&format!("▸ {org}")), "{w}x{h}:\n{screen}");
        if std::env::var("SHOW").is_ok() {
            println!("{screen}");
        }
    }
}
