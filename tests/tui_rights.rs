//! The system step's rights picker: snapshots at 80x24 and 50x20 (results, picks, a refusal,
//! the offline note, no results), built from the sandbox's seeded catalogue; and a scenario
//! that drives the wizard with key presses against the in-process sandbox: search packages
//! for "skatt" and resources for "krav", pick two, see a MaskinportenSchema resource, an
//! unassignable package and a client-only package refused with their reasons, and register
//! the system with exactly the picks.

use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::picker::{Row, Verdict};
use altinn_onboard::flow::{Flow, Msg, PickerMsg, Step};
use altinn_onboard::maskinporten::TokenCache;
use altinn_onboard::profile::{Profile, ProfileStore};
use altinn_onboard::rights::{Lookup, RightCandidate, SearchKind, SearchResult, Source};
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::catalogue::{self, Lang};
use altinn_onboard::sandbox::{self, SandboxConfig};
use altinn_onboard::tui::app::{App, AppOptions, seeded_for};
use altinn_onboard::tui::theme::Theme;
use altinn_onboard::tui::{Driver, Headless, ui};
use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

// ---------- states for the snapshots ----------

fn opts() -> AppOptions {
    AppOptions {
        default_test_url: "http://127.0.0.1:41234/reference/whoami".into(),
        headless: None,
        seeded_orgs: seeded_for(EnvKind::Sandbox),
        theme: Theme::plain(),
    }
}

/// A sandbox profile whose key and client are done: the wizard is at the system step, its
/// form prefilled with the sandbox's demo values.
fn profile_at_system() -> Profile {
    let mut p = Profile::new("default", EnvSetting::new(EnvKind::Sandbox));
    let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    p.created_at = t0;
    p.updated_at = t0;
    p.kid = Some("onboard-2026-11-24-a1b2c3".into());
    p.key_path = Some("/home/dev/.config/altinn-onboard/keys/default-onboard.pem".into());
    p.vendor_org = Some("312345676".into());
    p.client_id = Some("3f0e8a52-6f3c-4c1e-9a57-2b8e1c0d4f11".into());
    p.scopes = vec!["altinn:authentication/systemregister.write".into()];
    p.client_registered = true;
    p
}

/// Every seeded resource, as the Resource Registry serves it.
fn seeded_resources() -> Vec<RightCandidate> {
    catalogue::resources()
        .iter()
        .filter_map(|r| RightCandidate::from_service_resource(r.to_json()))
        .collect()
}

fn seeded_resource(id: &str) -> RightCandidate {
    seeded_resources()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} is seeded"))
}

/// Seeded packages whose bokmål name contains `word`, as PackageDtos.
fn seeded_packages(word: &str) -> Vec<RightCandidate> {
    catalogue::packages()
        .iter()
        .filter(|p| p.name.get(Lang::Nb).to_lowercase().contains(word))
        .filter_map(|p| {
            RightCandidate::from_package_dto(&json!({
                "id": p.id.to_string(), "urn": p.urn, "name": p.name.get(Lang::Nb),
                "isDelegable": p.is_delegable(), "isAssignable": p.is_assignable(),
                "area": {"urn": p.area().urn, "name": p.area().name.get(Lang::Nb)}
            }))
        })
        .collect()
}

