//! The wizard: a ratatui shell over [`crate::flow`]. `app` holds the state and turns keys into
//! flow messages, `steps` has one module per wizard step (form, body, submit, texts), `keymap`
//! is the single table of keys, `ui` draws, `driver` runs effects in tokio tasks and feeds
//! results back. This module owns the terminal: logging to a file, the panic hook, raw mode,
//! and the loop that redraws only when something changed.

pub mod app;
pub mod customers;
pub mod driver;
pub mod form;
pub mod keymap;
pub mod steps;
pub mod strings;
pub mod theme;
pub mod ui;

pub use app::{App, AppOptions};
pub use driver::{Driver, Event, Headless};

use crate::app::{AppError, Ctx};
use crate::flow::Flow;
use ratatui::crossterm::event::{self as ct, DisableBracketedPaste, EnableBracketedPaste};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the input thread wakes up when no key arrives: the spinner's frame rate.
const TICK: Duration = Duration::from_millis(120);

/// The smallest terminal the wizard draws in (its 40x12 snapshot is the proof that this much
/// still shows a step, its form and the keys). Smaller, it refuses to start; shrunk below it
/// while running, it shows how big the terminal must be until it is enlarged again.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

/// What a user without a usable terminal can do instead: the same steps as commands.
pub const NO_TERMINAL_ADVICE: &str = "Instead, run the steps as commands: \
    `altinn-onboard --help` lists them, and the README's \"The whole flow without the wizard\" \
    runs them in order (keys generate, client set, system register, request create, sandbox \
    approve, request status --wait, call)";

/// Why the wizard cannot run on this process's terminal, if it cannot: ratatui's own
/// initialisation panics without a terminal, so this is asked first and answered with an
/// error a script or a person can act on.
pub fn terminal_problem() -> Option<String> {
    use std::io::IsTerminal;
    let size = ratatui::crossterm::terminal::size();
    terminal_problem_for(
        std::io::stdin().is_terminal(),
        std::io::stdout().is_terminal(),
        std::env::var("TERM").ok().as_deref(),
        size.map_err(|e| e.to_string()),
    )
}

/// [`terminal_problem`] over its inputs, so every case is testable without a terminal.
pub fn terminal_problem_for(
    stdin_tty: bool,
    stdout_tty: bool,
    term: Option<&str>,
    size: Result<(u16, u16), String>,
) -> Option<String> {
    let why = if !stdin_tty && !stdout_tty {
        "neither stdin nor stdout is one (cron, CI, a pipe, `ssh host cmd` without -t)".to_string()
    } else if !stdin_tty {
        "stdin is not one (input comes from a pipe or a file)".to_string()
    } else if !stdout_tty {
        "stdout is not one (output goes to a pipe or a file)".to_string()
    } else if term.is_some_and(|t| t.trim() == "dumb") {
        "TERM=dumb cannot draw it (set TERM to your terminal's type, e.g. xterm-256color)"
            .to_string()
    } else {
        match size {
            Err(e) => format!("the terminal's size cannot be read ({e})"),
            Ok((w, h)) if w < MIN_WIDTH || h < MIN_HEIGHT => format!(
                "this one is {w}x{h}, too small: the wizard needs at least {MIN_WIDTH}x{MIN_HEIGHT} \
                 (columns x rows); enlarge the window and start it again"
            ),
            Ok(_) => return None,
        }
    };
    Some(format!(
        "the wizard needs an interactive terminal, and {why}. {NO_TERMINAL_ADVICE}"
    ))
}

/// `altinn-onboard` with no arguments.
pub async fn run_wizard(ctx: &Ctx) -> Result<i32, AppError> {
    if let Some(problem) = terminal_problem() {
        return Err(AppError::usage(problem));
    }
    // Lock before loading, so what is loaded is what nobody else is changing.
    crate::validate::profile_name(&ctx.global.profile)
        .map_err(|e| AppError::usage(e.to_string()))?;
    let _lock = ctx
        .store
        .try_lock(&ctx.global.profile)
        .map_err(|e| AppError::usage(e.to_string()))?
        .ok_or_else(|| {
            AppError::usage(format!(
                "profile `{}` is in use by another altinn-onboard process; close it first (or use --profile NAME)",
                ctx.global.profile
            ))
        })?;
    let (profile, env) = ctx.profile_and_env()?;
    let log_path = init_logging(ctx)?;
    // The session (and on the sandbox the embedded server) opens in the background: the
    // first frame is drawn at once, and effects wait for the session.
    let opts = AppOptions::detect(env.kind, String::new());
    let name = profile.name.clone();
    let app = App::new(Flow::new(profile), opts);
    let driver = Driver::opening(ctx.store.clone(), &name, env);
    let mut wiz = Headless::new(app, driver);
    let result = run_terminal(&mut wiz);
    let result = result.await;
    let Headless { app, driver } = wiz;
    driver.close().await;
    result.map_err(|e| {
        AppError::usage(format!(
            "the wizard could not use this terminal: {e}. {NO_TERMINAL_ADVICE}"
        ))
    })?;
    if let Some(p) = log_path {
        tracing::info!("wizard closed");
        ctx.out.info(format!(
            "progress saved in profile `{}` (step: {}); logs in {}",
            name,
            app.flow.step.title(),
            p.display()
        ));
    }
    Ok(0)
}

