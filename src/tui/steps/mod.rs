//! The wizard's steps, one module each (gitui keeps one file per popup, ratatui's demo2 one
//! per tab): a step's form (named fields and a `Focus` enum), its body on screen, what Enter
//! sends to the flow, its texts and what its keys do. This file is the one step list: the
//! [`Forms`] every step with a form keeps, and [`screen`], which maps each [`Step`] of the pure
//! flow (`crate::flow`) to its module. Adding a step: a variant in `flow::Step` (with the flow's
//! handling of it), a module here, a line in [`screen`], and a field in [`Forms`] if it has a
//! form. A key of its own is a binding in `keymap.rs` (the one key table) whose action
//! `App::perform` hands to the step's [`StepScreen::act`].

pub mod approval;
pub mod client;
pub mod done;
pub mod environment;
pub mod key;
pub mod polling;
/// Not a step: the readiness panel shown before the key step on TT02/production.
pub mod readiness;
pub mod request;
pub mod rights_picker;
pub mod system;
pub mod test_call;

use super::app::{App, AppOptions};
use super::form::Form;
use super::keymap::Action;
use super::ui::{Aside, Content};
use crate::env::EnvKind;
use crate::flow::{Flow, Msg, Step};

/// Per-step forms. They outlive step changes and errors, so nothing typed is lost.
#[derive(Debug, Clone)]
pub struct Forms {
    pub env: environment::EnvFields,
    pub key: key::KeyFields,
    pub client: client::ClientFields,
    pub system: system::SystemFields,
    pub request: request::RequestFields,
    pub test: test_call::TestCallFields,
    pub change: done::ChangeFields,
}

impl Forms {
    /// Forms filled from the profile. A newcomer on the sandbox should be able to press Enter
    /// through every form, so there they are prefilled with sensible values; on real
    /// environments only with what the profile already knows.
    pub fn new(flow: &Flow, opts: &AppOptions) -> Self {
        let p = &flow.profile;
        Forms {
            env: environment::EnvFields::new(p),
            key: key::KeyFields::new(),
            client: client::ClientFields::new(p, opts),
            system: system::SystemFields::new(p),
            request: request::RequestFields::new(p, opts),
            test: test_call::TestCallFields::new(p, opts),
            change: done::ChangeFields::new(p),
        }
    }

    /// After a switch of environment: defaults, hints and the organisation picker differ per
    /// environment, and the client, system and request of the old one no longer apply. The
    /// environment form itself is kept.
    pub fn renew_for_environment(&mut self, flow: &Flow, opts: &AppOptions) {
        let mut fresh = Forms::new(flow, opts);
        std::mem::swap(&mut fresh.env, &mut self.env);
        *self = fresh;
    }
}

/// One wizard step as the screen sees it. Every method but the text and the body has a
/// default for steps without a form or without Enter.
pub trait StepScreen: Sync {
    /// Two or three plain sentences shown above the body: what happens and why.
    fn explanation(&self, env: EnvKind) -> &'static str;

    /// The step's body: its form and what it knows, `w` columns wide.
    fn body(&self, app: &App, c: &mut Content, w: usize);

    fn form<'a>(&self, _forms: &'a Forms) -> Option<&'a dyn Form> {
        None
    }

    fn form_mut<'a>(&self, _forms: &'a mut Forms) -> Option<&'a mut dyn Form> {
        None
    }

    /// What Enter does here, for the footer's `enter` hint; `None` where Enter does nothing.
    fn submit_label(&self, _app: &App) -> Option<&'static str> {
        None
    }

    /// Enter: the flow message built from the form (the flow validates it).
    fn submit(&self, _app: &mut App) -> Option<Msg> {
        None
    }

    /// A step-specific key of the key map (the map's `when` makes sure the step is current).
    fn act(&self, _app: &mut App, _action: Action) -> Option<Msg> {
        None
    }

    /// Arriving by progress: put the cursor where input is still missing. By default the first
    /// invalid text field, else command keys.
    fn arrive(&self, app: &mut App) {
        if let Some(f) = self.form_mut(&mut app.forms) {
            f.focus_problem();
        }
    }

    /// Leaving the step (forward, back or by the flow's progress).
    fn leave(&self, _app: &mut App) {}

    /// The choices on screen are command keys (e.g. "press u"): leave the text field.
    fn commands_only(&self, _app: &App) -> bool {
        false
    }

    /// Up/Down pick something beyond the focused choice field (a list the step shows).
    fn pickable(&self, _app: &App) -> bool {
        false
    }

    /// Up/Down for that list; false when the focused field should have the keys instead.
    fn pick(&self, _app: &mut App, _delta: isize) -> bool {
        false
    }

    /// The focused text field changed by typing or pasting: a message for the flow, if the
    /// step reacts to text as it is typed (the rights picker's search).
    fn typed(&self, _app: &mut App) -> Option<Msg> {
        None
    }

    /// After every flow update while the step is current: bring the screen's own state in
    /// line with the flow's (the rights picker opened or closed, picks to take).
    fn after_update(&self, _app: &mut App) {}

    /// The body needs the whole width: the step list gives way (the rights picker's table).
    fn wide(&self, _app: &App) -> bool {
        false
    }

    /// Something drawn beside the body when there is room, else below it (the approval QR).
    fn aside(&self, _app: &App, _height: usize) -> Option<Aside> {
        None
    }
}

/// The step list: each step of the flow and the module that shows it.
pub fn screen(step: Step) -> &'static dyn StepScreen {
    match step {
        Step::Environment => &environment::Screen,
        Step::Key => &key::Screen,
        Step::Client => &client::Screen,
        Step::System => &system::Screen,
        Step::Request => &request::Screen,
        Step::Approval => &approval::Screen,
        Step::Polling => &polling::Screen,
        Step::TestCall => &test_call::Screen,
        Step::Done => &done::Screen,
    }
}
