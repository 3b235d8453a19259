//! Kill-safety: a child process saves a profile in a tight loop and is killed with SIGKILL at
//! random moments; every time, the profile on disk parses and is one whole version (never torn).

use altinn_onboard::env::{EnvKind, EnvSetting};
use altinn_onboard::profile::{Profile, ProfileStore};
use rand::Rng;
use std::time::Duration;

const DIR_VAR: &str = "ALTINN_ONBOARD_KILL_TEST_DIR";

/// Not a test on its own: the writer the parent re-executes (does nothing without the variable).
#[test]
fn writer_child() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let store = ProfileStore::at(std::path::Path::new(&dir));
    let mut p = Profile::new("victim", EnvSetting::new(EnvKind::Sandbox));
    for n in 0u64.. {
        // Two fields derived from the same counter: a torn write could not keep them in step.
        p.system_user_scope = Some(format!("n:{n}"));
        p.test_url = Some(format!(
            "https://example.test/{}",
            "a".repeat((n % 5000) as usize)
        ));
        p.customer_org = Some((n % 5000).to_string());
        store.save(&mut p).expect("save");
    }
}

#[test]
fn a_profile_save_killed_at_any_moment_leaves_a_whole_profile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ProfileStore::at(dir.path());
    let exe = std::env::current_exe().expect("test binary");
    let mut rng = rand::thread_rng();
    let mut seen_versions = 0;
    for _round in 0..10 {
        let mut child = std::process::Command::new(&exe)
            .args(["--exact", "writer_child", "--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn writer");
        std::thread::sleep(Duration::from_millis(rng.gen_range(30..250)));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        match store.load("victim") {
            Ok(Some(p)) => {
                seen_versions += 1;
                let len = p
                    .test_url
                    .as_deref()
                    .map(|u| u.len() - "https://example.test/".len());
                let org: Option<usize> = p.customer_org.as_deref().and_then(|o| o.parse().ok());
                assert_eq!(
                    len, org,
                    "fields from different versions: the write was torn"
                );
                assert!(p.system_user_scope.is_some());
            }
            Ok(None) => {} // killed before the very first save finished
            Err(e) => panic!("the profile does not parse after a kill: {e}"),
        }
    }
    assert!(
        seen_versions > 0,
        "the writer never got to save; the test proves nothing"
    );
}
