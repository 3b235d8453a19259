//! The one table of keys: each binding is (key, action, label, when). The same table decides
//! what a key press does and every key hint on screen (footer, help, an error's choices, the
//! quit dialog, and keys named in step texts via [`key_for`]), so hints never drift from
//! behaviour. The first binding whose key matches and whose `when` holds wins; keys no binding
//! takes go to the focused text field. What a step-specific action does lives in that step's
//! module (`steps::*`, `StepScreen::act`).

use super::app::{App, Overlay};
use crate::flow::{ErrorKind, Step};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    ConfirmQuit,
    CancelOverlay,
    Help,
    Submit,
    NextField,
    PrevField,
    LeaveField,
    Edit,
    Back,
    Next,
    Retry,
    Generate,
    Import,
    CopyJwk,
    /// The whole public JWK on the screen (and written to a file).
    ShowJwk,
    ConfirmUploaded,
    ToggleJson,
    /// The system step's rights picker: open it, pick the row under the cursor, switch
    /// between resources and access packages, close it without changes.
    OpenPicker,
    PickerToggle,
    PickerSwitch,
    PickerCancel,
    Flip,
    PickPrev,
    PickNext,
    OpenBrowser,
    StartPolling,
    CancelPolling,
    ShowQr,
    ScrollDown,
    ScrollUp,
    /// The readiness panel (TT02/production, before the key): show it.
    ShowReadiness,
    /// Run the readiness check again.
    RecheckReadiness,
    /// Done step: ask the customer for more rights (a change request).
    ChangeRights,
    // --- the customers screen (`tui/customers.rs`) ---
    OpenCustomers,
    CloseCustomers,
    ReloadCustomers,
    CustomerPrev,
    CustomerNext,
    CustomerPagePrev,
    CustomerPageNext,
    CustomerFirst,
    CustomerLast,
    /// Show only one status (cycles).
    CustomerFilter,
    /// A pending customer's approval link and QR code.
    CustomerQr,
    /// A system-user token for the customer and the test call.
    CustomerToken,
    /// A change request for the customer (the Done step's change action).
    CustomerChange,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub code: KeyCode,
    pub mods: KeyModifiers,
    /// How the key is written in hints.
    pub key: &'static str,
    pub action: Action,
    /// Empty: works but is not advertised in the footer (still listed in help).
    pub label: &'static str,
    pub when: fn(&App) -> bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;

const fn bind(
    code: KeyCode,
    key: &'static str,
    action: Action,
    label: &'static str,
    when: fn(&App) -> bool,
) -> Binding {
    Binding {
        code,
        mods: NONE,
        key,
        action,
        label,
        when,
    }
}

/// The step screen has the keys: no overlay, and the customers screen is not up.
fn no_overlay(a: &App) -> bool {
    a.overlay == Overlay::None && !a.customers_shown()
}

/// The customers screen has the keys.
fn customers_keys(a: &App) -> bool {
    a.overlay == Overlay::None && a.customers_shown()
}

/// A row action: the customers screen, nothing else running, the selected row's status.
fn customer_action(a: &App, status: crate::profile::CustomerStatus) -> bool {
    customers_keys(a) && !a.busy_blocking() && a.selected_customer_is(status)
}

/// Command keys (letters) work when no text field has the focus.
fn commands(a: &App) -> bool {
    no_overlay(a) && !a.editing()
}

fn idle_commands(a: &App) -> bool {
    commands(a) && !a.busy_blocking()
}

fn has_form(a: &App) -> bool {
    no_overlay(a) && !a.busy_blocking() && a.form().is_some()
}

/// Tab moves somewhere: the form shows more than one field.
fn has_fields_to_cycle(a: &App) -> bool {
    has_form(a) && a.form().is_some_and(|f| f.tab_stops() > 1)
}

fn can_submit(a: &App) -> bool {
    no_overlay(a) && !a.busy_blocking() && a.submit_label().is_some()
}

/// A step that shows the key, with the key known.
fn jwk_step(a: &App) -> bool {
    matches!(a.flow.step, Step::Key | Step::Client) && a.key_info().is_some()
}

fn step_is(a: &App, s: Step) -> bool {
    a.flow.step == s
}

/// The rights picker is open (the system step; its search text has the focus).
fn picking(a: &App) -> bool {
    no_overlay(a) && step_is(a, Step::System) && a.flow.picker.is_some()
}

fn can_open_picker(a: &App) -> bool {
    no_overlay(a) && !a.busy_blocking() && step_is(a, Step::System) && a.flow.picker.is_none()
}

