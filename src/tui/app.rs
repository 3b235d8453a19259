//! The wizard's state: the pure [`Flow`] plus what only a screen needs (the steps' forms,
//! overlays, timers for the spinner and the poll countdown). Key presses and effect results go
//! in through [`App::handle_key`] / [`App::handle_msg`] and come out as [`Effect`]s for the
//! driver to run; nothing here waits or does I/O, so tests drive it without a terminal. What
//! differs per step (its form, Enter, its own keys) is asked of the step's module through
//! [`steps::screen`]; this file knows no step's fields.

use super::form::{Field, Form, Widget};
use super::keymap::{self, Action};
use super::steps::{self, Forms};
use super::theme::Theme;
use crate::env::EnvKind;
use crate::flow::{Busy, Effect, Flow, KeyInfo, Msg, Step};
use ratatui::crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind};
use std::time::Instant;

/// Facts about the session the screen shows but the flow does not know.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// Where the test call goes when the URL field is left empty.
    pub default_test_url: String,
    /// Why a browser cannot be opened here (SSH, no display), if so.
    pub headless: Option<String>,
    /// (org number, name) of the organisations the sandbox knows; empty elsewhere.
    pub seeded_orgs: Vec<(String, String)>,
    pub theme: Theme,
}

impl AppOptions {
    /// Options for a real session: seeded orgs on the sandbox, headless detection, NO_COLOR.
    pub fn detect(kind: EnvKind, default_test_url: String) -> Self {
        AppOptions {
            default_test_url,
            headless: crate::runner::headless_session().map(str::to_string),
            seeded_orgs: seeded_for(kind),
            theme: Theme::from_env(),
        }
    }
}

