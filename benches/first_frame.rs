//! Process start to first frame of the wizard, and the wizard's peak memory (issue 6, third
//! and fifth benchmarks).
//!
//! `cargo bench --bench first_frame [-- --iters N --runs M]`
//!
//! 1. Render cost, headless: `App::new` + a new `Terminal<TestBackend>` 80x24 + `ui::draw` of the
//!    first screen (environment step, fresh profile), i.e. the first frame without a terminal;
//!    also a redraw into an existing terminal, and 200x60.
//! 2. Process start to first frame: the release binary in a pseudo-terminal made by util-linux
//!    `script` (`script -qfec "stty rows 24 cols 80; printf MARK; exec altinn-onboard" /dev/null`).
//!    The clock starts when MARK arrives on our side of the pty (the shell prints it right
//!    before `exec`, so shell and `script` start-up are excluded) and stops when the first
//!    frame's last row (the footer, ending in `help`) has arrived after the alternate-screen
//!    switch. Measured for a fresh `ALTINN_ONBOARD_HOME` (the wizard starts the embedded
//!    sandbox, which generates its RSA-2048 signing key: "cold") and for the same home again
//!    (sandbox state on disk: "warm"). Also the `script`+shell overhead before MARK.
//! 3. Peak memory: VmHWM/VmRSS of the wizard process (found as the child of `script`) after the
//!    first frame, and after Enter x4 (environment -> key generated -> client registered ->
//!    system registered), each press followed by a wait until the screen is quiet.

mod common;

use altinn_onboard::env::{EnvKind, EnvSetting};
use altinn_onboard::flow::Flow;
use altinn_onboard::profile::Profile;
use altinn_onboard::tui::app::{App, AppOptions, seeded_for};
use altinn_onboard::tui::theme::Theme;
use altinn_onboard::tui::ui;
use common::{Samples, bench_sync, fmt};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MARK: &str = "@@EXEC@@";
/// The alternate screen: ratatui::init switched the terminal.
const ALT_SCREEN: &[u8] = b"\x1b[?1049h";
/// The last word of the first frame's footer (` ... ? help `).
const FOOTER_END: &[u8] = b"help";

fn app() -> App {
    let opts = AppOptions {
        default_test_url: "http://127.0.0.1:41234/reference/whoami".into(),
        headless: None,
        seeded_orgs: seeded_for(EnvKind::Sandbox),
        theme: Theme::from_env(),
    };
    App::new(
        Flow::new(Profile::new("default", EnvSetting::new(EnvKind::Sandbox))),
        opts,
    )
}

fn main() {
    let iters = common::arg_usize("--iters", 2000);
    let runs = common::arg_usize("--runs", 10);

    println!("== first frame: headless render (TestBackend), {iters} iterations");
    let first = bench_sync(iters / 10, iters, || {
        let a = app();
        let mut t = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
        t.draw(|f| ui::draw(f, &a)).expect("draw");
        t
    });
    first.report("App::new + Terminal::new + draw, 80x24");
    let a = app();
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let redraw = bench_sync(iters / 10, iters, || {
        term.draw(|f| ui::draw(f, &a)).expect("draw");
    });
    redraw.report("redraw into existing terminal, 80x24");
    let big = bench_sync(iters / 10, iters, || {
        let mut t = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
        t.draw(|f| ui::draw(f, &a)).expect("draw");
        t
    });
    big.report("Terminal::new + draw, 200x60");

    // Where the process's time before the first frame goes: the session (for the sandbox, the
    // embedded emulator started from its state file, or created with a new signing key).
    println!();
    println!("== session open (in process), {runs} runs each");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (mut s_cold, mut s_warm) = (Samples::default(), Samples::default());
    for _ in 0..runs {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = std::sync::Arc::new(altinn_onboard::profile::ProfileStore::at(dir.path()));
        let setting = EnvSetting::new(EnvKind::Sandbox);
        for samples in [&mut s_cold, &mut s_warm] {
            let t = Instant::now();
            let session = rt
                .block_on(altinn_onboard::session::Session::open(
                    &setting,
                    store.clone(),
                    "default",
                ))
                .expect("session");
            samples.push(t.elapsed());
            rt.block_on(session.close());
        }
    }
    s_cold.report("Session::open sandbox, fresh home (keygen)");
    s_warm.report("Session::open sandbox, state on disk");
    drop(rt);

    println!();
    println!("== first frame: release binary in a pty (script), {runs} runs each");
    println!("binary: {}", common::bin().display());
    let mut cold = Samples::default();
    let mut warm = Samples::default();
    let mut shell = Samples::default();
    let mut cold_mem = Vec::new();
    let mut warm_mem = Vec::new();
    for _ in 0..runs {
        let home = tempfile::tempdir().expect("tempdir");
        let r = launch(home.path());
        shell.push(r.mark_at);
        cold.push(r.first_frame);
        cold_mem.push(r.hwm_kb);
        r.quit();
        let r = launch(home.path());
        warm.push(r.first_frame);
        warm_mem.push(r.hwm_kb);
        r.quit();
    }
    shell.report("spawn script+sh until MARK (excluded)");
    cold.report("MARK -> first frame, fresh home (cold)");
    warm.report("MARK -> first frame, same home again (warm)");
    println!(
        "VmHWM at first frame: cold max {} kB, warm max {} kB",
        cold_mem.iter().max().unwrap_or(&0),
        warm_mem.iter().max().unwrap_or(&0)
    );
    println!(
        "target: first frame < 25 ms -> warm median {}, cold median {}",
        fmt(warm.median()),
        fmt(cold.median())
    );

    println!();
    println!("== wizard memory after key presses (fresh home)");
    let home = tempfile::tempdir().expect("tempdir");
    let mut r = launch(home.path());
    println!(
        "after first frame:  VmHWM {} kB  VmRSS {} kB",
        r.hwm_kb,
        common::proc_status_kb(r.wizard_pid, "VmRSS").unwrap_or(0)
    );
    for n in 1..=4 {
        r.press(b"\r");
        let settled = r.wait_quiet(Duration::from_millis(600), Duration::from_secs(20));
        println!(
            "after Enter x{n}:     VmHWM {} kB  VmRSS {} kB{}",
            common::proc_status_kb(r.wizard_pid, "VmHWM").unwrap_or(0),
            common::proc_status_kb(r.wizard_pid, "VmRSS").unwrap_or(0),
            if settled { "" } else { " (screen still busy)" }
        );
    }
    let profile = std::fs::read_to_string(home.path().join("config/profiles/default.json"))
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&profile).unwrap_or_default();
    println!(
        "profile after the presses: kid {}, client_id {}, system registered {}",
        v["kid"].is_string(),
        v["client_id"].is_string(),
        !v["system_registered"].is_null()
    );
    let hwm = common::proc_status_kb(r.wizard_pid, "VmHWM").unwrap_or(0);
    println!(
        "target: wizard < 30 MB RSS -> peak {:.1} MB",
        hwm as f64 / 1024.0
    );
    r.quit();
}

