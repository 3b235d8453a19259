//! What a newcomer meets first, as tests (issue 15). The wizard where it cannot run (no
//! terminal, `TERM=dumb`, a tiny terminal) exits 1 with one line of advice and never panics;
//! the README's command sequence, copied out of README.md by the test itself, runs from a
//! fresh home, and every link and command it prints works; `request create --wait` keeps the
//! embedded sandbox's approval page up until the customer has decided.

use altinn_onboard::env::{EnvKind, EnvSetting};
use altinn_onboard::flow::Flow;
use altinn_onboard::profile::Profile;
use altinn_onboard::tui::app::{App, AppOptions, seeded_for};
use altinn_onboard::tui::theme::Theme;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";
const WHOLE_FLOW: &str = "## The whole flow without the wizard";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_altinn-onboard")
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// The lines of the first ```sh block after the line `heading` (blank lines dropped).
fn sh_block(readme: &str, heading: &str) -> Vec<String> {
    let after = readme
        .split_once(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no `{heading}` heading"))
        .1;
    let body = after
        .split_once("```sh\n")
        .unwrap_or_else(|| panic!("no sh block after `{heading}`"))
        .1;
    let body = body.split_once("\n```").expect("the sh block ends").0;
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// A fresh home, and no setting from the developer's own environment.
fn isolate<'a>(cmd: &'a mut Command, home: &Path) -> &'a mut Command {
    cmd.env("ALTINN_ONBOARD_HOME", home)
        .env_remove("ALTINN_ONBOARD_PROFILE")
        .env_remove("ALTINN_ONBOARD_ENV")
        .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
        .env_remove("ALTINN_ONBOARD_ALTINN_URL")
        .env_remove("ALTINN_ONBOARD_LOG")
        .env("NO_COLOR", "1")
        // A panic would print its backtrace: the tests below look for one.
        .env("RUST_BACKTRACE", "1")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The wizard's refusal: one line naming why and what to use instead, no panic.
fn assert_refusal(output: &str, why: &str) {
    assert!(
        output.contains("error: the wizard needs an interactive terminal"),
        "no refusal message:\n{output}"
    );
    assert!(
        output.contains(why),
        "the reason `{why}` is missing:\n{output}"
    );
    assert!(
        output.contains("`altinn-onboard --help`"),
        "--help not named:\n{output}"
    );
    // The message points to a README section by name: it must exist.
    assert!(output.contains("\"The whole flow without the wizard\""));
    assert!(readme().contains(&format!("\n{WHOLE_FLOW}\n")));
    for bad in ["panicked", "backtrace", "RUST_BACKTRACE", "No such device"] {
        assert!(!output.contains(bad), "`{bad}` in the output:\n{output}");
    }
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected:\n{output}");
}

#[test]
fn the_wizard_without_a_terminal_exits_1_with_advice_and_no_panic() {
    // README, "Two commands": `cargo run --release` is the wizard, i.e. the binary without a
    // command; that is what runs here (and `cargo test` is this very run).
    let two = sh_block(&readme(), "## Two commands");
    assert!(
        two.iter()
            .any(|l| l.starts_with("cargo run --release") && l.contains("the wizard")),
        "{two:?}"
    );
    assert!(two.iter().any(|l| l.starts_with("cargo test ")), "{two:?}");

    let home = tempfile::tempdir().expect("tempdir");
    // No controlling terminal at all (cron, CI, `ssh host cmd`): setsid, stdin from /dev/null.
    if have("setsid") {
        let out = isolate(Command::new("setsid").args(["-w", bin()]), home.path())
            .stdin(Stdio::null())
            .output()
            .expect("run setsid");
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "stdout: {stdout}\nstderr: {stderr}"
        );
        assert!(stdout.is_empty(), "{stdout}");
        assert_refusal(&stderr, "neither stdin nor stdout is one");
    } else {
        println!("SKIPPED the setsid case: no `setsid` on this machine");
    }
    // The explicit `wizard` command, with only stdout redirected.
    let out = isolate(Command::new(bin()).arg("wizard"), home.path())
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_refusal(&text(&out).1, "neither stdin nor stdout is one");
    // Nothing was created for a wizard that never started.
    assert!(!home.path().join("config/profiles/default.json").exists());
}

