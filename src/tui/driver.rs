//! The wizard's event loop without a terminal: one channel of [`Event`]s (ticks, terminal
//! input, effect results), and the [`Driver`] that runs the flow's effects in tokio tasks and
//! feeds their results back as messages. The terminal loop in `mod.rs` and the tests in
//! `tests/tui_*.rs` (through [`Headless`]) use the same driver, so what the tests exercise is
//! what users run.

use super::app::{App, seeded_for};
use crate::env::EnvSetting;
use crate::flow::{Busy, Effect, ErrorKind, FlowError, KeyInfo, Msg};
use crate::profile::{Profile, ProfileStore};
use crate::runner::Runner;
use crate::session::Session;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Everything that can change the screen.
pub enum Event {
    /// Time passed (spinner, countdown).
    Tick,
    Term(TermEvent),
    /// The result of an effect.
    Msg(Msg),
    /// The saved key's public facts, loaded from disk when resuming.
    KeyLoaded(KeyInfo),
    /// The session for a newly chosen environment (or why it could not start).
    SessionReady(Result<Box<Session>, String>),
}

/// Where a switch of environment gets its new session from.
struct Reopen {
    store: Arc<ProfileStore>,
    profile: String,
}

pub struct Driver {
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
    runner: Arc<Runner>,
    session: Option<Session>,
    reopen: Option<Reopen>,
    /// The environment setting the runner serves.
    env: EnvSetting,
    /// Effects held back while the session for a new environment starts.
    pending: Vec<Effect>,
    switching: bool,
    /// Profile saves go through one task so they land on disk in order.
    saves: mpsc::UnboundedSender<Profile>,
}

