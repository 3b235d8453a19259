//! Key handling as data (atuin's habit): in every step and mode, each key the footer
//! advertises is one the key map actually handles, and typing into a field never triggers
//! command keys.

use altinn_onboard::env::{EnvKind, EnvSetting};
use altinn_onboard::flow::{ErrorKind, Flow, Step};
use altinn_onboard::profile::Profile;
use altinn_onboard::tui::app::{App, AppOptions, Overlay, seeded_for};
use altinn_onboard::tui::keymap::{self, Action, BINDINGS};
use altinn_onboard::tui::theme::Theme;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn app(step: Step) -> App {
    let mut flow = Flow::new(Profile::new("default", EnvSetting::default()));
    flow.step = step;
    App::new(
        flow,
        AppOptions {
            default_test_url: "http://127.0.0.1:1/reference/whoami".into(),
            headless: None,
            seeded_orgs: seeded_for(EnvKind::Sandbox),
            theme: Theme::plain(),
        },
    )
}

/// Command mode (`false`) or the form's first field focused (`true`).
fn set_focus(a: &mut App, first_field: bool) {
    if let Some(f) = a.form_mut() {
        f.leave();
        if first_field {
            f.cycle(true);
        }
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn every_footer_hint_is_handled() {
    for step in Step::ALL {
        for first_field in [false, true] {
            let mut a = app(step);
            set_focus(&mut a, first_field);
            for (k, label) in keymap::active_hints(&a) {
                let b = BINDINGS
                    .iter()
                    .find(|b| b.key == k && (b.when)(&a))
                    .unwrap_or_else(|| panic!("{step:?}: hint {k} ({label}) has no binding"));
                let ev = KeyEvent::new(b.code, b.mods);
                assert!(
                    keymap::action_for(&a, &ev).is_some(),
                    "{step:?}: {k} is advertised but not handled"
                );
            }
        }
    }
}

#[test]
fn letters_are_typed_while_editing() {
    let mut a = app(Step::Client);
    set_focus(&mut a, true);
    assert!(a.editing());
    for c in "qbr?e".chars() {
        assert_eq!(keymap::action_for(&a, &key(KeyCode::Char(c))), None, "{c}");
    }
    a.handle_key(key(KeyCode::Char('q')));
    assert!(!a.quit);
    assert!(a.forms.client.vendor_org.value().ends_with('q'));
    // Esc leaves the field; then q quits.
    a.handle_key(key(KeyCode::Esc));
    assert!(!a.editing());
    assert_eq!(
        keymap::action_for(&a, &key(KeyCode::Char('q'))),
        Some(Action::Quit)
    );
}

#[test]
fn ctrl_c_always_quits_and_help_closes() {
    let mut a = app(Step::System);
    set_focus(&mut a, true);
    a.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(a.quit);

    let mut a = app(Step::Done);
    a.handle_key(key(KeyCode::Char('?')));
    assert_eq!(a.overlay, Overlay::Help);
    a.handle_key(key(KeyCode::Char('?')));
    assert_eq!(a.overlay, Overlay::None);
}

#[test]
fn back_keeps_command_mode_and_typed_text() {
    let mut a = app(Step::System);
    set_focus(&mut a, true);
    for c in "my-system".chars() {
        a.handle_key(key(KeyCode::Char(c)));
    }
    a.handle_key(key(KeyCode::Esc));
    a.handle_key(key(KeyCode::Char('b')));
    assert_eq!(a.flow.step, Step::Client);
    assert!(
        a.focused_field().is_none(),
        "a second b must not be typed into a form"
    );
    a.handle_key(key(KeyCode::Char('b')));
    assert_eq!(a.flow.step, Step::Key);
    assert!(
        a.forms.system.name.value().ends_with("my-system"),
        "nothing typed is lost"
    );
}

#[test]
fn keys_named_in_texts_come_from_the_table() {
    // Step texts and hints name these keys through key_for, so renaming a key in the table
    // renames it on screen.
    for (action, key) in [
        (Action::Import, "i"),
        (Action::CopyJwk, "c"),
        (Action::ConfirmUploaded, "u"),
        (Action::ToggleJson, "v"),
        (Action::ShowQr, "z"),
        (Action::StartPolling, "p"),
        (Action::Back, "b"),
        (Action::NextField, "tab"),
        (Action::Edit, "e"),
    ] {
        assert_eq!(keymap::key_for(action), key, "{action:?}");
    }
}

#[test]
fn error_choices_are_keys_that_work_now() {
    // A validation error while a field is being edited: e and b would be typed, so the
    // choices under the error do not offer them; in command mode they do.
    let choices = [Action::Retry, Action::Edit, Action::Back];
    let mut a = app(Step::Request);
    set_focus(&mut a, true);
    a.handle_key(key(KeyCode::End));
    a.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "310904474".chars() {
        a.handle_key(key(KeyCode::Char(c)));
    }
    a.handle_key(key(KeyCode::Enter));
    assert!(
        a.flow
            .error
            .as_ref()
            .is_some_and(|e| e.kind == ErrorKind::Validation),
        "{:?}",
        a.flow.error
    );
    assert!(a.editing());
    assert_eq!(keymap::hints_for(&a, &choices), []);
    a.handle_key(key(KeyCode::Esc));
    assert_eq!(
        keymap::hints_for(&a, &choices),
        [("e", "edit"), ("b", "back")]
    );
}

/// Issue 17, trap 4: copying the JWK is a command key that also works while a text field has
/// the focus (ctrl-y; `c` is typed there), from the one key table.
#[test]
fn ctrl_y_copies_the_jwk_even_while_a_field_is_edited() {
    let mut flow = Flow::new(Profile::new("default", EnvSetting::new(EnvKind::Tt02)));
    flow.profile.kid = Some("kid-1".into());
    flow.key = Some(altinn_onboard::flow::KeyInfo {
        kid: "kid-1".into(),
        path: "/keys/default-1.pem".into(),
        public_jwk: serde_json::json!({"kty": "RSA", "kid": "kid-1", "n": "abc", "e": "AQAB"}),
        bits: 2048,
        thumbprint: "t".into(),
        warning: None,
    });
    flow.step = Step::Client;
    let mut a = App::new(
        flow,
        AppOptions {
            default_test_url: String::new(),
            headless: None,
            seeded_orgs: Vec::new(),
            theme: Theme::plain(),
        },
    );
    set_focus(&mut a, true);
    assert!(a.editing());
    let before = a.forms.client.vendor_org.value().to_string();
    a.handle_key(key(KeyCode::Char('c')));
    assert_eq!(a.forms.client.vendor_org.value(), format!("{before}c"));
    assert!(a.clipboard.is_none(), "c is typed while editing");
    assert!(
        keymap::active_hints(&a).contains(&("ctrl-y", "copy JWK")),
        "{:?}",
        keymap::active_hints(&a)
    );
    a.handle_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL));
    assert_eq!(a.forms.client.vendor_org.value(), format!("{before}c"));
    let copied: serde_json::Value =
        serde_json::from_str(a.clipboard.as_deref().expect("copied")).unwrap();
    assert_eq!(copied["kid"], "kid-1");
    assert_eq!(
        a.jwk_export.as_ref().map(|(p, _)| p.clone()),
        Some(std::path::PathBuf::from("/keys/default-1.public.jwk.json"))
    );
    assert!(
        a.flash
            .as_deref()
            .is_some_and(|f| f.contains("/keys/default-1.public.jwk.json")),
        "{:?}",
        a.flash
    );
    // In command mode j shows the whole JWK; esc and q close it; ctrl-y works inside.
    a.handle_key(key(KeyCode::Esc));
    a.handle_key(key(KeyCode::Char('j')));
    assert_eq!(a.overlay, Overlay::Jwk);
    a.clipboard = None;
    a.handle_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL));
    assert!(a.clipboard.is_some());
    a.handle_key(key(KeyCode::Char('q')));
    assert_eq!(a.overlay, Overlay::None);
    assert!(!a.quit, "q closes the view, not the wizard");
}

