//! The wizard's state: the pure [`Flow`] plus what only a screen needs (form fields, focus,
//! overlays, timers for the spinner and the poll countdown). Key presses and effect results go
//! in through [`App::handle_key`] / [`App::handle_msg`] and come out as [`Effect`]s for the
//! driver to run; nothing here waits or does I/O, so tests drive it without a terminal.

use super::form::{Field, Widget, check};
use super::keymap::{self, Action};
use super::theme::Theme;
use crate::altinn::client::VENDOR_SCOPES;
use crate::env::{EnvKind, EnvSetting};
use crate::flow::{Busy, Effect, Flow, KeyInfo, Msg, RequestForm, Step, SystemForm};
use ratatui::crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind};
use std::time::{Duration, Instant};

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
}

/// Field positions in each step's form.
pub mod idx {
    pub const ENV_KIND: usize = 0;
    pub const ENV_MP: usize = 1;
    pub const ENV_ALTINN: usize = 2;
    pub const KEY_SOURCE: usize = 0;
    pub const CLIENT_ORG: usize = 0;
    pub const CLIENT_ID: usize = 1;
    pub const CLIENT_SCOPES: usize = 2;
    pub const SYS_NAME: usize = 0;
    pub const SYS_DISPLAY: usize = 1;
    pub const SYS_DESCRIPTION: usize = 2;
    pub const SYS_RIGHTS: usize = 3;
    pub const SYS_PACKAGES: usize = 4;
    pub const SYS_VISIBLE: usize = 5;
    pub const REQ_CUSTOMER: usize = 0;
    pub const REQ_AGENT: usize = 1;
    pub const REQ_REF: usize = 2;
    pub const TEST_URL: usize = 0;
}

/// Per-step forms. They outlive step changes and errors, so nothing typed is lost.
#[derive(Debug, Clone)]
pub struct Forms {
    pub env: Vec<Field>,
    pub key: Vec<Field>,
    pub client: Vec<Field>,
    pub system: Vec<Field>,
    pub request: Vec<Field>,
    pub test: Vec<Field>,
}

pub struct App {
    pub flow: Flow,
    pub forms: Forms,
    /// The focused field of the current step's form; `None` means command keys are active.
    pub focus: Option<usize>,
    pub overlay: Overlay,
    pub quit: bool,
    /// System step: show the JSON that will be sent instead of the form.
    pub show_json: bool,
    /// The key's public facts loaded from disk on resume (the flow only has them after
    /// generating or importing in this session).
    pub key_preview: Option<KeyInfo>,
    /// A one-line message from the screen itself (e.g. "copied").
    pub flash: Option<String>,
    /// Text to put on the clipboard with OSC 52; the terminal loop writes and clears it.
    pub clipboard: Option<String>,
    pub opts: AppOptions,
    /// The clock the screen renders with; set by the driver, fixed in snapshot tests.
    pub now: Instant,
    pub spinner: usize,
    /// Lines scrolled off the top of the main area (PgUp/PgDn).
    pub scroll: usize,
    /// How many lines the last frame could not show; written by the renderer so the key map
    /// offers scrolling only when there is something to scroll.
    pub overflow: std::cell::Cell<usize>,
    pub poll_started: Option<Instant>,
    pub next_poll_at: Option<Instant>,
    seen_poll_generation: Option<u64>,
}

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