fn network(candidates: Vec<RightCandidate>) -> Result<SearchResult, altinn_onboard::flow::Failure> {
    Ok(SearchResult {
        candidates,
        source: Source::Network,
    })
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn seq(app: &App) -> u64 {
    app.flow.picker.as_ref().expect("the picker is open").seq
}

/// The wizard at the system step with the picker open on every seeded resource; the form's
/// demo right resolved.
fn picker_open() -> App {
    let mut app = App::new(Flow::resume(profile_at_system()), opts());
    assert_eq!(app.flow.step, Step::System);
    app.handle_key(ctrl('f'));
    assert!(app.flow.picker.is_some(), "ctrl-f opens the picker");
    app.handle_msg(Msg::Picker(PickerMsg::Found {
        seq: 1,
        result: network(seeded_resources()),
    }));
    app.handle_msg(Msg::Picker(PickerMsg::Resolved {
        seq: 1,
        lookup: Lookup {
            found: vec![seeded_resource("altinn-onboard-sandbox-reference")],
            ..Lookup::default()
        },
    }));
    app
}

fn type_text(app: &mut App, s: &str) {
    for c in s.chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
}

/// Move the cursor onto the row of `id`.
fn cursor_to(app: &mut App, id: &str) {
    let rows = app.flow.picker.as_ref().unwrap().rows();
    let at = rows
        .iter()
        .position(|r| match r {
            Row::Result(c, _) => c.matches(id),
            Row::Picked(p) => p.id == id,
        })
        .unwrap_or_else(|| panic!("{id} is not listed"));
    for _ in 0..rows.len() {
        app.handle_key(key(KeyCode::Up));
    }
    for _ in 0..at {
        app.handle_key(key(KeyCode::Down));
    }
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    // Twice: the first frame tells the picker how many rows the screen has.
    term.draw(|f| ui::draw(f, app)).unwrap();
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

#[test]
fn picker_results() {
    let app = picker_open();
    let screen = render(&app, 80, 24);
    for want in [
        "Krav og betalinger",
        "GenericAccessResource",
        "skd",
        "std agent",
        "Picked (1): altinn-onboard-sandbox-reference",
    ] {
        assert!(screen.contains(want), "{want} missing:\n{screen}");
    }
    snap!("rights_picker_results", app);
}

#[test]
fn picker_with_picks() {
    let mut app = picker_open();
    type_text(&mut app, "krav");
    let s = seq(&app);
    app.handle_msg(Msg::Picker(PickerMsg::Found {
        seq: s,
        result: network(vec![seeded_resource("ske-krav-og-betalinger")]),
    }));
    app.handle_key(key(KeyCode::Char(' ')));
    assert_eq!(
        app.forms.system.search.value(),
        "krav",
        "space picks, is not typed"
    );
    app.handle_key(key(KeyCode::Tab));
    // The term stays; the packages answer for it.
    let mut s = seq(&app);
    assert_eq!(app.flow.picker.as_ref().unwrap().kind, SearchKind::Packages);
    app.handle_key(key(KeyCode::Backspace));
    app.handle_key(key(KeyCode::Backspace));
    app.handle_key(key(KeyCode::Backspace));
    app.handle_key(key(KeyCode::Backspace));
    type_text(&mut app, "skatt");
    assert!(seq(&app) > s);
    s = seq(&app);
    app.handle_msg(Msg::Picker(PickerMsg::Found {
        seq: s,
        result: network(seeded_packages("skatt")),
    }));
    cursor_to(&mut app, "urn:altinn:accesspackage:skatt-naering");
    app.handle_key(key(KeyCode::Char(' ')));
    let sel = app.flow.picker.as_ref().unwrap().selection();
    assert_eq!(
        sel.rights,
        ["altinn-onboard-sandbox-reference", "ske-krav-og-betalinger"]
    );
    assert_eq!(sel.packages, ["urn:altinn:accesspackage:skatt-naering"]);
    snap!("rights_picker_picked", app);

    // Enter takes the picks into the form, which the registration then sends.
    app.handle_key(key(KeyCode::Enter));
    assert!(app.flow.picker.is_none());
    assert_eq!(
        app.forms.system.rights.value(),
        "altinn-onboard-sandbox-reference ske-krav-og-betalinger"
    );
    assert_eq!(
        app.forms.system.access_packages.value(),
        "urn:altinn:accesspackage:skatt-naering"
    );
    assert_eq!(app.forms.system.focus, None, "back to the command keys");
}

#[test]
fn picker_refusal() {
    let mut app = picker_open();
    cursor_to(&mut app, "skd-maskinportenschemaid-8");
    app.handle_key(key(KeyCode::Char(' ')));
    let p = app.flow.picker.as_ref().unwrap();
    assert_eq!(p.picked.len(), 1, "not picked");
    let r = p.refusal.as_ref().expect("the refusal");
    assert_eq!(r.code.as_deref(), Some("AUTH.VLD-00017"));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("cannot pick skd-maskinportenschemaid-8 [AUTH.VLD-00017]")
            && screen.contains("fix: a MaskinportenSchema API is reached with its Maskinporten"),
        "{screen}"
    );
    snap!("rights_picker_refused", app);
}

#[test]
fn picker_offline_note() {
    let mut app = picker_open();
    type_text(&mut app, "skd");
    let s = seq(&app);
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 11, 15, 0).unwrap();
    let skd: Vec<RightCandidate> = seeded_resources()
        .into_iter()
        .filter(|c| {
            c.owner
                .as_ref()
                .is_some_and(|o| o.label().eq_ignore_ascii_case("skd"))
        })
        .collect();
    assert!(skd.len() >= 3);
    app.handle_msg(Msg::Picker(PickerMsg::Found {
        seq: s,
        result: Ok(SearchResult {
            candidates: skd,
            source: Source::Cache {
                fetched_at: at,
                offline: true,
            },
        }),
    }));
    let screen = render(&app, 50, 20);
    assert!(
        screen.contains("offline: results from cache of"),
        "{screen}"
    );
    snap!("rights_picker_offline", app);
}

