//! Shared by the bench binaries (each is a `harness = false` target with a plain `main`):
//! argument parsing, timing statistics, the release binary, the onboarding driver and /proc
//! readings. Every number printed comes from here, so they are computed the same way.
#![allow(dead_code)]

use altinn_onboard::altinn::client::VENDOR_SCOPES;
use altinn_onboard::env::{EnvKind, EnvSetting};
use altinn_onboard::flow::{Effect, Flow, Msg, RequestForm, Step, SystemForm};
use altinn_onboard::profile::Profile;
use altinn_onboard::runner::Runner;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const VENDOR: &str = "310904473";
pub const CUSTOMER: &str = "312345676";

/// `--name VALUE` from the command line (`cargo bench --bench X -- --name VALUE`). Cargo adds
/// `--bench` itself; unknown arguments are ignored.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

pub fn arg_usize(name: &str, default: usize) -> usize {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// The `altinn-onboard` binary cargo built next to this bench (release settings under
/// `cargo bench`).
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_altinn-onboard"))
}

/// Samples of one measurement.
#[derive(Debug, Clone, Default)]
pub struct Samples(pub Vec<Duration>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort();
        v
    }

    /// Nearest-rank percentile (p in 0..=100).
    pub fn pct(&self, p: f64) -> Duration {
        let v = self.sorted();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1]
    }

    pub fn median(&self) -> Duration {
        self.pct(50.0)
    }

    pub fn p99(&self) -> Duration {
        self.pct(99.0)
    }

    pub fn min(&self) -> Duration {
        self.0.iter().min().copied().unwrap_or_default()
    }

    pub fn max(&self) -> Duration {
        self.0.iter().max().copied().unwrap_or_default()
    }

    pub fn mean(&self) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        self.0.iter().sum::<Duration>() / self.0.len() as u32
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One line: `name  n=.. min .. median .. mean .. p99 .. max ..`.
    pub fn report(&self, name: &str) {
        println!(
            "{name:<46} n={:<5} min {:>9}  median {:>9}  mean {:>9}  p99 {:>9}  max {:>9}",
            self.len(),
            fmt(self.min()),
            fmt(self.median()),
            fmt(self.mean()),
            fmt(self.p99()),
            fmt(self.max()),
        );
    }
}

/// Human duration with a unit that keeps three significant digits.
pub fn fmt(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.3} s", ns / 1e9)
    }
}

/// Run `f` `warmup` times unmeasured, then `iters` times measured.
pub fn bench_sync<T>(warmup: usize, iters: usize, mut f: impl FnMut() -> T) -> Samples {
    for _ in 0..warmup {
        std::hint::black_box(f());
    }
    let mut s = Samples::default();
    for _ in 0..iters {
        let t = Instant::now();
        std::hint::black_box(f());
        s.push(t.elapsed());
    }
    s
}

/// A field of /proc/<pid>/status in kB (`VmHWM`, `VmRSS`, ...).
pub fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// User + system CPU time of a process so far (from /proc/<pid>/stat, in clock ticks of 10 ms).
pub fn proc_cpu(pid: u32) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; fields after the closing parenthesis are fixed.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Children of `ppid` (scanning /proc).
pub fn children_of(ppid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let ppid_field = stat[close + 2..].split_whitespace().nth(1);
        if ppid_field.and_then(|p| p.parse::<u32>().ok()) == Some(ppid) {
            out.push(pid);
        }
    }
    out
}

/// Send SIGKILL to one process we started (a positive pid, never a group).
pub fn kill_pid(pid: u32) {
    if pid > 1 {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

pub fn system_form(name: &str) -> SystemForm {
    SystemForm {
        name: name.into(),
        display_name: "Bench system".into(),
        description: "benchmark".into(),
        rights: "ske-krav-og-betalinger".into(),
        is_visible: true,
        ..Default::default()
    }
}

pub fn request_form() -> RequestForm {
    RequestForm {
        customer_org: CUSTOMER.into(),
        agent: false,
        external_ref: String::new(),
    }
}

pub fn client_msg() -> Msg {
    Msg::SubmitClient {
        vendor_org: VENDOR.into(),
        client_id: String::new(),
        scopes: VENDOR_SCOPES.join(" "),
    }
}

pub fn new_flow(profile: &str) -> Flow {
    Flow::new(Profile::new(profile, EnvSetting::new(EnvKind::Sandbox)))
}

/// Run a message and every effect it causes, as the CLI does (tests/onboarding.rs `drive`),
/// except that polls do not wait between attempts and the browser is never opened.
pub async fn drive(flow: &mut Flow, runner: &Runner, msg: Msg) {
    let mut queue: VecDeque<Effect> = flow.update(msg).into();
    let mut polls = 0;
    while let Some(effect) = queue.pop_front() {
        let effect = match effect {
            Effect::OpenBrowser { .. } => continue,
            Effect::PollStatus {
                request_id,
                agent,
                generation,
                ..
            } => {
                polls += 1;
                assert!(polls < 50, "polling never ended");
                Effect::PollStatus {
                    request_id,
                    agent,
                    after: Duration::ZERO,
                    generation,
                }
            }
            other => other,
        };
        let snapshot = flow.profile.clone();
        if let Some(reply) = runner.run(effect, &snapshot).await {
            queue.extend(flow.update(reply));
        }
    }
}

/// Panic with the flow's error unless it reached `step` (a benchmark of a broken flow is void).
pub fn expect_step(flow: &Flow, step: Step, what: &str) {
    assert_eq!(flow.step, step, "{what}: {:?}", flow.error);
}