pub static BINDINGS: &[Binding] = &[
    Binding {
        code: KeyCode::Char('c'),
        mods: KeyModifiers::CONTROL,
        key: "ctrl-c",
        action: Action::Quit,
        label: "",
        when: |_| true,
    },
    bind(
        KeyCode::Char('y'),
        "y",
        Action::ConfirmQuit,
        "quit anyway",
        |a| a.overlay == Overlay::ConfirmQuit,
    ),
    bind(
        KeyCode::Char('n'),
        "n",
        Action::CancelOverlay,
        "stay",
        |a| a.overlay == Overlay::ConfirmQuit,
    ),
    bind(KeyCode::Esc, "esc", Action::CancelOverlay, "close", |a| {
        a.overlay != Overlay::None
    }),
    bind(KeyCode::Char('?'), "?", Action::CancelOverlay, "", |a| {
        a.overlay == Overlay::Help
    }),
    bind(KeyCode::Char('q'), "q", Action::CancelOverlay, "", |a| {
        matches!(
            a.overlay,
            Overlay::Help | Overlay::Qr | Overlay::Jwk | Overlay::Readiness
        )
    }),
    // The readiness panel: Enter goes on to the key step, r checks again, the arrows scroll.
    bind(
        KeyCode::Enter,
        "enter",
        Action::CancelOverlay,
        "continue",
        |a| a.overlay == Overlay::Readiness,
    ),
    bind(KeyCode::Char('r'), "r", Action::RecheckReadiness, "", |a| {
        a.overlay == Overlay::Readiness
    }),
    bind(KeyCode::Down, "↓", Action::ScrollDown, "", |a| {
        a.overlay == Overlay::Readiness
    }),
    bind(KeyCode::Up, "↑", Action::ScrollUp, "", |a| {
        a.overlay == Overlay::Readiness
    }),
    // The JWK view scrolls with the arrows and pages; its own hint line names them.
    bind(KeyCode::Down, "↓", Action::ScrollDown, "", |a| {
        a.overlay == Overlay::Jwk
    }),
    bind(KeyCode::Up, "↑", Action::ScrollUp, "", |a| {
        a.overlay == Overlay::Jwk
    }),
    bind(KeyCode::PageDown, "", Action::ScrollDown, "", |a| {
        a.overlay == Overlay::Jwk
    }),
    bind(KeyCode::PageUp, "", Action::ScrollUp, "", |a| {
        a.overlay == Overlay::Jwk
    }),
    bind(KeyCode::Enter, "enter", Action::Submit, "submit", |a| {
        can_submit(a)
    }),
    // The rights picker's keys come before the form's: its search text has the focus, so
    // space picks and tab switches instead of being typed or moving between fields.
    bind(
        KeyCode::Char(' '),
        "space",
        Action::PickerToggle,
        "pick/unpick",
        picking,
    ),
    bind(
        KeyCode::Tab,
        "tab",
        Action::PickerSwitch,
        "switch list",
        picking,
    ),
    bind(KeyCode::Esc, "esc", Action::PickerCancel, "close", picking),
    bind(KeyCode::Tab, "tab", Action::NextField, "next field", |a| {
        has_fields_to_cycle(a)
    }),
    Binding {
        code: KeyCode::BackTab,
        mods: KeyModifiers::SHIFT,
        key: "shift-tab",
        action: Action::PrevField,
        label: "",
        when: has_fields_to_cycle,
    },
    bind(KeyCode::Up, "↑↓", Action::PickPrev, "pick", |a| {
        no_overlay(a) && !a.busy_blocking() && a.pickable()
    }),
    bind(KeyCode::Down, "", Action::PickNext, "", |a| {
        no_overlay(a) && !a.busy_blocking() && a.pickable()
    }),
    bind(KeyCode::Char(' '), "space", Action::Flip, "toggle", |a| {
        commands(a) && !a.busy_blocking() && a.focused_flippable()
    }),
    bind(KeyCode::Esc, "esc", Action::LeaveField, "commands", |a| {
        no_overlay(a) && a.editing()
    }),
    bind(
        KeyCode::Char('g'),
        "g",
        Action::Generate,
        "generate key",
        |a| idle_commands(a) && step_is(a, Step::Key),
    ),
    bind(KeyCode::Char('i'), "i", Action::Import, "import key", |a| {
        idle_commands(a) && step_is(a, Step::Key)
    }),
    bind(
        KeyCode::Char('p'),
        "p",
        Action::ShowReadiness,
        "readiness",
        |a| idle_commands(a) && step_is(a, Step::Key) && a.is_real_env(),
    ),
    bind(KeyCode::Char('c'), "c", Action::CopyJwk, "copy JWK", |a| {
        (commands(a) || a.overlay == Overlay::Jwk) && jwk_step(a)
    }),
    // The same with a text field focused (where c is typed): on TT02 the client id field
    // usually has the focus while the user copies the JWK into the portal.
    Binding {
        code: KeyCode::Char('y'),
        mods: KeyModifiers::CONTROL,
        key: "ctrl-y",
        action: Action::CopyJwk,
        label: "copy JWK",
        when: |a| (no_overlay(a) || a.overlay == Overlay::Jwk) && jwk_step(a),
    },
    bind(KeyCode::Char('j'), "j", Action::ShowJwk, "whole JWK", |a| {
        commands(a) && jwk_step(a) && a.is_real_env()
    }),
    bind(
        KeyCode::Char('u'),
        "u",
        Action::ConfirmUploaded,
        "JWK is uploaded",
        |a| idle_commands(a) && step_is(a, Step::Client) && a.awaiting_upload(),
    ),
    bind(
        KeyCode::Char('/'),
        "/",
        Action::OpenPicker,
        "search rights",
        |a| can_open_picker(a) && !a.editing(),
    ),
    // The same from a text field (where / is typed), e.g. while typing a resource id.
    Binding {
        code: KeyCode::Char('f'),
        mods: KeyModifiers::CONTROL,
        key: "ctrl-f",
        action: Action::OpenPicker,
        label: "search rights",
        when: can_open_picker,
    },
    bind(
        KeyCode::Char('v'),
        "v",
        Action::ToggleJson,
        "show JSON",
        |a| commands(a) && step_is(a, Step::System),
    ),
    bind(
        KeyCode::Char('o'),
        "o",
        Action::OpenBrowser,
        "open browser",
        |a| idle_commands(a) && step_is(a, Step::Approval) && a.confirm_url().is_some(),
    ),
    // The Done step's pending change request: its approval page (polling goes on meanwhile).
    // Not in the footer, which is full at 80 columns there (it would push out `? help` and
    // `q quit`); help lists `o` from the row above, and the body names it by the URL.
    bind(KeyCode::Char('o'), "o", Action::OpenBrowser, "", |a| {
        idle_commands(a)
            && step_is(a, Step::Done)
            && !a.forms.change.open
            && a.flow.pending_change_url().is_some()
    }),
    bind(
        KeyCode::Char('p'),
        "p",
        Action::StartPolling,
        "poll status",
        |a| {
            idle_commands(a)
                && matches!(a.flow.step, Step::Approval | Step::Polling)
                && a.confirm_url().is_some()
                && !a.polling_active()
        },
    ),
    bind(KeyCode::Char('z'), "z", Action::ShowQr, "big QR", |a| {
        commands(a) && step_is(a, Step::Approval) && a.confirm_url().is_some()
    }),
    bind(
        KeyCode::Char('x'),
        "x",
        Action::CancelPolling,
        "cancel",
        |a| commands(a) && a.polling_active(),
    ),
    bind(
        KeyCode::Char('c'),
        "c",
        Action::ChangeRights,
        "change rights",
        |a| idle_commands(a) && step_is(a, Step::Done),
    ),
    bind(KeyCode::Char('r'), "r", Action::Retry, "retry", |a| {
        idle_commands(a)
            && a.flow
                .error
                .as_ref()
                .is_some_and(|e| e.kind != ErrorKind::Validation)
    }),
    bind(KeyCode::Char('e'), "e", Action::Edit, "edit", |a| {
        idle_commands(a) && a.form().is_some()
    }),
    bind(KeyCode::Char('b'), "b", Action::Back, "back", |a| {
        idle_commands(a) && a.flow.step != Step::Environment
    }),
    bind(KeyCode::Char('n'), "n", Action::Next, "next", |a| {
        idle_commands(a) && a.can_go_next()
    }),
    bind(KeyCode::PageDown, "pgdn", Action::ScrollDown, "more", |a| {
        no_overlay(a) && a.scroll < a.overflow.get()
    }),
    bind(KeyCode::PageUp, "pgup", Action::ScrollUp, "", |a| {
        no_overlay(a) && a.scroll > 0
    }),
    // The customers screen, over any step (the step's keys above need `no_overlay`, which
    // is false while it is up).
    bind(
        KeyCode::Up,
        "↑↓",
        Action::CustomerPrev,
        "select",
        customers_keys,
    ),
    bind(KeyCode::Down, "", Action::CustomerNext, "", customers_keys),
    bind(
        KeyCode::PageUp,
        "",
        Action::CustomerPagePrev,
        "",
        customers_keys,
    ),
    bind(
        KeyCode::PageDown,
        "",
        Action::CustomerPageNext,
        "",
        customers_keys,
    ),
    bind(KeyCode::Home, "", Action::CustomerFirst, "", customers_keys),
    bind(KeyCode::End, "", Action::CustomerLast, "", customers_keys),
    bind(
        KeyCode::Enter,
        "enter",
        Action::CustomerQr,
        "approval QR",
        |a| customer_action(a, crate::profile::CustomerStatus::Pending),
    ),
    bind(
        KeyCode::Char('t'),
        "t",
        Action::CustomerToken,
        "check token",
        |a| customer_action(a, crate::profile::CustomerStatus::Accepted),
    ),
    bind(
        KeyCode::Char('c'),
        "c",
        Action::CustomerChange,
        "change rights",
        |a| customer_action(a, crate::profile::CustomerStatus::Accepted),
    ),
    bind(
        KeyCode::Char('f'),
        "f",
        Action::CustomerFilter,
        "filter",
        customers_keys,
    ),
    bind(
        KeyCode::Char('r'),
        "r",
        Action::ReloadCustomers,
        "reload",
        |a| customers_keys(a) && !a.customers_loading(),
    ),
    bind(
        KeyCode::Esc,
        "esc",
        Action::CloseCustomers,
        "wizard",
        customers_keys,
    ),
    bind(
        KeyCode::Char('l'),
        "",
        Action::CloseCustomers,
        "",
        customers_keys,
    ),
    bind(
        KeyCode::Char('?'),
        "?",
        Action::Help,
        "help",
        customers_keys,
    ),
    bind(
        KeyCode::Char('q'),
        "q",
        Action::Quit,
        "quit",
        customers_keys,
    ),
    // Open it: advertised on the Done step, working on every step once a system is registered.
    bind(
        KeyCode::Char('l'),
        "l",
        Action::OpenCustomers,
        "customers",
        |a| commands(a) && step_is(a, Step::Done),
    ),
    bind(KeyCode::Char('l'), "", Action::OpenCustomers, "", |a| {
        commands(a) && a.flow.reachable() > Step::System
    }),
    bind(KeyCode::Char('?'), "?", Action::Help, "help", commands),
    bind(KeyCode::Char('q'), "q", Action::Quit, "quit", commands),
];