#[test]
fn picker_no_results() {
    let mut app = picker_open();
    app.handle_key(key(KeyCode::Tab));
    type_text(&mut app, "zzz");
    let s = seq(&app);
    app.handle_msg(Msg::Picker(PickerMsg::Found {
        seq: s,
        result: network(vec![]),
    }));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("No access packages match \"zzz\""),
        "{screen}"
    );
    snap!("rights_picker_empty", app);
    // Esc closes it without touching the form.
    app.handle_key(key(KeyCode::Esc));
    assert!(app.flow.picker.is_none());
    assert_eq!(
        app.forms.system.rights.value(),
        "altinn-onboard-sandbox-reference"
    );
}

// ---------- the scenario against the sandbox ----------

const WAIT: Duration = Duration::from_secs(60);

/// Wait for the answer to the picker's latest search.
async fn results(h: &mut Headless) {
    let ok = h
        .run_until(WAIT, |a| a.flow.picker.as_ref().is_some_and(|p| !p.loading))
        .await;
    assert!(ok, "the search did not answer");
    let p = h.app.flow.picker.as_ref().unwrap();
    assert_eq!(p.error, None, "the search failed");
}

async fn search(h: &mut Headless, kind: SearchKind, term: &str) {
    if h.app.flow.picker.as_ref().unwrap().kind != kind {
        h.key(KeyCode::Tab);
    }
    h.replace_text(term);
    results(h).await;
    assert_eq!(h.app.flow.picker.as_ref().unwrap().term, term);
}

fn hs_cursor_to(h: &mut Headless, id: &str) {
    cursor_to(&mut h.app, id);
}

