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