/// The file behind the JWK view: written by the driver beside the private key, readable
/// (a public key), the public JWK and nothing else.
#[tokio::test(flavor = "multi_thread")]
async fn the_whole_jwk_view_writes_the_public_jwk_file() {
    use altinn_onboard::tui::{Driver, Headless};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(altinn_onboard::profile::ProfileStore::at(dir.path()));
    let env = EnvSetting::new(EnvKind::Tt02);
    let app = App::new(
        Flow::new(Profile::new("default", env.clone())),
        AppOptions {
            default_test_url: String::new(),
            headless: Some("a test".into()),
            seeded_orgs: Vec::new(),
            theme: Theme::plain(),
        },
    );
    let mut h = Headless::new(app, Driver::opening(store, "default", env));
    let fx = h.app.flow.update(altinn_onboard::flow::Msg::GenerateKey {
        bits: 2048,
        kid: None,
    });
    h.driver.run_effects(&h.app, fx);
    assert!(
        h.run_until(Duration::from_secs(60), |a| a.key_info().is_some())
            .await,
        "the key was generated"
    );
    h.app.flow.step = Step::Key;
    h.app.flow.error = None;
    h.key(KeyCode::Char('j'));
    assert_eq!(h.app.overlay, Overlay::Jwk);
    let path = match h.app.jwk_file.clone() {
        Some(Ok(p)) => p,
        other => panic!("not written: {other:?}"),
    };
    assert_eq!(path.parent(), h.app.key_info().unwrap().path.parent());
    assert!(path.starts_with(dir.path().join("config/keys")), "{path:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    let jwk: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(jwk, h.app.key_info().unwrap().public_jwk);
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(jwk.get(private).is_none(), "private member {private}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
    h.driver.close().await;
}