/// Actions of the customers screen's own keys (help lists them while it is up, and the
/// wizard's keys otherwise).
pub fn on_customers_screen(action: Action) -> bool {
    matches!(
        action,
        Action::CloseCustomers
            | Action::ReloadCustomers
            | Action::CustomerPrev
            | Action::CustomerNext
            | Action::CustomerPagePrev
            | Action::CustomerPageNext
            | Action::CustomerFirst
            | Action::CustomerLast
            | Action::CustomerFilter
            | Action::CustomerQr
            | Action::CustomerToken
            | Action::CustomerChange
    )
}

/// The action for a key press, if a binding takes it.
pub fn action_for(app: &App, key: &KeyEvent) -> Option<Action> {
    BINDINGS
        .iter()
        .find(|b| {
            b.code == key.code
                && (b.mods == key.modifiers
                    // Terminals disagree on whether shifted characters carry SHIFT.
                    || (matches!(b.code, KeyCode::Char(_)) && b.mods == NONE && key.modifiers == KeyModifiers::SHIFT))
                && (b.when)(app)
        })
        .map(|b| b.action)
}

/// The bindings that work right now and are worth advertising, for the footer.
pub fn active_hints(app: &App) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for b in BINDINGS {
        if b.label.is_empty() || b.key.is_empty() || !(b.when)(app) {
            continue;
        }
        let label = match b.action {
            Action::Submit => app.submit_label().unwrap_or(b.label),
            _ => b.label,
        };
        // One hint per key, and none that repeats what Enter already says.
        if !out.iter().any(|(k, l)| *k == b.key || *l == label) {
            out.push((b.key, label));
        }
    }
    out
}

/// How the key for `action` is written, for texts that name it ("c copies it"); "?" if no
/// binding has one (`tests/tui_keys.rs` checks the actions texts name).
pub fn key_for(action: Action) -> &'static str {
    BINDINGS
        .iter()
        .find(|b| b.action == action && !b.key.is_empty())
        .map(|b| b.key)
        .unwrap_or("?")
}

/// Every key bound to `action`, joined with "/" ("c/ctrl-y"), for texts that name them all.
pub fn keys_for(action: Action) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for b in BINDINGS {
        if b.action == action && !b.key.is_empty() && !keys.contains(&b.key) {
            keys.push(b.key);
        }
    }
    if keys.is_empty() {
        "?".into()
    } else {
        keys.join("/")
    }
}

/// The advertised bindings for `actions` that work right now, as (key, label) in table order:
/// the choices under an error, the keys of the quit dialog.
pub fn hints_for(app: &App, actions: &[Action]) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for b in BINDINGS {
        if actions.contains(&b.action)
            && !b.label.is_empty()
            && !b.key.is_empty()
            && (b.when)(app)
            && !out.iter().any(|(k, _)| *k == b.key)
        {
            out.push((b.key, b.label));
        }
    }
    out
}
