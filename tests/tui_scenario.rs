//! Scenario tests: the wizard driven by synthetic key presses (no terminal) against an
//! in-process sandbox, through the same driver the terminal loop uses. One run goes from a
//! fresh profile to a successful test call; another quits while waiting for approval and
//! resumes from the saved profile at the right step.

use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::{Flow, Step};
use altinn_onboard::maskinporten::TokenCache;
use altinn_onboard::profile::{Profile, ProfileStore};
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::{self, SandboxConfig, SandboxHandle};
use altinn_onboard::tui::app::{App, AppOptions, seeded_for};
use altinn_onboard::tui::theme::Theme;
use altinn_onboard::tui::{Driver, Headless, ui};
use ratatui::crossterm::event::KeyCode;
use std::sync::Arc;
use std::time::Duration;

const STEP_TIMEOUT: Duration = Duration::from_secs(60);

struct World {
    sandbox: SandboxHandle,
    store: Arc<ProfileStore>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ProfileStore::at(dir.path()));
    let sandbox = sandbox::start(SandboxConfig::default()).await.unwrap();
    World {
        sandbox,
        store,
        _dir: dir,
    }
}

fn wizard(w: &World, profile: Profile) -> Headless {
    let env = Environment::from_parts(EnvKind::Sandbox, &w.sandbox.issuer(), &w.sandbox.base_url())
        .unwrap();
    let runner = Arc::new(
        Runner::new(env, w.store.clone(), Arc::new(TokenCache::in_memory())).expect("http client"),
    );
    let opts = AppOptions {
        default_test_url: runner.default_test_url(),
        // Tests never open a browser: Enter on the approval step starts polling.
        headless: Some("running a test".into()),
        seeded_orgs: seeded_for(EnvKind::Sandbox),
        theme: Theme::plain(),
    };
    let app = App::new(Flow::new(profile), opts);
    Headless::new(app, Driver::new(runner, EnvSetting::default()))
}

/// The screen as text, for failure messages.
fn screen(app: &App) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    term.backend().to_string()
}

async fn expect_step(h: &mut Headless, step: Step) {
    let ok = h
        .run_until(STEP_TIMEOUT, |a| {
            a.flow.step == step && a.flow.busy.is_none()
        })
        .await;
    assert!(
        ok,
        "did not reach {step:?}; at {:?} with error {:?}\n{}",
        h.app.flow.step,
        h.app.flow.error,
        screen(&h.app)
    );
}

async fn approve(w: &World, h: &Headless) {
    let id = h.app.flow.profile.current_request().unwrap().id.clone();
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/sandbox/requests/{id}/approve",
            w.sandbox.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "approve: {}", resp.status());
}

/// Wait until the saved profile satisfies `check` (saves run on their own task).
async fn saved_profile(store: &ProfileStore, check: impl Fn(&Profile) -> bool) -> Profile {
    for _ in 0..200 {
        if let Ok(Some(p)) = store.load("default")
            && check(&p)
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the profile was not saved as expected: {:?}",
        store.load("default")
    );
}