/// Run the wizard in a pseudo-terminal (`script`) after `setup` (stty), with `term` as TERM;
/// None when `script` is missing.
fn in_pty(setup: &str, term: &str) -> Option<Output> {
    if !have("script") {
        println!("SKIPPED: no `script` (util-linux) on this machine to provide a terminal");
        return None;
    }
    let home = tempfile::tempdir().expect("tempdir");
    let cmd = format!("{setup}; exec '{}'", bin());
    let out = isolate(&mut Command::new("script"), home.path())
        .args(["-qec", &cmd, "/dev/null"])
        .env("TERM", term)
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    Some(out)
}

#[test]
fn the_wizard_refuses_term_dumb() {
    let Some(out) = in_pty("stty cols 80 rows 24", "dumb") else {
        return;
    };
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_refusal(&stdout, "TERM=dumb cannot draw it");
}

#[test]
fn the_wizard_refuses_a_terminal_too_small_to_draw_in() {
    let Some(out) = in_pty("stty cols 10 rows 3", "xterm-256color") else {
        return;
    };
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_refusal(&stdout, "this one is 10x3, too small");
    assert!(stdout.contains("at least 40x12"), "{stdout}");
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    term.draw(|f| altinn_onboard::tui::ui::draw(f, app))
        .unwrap();
    term.backend()
        .buffer()
        .content()
        .chunks(w as usize)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_terminal_shrunk_while_running_says_so_and_recovers() {
    let app = App::new(
        Flow::new(Profile::new("default", EnvSetting::new(EnvKind::Sandbox))),
        AppOptions {
            default_test_url: String::new(),
            headless: None,
            seeded_orgs: seeded_for(EnvKind::Sandbox),
            theme: Theme::plain(),
        },
    );
    let small = render(&app, 39, 20);
    let joined: String = small.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        joined.contains("Terminal too small (39x20): the wizard needs 40x12."),
        "{small}"
    );
    assert!(joined.contains("ctrl-c to quit"), "{small}");
    assert!(render(&app, 80, 11).contains("Terminal too small (80x11)"));
    // Back at the minimum (a resize redraws), the wizard itself is there again.
    let ok = render(&app, 40, 12);
    assert!(!ok.contains("too small"), "{ok}");
    assert!(ok.contains("altinn-onboard"), "{ok}");
}

// ----- the README's command sequence -------------------------------------------------------

/// http(s) URLs in `text`, cut at whitespace and at what quotes or closes them.
fn urls(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(i) = rest.find("http://").or_else(|| rest.find("https://")) {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| c.is_whitespace() || "\"'`<>),".contains(c))
                .unwrap_or(tail.len());
            found.push((tail[..end].to_string(), line.to_string()));
            rest = &tail[end..];
        }
    }
    found
}

/// A URL offered to the reader to open (a link), as opposed to data that happens to be one
/// (an issuer inside token claims, the URL `call` reports having called): on a line of its
/// own, or after "at"/"on"/"open".
fn is_link(url: &str, line: &str) -> bool {
    let before = line[..line.find(url).unwrap_or(0)].trim_end();
    line.trim() == url
        || before.ends_with(" at")
        || before.ends_with(" on")
        || before.ends_with("open")
        || before.ends_with("at:")
}

fn is_loopback(url: &str) -> bool {
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| url.starts_with(p))
}

fn fetch(url: &str) -> Result<(u16, String), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        let resp = client.get(url).send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.unwrap_or_default()))
    })
}

/// `altinn-onboard ...` commands printed as advice: in backticks, or alone on a line.
fn printed_commands(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 && part.starts_with("altinn-onboard ") {
            found.push(part.to_string());
        }
    }
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("altinn-onboard ") && !l.contains('`') {
            found.push(l.to_string());
        }
    }
    found
}

