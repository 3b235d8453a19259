//! Profile persistence: round trips, refusal to touch damaged or newer files, migration,
//! permissions, locking between threads and processes, and kill-safety (a writer process is
//! SIGKILLed mid-save and the profile on disk must still be whole).
//!
//! The cross-process tests re-run this test binary as a child (`--exact <name>`) with
//! `CHILD_MODE_ENV` selecting what the child does; without it those "child" tests do nothing.

use altinn_onboard::env::{EnvKind, EnvSetting};
use altinn_onboard::profile::{
    PROFILE_FORMAT_VERSION, Profile, ProfileError, ProfileStore, SystemSpec,
};
use rand::Rng;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_MODE_ENV: &str = "ALTINN_ONBOARD_TEST_CHILD";
const CHILD_ROOT_ENV: &str = "ALTINN_ONBOARD_TEST_CHILD_ROOT";

fn store() -> (tempfile::TempDir, ProfileStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ProfileStore::at(dir.path());
    (dir, store)
}

fn sample(name: &str) -> Profile {
    let mut p = Profile::new(name, EnvSetting::new(EnvKind::Tt02));
    p.vendor_org = Some("991825827".into());
    p.client_id = Some("0b5a0ab1-2c3d-4e5f-8a9b-0c1d2e3f4a5b".into());
    p.kid = Some("my-kid".into());
    p.scopes = vec!["altinn:authentication/systemregister.write".into()];
    p.system = Some(SystemSpec::simple("smartcloud", "SmartCloud", "Accounting"));
    p
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn save_then_load_round_trips() {
    let (_d, store) = store();
    assert_eq!(store.load("default").unwrap(), None);
    let mut p = sample("default");
    let before = p.updated_at;
    std::thread::sleep(Duration::from_millis(2));
    store.save(&mut p).unwrap();
    assert!(p.updated_at > before, "save sets updated_at");
    assert_eq!(p.version, PROFILE_FORMAT_VERSION);
    let loaded = store.load("default").unwrap().expect("saved");
    assert_eq!(loaded, p);
    // load_or_new: the saved one, or a fresh unsaved one.
    assert_eq!(
        store
            .load_or_new("default", EnvSetting::new(EnvKind::Prod))
            .unwrap(),
        p
    );
    let fresh = store
        .load_or_new("other", EnvSetting::new(EnvKind::Prod))
        .unwrap();
    assert_eq!(fresh.name, "other");
    assert_eq!(fresh.environment.kind, EnvKind::Prod);
    assert_eq!(store.list().unwrap(), ["default"]);
}

#[test]
fn paths_follow_the_layout() {
    let root = Path::new("/r");
    let s = ProfileStore::at(root);
    assert_eq!(s.config_dir(), Path::new("/r/config"));
    assert_eq!(s.data_dir(), Path::new("/r/data"));
    assert_eq!(
        s.profile_path("demo"),
        PathBuf::from("/r/config/profiles/demo.json")
    );
    assert_eq!(
        s.default_key_path("demo", "a/b:c"),
        PathBuf::from("/r/config/keys/demo-a_b_c.pem")
    );
    assert_eq!(
        s.token_cache_path("demo"),
        PathBuf::from("/r/data/cache/demo.tokens.json")
    );
    assert_eq!(
        s.sandbox_state_path(),
        PathBuf::from("/r/data/sandbox-state.json")
    );
    assert_eq!(s.log_dir(), PathBuf::from("/r/data/logs"));
}

#[test]
fn list_and_remove() {
    let (_d, store) = store();
    assert_eq!(store.list().unwrap(), Vec::<String>::new());
    for name in ["zeta", "alpha", "mid-1"] {
        store.save(&mut sample(name)).unwrap();
    }
    // Things that are not profiles are not listed.
    let dir = store.profile_path("x").parent().unwrap().to_path_buf();
    std::fs::write(dir.join("notes.txt"), "x").unwrap();
    std::fs::write(dir.join("bad name.json"), "{}").unwrap();
    assert_eq!(store.list().unwrap(), ["alpha", "mid-1", "zeta"]);

    let cache = store.token_cache_path("alpha");
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    std::fs::write(&cache, "{}").unwrap();
    assert!(store.remove("alpha").unwrap());
    assert!(!cache.exists(), "the token cache goes with the profile");
    assert!(!store.remove("alpha").unwrap());
    assert_eq!(store.list().unwrap(), ["mid-1", "zeta"]);
    assert_eq!(store.load("alpha").unwrap(), None);
}

#[test]
fn bad_names_are_refused() {
    let (_d, store) = store();
    for bad in [
        "",
        "../etc",
        "a/b",
        "with space",
        " padded",
        "x".repeat(65).as_str(),
    ] {
        assert!(
            matches!(store.load(bad), Err(ProfileError::BadName(_))),
            "{bad:?}"
        );
        assert!(matches!(store.lock(bad), Err(ProfileError::BadName(_))));
        let mut p = sample("ok");
        p.name = bad.to_string();
        let e = store.save(&mut p).unwrap_err();
        assert!(matches!(e, ProfileError::BadName(_)), "{bad:?}");
        assert!(e.to_string().contains("fix:"));
    }
}

#[test]
fn a_corrupt_file_is_reported_and_never_overwritten() {
    let (_d, store) = store();
    let path = store.profile_path("default");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "{\n  \"version\": 1,\n  \"name\": \"default\",\n",
            "not valid JSON",
        ),
        ("[1, 2]", "JSON object"),
        ("{\"version\": \"one\"}", "whole number"),
        (
            "{\n  \"version\": 1,\n  \"name\": \"default\",\n  \"created_at\": 5\n}",
            "line 4",
        ),
        ("{\"version\": 1, \"name\": \"default\"}", "created_at"),
        ("", "not valid JSON"),
    ];
    for (content, needle) in cases {
        std::fs::write(&path, content).unwrap();
        let e = store.load("default").unwrap_err();
        assert!(
            matches!(e, ProfileError::Corrupt { .. }),
            "{content}: {e:?}"
        );
        let msg = e.to_string();
        assert!(msg.contains(needle), "{content}: {msg}");
        assert!(
            msg.contains("left untouched") && msg.contains("fix:"),
            "{msg}"
        );
        let e = store.save(&mut sample("default")).unwrap_err();
        assert!(matches!(e, ProfileError::Corrupt { .. }), "{e:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *content);
    }
    // The JSON syntax error carries its position.
    std::fs::write(&path, "{\n  \"version\": 1,\n  oops\n}").unwrap();
    match store.load("default").unwrap_err() {
        ProfileError::Corrupt { line, column, .. } => assert_eq!((line, column), (3, 3)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_newer_format_is_refused_and_left_alone() {
    let (_d, store) = store();
    let mut p = sample("default");
    store.save(&mut p).unwrap();
    let path = store.profile_path("default");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["version"] = (PROFILE_FORMAT_VERSION + 1).into();
    v["something_new"] = "from the future".into();
    let future = serde_json::to_string_pretty(&v).unwrap();
    std::fs::write(&path, &future).unwrap();

    let e = store.load("default").unwrap_err();
    assert!(
        matches!(e, ProfileError::NewerFormat { found, supported, .. }
            if found == PROFILE_FORMAT_VERSION + 1 && supported == PROFILE_FORMAT_VERSION),
        "{e:?}"
    );
    assert!(e.to_string().contains("upgrade altinn-onboard"));
    assert!(matches!(
        store.save(&mut p),
        Err(ProfileError::NewerFormat { .. })
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), future);
}

#[test]
fn a_format_0_profile_is_migrated_and_backed_up_on_save() {
    let (_d, store) = store();
    let path = store.profile_path("legacy");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let hand_written = r#"{"vendor_org": "310904473", "environment": {"kind": "tt02"}}"#;
    std::fs::write(&path, hand_written).unwrap();

    let mut p = store.load("legacy").unwrap().expect("migrated");
    assert_eq!(p.name, "legacy", "the name comes from the file name");
    assert_eq!(p.version, PROFILE_FORMAT_VERSION);
    assert_eq!(p.vendor_org.as_deref(), Some("310904473"));
    assert_eq!(p.environment.kind, EnvKind::Tt02);
    // Loading does not rewrite the file.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), hand_written);

    store.save(&mut p).unwrap();
    let backup = path.with_file_name("legacy.json.v0.bak");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), hand_written);
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(on_disk["version"], PROFILE_FORMAT_VERSION);
    assert_eq!(
        store.list().unwrap(),
        ["legacy"],
        "the backup is not a profile"
    );
}

#[test]
fn the_file_name_decides_the_profile_name() {
    let (_d, store) = store();
    store.save(&mut sample("a")).unwrap();
    std::fs::copy(store.profile_path("a"), store.profile_path("b")).unwrap();
    let mut b = store.load("b").unwrap().unwrap();
    assert_eq!(b.name, "b");
    b.customer_org = Some("310904473".into());
    store.save(&mut b).unwrap();
    assert_eq!(store.load("a").unwrap().unwrap().customer_org, None);
}

#[test]
fn saves_leave_no_temp_files_and_use_private_modes() {
    let (d, store) = store();
    let mut p = sample("default");
    for i in 0..20 {
        p.test_url = Some(format!("https://api.example/{i}"));
        store.save(&mut p).unwrap();
    }
    let dir = store
        .profile_path("default")
        .parent()
        .unwrap()
        .to_path_buf();
    assert_eq!(files_in(&dir), ["default.json", "default.lock"]);
    #[cfg(unix)]
    {
        assert_eq!(mode(&store.profile_path("default")), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&d.path().join("config")), 0o700);
        assert_eq!(mode(&dir.join("default.lock")), 0o600);
    }
    let _ = d;
}

