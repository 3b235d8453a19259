//! The readiness panel before the key step on TT02/production (issue 11): it opens when TT02
//! is chosen, runs its check as an effect in a task, and shows what it checked, what it could
//! not check and why, and the ready e-mail. Snapshots at 80x24 and 50x20; ports are redacted.

use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::{Effect, Flow, Readiness, Step};
use altinn_onboard::maskinporten::TokenCache;
use altinn_onboard::profile::{Profile, ProfileStore};
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::{self, SandboxConfig};
use altinn_onboard::tui::app::{App, AppOptions, Overlay};
use altinn_onboard::tui::theme::Theme;
use altinn_onboard::tui::{Driver, Headless, ui};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::Arc;
use std::time::Duration;

fn opts() -> AppOptions {
    AppOptions {
        default_test_url: String::new(),
        headless: Some("a test".into()),
        seeded_orgs: Vec::new(),
        theme: Theme::plain(),
    }
}

fn render(app: &App, w: u16, h: u16, port: u16) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    term.backend()
        .to_string()
        // Same width as the port (ephemeral ports have five digits), so borders stay put.
        .replace(
            &format!(":{port}"),
            &format!(":{}", "N".repeat(port.to_string().len())),
        )
}

/// A TT02 wizard at the key step whose environment is `env`.
fn wizard(env: Environment, dir: &std::path::Path) -> Headless {
    let store = Arc::new(ProfileStore::at(dir));
    let runner =
        Arc::new(Runner::new(env, store, Arc::new(TokenCache::in_memory())).expect("http client"));
    let mut p = Profile::new("default", EnvSetting::new(EnvKind::Tt02));
    p.vendor_org = Some("312345676".into());
    let app = App::new(Flow::resume(p), opts());
    assert_eq!(app.flow.step, Step::Key);
    Headless::new(app, Driver::new(runner, EnvSetting::new(EnvKind::Tt02)))
}

async fn check_in_panel(h: &mut Headless) {
    h.key(KeyCode::Char('p'));
    assert_eq!(h.app.overlay, Overlay::Readiness);
    let done = h
        .run_until(Duration::from_secs(60), |a| {
            matches!(a.flow.readiness, Readiness::Done(_))
        })
        .await;
    assert!(done, "the readiness check answered");
}

/// TT02 with no network: the self-service API is a closed loopback port. The panel says what
/// it could not check and why, and what needs no network (terms, vendor status) is explained.
#[tokio::test(flavor = "multi_thread")]
async fn tt02_without_network_shows_what_could_not_be_checked_and_why() {
    // A port that was just free: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = Environment::tt02()
        .with_self_service_api(&format!("http://127.0.0.1:{port}"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut h = wizard(env, dir.path());
    check_in_panel(&mut h).await;
    let Readiness::Done(report) = &h.app.flow.readiness else {
        unreachable!()
    };
    let catalogue = &report.items[0];
    assert_eq!(catalogue.name, "scope catalogue");
    assert_eq!(catalogue.level, altinn_onboard::readiness::Level::Skip);
    assert!(catalogue.detail.contains("could not read"), "{catalogue:?}");
    assert!(report.emails.is_empty(), "no catalogue, no e-mail");
    let wide = render(&h.app, 80, 24, port);
    for must in ["not checked", "could not read", "api/v1/scopes/all"] {
        assert!(wide.contains(must), "{must}:\n{wide}");
    }
    insta::assert_snapshot!("readiness_tt02_offline_80x24", wide);
    insta::assert_snapshot!("readiness_tt02_offline_50x20", render(&h.app, 50, 20, port));
    // Scrolled to the end: the items that need credentials, each with why.
    for _ in 0..20 {
        h.key(KeyCode::Down);
    }
    let end = render(&h.app, 80, 24, port);
    for must in ["client keys", "credentials", "could not be checked"] {
        assert!(end.contains(must), "{must}:\n{end}");
    }
    insta::assert_snapshot!("readiness_tt02_offline_end_80x24", end);
    // Enter goes on to the key step.
    h.key(KeyCode::Enter);
    assert_eq!(h.app.overlay, Overlay::None);
    assert_eq!(h.app.flow.step, Step::Key);
}

/// Against a catalogue (the sandbox's, on the same path as Digdir's): the vendor scopes exist
/// but are not open to all, so the panel shows the ready e-mail to Digdir's service desk.
#[tokio::test(flavor = "multi_thread")]
async fn with_a_catalogue_the_panel_shows_the_ready_email() {
    let sb = sandbox::start(SandboxConfig::default()).await.unwrap();
    let port = url::Url::parse(&sb.base_url()).unwrap().port().unwrap();
    let env = Environment::from_parts(EnvKind::Tt02, &sb.issuer(), &sb.base_url()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut h = wizard(env, dir.path());
    check_in_panel(&mut h).await;
    let Readiness::Done(report) = &h.app.flow.readiness else {
        unreachable!()
    };
    assert_eq!(report.emails.len(), 1, "{report:?}");
    assert_eq!(report.emails[0].to, "servicedesk@digdir.no");
    assert!(report.emails[0].body.contains("312345676"));
    insta::assert_snapshot!(
        "readiness_tt02_catalogue_80x24",
        render(&h.app, 80, 24, port)
    );
    insta::assert_snapshot!(
        "readiness_tt02_catalogue_50x20",
        render(&h.app, 50, 20, port)
    );
    // Scrolled to the e-mail (3 lines a press).
    for _ in 0..14 {
        h.key(KeyCode::Down);
    }
    let end = render(&h.app, 80, 24, port);
    assert!(end.contains("To: servicedesk@digdir.no"), "{end}");
    insta::assert_snapshot!("readiness_tt02_email_80x24", end);
    sb.shutdown().await;
}

/// Choosing TT02 in the environment step opens the panel and asks for the check (pure: no
/// terminal, no network).
#[test]
fn choosing_tt02_opens_the_panel_before_the_key() {
    let mut app = App::new(
        Flow::new(Profile::new("default", EnvSetting::default())),
        opts(),
    );
    assert_eq!(app.flow.step, Step::Environment);
    app.handle_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
    let fx = app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(app.flow.step, Step::Key);
    assert_eq!(app.overlay, Overlay::Readiness);
    assert!(fx.contains(&Effect::CheckReadiness), "{fx:?}");
    assert_eq!(app.flow.readiness, Readiness::Running);
    // The sandbox gets no panel.
    let mut sandbox = App::new(
        Flow::new(Profile::new("default", EnvSetting::default())),
        opts(),
    );
    sandbox.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(sandbox.overlay, Overlay::None);
}