/// Enter through environment, key, client, system and request with the prefilled sandbox
/// values, as a newcomer would.
async fn through_request(h: &mut Headless) {
    assert_eq!(h.app.flow.step, Step::Environment);
    h.key(KeyCode::Enter);
    expect_step(h, Step::Key).await;
    h.key(KeyCode::Enter);
    expect_step(h, Step::Client).await;
    assert!(h.app.key_info().is_some(), "the key step shows the new key");
    h.key(KeyCode::Enter);
    expect_step(h, Step::System).await;
    assert!(h.app.flow.profile.client_registered);
    h.key(KeyCode::Enter);
    expect_step(h, Step::Request).await;
    // Pick the third seeded organisation with the arrow key.
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    expect_step(h, Step::Approval).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_profile_to_successful_test_call() {
    let w = world().await;
    let mut h = wizard(&w, Profile::new("default", EnvSetting::default()));
    through_request(&mut h).await;
    let req = h.app.flow.profile.current_request().unwrap().clone();
    assert_eq!(req.customer_org, sandbox::seeded_orgs()[2].org_no);
    assert!(req.confirm_url.is_some());

    // Polling, then the customer approves.
    h.key(KeyCode::Enter);
    assert_eq!(h.app.flow.step, Step::Polling);
    assert!(h.app.flow.in_flight());
    approve(&w, &h).await;
    expect_step(&mut h, Step::TestCall).await;

    h.key(KeyCode::Enter);
    expect_step(&mut h, Step::Done).await;
    let test = h.app.flow.test.clone().expect("test call summary");
    assert_eq!(test.record.status, 200);
    assert!(test.token_claims.get("authorization_details").is_some());
    let text = screen(&h.app);
    assert!(text.contains("request create --customer-org"), "{text}");
    assert!(!has_jwt(&text), "a token is on screen:\n{text}");

    let saved = saved_profile(&w.store, |p| p.last_test_call.is_some()).await;
    assert_eq!(saved.last_test_call.as_ref().unwrap().status, 200);
    assert!(saved.client_registered);
    assert!(saved.system_registered.is_some());
    assert!(saved.current_request().unwrap().status.is_accepted());
    assert_eq!(altinn_onboard::flow::resume_step(&saved), Step::Done);

    // Nothing in flight now: q quits at once.
    h.key(KeyCode::Char('q'));
    assert!(h.app.quit);
    w.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quit_while_waiting_then_resume() {
    let w = world().await;
    let mut h = wizard(&w, Profile::new("default", EnvSetting::default()));
    through_request(&mut h).await;
    h.key(KeyCode::Enter);
    assert_eq!(h.app.flow.step, Step::Polling);
    // Quitting while polling asks first; y confirms.
    h.key(KeyCode::Char('q'));
    assert!(!h.app.quit);
    h.key(KeyCode::Char('y'));
    assert!(h.app.quit);
    drop(h);

    let saved = saved_profile(&w.store, |p| p.current_request().is_some()).await;
    let mut h = wizard(&w, saved);
    assert_eq!(h.app.flow.step, Step::Approval, "resumes at the approval");
    // The saved key's public part is loaded in the background for the key step.
    assert!(
        h.run_until(STEP_TIMEOUT, |a| a.key_preview.is_some()).await,
        "key preview"
    );
    approve(&w, &h).await;
    h.key(KeyCode::Char('p'));
    expect_step(&mut h, Step::TestCall).await;
    h.key(KeyCode::Enter);
    expect_step(&mut h, Step::Done).await;

    // Going back and forth keeps the forms: b from Done goes to the test call.
    h.key(KeyCode::Char('b'));
    assert_eq!(h.app.flow.step, Step::TestCall);
    w.sandbox.shutdown().await;
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

/// The wizard as `altinn-onboard` starts it: the session (here the embedded sandbox, created
/// from nothing) opens in the background while the first frame is already up; the user's
/// first actions wait for it and then go through.
#[tokio::test(flavor = "multi_thread")]
async fn the_session_opens_in_the_background_and_effects_wait_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ProfileStore::at(dir.path()));
    let env = EnvSetting::new(EnvKind::Sandbox);
    let opts = AppOptions {
        default_test_url: String::new(),
        headless: Some("running a test".into()),
        seeded_orgs: seeded_for(EnvKind::Sandbox),
        theme: Theme::plain(),
    };
    let app = App::new(Flow::new(Profile::new("bg", env.clone())), opts);
    let mut h = Headless::new(app, Driver::opening(store.clone(), "bg", env));
    // Drawing needs nothing from the session.
    assert!(screen(&h.app).contains("Environment"));
    through_request(&mut h).await;
    assert!(
        h.app.opts.default_test_url.ends_with("/reference/whoami"),
        "the reference API is known once the session is open: {:?}",
        h.app.opts.default_test_url
    );
    assert!(
        dir.path().join("data/sandbox-state.json").exists(),
        "the embedded sandbox kept its state"
    );
    h.driver.close().await;
}

/// Issue 17, trap 3: quit at the approval step and start again. The embedded sandbox listens
/// on a new port each run, so the saved confirmUrl names a dead one; the approval screen must
/// show the new session's URL as soon as the session is open, before any status check.
#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_approval_shows_the_new_sessions_confirm_url_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ProfileStore::at(dir.path()));
    let env = EnvSetting::new(EnvKind::Sandbox);
    let opts = || AppOptions {
        default_test_url: String::new(),
        headless: Some("running a test".into()),
        seeded_orgs: seeded_for(EnvKind::Sandbox),
        theme: Theme::plain(),
    };
    let app = App::new(Flow::new(Profile::new("default", env.clone())), opts());
    let mut h = Headless::new(app, Driver::opening(store.clone(), "default", env.clone()));
    through_request(&mut h).await;
    let old_url = h.app.confirm_url().expect("a confirm URL").to_string();
    h.key(KeyCode::Char('q'));
    assert!(h.app.quit);
    let Headless { driver, .. } = h;
    driver.close().await;
    // Hold the old port, so the next embedded sandbox cannot get it back by chance.
    let old_port = url::Url::parse(&old_url).unwrap().port().unwrap();
    let _held = std::net::TcpListener::bind(("127.0.0.1", old_port)).expect("the old port is free");

    let saved = saved_profile(&store, |p| p.current_request().is_some()).await;
    assert_eq!(
        saved.current_request().unwrap().confirm_url.as_deref(),
        Some(old_url.as_str())
    );
    let app = App::new(Flow::resume(saved), opts());
    let mut h = Headless::new(app, Driver::opening(store.clone(), "default", env));
    assert_eq!(h.app.flow.step, Step::Approval, "resumes at the approval");
    let fresh = h
        .run_until(STEP_TIMEOUT, |a| {
            !a.opts.default_test_url.is_empty()
                && a.confirm_url().is_some_and(|u| {
                    u != old_url
                        && a.opts
                            .default_test_url
                            .starts_with(u.split("/accessmanagement").next().unwrap_or("-"))
                })
        })
        .await;
    assert!(
        fresh,
        "the approval screen still shows {old_url}\n{}",
        screen(&h.app)
    );
    assert!(
        h.app.flow.polling.is_none(),
        "refreshed without a status check"
    );
    let new_url = h.app.confirm_url().unwrap().to_string();
    let new_port = url::Url::parse(&new_url).unwrap().port().unwrap();
    assert!(
        screen(&h.app).contains(&format!("127.0.0.1:{new_port}/")),
        "{}",
        screen(&h.app)
    );
    // The link works, and the profile remembers it.
    let page = reqwest::get(&new_url)
        .await
        .expect("the approval page answers");
    assert_eq!(page.status().as_u16(), 200);
    saved_profile(&store, |p| {
        p.current_request().and_then(|r| r.confirm_url.as_deref()) == Some(new_url.as_str())
    })
    .await;
    h.driver.close().await;
}