#[test]
fn orphaned_temp_files_are_cleaned_up_by_the_next_save() {
    let (_d, store) = store();
    store.save(&mut sample("default")).unwrap();
    let dir = store
        .profile_path("default")
        .parent()
        .unwrap()
        .to_path_buf();
    // What a writer killed between creating and renaming its temp file leaves behind.
    std::fs::write(dir.join(".default.json.AbC123.tmp"), "{\"half").unwrap();
    std::fs::write(dir.join(".other.json.AbC123.tmp"), "{").unwrap();
    store.save(&mut sample("default")).unwrap();
    assert_eq!(
        files_in(&dir),
        [".other.json.AbC123.tmp", "default.json", "default.lock"],
        "only this profile's orphans are removed (others may belong to a live writer)"
    );
}

#[test]
fn save_works_while_the_process_holds_the_lock() {
    let (_d, store) = store();
    let lock = store.lock("default").unwrap();
    assert_eq!(lock.name(), "default");
    let mut p = sample("default");
    store.save(&mut p).unwrap();
    // From another thread too: the lock belongs to the process.
    std::thread::scope(|s| {
        s.spawn(|| store.save(&mut sample("default")).unwrap());
    });
    assert!(store.try_lock("default").unwrap().is_some());
    assert!(store.remove("default").unwrap());
    drop(lock);
    // Released: it can be taken again, also through a differently spelled root.
    let dir = store.config_dir().parent().unwrap().to_path_buf();
    let again = ProfileStore::at(&dir.join("config/.."));
    assert!(again.try_lock("default").unwrap().is_some());
}