impl Driver {
    /// A driver for a fixed runner (tests, or a session the caller keeps).
    pub fn new(runner: Arc<Runner>, env: EnvSetting) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let saves = spawn_saver(runner.clone(), tx.clone());
        Driver {
            tx,
            rx,
            runner,
            session: None,
            reopen: None,
            env,
            pending: Vec::new(),
            switching: false,
            saves,
        }
    }

    /// A driver whose session opens in the background, so the first frame does not wait for
    /// it (on a first run the embedded sandbox generates its RSA signing key, ~0.2 s). Effects
    /// wait until the session is ready; saves go straight to the store meanwhile.
    pub fn opening(
        store: Arc<ProfileStore>,
        profile: &str,
        env: EnvSetting,
    ) -> Result<Self, crate::http::ClientError> {
        // Only its store is used (saves, loading the key preview) until the session is ready.
        let interim = Arc::new(Runner::new(
            crate::env::Environment::tt02(),
            store.clone(),
            Arc::new(crate::maskinporten::TokenCache::in_memory()),
        )?);
        let mut d = Driver::new(interim, env.clone());
        d.reopen = Some(Reopen {
            store,
            profile: profile.to_string(),
        });
        d.switch_environment(env);
        Ok(d)
    }

    pub fn sender(&self) -> mpsc::UnboundedSender<Event> {
        self.tx.clone()
    }

    pub fn runner(&self) -> &Arc<Runner> {
        &self.runner
    }

    /// Load the saved key's public part in the background, so the key step can show it.
    pub fn load_key_preview(&self, app: &App) {
        let profile = app.flow.profile.clone();
        if profile.kid.is_none() || app.flow.key.is_some() {
            return;
        }
        let runner = self.runner.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let Some(path) = profile.key_path.clone() else {
                return;
            };
            match runner.key_for(&profile) {
                Ok(k) => {
                    let _ = tx.send(Event::KeyLoaded(crate::runner::key_info(&k, path)));
                }
                Err(f) => tracing::warn!(error = %f.message, "could not load the saved key"),
            }
        });
    }

    /// Start the effects returned by the app. Never waits.
    pub fn run_effects(&mut self, app: &App, effects: Vec<Effect>) {
        // A new environment, or a session that failed to open at start: (re)open it first.
        let stale = app.flow.profile.environment != self.env || self.session.is_none();
        if stale && self.reopen.is_some() && !self.switching {
            self.switch_environment(app.flow.profile.environment.clone());
        }
        for effect in effects {
            if let Effect::SaveProfile(p) = effect {
                // Saving is local and must follow the order of changes.
                let _ = self.saves.send(*p);
            } else if self.switching {
                self.pending.push(effect);
            } else {
                self.spawn(effect, app.flow.profile.clone());
            }
        }
    }

    fn spawn(&self, effect: Effect, profile: Profile) {
        let runner = self.runner.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            tracing::debug!(?effect, "running effect");
            if let Some(msg) = runner.run(effect, &profile).await {
                let _ = tx.send(Event::Msg(msg));
            }
        });
    }

    fn switch_environment(&mut self, setting: EnvSetting) {
        let Some(reopen) = &self.reopen else {
            return;
        };
        tracing::info!(kind = %setting.kind, "switching environment");
        self.switching = true;
        self.env = setting.clone();
        let store = reopen.store.clone();
        let profile = reopen.profile.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let r = Session::open(&setting, store, &profile)
                .await
                .map(Box::new)
                .map_err(|e| e.to_string());
            let _ = tx.send(Event::SessionReady(r));
        });
    }

    pub async fn next_event(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    pub fn try_next_event(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    /// Apply one event; true when the screen must be redrawn.
    pub fn apply(&mut self, app: &mut App, ev: Event) -> bool {
        match ev {
            Event::Tick => app.tick(Instant::now()),
            Event::Term(e) => {
                app.now = Instant::now();
                let fx = app.handle_term(&e);
                self.run_effects(app, fx);
                true
            }
            Event::Msg(m) => {
                app.now = Instant::now();
                tracing::debug!(?m, "effect result");
                let fx = app.handle_msg(m);
                self.run_effects(app, fx);
                true
            }
            Event::KeyLoaded(k) => {
                app.key_preview = Some(k);
                true
            }
            Event::SessionReady(Ok(session)) => {
                self.switching = false;
                self.runner = session.runner.clone();
                self.saves = spawn_saver(self.runner.clone(), self.tx.clone());
                app.set_default_test_url(self.runner.default_test_url());
                app.opts.seeded_orgs = seeded_for(session.env.kind);
                if let Some(old) = self.session.replace(*session) {
                    tokio::spawn(old.close());
                }
                let profile = app.flow.profile.clone();
                for e in std::mem::take(&mut self.pending) {
                    self.spawn(e, profile.clone());
                }
                true
            }
            Event::SessionReady(Err(message)) => {
                self.switching = false;
                self.pending.clear();
                app.flow.busy = None;
                // Shown where the user is: at start that can be any step of a resumed profile.
                app.flow.error = Some(FlowError {
                    step: app.flow.step,
                    kind: ErrorKind::Network,
                    field: None,
                    message: format!(
                        "could not open the {} environment: {message}",
                        app.flow.profile.environment.kind
                    ),
                });
                true
            }
        }
    }

    /// Stop the session (an in-process sandbox persists its state).
    pub async fn close(self) {
        if let Some(s) = self.session {
            s.close().await;
        }
    }
}

/// One task that saves profiles in the order they were produced.
fn spawn_saver(
    runner: Arc<Runner>,
    tx: mpsc::UnboundedSender<Event>,
) -> mpsc::UnboundedSender<Profile> {
    let (stx, mut srx) = mpsc::unbounded_channel::<Profile>();
    tokio::spawn(async move {
        while let Some(p) = srx.recv().await {
            if let Some(msg) = runner
                .run(
                    Effect::SaveProfile(Box::new(p)),
                    &Profile::new("", EnvSetting::default()),
                )
                .await
            {
                let _ = tx.send(Event::Msg(msg));
            }
        }
    });
    stx
}

/// The wizard without a terminal (television's `run_headless`): tests press keys and wait for
/// the flow to reach a state, exactly as the terminal loop would process them.
pub struct Headless {
    pub app: App,
    pub driver: Driver,
}

impl Headless {
    pub fn new(app: App, driver: Driver) -> Self {
        driver.load_key_preview(&app);
        Headless { app, driver }
    }

    pub fn key(&mut self, code: KeyCode) {
        self.key_with(code, KeyModifiers::NONE);
    }

    pub fn key_with(&mut self, code: KeyCode, mods: KeyModifiers) {
        let ev = TermEvent::Key(KeyEvent::new(code, mods));
        self.driver.apply(&mut self.app, Event::Term(ev));
    }

    pub fn type_text(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Select all of the focused field and replace it (ctrl-u clears the line).
    pub fn replace_text(&mut self, s: &str) {
        self.key(KeyCode::End);
        self.key_with(KeyCode::Char('u'), KeyModifiers::CONTROL);
        self.type_text(s);
    }

    /// Process events until `done` holds; false on timeout.
    pub async fn run_until(&mut self, timeout: Duration, done: impl Fn(&App) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(&self.app) {
            match tokio::time::timeout_at(deadline, self.driver.next_event()).await {
                Ok(Some(ev)) => {
                    self.driver.apply(&mut self.app, ev);
                }
                Ok(None) | Err(_) => return false,
            }
        }
        true
    }

    /// Wait until nothing is in flight (polling excepted) and no events are queued.
    pub async fn settle(&mut self, timeout: Duration) -> bool {
        self.run_until(timeout, |a| a.flow.busy.is_none_or(|b| b == Busy::Polling))
            .await
    }
}
