//! Small defects from issues 9 and 16, each reproduced from outside through the binary: the
//! HTTP client that cannot be built, a malformed token answer, unbounded file reads, directory
//! modes and colour on a non-terminal stderr.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("altinn-onboard")
}

/// The binary with its own home and none of the caller's tool or TLS settings.
fn cmd(home: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env("ALTINN_ONBOARD_HOME", home)
        .env_remove("ALTINN_ONBOARD_PROFILE")
        .env_remove("ALTINN_ONBOARD_ENV")
        .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
        .env_remove("ALTINN_ONBOARD_ALTINN_URL")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    c
}

/// Run to completion, killed after 90 s (an unbounded read of /dev/zero never ends by itself).
fn run(c: &mut Command) -> Output {
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run altinn-onboard");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(90)) {
        Ok(out) => {
            let _ = waiter.join();
            out.expect("wait for altinn-onboard")
        }
        Err(_) => {
            // Only this child, by its own pid.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("altinn-onboard (pid {pid}) did not finish within 90 s");
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

// A. A client that cannot be built (here: SSL_CERT_FILE names a file with no valid
// certificate, which replaces the system store) is a clear error, not a panic and not a
// silent client without timeouts.
#[test]
fn an_unusable_ca_file_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let bad = home.path().join("bad-ca.pem");
    // Well-formed PEM around bytes that are no certificate.
    let junk = "MIIBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".repeat(4);
    std::fs::write(
        &bad,
        format!("-----BEGIN CERTIFICATE-----\n{junk}-----END CERTIFICATE-----\n"),
    )
    .unwrap();
    let o = run(cmd(home.path())
        .args(["--env", "tt02", "doctor"])
        .env("SSL_CERT_FILE", &bad));
    let out = text(&o);
    assert_ne!(o.status.code(), Some(101), "panicked: {out}");
    assert!(!out.contains("panicked"), "{out}");
    assert!(
        out.contains("cannot set up the HTTP client") && out.contains("SSL_CERT_FILE"),
        "{out}"
    );
}

/// A stand-in server on 127.0.0.1: says it is a sandbox (the metadata member a custom
/// environment is identified by), registers any client (the sandbox's admin route), and its
/// token endpoint answers 200 with a body that is no token response.
async fn garbage_token_server() -> (String, tokio::task::JoinHandle<()>) {
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(|| async {
                axum::Json(serde_json::json!({
                    "altinn_onboard_sandbox": {"version": "test", "admin": "/sandbox"}
                }))
            }),
        )
        .route(
            "/sandbox/clients",
            post(|| async {
                (
                    axum::http::StatusCode::CREATED,
                    [("content-type", "application/json")],
                    r#"{"client_id":"garbage-client"}"#,
                )
            }),
        )
        .route(
            "/token",
            post(|| async { "<html>this is not a token response</html>" }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

// F (issue 16 item 6). A malformed 200 from the token endpoint is a server failure: exit 3,
// not 1 (which is reserved for usage errors).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_token_answer_exits_3() {
    let (url, server) = garbage_token_server().await;
    let home = tempfile::tempdir().unwrap();
    let env = [
        "--env".to_string(),
        "custom".into(),
        "--maskinporten-url".into(),
        format!("{url}/"),
        "--altinn-url".into(),
        url.clone(),
    ];
    let home_path = home.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        for step in [
            &["keys", "generate"][..],
            &["client", "set", "--vendor-org", "310904473"][..],
        ] {
            let o = run(cmd(&home_path).args(&env).args(step));
            assert!(o.status.success(), "{step:?}: {}", text(&o));
        }
        run(cmd(&home_path).args(&env).arg("token"))
    })
    .await
    .unwrap();
    server.abort();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(t.contains("not a token response"), "{t}");
}

// G (issue 16 item 8). Every file the tool reads is capped: an endless device and an
// oversized file are refused at once, naming the file and the limit.
#[test]
fn endless_and_oversized_input_files_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let big = home.path().join("big.json");
    std::fs::write(&big, vec![b' '; 2 * 1024 * 1024]).unwrap();
    let big = big.to_str().unwrap();
    // Each runs in a couple of seconds at most; unbounded, /dev/zero never ends.
    let cases: [&[&str]; 5] = [
        &["system", "register", "--name", "x", "--file", "/dev/zero"],
        &["system", "register", "--name", "x", "--file", big],
        &["keys", "import", big],
        &["sandbox", "serve", "--port", "0", "--faults", "/dev/zero"],
        &["sandbox", "serve", "--port", "0", "--faults", big],
    ];
    for args in cases {
        let file = args.last().unwrap();
        let started = std::time::Instant::now();
        let o = run(cmd(home.path()).args(args));
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {t}");
        assert!(
            t.contains(file) && t.contains("larger than 1 MiB"),
            "{args:?}: {t}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{args:?}"
        );
    }
    // A damaged profile of absurd size is refused the same way, not read whole.
    let profiles = home.path().join("config/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(profiles.join("huge.json"), vec![b' '; 2 * 1024 * 1024]).unwrap();
    let o = run(cmd(home.path()).args(["--profile", "huge", "profile", "show"]));
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("huge.json") && t.contains("larger than 1 MiB"),
        "{t}"
    );
}

// H (issue 16 item 10). Every directory the tool creates is 0700: profiles, keys, the token
// cache, and the embedded sandbox's data directory (once 0755).
#[cfg(unix)]
#[test]
fn every_directory_the_tool_creates_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    for step in [
        &["keys", "generate"][..],
        &["client", "set", "--vendor-org", "310904473"][..],
        &["token"][..],
    ] {
        let o = run(cmd(home.path()).args(step));
        assert!(o.status.success(), "{step:?}: {}", text(&o));
    }
    let mut dirs = Vec::new();
    let mut todo = vec![home.path().to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
                dirs.push(e.path());
            }
        }
    }
    let data = home.path().join("data");
    assert!(
        dirs.contains(&data) && dirs.contains(&home.path().join("config/keys")),
        "{dirs:?}"
    );
    for d in &dirs {
        let mode = std::fs::metadata(d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", d.display());
    }
}

// I (issue 16 item 12). Logs and messages on a stderr that is not a terminal carry no colour
// escape codes (here: trace logging of a command that starts the embedded sandbox and fails).
#[test]
fn stderr_that_is_not_a_terminal_has_no_escape_codes() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("missing.json");
    let o = run(cmd(home.path()).args([
        "-vvv",
        "system",
        "register",
        "--name",
        "x",
        "--file",
        missing.to_str().unwrap(),
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("sandbox listening") && err.contains("missing.json"),
        "the logs and the error must be there to check: {err}"
    );
    assert!(!o.stderr.contains(&0x1b), "escape codes on stderr: {err:?}");
    assert!(!o.stdout.contains(&0x1b), "escape codes on stdout");
}