struct Launched {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Vec<u8>>,
    wizard_pid: u32,
    /// From spawn until MARK arrived.
    mark_at: Duration,
    /// From MARK until the first frame was complete.
    first_frame: Duration,
    hwm_kb: u64,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn launch(home: &Path) -> Launched {
    let cmd = format!(
        "stty rows 24 cols 80; printf '{MARK}'; exec '{}'",
        common::bin().display()
    );
    let start = Instant::now();
    let mut child = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .env("ALTINN_ONBOARD_HOME", home)
        .env("TERM", "xterm-256color")
        .env_remove("ALTINN_ONBOARD_PROFILE")
        .env_remove("ALTINN_ONBOARD_ENV")
        .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
        .env_remove("ALTINN_ONBOARD_ALTINN_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn script");
    let stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let deadline = start + Duration::from_secs(30);
    let mut seen = Vec::new();
    let mut mark_at = None;
    let mut frame_at = None;
    while frame_at.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(chunk) = rx.recv_timeout(left) else {
            let _ = child.kill();
            panic!(
                "no first frame within 30 s; output: {:?}",
                String::from_utf8_lossy(&seen)
            );
        };
        let now = Instant::now();
        seen.extend_from_slice(&chunk);
        if mark_at.is_none() && find(&seen, MARK.as_bytes()).is_some() {
            mark_at = Some(now);
        }
        if mark_at.is_some()
            && let Some(alt) = find(&seen, ALT_SCREEN)
            && find(&seen[alt..], FOOTER_END).is_some()
        {
            frame_at = Some(now);
        }
    }
    let (mark_at, frame_at) = (mark_at.expect("mark"), frame_at.expect("frame"));
    let wizard_pid = common::children_of(child.id())
        .into_iter()
        .next()
        .expect("the wizard process under script");
    let hwm_kb = common::proc_status_kb(wizard_pid, "VmHWM").unwrap_or(0);
    Launched {
        child,
        stdin,
        rx,
        wizard_pid,
        mark_at: mark_at - start,
        first_frame: frame_at - mark_at,
        hwm_kb,
    }
}

impl Launched {
    fn press(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("key");
        self.stdin.flush().expect("flush");
    }

    /// Wait until no output arrived for `quiet` (the spinner redraws every 120 ms while busy).
    fn wait_quiet(&self, quiet: Duration, max: Duration) -> bool {
        let end = Instant::now() + max;
        loop {
            match self.rx.recv_timeout(quiet) {
                Ok(_) if Instant::now() < end => continue,
                Ok(_) => return false,
                Err(mpsc::RecvTimeoutError::Timeout) => return true,
                Err(mpsc::RecvTimeoutError::Disconnected) => return true,
            }
        }
    }

    /// `q`, then wait for the exit; kill what we started if it does not go.
    fn quit(mut self) {
        let _ = self.stdin.write_all(b"q");
        let _ = self.stdin.flush();
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "the wizard did not quit on `q`; killing pid {}",
            self.wizard_pid
        );
        common::kill_pid(self.wizard_pid);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
