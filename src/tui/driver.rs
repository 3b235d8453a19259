//! The wizard's event loop without a terminal: one channel of [`Event`]s (ticks, terminal
//! input, effect results), and the [`Driver`] that runs the flow's effects in tokio tasks and
//! feeds their results back as messages. The terminal loop in `mod.rs` and the tests in
//! `tests/tui_*.rs` (through [`Headless`]) use the same driver, so what the tests exercise is
//! what users run.

use super::app::{App, seeded_for};
use crate::customers::LoadProgress;
use crate::env::EnvSetting;
use crate::flow::{Busy, CustomersLoad, Effect, ErrorKind, Failure, KeyInfo, Msg};
use crate::profile::{Profile, ProfileStore};
use crate::runner::{LocalRunner, Runner};
use crate::session::Session;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use std::future::Future;
use std::pin::Pin;
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

/// Reports a page of a customers load (sends it over the event channel).
pub type ProgressSink = Box<dyn FnMut(LoadProgress) + Send>;

/// What loads the customers screen's lists: [`Runner::load_customers`], or a stand-in in
/// tests (one that waits on a channel shows that the screen keeps working while it loads).
pub type CustomersLoader = Arc<
    dyn Fn(
            Arc<Runner>,
            Profile,
            ProgressSink,
        ) -> Pin<Box<dyn Future<Output = Result<CustomersLoad, Failure>> + Send>>
        + Send
        + Sync,
>;

/// The real loader: every page from the environment's Altinn, through the runner's tokens.
pub fn runner_customers_loader() -> CustomersLoader {
    Arc::new(|runner, profile, mut progress| {
        Box::pin(async move { runner.load_customers(&profile, &mut *progress).await })
    })
}

/// Where a switch of environment gets its new session from.
struct Reopen {
    store: Arc<ProfileStore>,
    profile: String,
}

pub struct Driver {
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
    /// Keys, saves, the browser: available from the first frame, whatever the environment.
    local: Arc<LocalRunner>,
    /// The environment's runner, once its session is open.
    runner: Option<Arc<Runner>>,
    session: Option<Session>,
    reopen: Option<Reopen>,
    /// The environment setting the runner serves.
    env: EnvSetting,
    /// Remote effects held back while the session for a new environment starts.
    pending: Vec<Effect>,
    switching: bool,
    /// Profile saves go through one task so they land on disk in order.
    saves: mpsc::UnboundedSender<Profile>,
    customers_loader: CustomersLoader,
}

impl Driver {
    /// A driver for a fixed runner (tests, or a session the caller keeps).
    pub fn new(runner: Arc<Runner>, env: EnvSetting) -> Self {
        let mut d = Driver::local_only(runner.local().clone(), env);
        d.runner = Some(runner);
        d
    }