#[test]
fn threads_saving_at_once_never_tear_the_file() {
    let (_d, store) = store();
    store.save(&mut sample("busy")).unwrap();
    let path = store.profile_path("busy");
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let p = store.load("busy").unwrap().unwrap();
                check_consistent_thread_write(&p);
                reads += 1;
            }
            reads
        });
        let mut writers = Vec::new();
        for t in 0..4 {
            let store = &store;
            writers.push(s.spawn(move || {
                for i in 0..30 {
                    let mut p = sample("busy");
                    // Different sizes per writer so a mix would not parse or not match.
                    p.test_url = Some(format!("https://example.test/{t}/{i}"));
                    p.system_user_scope = Some(format!("{t}").repeat(1000 * (t + 1) + i));
                    store.save(&mut p).unwrap();
                }
            }));
        }
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    });
    let p = store.load("busy").unwrap().unwrap();
    check_consistent_thread_write(&p);
    assert_eq!(files_in(path.parent().unwrap()), ["busy.json", "busy.lock"]);
}

fn check_consistent_thread_write(p: &Profile) {
    let Some(url) = &p.test_url else {
        return; // the initial sample
    };
    let parts: Vec<usize> = url
        .trim_start_matches("https://example.test/")
        .split('/')
        .map(|x| x.parse().unwrap())
        .collect();
    let (t, i) = (parts[0], parts[1]);
    assert_eq!(
        p.system_user_scope.as_deref(),
        Some(format!("{t}").repeat(1000 * (t + 1) + i).as_str())
    );
}

// ---------------------------------------------------------------------------------------
// Cross-process tests.

fn spawn_child(test_name: &str, mode: &str, root: &Path) -> Child {
    Command::new(std::env::current_exe().expect("current_exe"))
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_MODE_ENV, mode)
        .env(CHILD_ROOT_ENV, root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child test process")
}

/// Wait until the child prints `line` on stdout. libtest may print `test <name> ... ` on the
/// same line first, so the line is matched at its end. Gives up (killing the child) after 60 s.
fn wait_for_line(child: &mut Child, line: &str) {
    let out = BufReader::new(child.stdout.take().expect("stdout"));
    let (tx, rx) = std::sync::mpsc::channel();
    // Keeps draining the pipe so the child never blocks on a full one.
    std::thread::spawn(move || {
        for l in out.lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                // Nobody listens any more; keep draining.
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.trim_end().ends_with(line) => return,
            Ok(_) => {}
            Err(e) => {
                let _ = child.kill();
                panic!("child did not print {line:?}: {e}");
            }
        }
    }
}