/// Send tracing output to `<data dir>/logs/wizard.log`: anything written to the terminal
/// while the wizard owns it would corrupt the screen.
/// A log that cannot be opened is no reason to stop (the wizard runs without one); a planted
/// link in its place is (refused before the terminal is taken over, so the message is seen).
fn init_logging(ctx: &Ctx) -> Result<Option<std::path::PathBuf>, AppError> {
    match open_log(&ctx.store.log_dir()) {
        Ok((path, file)) => Ok(Some(start_file_logging(path, file))),
        Err(e) if crate::files::unsafe_path(&e).is_some() => Err(AppError::usage(e.to_string())),
        Err(_) => Ok(None),
    }
}

/// `<dir>/wizard.log` for appending: dir 0700, file 0600 (logs name ids and URLs a user may
/// not want shared), never through a link.
fn open_log(dir: &std::path::Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    crate::files::create_private_dir(dir)?;
    let path = dir.join("wizard.log");
    let file =
        crate::files::open_nofollow(&path, std::fs::OpenOptions::new().create(true).append(true))?;
    Ok((path, file))
}

fn start_file_logging(path: std::path::PathBuf, file: std::fs::File) -> std::path::PathBuf {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ALTINN_ONBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    // Panics are logged too; ratatui::init chains its terminal-restoring hook in front.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(%info, "panic");
        previous(info);
    }));
    path
}

/// OSC 52: ask the terminal to put `text` on the system clipboard (works over SSH too).
fn osc52(text: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{b64}\x07")
}

async fn run_terminal(wiz: &mut Headless) -> std::io::Result<()> {
    // try_init installs the restoring panic hook before it enables raw mode; unlike init it
    // reports a terminal that cannot be set up (checked for above, but a terminal can still
    // refuse) as an error rather than a panic. A half-done setup is undone before returning.
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            return Err(e);
        }
    };
    let _ = ratatui::crossterm::execute!(std::io::stdout(), EnableBracketedPaste);
    let stop = Arc::new(AtomicBool::new(false));
    let input = spawn_input_thread(wiz.driver.sender(), stop.clone());
    let result = event_loop(&mut terminal, wiz).await;
    stop.store(true, Ordering::Relaxed);
    let _ = ratatui::crossterm::execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    let _ = input.join();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    wiz: &mut Headless,
) -> std::io::Result<()> {
    terminal.draw(|f| ui::draw(f, &wiz.app))?;
    while !wiz.app.quit {
        let Some(ev) = wiz.driver.next_event().await else {
            break;
        };
        let mut redraw = wiz.driver.apply(&mut wiz.app, ev);
        // Coalesce a burst (a paste, several results) into one frame.
        while !wiz.app.quit
            && let Some(ev) = wiz.driver.try_next_event()
        {
            redraw |= wiz.driver.apply(&mut wiz.app, ev);
        }
        if let Some(text) = wiz.app.clipboard.take() {
            let mut out = std::io::stdout();
            let _ = out.write_all(osc52(&text).as_bytes());
            let _ = out.flush();
        }
        if redraw && !wiz.app.quit {
            terminal.draw(|f| ui::draw(f, &wiz.app))?;
        }
    }
    Ok(())
}

/// Terminal input is read on a plain thread (crossterm's reader blocks) and forwarded to the
/// event channel; the poll timeout doubles as the tick.
fn spawn_input_thread(
    tx: tokio::sync::mpsc::UnboundedSender<Event>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let ev = match ct::poll(TICK) {
                Ok(true) => match ct::read() {
                    Ok(e) => Event::Term(e),
                    Err(e) => {
                        tracing::error!(error = %e, "reading terminal input failed");
                        break;
                    }
                },
                Ok(false) => Event::Tick,
                Err(e) => {
                    tracing::error!(error = %e, "polling terminal input failed");
                    break;
                }
            };
            if tx.send(ev).is_err() {
                break;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wizard_says_why_a_terminal_will_not_do() {
        let ok = Ok((80, 24));
        assert_eq!(
            terminal_problem_for(true, true, Some("xterm"), ok.clone()),
            None
        );
        // No TERM at all is fine (Windows terminals set none).
        assert_eq!(terminal_problem_for(true, true, None, ok.clone()), None);
        let cases = [
            (
                false,
                false,
                Some("xterm"),
                ok.clone(),
                "neither stdin nor stdout",
            ),
            (false, true, Some("xterm"), ok.clone(), "stdin is not one"),
            (true, false, Some("xterm"), ok.clone(), "stdout is not one"),
            (true, true, Some("dumb"), ok.clone(), "TERM=dumb"),
            (true, true, Some("xterm"), Ok((39, 24)), "this one is 39x24"),
            (true, true, Some("xterm"), Ok((80, 11)), "this one is 80x11"),
            (
                true,
                true,
                Some("xterm"),
                Err("no tty".into()),
                "cannot be read (no tty)",
            ),
        ];
        for (stdin, stdout, term, size, why) in cases {
            let m = terminal_problem_for(stdin, stdout, term, size).expect("a problem");
            assert!(m.contains(why), "{m}");
            assert!(
                m.contains("`altinn-onboard --help`") && !m.contains('\n'),
                "{m}"
            );
        }
        assert_eq!(
            terminal_problem_for(true, true, Some("xterm"), Ok((MIN_WIDTH, MIN_HEIGHT))),
            None
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_log_link_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let (path, _file) = super::open_log(&logs).unwrap();
        std::fs::remove_file(&path).unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "precious").unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let e = super::open_log(&logs).unwrap_err();
        assert!(crate::files::unsafe_path(&e).is_some(), "{e}");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }
}