/// The sandbox's seeded organisations, offered in the request step's picker.
pub fn seeded_for(kind: EnvKind) -> Vec<(String, String)> {
    if kind == EnvKind::Sandbox {
        crate::sandbox::seeded_orgs()
            .iter()
            .map(|o| (o.org_no.to_string(), o.name.to_string()))
            .collect()
    } else {
        Vec::new()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    ConfirmQuit,
    /// The approval QR code on the whole screen (for projectors and phones).
    Qr,
    /// The whole public JWK, and the file it was written to (for the portal's upload).
    Jwk,
    /// The readiness panel: on TT02/production, before the key step, what is ready at Digdir
    /// and what could not be checked (and why); the ready e-mail where one is needed.
    Readiness,
}

pub struct App {
    pub flow: Flow,
    /// Every step's form; each holds its own focus (`None`: command keys are active).
    pub forms: Forms,
    pub overlay: Overlay,
    pub quit: bool,
    /// The key's public facts loaded from disk on resume (the flow only has them after
    /// generating or importing in this session).
    pub key_preview: Option<KeyInfo>,
    /// A one-line message from the screen itself (e.g. "copied").
    pub flash: Option<String>,
    /// Text to put on the clipboard with OSC 52; the terminal loop writes and clears it.
    pub clipboard: Option<String>,
    /// The public JWK to write to a file (path, text); the driver writes it, clears this and
    /// reports in [`App::jwk_file`].
    pub jwk_export: Option<(std::path::PathBuf, String)>,
    /// Where the public JWK was written, or why it could not be.
    pub jwk_file: Option<Result<std::path::PathBuf, String>>,
    /// Lines scrolled in the JWK view, and how many it could not show (set by the renderer).
    pub jwk_scroll: usize,
    pub jwk_overflow: std::cell::Cell<usize>,
    /// Lines scrolled in the readiness panel, and how many it could not show.
    pub readiness_scroll: usize,
    pub readiness_overflow: std::cell::Cell<usize>,
    pub opts: AppOptions,
    /// The clock the screen renders with; set by the driver, fixed in snapshot tests.
    pub now: Instant,
    pub spinner: usize,
    /// Lines scrolled off the top of the main area (PgUp/PgDn).
    pub scroll: usize,
    /// How many lines the last frame could not show; written by the renderer so the key map
    /// offers scrolling only when there is something to scroll.
    pub overflow: std::cell::Cell<usize>,
    /// Rows of the main area in the last frame (set by the renderer), for lists that size
    /// themselves to the screen (the rights picker).
    pub body_height: std::cell::Cell<usize>,
    pub poll_started: Option<Instant>,
    pub next_poll_at: Option<Instant>,
    seen_poll_generation: Option<u64>,
    /// The customers screen's selection, filter and scroll (its rows are the flow's).
    pub customers: super::customers::CustomersUi,
}

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

impl App {
    pub fn new(flow: Flow, opts: AppOptions) -> Self {
        let forms = Forms::new(&flow, &opts);
        let mut app = App {
            flow,
            forms,
            overlay: Overlay::None,
            quit: false,
            key_preview: None,
            flash: None,
            clipboard: None,
            jwk_export: None,
            jwk_file: None,
            jwk_scroll: 0,
            jwk_overflow: std::cell::Cell::new(0),
            readiness_scroll: 0,
            readiness_overflow: std::cell::Cell::new(0),
            opts,
            now: Instant::now(),
            spinner: 0,
            scroll: 0,
            overflow: std::cell::Cell::new(0),
            body_height: std::cell::Cell::new(0),
            poll_started: None,
            next_poll_at: None,
            seen_poll_generation: None,
            customers: Default::default(),
        };
        steps::screen(app.flow.step).arrive(&mut app);
        app
    }

    pub fn theme(&self) -> Theme {
        self.opts.theme
    }

    pub fn env_kind(&self) -> EnvKind {
        self.flow.profile.environment.kind
    }

    pub fn is_real_env(&self) -> bool {
        matches!(self.env_kind(), EnvKind::Tt02 | EnvKind::Prod)
    }

    pub fn spinner_frame(&self) -> &'static str {
        SPINNER[self.spinner % SPINNER.len()]
    }

    // ----- queries used by the key map and the renderer -----

    /// The current step's form, if it has one.
    pub fn form(&self) -> Option<&dyn Form> {
        steps::screen(self.flow.step).form(&self.forms)
    }

    pub fn form_mut(&mut self) -> Option<&mut dyn Form> {
        steps::screen(self.flow.step).form_mut(&mut self.forms)
    }

    pub fn focused_field(&self) -> Option<&Field> {
        self.form().and_then(|f| f.focused())
    }

    fn focused_field_mut(&mut self) -> Option<&mut Field> {
        self.form_mut().and_then(|f| f.focused_mut())
    }

    /// A text field has the focus: letters are typed, not commands.
    pub fn editing(&self) -> bool {
        self.focused_field().is_some_and(Field::is_text)
            && !self.busy_blocking()
            && !self.customers_shown()
    }

    /// Something other than polling runs: the form is locked until it answers.
    pub fn busy_blocking(&self) -> bool {
        self.flow.busy.is_some_and(|b| b != Busy::Polling)
    }

    pub fn polling_active(&self) -> bool {
        self.flow.polling.as_ref().is_some_and(|p| p.active)
    }

    pub fn focused_flippable(&self) -> bool {
        self.focused_field()
            .is_some_and(|f| matches!(f.widget, Widget::Toggle(_) | Widget::Choice { .. }))
    }

    /// Up/Down pick something: a focused choice, or a list the step shows (the request
    /// step's seeded organisations).
    pub fn pickable(&self) -> bool {
        self.focused_field()
            .is_some_and(|f| matches!(f.widget, Widget::Choice { .. }))
            || steps::screen(self.flow.step).pickable(self)
    }

    pub fn key_info(&self) -> Option<&KeyInfo> {
        let kid = self.flow.profile.kid.as_deref()?;
        self.flow
            .key
            .as_ref()
            .or(self.key_preview.as_ref())
            .filter(|k| k.kid == kid)
    }

    /// Where the public JWK goes for uploading: beside the private key, named after it
    /// (`<config>/keys/<name>.public.jwk.json`).
    pub fn public_jwk_path(&self) -> Option<std::path::PathBuf> {
        let path = &self.key_info()?.path;
        let stem = path.file_stem()?.to_string_lossy();
        Some(path.with_file_name(format!("{stem}.public.jwk.json")))
    }

    /// Ask the driver to write the public JWK file (pretty JSON, what the portal takes).
    fn export_public_jwk(&mut self) {
        if let (Some(path), Some(k)) = (self.public_jwk_path(), self.key_info()) {
            let text = serde_json::to_string_pretty(&k.public_jwk).unwrap_or_default();
            self.jwk_export = Some((path, text));
        }
    }

    pub fn can_go_next(&self) -> bool {
        let step = self.flow.step;
        match step {
            Step::Done | Step::Polling => false,
            Step::Approval => self.flow.reachable() > Step::Polling,
            s => s.next() <= self.flow.reachable(),
        }
    }

    /// What Enter does in this step, for the footer; `None` where Enter does nothing.
    pub fn submit_label(&self) -> Option<&'static str> {
        steps::screen(self.flow.step).submit_label(self)
    }

    /// True while the screen changes by itself (spinner, countdown).
    pub fn animating(&self) -> bool {
        self.flow.busy.is_some() || self.polling_active() || self.customers_loading()
    }

    // ----- input -----

    /// A terminal event; returns the effects to run.
    pub fn handle_term(&mut self, ev: &TermEvent) -> Vec<Effect> {
        match ev {
            TermEvent::Key(k) => self.handle_key(*k),
            TermEvent::Paste(text) => {
                if self.editing() {
                    let text = text.clone();
                    if let Some(f) = self.focused_field_mut() {
                        // Pasted PEM keys span lines; a single-line field takes them joined.
                        f.insert_str(&text.replace(['\r', '\n'], " "));
                    }
                    return self.typed();
                }
                vec![]
            }
            _ => vec![],
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // Windows reports releases too; acting on them would double every key.
        if key.kind == KeyEventKind::Release {
            return vec![];
        }
        self.flash = None;
        match keymap::action_for(self, &key) {
            Some(action) => self.perform(action),
            None => {
                if self.editing()
                    && let Some(req) =
                        tui_input::backend::crossterm::to_input_request(&TermEvent::Key(key))
                    && let Some(f) = self.focused_field_mut()
                    && f.handle(req)
                {
                    return self.typed();
                }
                vec![]
            }
        }
    }

    /// The focused field's text changed: the step may tell the flow.
    fn typed(&mut self) -> Vec<Effect> {
        match steps::screen(self.flow.step).typed(self) {
            Some(msg) => self.update(msg),
            None => vec![],
        }
    }

    /// The result of an effect (or any flow message).
    pub fn handle_msg(&mut self, msg: Msg) -> Vec<Effect> {
        self.update(msg)
    }

    /// Advance the clock; true when the screen must be redrawn.
    pub fn tick(&mut self, now: Instant) -> bool {
        self.now = now;
        if self.animating() {
            self.spinner = self.spinner.wrapping_add(1);
            true
        } else {
            false
        }
    }

    fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let navigating = matches!(msg, Msg::GoTo(_));
        let before = self.flow.step;
        let env_before = self.env_kind();
        let mut effects = self.flow.update(msg);
        if self.env_kind() != env_before {
            // The organisation picker differs per environment (and so do the forms' defaults).
            self.opts.seeded_orgs = seeded_for(self.env_kind());
            self.forms.renew_for_environment(&self.flow, &self.opts);
            // On to TT02/production: before the key, what is ready at Digdir (checked in a
            // task; the panel shows it when it answers).
            if self.is_real_env() && self.flow.step == Step::Key {
                effects.extend(self.open_readiness(true));
            }
        }
        if self.flow.step != before {
            steps::screen(before).leave(self);
            // Moving with b/n keeps the command keys (a second b must not be typed into a
            // form); arriving by progress puts the cursor where input is still missing.
            if navigating {
                self.leave_field();
            } else {
                steps::screen(self.flow.step).arrive(self);
            }
            self.scroll = 0;
            self.overlay = match self.overlay {
                Overlay::Qr => Overlay::None,
                o => o,
            };
        }
        let failed = self
            .flow
            .error
            .as_ref()
            .is_some_and(|e| e.kind != crate::flow::ErrorKind::Validation);
        if failed || steps::screen(self.flow.step).commands_only(self) {
            // The choices on screen (r retry, e edit, b back; u uploaded, c copy) are
            // command keys: leave the text field so they work at once.
            self.leave_field();
        }
        self.track_polling(&effects);
        steps::screen(self.flow.step).after_update(self);
        effects
    }

    /// Remember when polling started and when the next check is due, for the countdown.
    fn track_polling(&mut self, effects: &[Effect]) {
        for e in effects {
            if let Effect::PollStatus {
                after, generation, ..
            } = e
            {
                if self.seen_poll_generation != Some(*generation) {
                    self.seen_poll_generation = Some(*generation);
                    self.poll_started = Some(self.now);
                }
                self.next_poll_at = Some(self.now + *after);
            }
        }
        if !self.polling_active() {
            self.next_poll_at = None;
        }
    }

    /// Show the readiness panel; check (again) when asked or never checked.
    fn open_readiness(&mut self, recheck: bool) -> Vec<Effect> {
        self.overlay = Overlay::Readiness;
        self.readiness_scroll = 0;
        if recheck || self.flow.readiness == crate::flow::Readiness::NotRun {
            self.flow.update(Msg::CheckReadiness)
        } else {
            vec![]
        }
    }

    fn leave_field(&mut self) {
        if let Some(f) = self.form_mut() {
            f.leave();
        }
    }

    fn perform(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => {
                if self.overlay == Overlay::ConfirmQuit || !self.flow.in_flight() {
                    self.quit = true;
                } else {
                    self.overlay = Overlay::ConfirmQuit;
                }
                vec![]
            }
            Action::ConfirmQuit => {
                self.quit = true;
                vec![]
            }
            Action::CancelOverlay => {
                self.overlay = Overlay::None;
                vec![]
            }
            Action::Help => {
                self.overlay = Overlay::Help;
                vec![]
            }
            Action::Submit => match steps::screen(self.flow.step).submit(self) {
                Some(msg) => self.update(msg),
                None => vec![],
            },
            Action::NextField | Action::PrevField => {
                if let Some(f) = self.form_mut() {
                    f.cycle(action == Action::NextField);
                }
                vec![]
            }
            Action::LeaveField => {
                self.leave_field();
                vec![]
            }
            Action::Edit => {
                let fx = if self.flow.error.is_some() {
                    self.update(Msg::DismissError)
                } else {
                    vec![]
                };
                if let Some(f) = self.form_mut() {
                    f.edit();
                }
                fx
            }
            Action::Back => {
                let target = match self.flow.step {
                    Step::TestCall | Step::Polling => Step::Approval,
                    s => s.prev(),
                };
                self.update(Msg::GoTo(target))
            }
            Action::Next => {
                let target = match self.flow.step {
                    Step::Approval => Step::TestCall,
                    s => s.next(),
                };
                self.update(Msg::GoTo(target))
            }
            Action::Retry => self.update(Msg::Retry),
            // Keys of one step: its module knows what they do.
            Action::Generate
            | Action::Import
            | Action::ConfirmUploaded
            | Action::ToggleJson
            | Action::OpenPicker
            | Action::PickerToggle
            | Action::PickerSwitch
            | Action::PickerCancel
            | Action::OpenBrowser
            | Action::ChangeRights
            | Action::ShowQr => match steps::screen(self.flow.step).act(self, action) {
                Some(msg) => self.update(msg),
                None => vec![],
            },
            Action::CopyJwk => {
                if let Some(k) = self.key_info() {
                    self.clipboard = Some(k.public_jwk.to_string());
                    let fallback = match self.public_jwk_path() {
                        Some(p) => format!("the file {}", p.display()),
                        None => "the JWK shown".to_string(),
                    };
                    self.flash = Some(format!(
                        "copied the public JWK to the clipboard (OSC 52; if your terminal \
                         blocks it, use {fallback})"
                    ));
                    self.export_public_jwk();
                }
                vec![]
            }
            Action::ShowJwk => {
                self.overlay = Overlay::Jwk;
                self.jwk_scroll = 0;
                self.export_public_jwk();
                vec![]
            }
            Action::ScrollDown if self.overlay == Overlay::Jwk => {
                self.jwk_scroll = (self.jwk_scroll + 3).min(self.jwk_overflow.get());
                vec![]
            }
            Action::ScrollUp if self.overlay == Overlay::Jwk => {
                self.jwk_scroll = self.jwk_scroll.saturating_sub(3);
                vec![]
            }
            Action::ScrollDown if self.overlay == Overlay::Readiness => {
                self.readiness_scroll =
                    (self.readiness_scroll + 3).min(self.readiness_overflow.get());
                vec![]
            }
            Action::ScrollUp if self.overlay == Overlay::Readiness => {
                self.readiness_scroll = self.readiness_scroll.saturating_sub(3);
                vec![]
            }
            Action::ShowReadiness => self.open_readiness(false),
            Action::RecheckReadiness => self.open_readiness(true),
            Action::ScrollDown => {
                let page = 5;
                self.scroll = (self.scroll + page).min(self.overflow.get());
                vec![]
            }
            Action::ScrollUp => {
                self.scroll = self.scroll.saturating_sub(5);
                vec![]
            }
            Action::Flip => {
                if let Some(f) = self.focused_field_mut() {
                    f.flip();
                }
                vec![]
            }
            Action::PickPrev | Action::PickNext => {
                let delta = if action == Action::PickNext { 1 } else { -1 };
                self.pick(delta);
                vec![]
            }
            Action::StartPolling => self.update(Msg::StartPolling),
            Action::CancelPolling => self.update(Msg::CancelPolling),
            Action::CustomerChange => {
                let org = self.selected_customer().map(|r| r.org.clone());
                let Some(msg) = self.customers_action(action) else {
                    return vec![];
                };
                let mut fx = self.update(msg);
                // The flow selected the customer and went to the Done step: open its change
                // form for that customer, as the Done step's own key does.
                if self.flow.error.is_none()
                    && self.flow.step == Step::Done
                    && let Some(org) = org
                {
                    self.forms.change.customer.set_value(&org);
                    if let Some(m) = steps::screen(Step::Done).act(self, Action::ChangeRights) {
                        fx.extend(self.update(m));
                    }
                }
                fx
            }
            Action::CustomerQr => {
                let Some(msg) = self.customers_action(action) else {
                    return vec![];
                };
                let fx = self.update(msg);
                // After the update: a change of step closes a QR overlay.
                if self.flow.error.is_none() {
                    self.overlay = Overlay::Qr;
                }
                fx
            }
            Action::OpenCustomers
            | Action::CloseCustomers
            | Action::ReloadCustomers
            | Action::CustomerPrev
            | Action::CustomerNext
            | Action::CustomerPagePrev
            | Action::CustomerPageNext
            | Action::CustomerFirst
            | Action::CustomerLast
            | Action::CustomerFilter
            | Action::CustomerToken => match self.customers_action(action) {
                Some(msg) => self.update(msg),
                None => vec![],
            },
        }
    }

    fn pick(&mut self, delta: isize) {
        if steps::screen(self.flow.step).pick(self, delta) {
            return;
        }
        if let Some(f) = self.focused_field_mut() {
            f.step_choice(delta);
        }
    }
}