/// The version a writer child wrote: `test_url` ends in a counter and `system_user_scope`
/// has a length derived from it, so a file mixing two versions is detected.
fn writer_padding(i: u64) -> String {
    "x".repeat(((i * 7919) % 150_000) as usize)
}

fn writer_version(p: &Profile) -> u64 {
    let i: u64 = p
        .test_url
        .as_deref()
        .and_then(|u| u.strip_prefix("https://example.test/v/"))
        .and_then(|n| n.parse().ok())
        .expect("writer url");
    assert_eq!(
        p.system_user_scope.as_deref().map(str::len),
        Some(writer_padding(i).len()),
        "version {i} has the wrong padding: a torn or mixed file"
    );
    i
}

/// Child mode "writer": save the profile in a tight loop with growing version numbers and
/// varying size, starting after whatever is on disk, until killed.
#[test]
fn writer_child() {
    if std::env::var(CHILD_MODE_ENV).as_deref() != Ok("writer") {
        return;
    }
    let root = PathBuf::from(std::env::var_os(CHILD_ROOT_ENV).expect("root"));
    let store = ProfileStore::at(&root);
    let mut p = store
        .load_or_new("killme", EnvSetting::new(EnvKind::Sandbox))
        .expect("load");
    let mut i = p.test_url.as_ref().map(|_| writer_version(&p)).unwrap_or(0);
    let mut announced = false;
    loop {
        i += 1;
        p.test_url = Some(format!("https://example.test/v/{i}"));
        p.system_user_scope = Some(writer_padding(i));
        store.save(&mut p).expect("save");
        if !announced {
            println!("ready");
            announced = true;
        }
    }
}

#[test]
fn a_writer_killed_mid_save_leaves_a_whole_profile() {
    let (d, store) = store();
    let dir = store.profile_path("killme").parent().unwrap().to_path_buf();
    let mut rng = rand::thread_rng();
    let mut last_seen = 0;
    // Kill at random moments: at least 8 times, and until one kill has visibly landed inside
    // a save (its temp file is left behind), so the test is known to have tested something.
    let mut killed_mid_write = 0;
    let mut round = 0;
    while round < 8 || (killed_mid_write == 0 && round < 60) {
        let mut child = spawn_child("writer_child", "writer", d.path());
        wait_for_line(&mut child, "ready");
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..60)));
        child.kill().expect("SIGKILL the writer");
        child.wait().expect("reap");
        let p = store
            .load("killme")
            .unwrap_or_else(|e| panic!("round {round}: {e}"))
            .expect("the profile exists");
        let v = writer_version(&p);
        assert!(
            v > last_seen,
            "round {round}: went back from {last_seen} to {v}"
        );
        last_seen = v;
        if files_in(&dir).iter().any(|f| f.ends_with(".tmp")) {
            killed_mid_write += 1;
        }
        round += 1;
    }
    assert!(
        killed_mid_write > 0,
        "no kill landed inside a save in {round} rounds"
    );
    // The next save removes the orphaned temp files.
    let mut p = store.load("killme").unwrap().unwrap();
    store.save(&mut p).unwrap();
    assert_eq!(files_in(&dir), ["killme.json", "killme.lock"]);
}

/// Child mode "locker": hold the profile lock until killed.
#[test]
fn locker_child() {
    if std::env::var(CHILD_MODE_ENV).as_deref() != Ok("locker") {
        return;
    }
    let root = PathBuf::from(std::env::var_os(CHILD_ROOT_ENV).expect("root"));
    let store = ProfileStore::at(&root);
    let _lock = store.lock("shared").expect("lock");
    println!("locked");
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn another_process_holding_the_lock_blocks_saves_until_it_dies() {
    let (d, store) = store();
    store.save(&mut sample("shared")).unwrap();
    let mut child = spawn_child("locker_child", "locker", d.path());
    wait_for_line(&mut child, "locked");

    assert!(store.try_lock("shared").unwrap().is_none());
    let lock_file = store.profile_path("shared").with_extension("lock");
    assert_eq!(
        std::fs::read_to_string(&lock_file).unwrap().trim(),
        child.id().to_string(),
        "the holder's pid is in the lock file"
    );
    // Another profile is not affected.
    assert!(store.try_lock("unrelated").unwrap().is_some());

    let started = Instant::now();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        child.kill().expect("kill");
        child.wait().expect("reap");
    });
    let mut p = sample("shared");
    p.customer_org = Some("310904473".into());
    store.save(&mut p).unwrap(); // waits for the lock
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "save must wait for the other process"
    );
    killer.join().unwrap();
    assert_eq!(
        store
            .load("shared")
            .unwrap()
            .unwrap()
            .customer_org
            .as_deref(),
        Some("310904473")
    );
    assert!(store.try_lock("shared").unwrap().is_some());
}