/// A printed command must be one the binary knows: its words (placeholders dropped) with
/// `--help` must be accepted.
fn assert_command_exists(cmd: &str, printed_by: &str) {
    let words: Vec<&str> = cmd
        .split_whitespace()
        .skip(1)
        .take_while(|w| !["|", ";", "&&", "&"].contains(w))
        .filter(|w| !w.contains(['<', '>', '[', ']']) && *w != "...")
        .collect();
    let out = Command::new(bin())
        .args(&words)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .expect("run --help");
    assert!(
        out.status.success(),
        "`{printed_by}` printed `{cmd}`, which the binary does not accept: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a README line's comment says its exit code is ("exit 5: ..."), else 0.
fn expected_exit(line: &str) -> i32 {
    line.split_once(" #")
        .and_then(|(_, comment)| comment.split("exit ").nth(1))
        .and_then(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

#[test]
fn the_readme_sequence_runs_as_written_from_a_fresh_home() {
    let readme = readme();
    let lines = sh_block(&readme, WHOLE_FLOW);
    assert!(lines.len() >= 8, "{lines:?}");
    let home = tempfile::tempdir().expect("tempdir");
    // `altinn-onboard` on PATH is the binary under test; each line runs as written, by sh.
    let dir = Path::new(bin()).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut last_stdout = String::new();
    for line in &lines {
        let command = line.split(" #").next().unwrap_or(line).trim();
        assert!(
            !command.contains(['<', '>']),
            "the README's sequence must run as written, without filling in placeholders: {line}"
        );
        assert!(command.starts_with("altinn-onboard "), "{line}");
        let started = Instant::now();
        let out = isolate(Command::new("sh").args(["-c", line]), home.path())
            .env("PATH", &path)
            .stdin(Stdio::null())
            .output()
            .expect("run sh");
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(expected_exit(line)),
            "README line `{command}` failed after {:?}\nstdout: {stdout}\nstderr: {stderr}",
            started.elapsed()
        );
        let all = format!("{stdout}\n{stderr}");
        assert!(!all.contains("panicked"), "{all}");
        // Every link printed must open now that the command is done: a page served only by
        // the command that printed it is a dead link for whoever reads it.
        for (url, at) in urls(&all) {
            if !is_link(&url, &at) {
                continue;
            }
            assert!(
                is_loopback(&url) || !url.starts_with("http://"),
                "`{command}` printed a plain-http link off this machine: {url}"
            );
            if is_loopback(&url) {
                match fetch(&url) {
                    Ok((s, _)) if s < 400 => {}
                    other => panic!(
                        "`{command}` printed the link {url} ({at:?}), which does not work: {other:?}"
                    ),
                }
            }
        }
        for cmd in printed_commands(&all) {
            assert_command_exists(&cmd, command);
        }
        last_stdout = stdout;
    }
    // The sequence ends with the test call, which answered.
    assert!(
        last_stdout.contains("-> HTTP 200"),
        "the last line's call did not succeed: {last_stdout}"
    );
}

// ----- request create --wait, and the README's id capture -------------------------------------

fn run_ok(home: &Path, args: &[&str]) -> String {
    let out = isolate(&mut Command::new(bin()), home)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "{args:?}: {:?}\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

/// Key, client and system on the embedded sandbox in a fresh home.
fn onboarded_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    run_ok(home.path(), &["keys", "generate"]);
    run_ok(home.path(), &["client", "set", "--vendor-org", VENDOR]);
    run_ok(
        home.path(),
        &[
            "system",
            "register",
            "--name",
            "smartcloud",
            "--resource",
            "ske-krav-og-betalinger",
        ],
    );
    home
}

#[test]
fn request_create_on_the_embedded_sandbox_prints_no_dead_link() {
    let home = onboarded_home();
    let out = isolate(&mut Command::new(bin()), home.path())
        .args(["request", "create", "--customer-org", CUSTOMER])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        !all.contains("http://"),
        "a URL of a sandbox that is gone:\n{all}"
    );
    // What works comes first: the approve command, on stdout, before any hint.
    let id = stdout
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("request "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the request id on the first line")
        .to_string();
    assert!(
        stdout.contains(&format!("\n  altinn-onboard sandbox approve {id}")),
        "{stdout}"
    );
    assert!(stderr.contains("request create --wait"), "{stderr}");
    // The printed command works as printed.
    let words: Vec<&str> = format!("sandbox approve {id}").leak().split(' ').collect();
    run_ok(home.path(), &words);
    let status = run_ok(home.path(), &["request", "status", "--json"]);
    assert!(status.contains("\"Accepted\""), "{status}");
}

/// Spawn `request create --wait`, wait for its confirmUrl on stdout, and hand it to `decide`
/// while the process (and so its embedded sandbox) is alive. Returns the exit code, stdout and
/// stderr.
fn create_and_wait(
    home: &Path,
    timeout: &str,
    decide: impl FnOnce(&str),
) -> (Option<i32>, String, String) {
    let mut child = isolate(&mut Command::new(bin()), home)
        .args([
            "request",
            "create",
            "--customer-org",
            CUSTOMER,
            "--wait",
            "--timeout",
            timeout,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stderr.take().expect("stderr");
    let sink = stderr.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = pipe.read_to_string(&mut buf);
        sink.lock().unwrap().push_str(&buf);
    });
    let mut stdout = String::new();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = None;
    while url.is_none() {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        stdout.push_str(&line);
        if line.trim_start().starts_with("http://") {
            url = Some(line.trim().to_string());
        }
    }
    let url = url.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("no confirmUrl printed: {stdout}")
    });
    assert!(
        stdout.starts_with("request ") && stdout.contains("the customer approves at:"),
        "{stdout}"
    );
    decide(&url);
    let _ = lines.read_to_string(&mut stdout);
    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        match child.try_wait().expect("wait") {
            Some(s) => break s.code(),
            None if Instant::now() > deadline => {
                let _ = child.kill();
                panic!("request create --wait did not end: {stdout}");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    reader.join().expect("stderr reader");
    let stderr = stderr.lock().unwrap().clone();
    (code, stdout, stderr)
}

#[test]
fn request_create_wait_serves_the_approval_page_until_the_customer_decides() {
    let home = onboarded_home();
    let (code, stdout, stderr) = create_and_wait(home.path(), "60", |url| {
        // The page is up while the command waits, and its Approve button works, as in a
        // browser: the form posts back to the page's own path.
        let (status, page) = fetch(url).expect("the approval page answers");
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("id=\"approve\""), "{page}");
        let id = url.split("id=").nth(1).expect("id in the URL").to_string();
        let action = url.split('?').next().unwrap().to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let status = rt.block_on(async {
            reqwest::Client::new()
                .post(&action)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("id={id}&decision=approve"))
                .send()
                .await
                .expect("post the form")
                .status()
                .as_u16()
        });
        assert_eq!(status, 200);
    });
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.trim_end().ends_with(": Accepted"), "{stdout}");
    assert!(stderr.contains("this command serves the page"), "{stderr}");
    let status = run_ok(home.path(), &["request", "status", "--json"]);
    assert!(status.contains("\"Accepted\""), "{status}");
}