impl App {
    pub fn new(flow: Flow, opts: AppOptions) -> Self {
        let forms = initial_forms(&flow, &opts);
        let mut app = App {
            flow,
            forms,
            focus: None,
            overlay: Overlay::None,
            quit: false,
            show_json: false,
            key_preview: None,
            flash: None,
            clipboard: None,
            opts,
            now: Instant::now(),
            spinner: 0,
            scroll: 0,
            overflow: std::cell::Cell::new(0),
            poll_started: None,
            next_poll_at: None,
            seen_poll_generation: None,
        };
        app.focus = app.default_focus();
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

    pub fn fields(&self) -> &[Field] {
        match self.flow.step {
            Step::Environment => &self.forms.env,
            Step::Key => &self.forms.key,
            Step::Client => &self.forms.client,
            Step::System => &self.forms.system,
            Step::Request => &self.forms.request,
            Step::TestCall => &self.forms.test,
            Step::Approval | Step::Polling | Step::Done => &[],
        }
    }

    fn fields_mut(&mut self) -> Option<&mut Vec<Field>> {
        match self.flow.step {
            Step::Environment => Some(&mut self.forms.env),
            Step::Key => Some(&mut self.forms.key),
            Step::Client => Some(&mut self.forms.client),
            Step::System => Some(&mut self.forms.system),
            Step::Request => Some(&mut self.forms.request),
            Step::TestCall => Some(&mut self.forms.test),
            Step::Approval | Step::Polling | Step::Done => None,
        }
    }

    /// The fields Tab cycles through: the environment URLs only matter for `custom`.
    pub fn visible_fields(&self) -> Vec<usize> {
        if self.flow.step == Step::Environment
            && EnvKind::ALL.get(self.forms.env[idx::ENV_KIND].selected()) != Some(&EnvKind::Custom)
        {
            return vec![idx::ENV_KIND];
        }
        (0..self.fields().len()).collect()
    }

    pub fn focused_field(&self) -> Option<&Field> {
        self.focus.and_then(|i| self.fields().get(i))
    }

    /// A text field has the focus: letters are typed, not commands.
    pub fn editing(&self) -> bool {
        self.focused_field().is_some_and(Field::is_text) && !self.busy_blocking()
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

    /// Up/Down pick something: a choice, or a seeded organisation in the request step.
    pub fn pickable(&self) -> bool {
        match self.focused_field() {
            Some(f) if matches!(f.widget, Widget::Choice { .. }) => true,
            Some(_) => {
                self.flow.step == Step::Request
                    && self.focus == Some(idx::REQ_CUSTOMER)
                    && !self.opts.seeded_orgs.is_empty()
            }
            // In command mode the arrows still pick the customer: the one list on screen.
            None => self.flow.step == Step::Request && !self.opts.seeded_orgs.is_empty(),
        }
    }

    pub fn key_info(&self) -> Option<&KeyInfo> {
        let kid = self.flow.profile.kid.as_deref()?;
        self.flow
            .key
            .as_ref()
            .or(self.key_preview.as_ref())
            .filter(|k| k.kid == kid)
    }

    /// TT02/prod: the client id is saved but the user has not yet confirmed the JWK upload.
    pub fn awaiting_upload(&self) -> bool {
        self.is_real_env()
            && self.flow.profile.client_id.is_some()
            && !self.flow.profile.client_registered
    }

    pub fn confirm_url(&self) -> Option<&str> {
        self.flow
            .profile
            .current_request()
            .and_then(|r| r.confirm_url.as_deref())
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
        Some(match self.flow.step {
            Step::Environment => "use this environment",
            Step::Key => {
                if self.focus == Some(idx::KEY_SOURCE)
                    || !self.forms.key[idx::KEY_SOURCE].value().trim().is_empty()
                {
                    "import key"
                } else if self.key_info().is_some() || self.flow.profile.kid.is_some() {
                    "continue"
                } else {
                    "generate key"
                }
            }
            Step::Client if self.is_real_env() => "save client",
            Step::Client => "register client",
            Step::System => "register system",
            Step::Request => "send request",
            Step::Approval if self.opts.headless.is_some() => "start polling",
            Step::Approval => "open browser",
            Step::Polling if !self.polling_active() => "poll again",
            Step::TestCall => "run test call",
            Step::Polling | Step::Done => return None,
        })
    }

    /// True while the screen changes by itself (spinner, countdown).
    pub fn animating(&self) -> bool {
        self.flow.busy.is_some() || self.polling_active()
    }

    /// The first text field that is empty (and needed) or invalid; `None` (command keys)
    /// when the form is complete, so Enter submits it and letters are commands.
    fn default_focus(&self) -> Option<usize> {
        let needed: &[usize] = match self.flow.step {
            Step::Environment => return Some(idx::ENV_KIND),
            Step::Client if self.is_real_env() => {
                &[idx::CLIENT_ORG, idx::CLIENT_ID, idx::CLIENT_SCOPES]
            }
            Step::Client => &[idx::CLIENT_ORG, idx::CLIENT_SCOPES],
            Step::System => &[idx::SYS_NAME],
            Step::Request => &[idx::REQ_CUSTOMER],
            _ => &[],
        };
        let fields = self.fields();
        fields
            .iter()
            .enumerate()
            .find(|(i, f)| {
                f.is_text()
                    && (f.problem().is_some()
                        || (needed.contains(i) && f.value().trim().is_empty()))
            })
            .map(|(i, _)| i)
    }

    // ----- input -----

    /// A terminal event; returns the effects to run.
    pub fn handle_term(&mut self, ev: &TermEvent) -> Vec<Effect> {
        match ev {
            TermEvent::Key(k) => self.handle_key(*k),
            TermEvent::Paste(text) => {
                if self.editing() {
                    let text = text.clone();
                    if let Some(f) = self
                        .focus
                        .and_then(|i| self.fields_mut().and_then(|fs| fs.get_mut(i)))
                    {
                        // Pasted PEM keys span lines; a single-line field takes them joined.
                        f.insert_str(&text.replace(['\r', '\n'], " "));
                    }
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
                    && let Some(i) = self.focus
                    && let Some(f) = self.fields_mut().and_then(|fs| fs.get_mut(i))
                {
                    f.handle(req);
                }
                vec![]
            }
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

    /// The environment's reference API, known once its session is open: the test call's
    /// placeholder follows it.
    pub fn set_default_test_url(&mut self, url: String) {
        for f in &mut self.forms.test {
            if f.placeholder == self.opts.default_test_url {
                f.placeholder = url.clone();
            }
        }
        self.opts.default_test_url = url;
    }

    fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let navigating = matches!(msg, Msg::GoTo(_));
        let before = self.flow.step;
        let env_before = self.env_kind();
        let effects = self.flow.update(msg);
        if self.env_kind() != env_before {
            // Defaults, hints and the organisation picker differ per environment, and the
            // client, system and request of the old one no longer apply.
            self.opts.seeded_orgs = seeded_for(self.env_kind());
            let env_form = std::mem::take(&mut self.forms.env);
            self.forms = initial_forms(&self.flow, &self.opts);
            self.forms.env = env_form;
        }
        if self.flow.step != before {
            // Moving with b/n keeps the command keys (a second b must not be typed into a
            // form); arriving by progress puts the cursor where input is still missing.
            self.focus = if navigating {
                None
            } else {
                self.default_focus()
            };
            self.show_json = false;
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
        if failed || (self.flow.step == Step::Client && self.awaiting_upload()) {
            // The choices on screen (r retry, e edit, b back; u uploaded, c copy) are
            // command keys: leave the text field so they work at once.
            self.focus = None;
        }
        self.track_polling(&effects);
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
            Action::ShowQr => {
                self.overlay = Overlay::Qr;
                vec![]
            }
            Action::Submit => self.submit(),
            Action::NextField | Action::PrevField => {
                let order = self.visible_fields();
                let n = order.len();
                if n > 0 {
                    let pos = self.focus.and_then(|f| order.iter().position(|i| *i == f));
                    let next = match (pos, action) {
                        (None, Action::NextField) => 0,
                        (None, _) => n - 1,
                        (Some(p), Action::NextField) => (p + 1) % n,
                        (Some(p), _) => (p + n - 1) % n,
                    };
                    self.focus = Some(order[next]);
                }
                vec![]
            }
            Action::LeaveField => {
                self.focus = None;
                vec![]
            }
            Action::Edit => {
                let fx = if self.flow.error.is_some() {
                    self.update(Msg::DismissError)
                } else {
                    vec![]
                };
                let first_bad = self.fields().iter().position(|f| f.problem().is_some());
                self.focus = first_bad.or(Some(0));
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
            Action::Generate => {
                self.focus = None;
                self.update(Msg::GenerateKey {
                    bits: 2048,
                    kid: None,
                })
            }
            Action::Import => {
                self.focus = Some(idx::KEY_SOURCE);
                vec![]
            }
            Action::CopyJwk => {
                if let Some(k) = self.key_info() {
                    self.clipboard = Some(k.public_jwk.to_string());
                    self.flash = Some(
                        "copied the public JWK to the clipboard (OSC 52; if your terminal \
                         blocks it, select the JWK shown)"
                            .into(),
                    );
                }
                vec![]
            }
            Action::ConfirmUploaded => self.update(Msg::ConfirmClientUploaded),
            Action::ToggleJson => {
                self.show_json = !self.show_json;
                self.scroll = 0;
                vec![]
            }
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
                if let Some(i) = self.focus
                    && let Some(f) = self.fields_mut().and_then(|fs| fs.get_mut(i))
                {
                    f.flip();
                }
                vec![]
            }
            Action::PickPrev | Action::PickNext => {
                let delta = if action == Action::PickNext { 1 } else { -1 };
                self.pick(delta);
                vec![]
            }
            Action::OpenBrowser => self.update(Msg::OpenBrowser),
            Action::StartPolling => self.update(Msg::StartPolling),
            Action::CancelPolling => self.update(Msg::CancelPolling),
        }
    }

    fn pick(&mut self, delta: isize) {
        if self.flow.step == Step::Request && matches!(self.focus, None | Some(idx::REQ_CUSTOMER)) {
            let orgs = &self.opts.seeded_orgs;
            if orgs.is_empty() {
                return;
            }
            let cur = self.forms.request[idx::REQ_CUSTOMER]
                .value()
                .trim()
                .to_string();
            let n = orgs.len() as isize;
            let next = match orgs.iter().position(|(no, _)| *no == cur) {
                Some(i) => (i as isize + delta).rem_euclid(n),
                None if delta > 0 => 0,
                None => n - 1,
            };
            let org = orgs[next as usize].0.clone();
            self.forms.request[idx::REQ_CUSTOMER].set_value(&org);
            return;
        }
        if let Some(i) = self.focus
            && let Some(f) = self.fields_mut().and_then(|fs| fs.get_mut(i))
        {
            f.step_choice(delta);
        }
    }

    /// Enter: send the current step's form to the flow.
    fn submit(&mut self) -> Vec<Effect> {
        let msg = match self.flow.step {
            Step::Environment => {
                let f = &self.forms.env;
                let kind = EnvKind::ALL
                    .get(f[idx::ENV_KIND].selected())
                    .copied()
                    .unwrap_or_default();
                let url = |i: usize| {
                    let v = f[i].value().trim();
                    (!v.is_empty() && kind == EnvKind::Custom).then(|| v.to_string())
                };
                Msg::SelectEnvironment(EnvSetting {
                    kind,
                    maskinporten_url: url(idx::ENV_MP),
                    altinn_url: url(idx::ENV_ALTINN),
                })
            }
            Step::Key => {
                let source = self.forms.key[idx::KEY_SOURCE].value().trim().to_string();
                if !source.is_empty() {
                    self.focus = None;
                    Msg::ImportKey {
                        source: crate::secret::Secret::new(source),
                        kid: None,
                    }
                } else if self.focus == Some(idx::KEY_SOURCE) {
                    Msg::ImportKey {
                        source: crate::secret::Secret::new(source),
                        kid: None,
                    }
                } else if self.flow.profile.kid.is_some() {
                    Msg::GoTo(Step::Client)
                } else {
                    Msg::GenerateKey {
                        bits: 2048,
                        kid: None,
                    }
                }
            }
            Step::Client => {
                let f = &self.forms.client;
                Msg::SubmitClient {
                    vendor_org: f[idx::CLIENT_ORG].value().to_string(),
                    client_id: f[idx::CLIENT_ID].value().to_string(),
                    scopes: f[idx::CLIENT_SCOPES].value().to_string(),
                }
            }
            Step::System => Msg::SubmitSystem(self.system_form()),
            Step::Request => {
                let f = &self.forms.request;
                Msg::SubmitRequest(RequestForm {
                    customer_org: f[idx::REQ_CUSTOMER].value().to_string(),
                    agent: f[idx::REQ_AGENT].on(),
                    external_ref: f[idx::REQ_REF].value().to_string(),
                })
            }
            Step::Approval if self.opts.headless.is_some() => Msg::StartPolling,
            Step::Approval => Msg::OpenBrowser,
            Step::Polling if !self.polling_active() => Msg::PollNow,
            Step::TestCall => {
                let url = self.forms.test[idx::TEST_URL].value().trim().to_string();
                Msg::SubmitTestCall {
                    url: (!url.is_empty()).then_some(url),
                }
            }
            Step::Polling | Step::Done => return vec![],
        };
        self.update(msg)
    }

    /// The system form as typed (the flow validates it).
    pub fn system_form(&self) -> SystemForm {
        let f = &self.forms.system;
        SystemForm {
            name: f[idx::SYS_NAME].value().to_string(),
            display_name: f[idx::SYS_DISPLAY].value().to_string(),
            description: f[idx::SYS_DESCRIPTION].value().to_string(),
            rights: f[idx::SYS_RIGHTS].value().to_string(),
            access_packages: f[idx::SYS_PACKAGES].value().to_string(),
            redirect_urls: self
                .flow
                .profile
                .system
                .as_ref()
                .map(|s| s.allowed_redirect_urls.join(" "))
                .unwrap_or_default(),
            is_visible: f[idx::SYS_VISIBLE].on(),
        }
    }

    /// The register JSON for the form as typed now: what Enter would send.
    pub fn registration_preview(&self) -> Result<serde_json::Value, String> {
        let spec =
            crate::flow::parse_system_form(&self.system_form()).map_err(|e| e.to_string())?;
        let mut probe = self.flow.clone();
        probe.profile.system = Some(spec);
        let reg = probe.registration()?;
        serde_json::to_value(reg).map_err(|e| e.to_string())
    }

    /// Elapsed polling time and time to the next check, for the polling screen.
    pub fn poll_timing(&self) -> (Duration, Option<Duration>) {
        let elapsed = self
            .poll_started
            .map(|s| self.now.saturating_duration_since(s))
            .unwrap_or_default();
        let next = self
            .next_poll_at
            .map(|t| t.saturating_duration_since(self.now));
        (elapsed, next)
    }
}

fn initial_forms(flow: &Flow, opts: &AppOptions) -> Forms {
    let p = &flow.profile;
    let sandbox = p.environment.kind == EnvKind::Sandbox;
    let kinds = EnvKind::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .collect::<Vec<_>>();
    let kind_index = EnvKind::ALL
        .iter()
        .position(|k| *k == p.environment.kind)
        .unwrap_or(0);
    let env = vec![
        Field::choice(
            "Environment",
            "↑↓ choose; sandbox needs nothing else",
            kinds,
            kind_index,
        ),
        Field::text(
            "Maskinporten URL",
            "custom only: the issuer, e.g. http://127.0.0.1:8080/",
            p.environment.maskinporten_url.as_deref().unwrap_or(""),
        )
        .validated(check::service_url),
        Field::text(
            "Altinn URL",
            "custom only: the platform base, e.g. http://127.0.0.1:8080",
            p.environment.altinn_url.as_deref().unwrap_or(""),
        )
        .validated(check::service_url),
    ];
    let key = vec![
        Field::text(
            "Import from",
            "a PEM/JWK file path, or paste the key; Enter imports, Esc cancels",
            "",
        )
        .placeholder("(press i to import an existing key instead)"),
    ];
    // A newcomer on the sandbox should be able to press Enter through every form: prefill
    // sensible values there; on real environments only what the profile already knows.
    let seeded = &opts.seeded_orgs;
    let vendor_default = match (&p.vendor_org, sandbox) {
        (Some(v), _) => v.clone(),
        // The last seeded organisation, so the customer picker (which starts at the first)
        // does not suggest the vendor itself.
        (None, true) => seeded.last().map(|(no, _)| no.clone()).unwrap_or_default(),
        (None, false) => String::new(),
    };
    let scopes = if p.scopes.is_empty() {
        VENDOR_SCOPES.join(" ")
    } else {
        p.scopes.join(" ")
    };
    let client = vec![
        Field::text(
            "Vendor org",
            "your organisation number (9 digits), e.g. 310904473",
            &vendor_default,
        )
        .validated(check::org),
        Field::text(
            "Client id",
            if sandbox {
                "optional on the sandbox: leave empty and one is assigned"
            } else {
                "the client id from the self-service portal (a UUID)"
            },
            p.client_id.as_deref().unwrap_or(""),
        )
        .validated(check::client_id)
        .placeholder(if sandbox {
            "(assigned by the sandbox)"
        } else {
            ""
        }),
        Field::text(
            "Scopes",
            "space-separated; the three altinn:authentication scopes are what a vendor needs",
            &scopes,
        )
        .validated(check::scopes),
    ];
    let sys = p.system.as_ref().map(SystemForm::from_spec);
    let sys_val = |f: fn(&SystemForm) -> String, default: &str| {
        sys.as_ref().map(f).unwrap_or_else(|| default.to_string())
    };
    let system = vec![
        Field::text(
            "Name",
            "short name; the system id becomes {vendor org}_{name}",
            &sys_val(
                |s| s.name.clone(),
                if sandbox { "onboard-demo" } else { "" },
            ),
        )
        .validated(check::system_name),
        Field::text(
            "Display name",
            "what the customer sees when approving (empty: the name)",
            &sys_val(
                |s| s.display_name.clone(),
                if sandbox { "Onboard demo" } else { "" },
            ),
        ),
        Field::text(
            "Description",
            "one sentence for the customer (empty: the display name)",
            &sys_val(
                |s| s.description.clone(),
                if sandbox {
                    "Demo system created with altinn-onboard"
                } else {
                    ""
                },
            ),
        ),
        Field::text(
            "Rights",
            "resource ids, space-separated, e.g. ske-krav-og-betalinger",
            &sys_val(
                |s| s.rights.clone(),
                if sandbox {
                    "altinn-onboard-sandbox-reference"
                } else {
                    ""
                },
            ),
        )
        .validated(check::rights),
        Field::text(
            "Access packages",
            "package URNs or names, e.g. urn:altinn:accesspackage:skattnaering",
            &sys_val(|s| s.access_packages.clone(), ""),
        )
        .validated(check::packages),
        Field::toggle(
            "Visible",
            "space toggles: visible systems can be found by customers in Altinn",
            sys.as_ref().map(|s| s.is_visible).unwrap_or(true),
        ),
    ];
    let last_req = p.current_request();
    let customer = p
        .customer_org
        .clone()
        .or_else(|| {
            sandbox
                .then(|| seeded.first().map(|(no, _)| no.clone()))
                .flatten()
        })
        .unwrap_or_default();
    let request = vec![
        Field::text(
            "Customer org",
            if sandbox {
                "↑↓ picks a sandbox organisation; or type any valid number"
            } else {
                "the customer's organisation number (9 digits)"
            },
            &customer,
        )
        .validated(check::org),
        Field::toggle(
            "Agent request",
            "space toggles: agent (client relation) instead of standard",
            last_req.is_some_and(|r| r.kind == crate::profile::RequestKind::Agent),
        ),
        Field::text(
            "External ref",
            "optional: tells several system users for one customer apart",
            last_req
                .and_then(|r| r.external_ref.as_deref())
                .unwrap_or(""),
        )
        .validated(check::external_ref),
    ];
    let test = vec![
        Field::text(
            "API URL",
            "empty: the reference API; or any https API that accepts system-user tokens",
            p.test_url.as_deref().unwrap_or(""),
        )
        .validated(check::https_url)
        .placeholder(opts.default_test_url.clone()),
    ];
    Forms {
        env,
        key,
        client,
        system,
        request,
        test,
    }
}