/// Toggle `id` and return the refusal's code, if it was refused.
fn toggle(h: &mut Headless, id: &str) -> Option<String> {
    hs_cursor_to(h, id);
    h.key(KeyCode::Char(' '));
    let p = h.app.flow.picker.as_ref().unwrap();
    p.refusal.as_ref().map(|r| {
        assert!(
            r.subject.ends_with(id.rsplit(':').next().unwrap()) && r.fix.is_some(),
            "{r:?}"
        );
        r.code.clone().unwrap_or_default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pick_and_refuse_against_the_sandbox_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ProfileStore::at(dir.path()));
    let sb = sandbox::start(SandboxConfig::default()).await.unwrap();
    let env = Environment::from_parts(EnvKind::Sandbox, &sb.issuer(), &sb.base_url()).unwrap();
    let runner = Arc::new(
        Runner::new(env, store.clone(), Arc::new(TokenCache::in_memory())).expect("http client"),
    );
    let opts = AppOptions {
        default_test_url: runner.default_test_url(),
        headless: Some("running a test".into()),
        seeded_orgs: seeded_for(EnvKind::Sandbox),
        theme: Theme::plain(),
    };
    let app = App::new(
        Flow::new(Profile::new("default", EnvSetting::default())),
        opts,
    );
    let mut h = Headless::new(app, Driver::new(runner, EnvSetting::default()));
    // Environment, key and client with the prefilled sandbox values.
    for step in [Step::Key, Step::Client, Step::System] {
        h.key(KeyCode::Enter);
        let ok = h
            .run_until(WAIT, |a| a.flow.step == step && a.flow.busy.is_none())
            .await;
        assert!(ok, "did not reach {step:?}: {:?}", h.app.flow.error);
    }

    h.key_with(KeyCode::Char('f'), KeyModifiers::CONTROL);
    results(&mut h).await;
    // The demo right of the form is picked and resolved against the registry.
    let ok = h
        .run_until(WAIT, |a| {
            a.flow
                .picker
                .as_ref()
                .is_some_and(|p| p.picked.len() == 1 && p.picked[0].verdict == Verdict::Ok)
        })
        .await;
    assert!(ok, "the form's right was not resolved");

    // Packages for "skatt": pick skatt-naering; the guardianship package (neither delegable
    // nor assignable) is refused.
    search(&mut h, SearchKind::Packages, "skatt").await;
    let ids: Vec<String> = h
        .app
        .flow
        .picker
        .as_ref()
        .unwrap()
        .results
        .iter()
        .map(|c| c.id.clone())
        .collect();
    assert!(
        ids.contains(&"urn:altinn:accesspackage:skatt-naering".to_string()),
        "{ids:?}"
    );
    assert_eq!(
        toggle(&mut h, "urn:altinn:accesspackage:skatt-naering"),
        None
    );
    assert_eq!(
        toggle(
            &mut h,
            "urn:altinn:accesspackage:vergemal-skatteetaten-skatt"
        )
        .as_deref(),
        Some("AUTH.VLD-00008")
    );
    // A client-only package on this visible system.
    search(&mut h, SearchKind::Packages, "regnskapsfører").await;
    assert_eq!(
        toggle(&mut h, "urn:altinn:accesspackage:regnskapsforer-lonn").as_deref(),
        Some("AUTH.VLD-00018")
    );
    // A package typed by its code is found although the search matches names only.
    search(&mut h, SearchKind::Packages, "skattegrunnlag").await;
    assert!(
        h.app
            .flow
            .picker
            .as_ref()
            .unwrap()
            .results
            .iter()
            .any(|c| c.id.ends_with(":skattegrunnlag"))
    );

    // Resources for "krav": pick ske-krav-og-betalinger; the demo right is unpicked.
    search(&mut h, SearchKind::Resources, "krav").await;
    assert_eq!(toggle(&mut h, "ske-krav-og-betalinger"), None);
    assert_eq!(
        toggle(&mut h, "altinn-onboard-sandbox-reference"),
        None,
        "unpicked"
    );
    // Non-delegable resources: a MaskinportenSchema, and one with `delegable: false`.
    search(&mut h, SearchKind::Resources, "skd").await;
    assert_eq!(
        toggle(&mut h, "skd-maskinportenschemaid-8").as_deref(),
        Some("AUTH.VLD-00017")
    );
    search(&mut h, SearchKind::Resources, "eformidling").await;
    assert_eq!(
        toggle(&mut h, "eformidling-dpo-meldingsutveksling").as_deref(),
        Some("AUTH-00070")
    );

    let sel = h.app.flow.picker.as_ref().unwrap().selection();
    assert_eq!(sel.rights, ["ske-krav-og-betalinger"]);
    assert_eq!(sel.packages, ["urn:altinn:accesspackage:skatt-naering"]);
    // Enter uses the picks; Enter again registers the system with them.
    h.key(KeyCode::Enter);
    assert!(h.app.flow.picker.is_none());
    h.key(KeyCode::Enter);
    let ok = h
        .run_until(WAIT, |a| {
            a.flow.step == Step::Request && a.flow.busy.is_none()
        })
        .await;
    assert!(ok, "registration failed: {:?}", h.app.flow.error);
    let spec = h.app.flow.profile.system.clone().expect("the system");
    assert_eq!(spec.rights, ["ske-krav-og-betalinger"]);
    assert_eq!(
        spec.access_packages,
        ["urn:altinn:accesspackage:skatt-naering"]
    );
    // The sandbox has them too.
    let reg = h.app.flow.registration.clone().expect("registered");
    assert_eq!(reg.outcome, "created");
    sb.shutdown().await;
}