#[test]
fn request_create_wait_exits_5_while_still_pending_at_the_timeout() {
    let home = onboarded_home();
    let (code, stdout, stderr) = create_and_wait(home.path(), "2", |url| {
        let (status, _) = fetch(url).expect("the approval page answers while waiting");
        assert_eq!(status, 200);
    });
    assert_eq!(code, Some(5), "stdout: {stdout}\nstderr: {stderr}");
    // The status was shown while waiting.
    assert!(stderr.contains(": New ("), "{stderr}");
    assert!(stdout.trim_end().ends_with(": New"), "{stdout}");
}

#[test]
fn the_readme_id_capture_and_curl_line_work_as_written() {
    let readme = readme();
    let block = sh_block(
        &readme,
        "Against a standalone sandbox (what scripts and workshops use):",
    );
    assert!(
        !block.iter().any(|l| l.contains("/ID/")),
        "a literal ID placeholder: {block:?}"
    );
    let capture = block
        .iter()
        .find(|l| l.starts_with("ID=$("))
        .expect("the README captures the request id");
    let curl = block
        .iter()
        .find(|l| l.starts_with("curl "))
        .expect("the curl line");
    assert!(curl.contains("/sandbox/requests/$ID/approve"), "{curl}");
    // The filter after the pipe, run on real `request create --json` output.
    let filter = capture
        .split_once(" | ")
        .and_then(|(_, f)| f.strip_suffix(')'))
        .expect("`ID=$(... | filter)`");
    let home = onboarded_home();
    let json = run_ok(
        home.path(),
        &["request", "create", "--customer-org", CUSTOMER, "--json"],
    );
    let id = serde_json::from_str::<serde_json::Value>(&json).expect("JSON")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut sh = Command::new("sh")
        .args(["-c", filter])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh");
    std::io::Write::write_all(&mut sh.stdin.take().unwrap(), json.as_bytes()).unwrap();
    let out = sh.wait_with_output().expect("filter");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), id);
}