    /// A driver with no environment yet: local effects run, remote ones wait.
    fn local_only(local: Arc<LocalRunner>, env: EnvSetting) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let saves = spawn_saver(local.clone(), tx.clone());
        Driver {
            tx,
            rx,
            local,
            runner: None,
            session: None,
            reopen: None,
            env,
            pending: Vec::new(),
            switching: false,
            saves,
            customers_loader: runner_customers_loader(),
        }
    }

    /// Load the customers screen's lists with `loader` instead of the runner (tests).
    pub fn with_customers_loader(mut self, loader: CustomersLoader) -> Self {
        self.customers_loader = loader;
        self
    }

    /// A driver whose session opens in the background, so the first frame does not wait for
    /// it (on a first run the embedded sandbox generates its RSA signing key, ~0.2 s). Remote
    /// effects wait until the session is ready; local ones (keys, saves) need none.
    pub fn opening(store: Arc<ProfileStore>, profile: &str, env: EnvSetting) -> Self {
        let mut d = Driver::local_only(Arc::new(LocalRunner::new(store.clone())), env.clone());
        d.reopen = Some(Reopen {
            store,
            profile: profile.to_string(),
        });
        d.switch_environment(env);
        d
    }

    pub fn sender(&self) -> mpsc::UnboundedSender<Event> {
        self.tx.clone()
    }

    /// The environment's runner, once its session is open.
    pub fn runner(&self) -> Option<&Arc<Runner>> {
        self.runner.as_ref()
    }

    /// Load the saved key's public part in the background, so the key step can show it.
    pub fn load_key_preview(&self, app: &App) {
        let profile = app.flow.profile.clone();
        if profile.kid.is_none() || app.flow.key.is_some() {
            return;
        }
        let runner = self.local.clone();
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
            } else if effect.is_remote() && (self.switching || self.runner.is_none()) {
                self.pending.push(effect);
            } else {
                self.spawn(effect, app.flow.profile.clone());
            }
        }
    }

    fn spawn(&self, effect: Effect, profile: Profile) {
        let remote = if effect.is_remote() {
            match &self.runner {
                Some(r) => Some(r.clone()),
                None => {
                    tracing::error!(?effect, "a remote effect without a session");
                    return;
                }
            }
        } else {
            None
        };
        let local = self.local.clone();
        let tx = self.tx.clone();
        if let (Effect::LoadCustomers { generation }, Some(runner)) = (&effect, remote.clone()) {
            // Every page is reported as it is read, so the screen shows progress (and keys
            // keep working: this runs in its own task).
            let generation = *generation;
            let pages = tx.clone();
            let progress: ProgressSink = Box::new(move |progress| {
                let _ = pages.send(Event::Msg(Msg::CustomersProgress {
                    generation,
                    progress,
                }));
            });
            let load = (self.customers_loader)(runner, profile, progress);
            tokio::spawn(async move {
                let result = load.await;
                let _ = tx.send(Event::Msg(Msg::CustomersLoaded { generation, result }));
            });
            return;
        }
        tokio::spawn(async move {
            tracing::debug!(?effect, "running effect");
            let msg = match remote {
                Some(runner) => runner.run(effect, &profile).await,
                None => local.run(effect, &profile).await,
            };
            if let Some(msg) = msg {
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
                write_public_jwk(app);
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
                self.runner = Some(session.runner.clone());
                app.set_default_test_url(session.runner.default_test_url());
                app.opts.seeded_orgs = seeded_for(session.env.kind);
                if let Some(old) = self.session.replace(*session) {
                    tokio::spawn(old.close());
                }
                let profile = app.flow.profile.clone();
                for e in std::mem::take(&mut self.pending) {
                    self.spawn(e, profile.clone());
                }
                // A resumed request's confirmUrl may name the previous run's sandbox port:
                // the flow asks the new session for the request again.
                let fx = app.handle_msg(Msg::SessionOpened);
                self.run_effects(app, fx);
                true
            }
            Event::SessionReady(Err(message)) => {
                self.switching = false;
                self.pending.clear();
                // The flow decides what a failed session means for the screen; it asks for
                // no effects (running any would only try to open the session again).
                let fx = app.handle_msg(Msg::SessionFailed(Failure::new(
                    ErrorKind::Network,
                    message,
                )));
                debug_assert!(fx.is_empty(), "{fx:?}");
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

/// Write the public JWK file the screen asked for. A few hundred bytes on local disk: done
/// here, at once, so the path on screen names a file that exists. The public key is no
/// secret (0644), but the write is atomic like every other.
fn write_public_jwk(app: &mut App) {
    let Some((path, text)) = app.jwk_export.take() else {
        return;
    };
    let written = crate::profile::write_atomic(&path, format!("{text}\n").as_bytes(), 0o644);
    app.jwk_file = Some(match written {
        Ok(()) => Ok(path),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not write the public JWK");
            Err(format!("could not write {}: {e}", path.display()))
        }
    });
}

/// One task that saves profiles in the order they were produced.
fn spawn_saver(
    runner: Arc<LocalRunner>,
    tx: mpsc::UnboundedSender<Event>,
) -> mpsc::UnboundedSender<Profile> {
    let (stx, mut srx) = mpsc::unbounded_channel::<Profile>();
    tokio::spawn(async move {
        while let Some(p) = srx.recv().await {
            let _ = tx.send(Event::Msg(Msg::ProfileSaved(runner.save(p).await)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvKind;
    use crate::flow::Flow;
    use crate::tui::AppOptions;

    /// A session that cannot open reaches the flow as a message (an error where the user is,
    /// nothing busy), and local work such as generating a key still runs without it.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_failed_session_is_a_flow_error_and_keys_need_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(ProfileStore::at(dir.path()));
        // A custom environment without URLs cannot be resolved, so its session never opens.
        let env = EnvSetting {
            kind: EnvKind::Custom,
            maskinporten_url: None,
            altinn_url: None,
        };
        let app = App::new(
            Flow::new(Profile::new("broken", env.clone())),
            AppOptions::detect(EnvKind::Custom, String::new()),
        );
        let mut h = Headless::new(app, Driver::opening(store, "broken", env));
        assert!(
            h.run_until(Duration::from_secs(10), |a| a.flow.error.is_some())
                .await
        );
        let e = h.app.flow.error.clone().expect("an error");
        assert_eq!(e.kind, ErrorKind::Network);
        assert!(
            e.message
                .starts_with("could not open the custom environment"),
            "{}",
            e.message
        );
        assert!(h.app.flow.busy.is_none() && h.driver.runner().is_none());
        let fx = h.app.flow.update(Msg::GenerateKey {
            bits: 2048,
            kid: None,
        });
        h.driver.run_effects(&h.app, fx);
        assert!(
            h.run_until(Duration::from_secs(60), |a| a.flow.profile.kid.is_some())
                .await,
            "the key was generated without a session"
        );
    }
}
