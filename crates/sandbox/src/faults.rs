//! Fault injection: make the sandbox misbehave the way real networks and services do, on purpose
//! and reproducibly, so the clients' retry and error handling can be tested (issue 6, "Faults").
//!
//! A [`FaultPlan`] is a list of rules. Each rule picks requests by route (an exact `path`, a path
//! `prefix`, or a `route` template as written in the route table, e.g.
//! `/authentication/api/v1/systemregister/vendor/{system_id}`) and optionally by `method`, says
//! *when* it fires (`first` N matching requests, `every` Nth, with a `probability`, or — with
//! none of these — always) and *what* happens (`fault`). The plan also carries a clock offset.
//!
//! ```json
//! {
//!   "clock_offset_secs": 0,
//!   "seed": 7,
//!   "rules": [
//!     { "route": "/authentication/api/v1/systemuser/request/vendor/{request_id}", "method": "GET",
//!       "first": 2, "fault": { "kind": "status", "status": 503 } },
//!     { "path": "/token", "every": 3, "fault": { "kind": "rate_limit", "retry_after_secs": 1 } },
//!     { "prefix": "/authentication/", "probability": 0.05, "fault": { "kind": "drop" } },
//!     { "prefix": "/authentication/", "fault": { "kind": "latency", "ms": 150 } },
//!     { "path": "/jwk", "first": 1, "fault": { "kind": "truncate" } },
//!     { "path": "/.well-known/oauth-authorization-server", "first": 1, "fault": { "kind": "malformed" } }
//!   ]
//! }
//! ```
//!
//! Fault kinds (`"kind"`):
//! - `latency` `{ "ms": N }`: wait N ms, then carry on. Latency rules add up and do not stop the
//!   evaluation: a later rule may still fail the same request. A delay longer than the client's
//!   timeout (30 s for this tool) exercises its deadline; at most 10 minutes.
//! - `status` `{ "status": 500..=599, "body"?: "…" }`: answer with that 5xx (default body: a short
//!   text naming the fault). The handler does not run.
//! - `rate_limit` `{ "retry_after_secs": N }`: 429 with `Retry-After: N`. The handler does not run.
//! - `drop` `{ "after_handler"?: false }`: close the connection without an answer. By default the
//!   request never reaches the handler; with `"after_handler": true` the handler runs (a create
//!   *is* made) and only its answer is lost — the case where a blind retry duplicates work.
//! - `truncate`: the handler runs; its answer keeps status and headers but the body is cut in half.
//! - `malformed` `{ "body"?: "…" }`: `200 OK`, `Content-Type: application/json`, a body that is not
//!   JSON. The handler does not run (a broken gateway answered instead).
//!
//! Rules are checked in order. Every rule whose route and method match counts the request
//! (`seen`); a firing `latency` rule adds its delay and the checking goes on; the first firing
//! rule of any other kind decides the answer and stops the checking. `first` and `every` count
//! per rule, so a plan is deterministic: the same requests in the same order meet the same
//! faults. `probability` draws from a generator seeded with `seed` (default 0), so it is
//! reproducible too, as long as the order of requests is.
//!
//! `clock_offset_secs` moves the sandbox's "now" by that many seconds (negative: the sandbox is
//! behind): Maskinporten's grant checks (`iat`, `exp`), the timestamps of the tokens it issues,
//! token verification on the Altinn routes, and the `Date` header of every answer.
//!
//! Three ways in: [`super::SandboxOptions::faults`] at start, [`FaultPlan::from_file`] for a plan
//! file, and at runtime `PUT /sandbox/faults` (the plan as JSON; counters restart), `GET
//! /sandbox/faults` (the plan and each rule's `seen`/`fired` counters) and `DELETE
//! /sandbox/faults` (no faults, clock back to normal). `PUT` and `DELETE` need the host secret
//! (`Authorization: Bearer <secret>`, see [`super::admin`]); `GET` is open. The `/sandbox/faults` routes are never
//! faulted themselves, so a plan can always be changed or removed. All other routes can be,
//! including the rest of `/sandbox/`.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;
use super::problem::sandbox_error;

/// The admin route for the plan; never faulted.
pub const FAULTS_PATH: &str = "/sandbox/faults";

/// Limits that keep a plan sane (and arithmetic on it panic-free).
const MAX_RULES: usize = 1000;
const MAX_LATENCY_MS: u64 = 10 * 60 * 1000;
const MAX_RETRY_AFTER_SECS: u64 = 24 * 60 * 60;
const MAX_CLOCK_OFFSET_SECS: i64 = 10 * 366 * 24 * 60 * 60;
const MAX_BODY_CHARS: usize = 64 * 1024;
/// Answers larger than this are not truncated but dropped (the sandbox never makes them).
const MAX_TRUNCATE_BYTES: usize = 16 * 1024 * 1024;

const DEFAULT_MALFORMED_BODY: &str =
    "{\"sandbox\": malformed answer injected by a fault rule, \"status\": [1, 2,}}";

/// A whole fault plan; see the module documentation for the JSON format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// Seconds added to the sandbox's clock (negative: it is behind).
    #[serde(default)]
    pub clock_offset_secs: i64,
    /// Seed for `probability` rules (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The rules, tried in order for every request.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

/// One rule: which requests (exactly one of `path`, `prefix`, `route`; optionally `method`),
/// when (at most one of `first`, `every`, `probability`; none: always) and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The request path, exactly (`/token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Any path starting with this (`/authentication/`; `/` for everything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// A route template of the route table (`/authentication/api/v1/systemuser/request/vendor/{request_id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Only this HTTP method (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Fire for the first N matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    /// Fire for every Nth matching request (the Nth, 2Nth, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Fire with this probability (0..=1), drawn from the plan's seeded generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// What the rule does when it fires.
    pub fault: Fault,
}

/// What a firing rule does to the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Wait, then carry on with the next rules and the handler.
    Latency {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// A 5xx answer (the handler does not run).
    Status {
        /// The HTTP status (500..=599).
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The body to send (default: a short JSON error).
        body: Option<String>,
    },
    /// 429 with `Retry-After` (the handler does not run).
    RateLimit {
        /// The `Retry-After` value in seconds.
        retry_after_secs: u64,
    },
    /// Close the connection without an answer; with `after_handler` the handler runs first.
    Drop {
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        /// Let the handler run (and change state) before the connection is dropped.
        after_handler: bool,
    },
    /// The handler's answer with its body cut in half.
    Truncate,
    /// 200 with a body that is not JSON (the handler does not run).
    Malformed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The body to send (default: a fixed non-JSON text).
        body: Option<String>,
    },
}

impl Fault {
    /// Wait `ms` milliseconds before handling the request.
    pub fn latency_ms(ms: u64) -> Fault {
        Fault::Latency { ms }
    }
    /// Answer with this 5xx status.
    pub fn status(status: u16) -> Fault {
        Fault::Status { status, body: None }
    }
    /// Answer 429 with `Retry-After: <retry_after_secs>`.
    pub fn rate_limit(retry_after_secs: u64) -> Fault {
        Fault::RateLimit { retry_after_secs }
    }
    /// The request never reaches the handler.
    pub fn dropped_connection() -> Fault {
        Fault::Drop {
            after_handler: false,
        }
    }
    /// The handler runs, its answer is lost.
    pub fn dropped_answer() -> Fault {
        Fault::Drop {
            after_handler: true,
        }
    }
    /// Cut the handler's answer in half.
    pub fn truncated() -> Fault {
        Fault::Truncate
    }
    /// Answer 200 with a body that is not JSON.
    pub fn malformed() -> Fault {
        Fault::Malformed { body: None }
    }
}

impl FaultRule {
    fn new(fault: Fault) -> FaultRule {
        FaultRule {
            path: None,
            prefix: None,
            route: None,
            method: None,
            first: None,
            every: None,
            probability: None,
            fault,
        }
    }
    /// Requests to exactly this path.
    pub fn path(path: &str, fault: Fault) -> FaultRule {
        FaultRule {
            path: Some(path.to_string()),
            ..FaultRule::new(fault)
        }
    }
    /// Requests whose path starts with `prefix`.
    pub fn prefix(prefix: &str, fault: Fault) -> FaultRule {
        FaultRule {
            prefix: Some(prefix.to_string()),
            ..FaultRule::new(fault)
        }
    }
    /// Requests routed to this route template (as written in the route table).
    pub fn route(route: &str, fault: Fault) -> FaultRule {
        FaultRule {
            route: Some(route.to_string()),
            ..FaultRule::new(fault)
        }
    }
    /// Only for requests with this HTTP method.
    pub fn method(mut self, method: &str) -> FaultRule {
        self.method = Some(method.to_string());
        self
    }
    /// Fire on the first `n` matching requests.
    pub fn first(mut self, n: u64) -> FaultRule {
        self.first = Some(n);
        self
    }
    /// Fire on every `n`th matching request.
    pub fn every(mut self, n: u64) -> FaultRule {
        self.every = Some(n);
        self
    }
    /// Fire with probability `p` (0..=1).
    pub fn probability(mut self, p: f64) -> FaultRule {
        self.probability = Some(p);
        self
    }

    fn matches(&self, method: &Method, path: &str, route: Option<&str>) -> bool {
        let where_ok = if let Some(p) = &self.path {
            path == p
        } else if let Some(p) = &self.prefix {
            path.starts_with(p.as_str())
        } else if let Some(r) = &self.route {
            route == Some(r.as_str())
        } else {
            false
        };
        where_ok
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
    }

    fn check(&self) -> Result<(), String> {
        let given: Vec<&str> = [
            ("path", &self.path),
            ("prefix", &self.prefix),
            ("route", &self.route),
        ]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| *k)
        .collect();
        if given.len() != 1 {
            return Err(format!(
                "give exactly one of \"path\" (exact), \"prefix\" or \"route\" (a route template such as \
                 /authentication/api/v1/systemregister/vendor/{{system_id}}); got {}",
                if given.is_empty() {
                    "none".to_string()
                } else {
                    given.join(" and ")
                }
            ));
        }
        for (name, v) in [
            ("path", &self.path),
            ("prefix", &self.prefix),
            ("route", &self.route),
        ] {
            let Some(v) = v else { continue };
            if !v.starts_with('/') {
                return Err(format!("\"{name}\" must start with / (got {v:?})"));
            }
            let hits_admin = if name == "prefix" {
                v.starts_with(FAULTS_PATH)
            } else {
                v.trim_end_matches('/') == FAULTS_PATH
            };
            if hits_admin {
                return Err(format!(
                    "{FAULTS_PATH} is never faulted (it is how a plan is changed); pick another {name}"
                ));
            }
        }
        if let Some(m) = &self.method
            && (m.is_empty() || Method::from_bytes(m.as_bytes()).is_err())
        {
            return Err(format!(
                "\"method\" must be an HTTP method such as GET or POST (got {m:?})"
            ));
        }
        let triggers = [
            self.first.is_some(),
            self.every.is_some(),
            self.probability.is_some(),
        ];
        if triggers.iter().filter(|t| **t).count() > 1 {
            return Err(
                "give at most one of \"first\", \"every\" and \"probability\" (none: every matching request)"
                    .into(),
            );
        }
        if self.first == Some(0) {
            return Err("\"first\" must be at least 1".into());
        }
        if self.every == Some(0) {
            return Err("\"every\" must be at least 1 (1 = every request)".into());
        }
        if let Some(p) = self.probability
            && !(p.is_finite() && (0.0..=1.0).contains(&p))
        {
            return Err(format!("\"probability\" must be between 0 and 1 (got {p})"));
        }
        match &self.fault {
            Fault::Latency { ms } if *ms > MAX_LATENCY_MS => Err(format!(
                "latency of {ms} ms is too long (at most {MAX_LATENCY_MS} ms)"
            )),
            Fault::Status { status, .. } if !(500..=599).contains(status) => Err(format!(
                "status faults are 5xx (500, 502, 503, 504, …), got {status}; for 429 use \
                 {{\"kind\": \"rate_limit\", \"retry_after_secs\": N}}"
            )),
            Fault::RateLimit { retry_after_secs } if *retry_after_secs > MAX_RETRY_AFTER_SECS => {
                Err(format!(
                    "retry_after_secs of {retry_after_secs} is too long (at most {MAX_RETRY_AFTER_SECS})"
                ))
            }
            Fault::Status {
                body: Some(body), ..
            }
            | Fault::Malformed { body: Some(body) }
                if body.chars().count() > MAX_BODY_CHARS =>
            {
                Err(format!(
                    "\"body\" is too long (at most {MAX_BODY_CHARS} characters)"
                ))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
/// Why a fault plan was not accepted.
pub enum FaultPlanError {
    #[error("could not read the fault plan {path}: {source}")]
    /// The plan file could not be read.
    Io {
        /// The plan file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// Not JSON, or not the shape of a plan (unknown fields included); `reason` has the line
    /// and column. `origin` says where the plan came from ("in plan.json", "in the request body").
    #[error(
        "the fault plan {origin} is not a valid plan: {reason}\n  hint: a plan looks like {{\"rules\": [{{\"path\": \"/token\", \"first\": 2, \"fault\": {{\"kind\": \"status\", \"status\": 503}}}}]}}; the format is described in crates/sandbox/src/faults.rs"
    )]
    Parse {
        /// Where the plan came from.
        origin: String,
        /// What is wrong, with line and column.
        reason: String,
    },
    /// Well-formed, but a rule or limit is wrong; `reason` names the rule (0-based).
    #[error("the fault plan {origin} is invalid: {reason}")]
    Invalid {
        /// Where the plan came from.
        origin: String,
        /// What is wrong, naming the rule.
        reason: String,
    },
}

impl FaultPlan {
    /// No faults, the real clock.
    pub fn none() -> FaultPlan {
        FaultPlan::default()
    }

    /// Add a rule (tried after the ones already there).
    pub fn rule(mut self, rule: FaultRule) -> FaultPlan {
        self.rules.push(rule);
        self
    }

    /// Move the sandbox's clock by `secs` seconds (token `iat`/`exp`, timestamps).
    pub fn clock_offset(mut self, secs: i64) -> FaultPlan {
        self.clock_offset_secs = secs;
        self
    }

    /// Seed the generator behind `probability` rules.
    pub fn seed(mut self, seed: u64) -> FaultPlan {
        self.seed = Some(seed);
        self
    }

    /// No rules and the real clock.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.clock_offset_secs == 0
    }

    /// Read and check a plan file (for `sandbox serve --faults plan.json`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<FaultPlan, FaultPlanError> {
        let path = path.as_ref();
        let text = super::files::read_to_string_capped(path, super::files::MAX_SMALL_FILE)
            .map_err(|source| FaultPlanError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        FaultPlan::parse(&text, &format!("in {}", path.display()))
    }

    /// Parse and check a plan from JSON text.
    pub fn from_json(text: &str) -> Result<FaultPlan, FaultPlanError> {
        FaultPlan::parse(text, "in the JSON text")
    }

    fn parse(text: &str, origin: &str) -> Result<FaultPlan, FaultPlanError> {
        let plan: FaultPlan = serde_json::from_str(text).map_err(|e| FaultPlanError::Parse {
            origin: origin.to_string(),
            reason: e.to_string(),
        })?;
        plan.validate_as(origin)?;
        Ok(plan)
    }

    /// Check the plan's rules and limits.
    pub fn validate(&self) -> Result<(), FaultPlanError> {
        self.validate_as("given to the sandbox")
    }

    fn validate_as(&self, origin: &str) -> Result<(), FaultPlanError> {
        let invalid = |reason: String| FaultPlanError::Invalid {
            origin: origin.to_string(),
            reason,
        };
        if self.clock_offset_secs.abs() > MAX_CLOCK_OFFSET_SECS {
            return Err(invalid(format!(
                "clock_offset_secs {} is out of range (at most ±{MAX_CLOCK_OFFSET_SECS})",
                self.clock_offset_secs
            )));
        }
        if self.rules.len() > MAX_RULES {
            return Err(invalid(format!(
                "{} rules is too many (at most {MAX_RULES})",
                self.rules.len()
            )));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            rule.check()
                .map_err(|reason| invalid(format!("rule {i}: {reason}")))?;
        }
        Ok(())
    }

    /// The same plan with methods in upper case.
    fn normalized(mut self) -> FaultPlan {
        for r in &mut self.rules {
            if let Some(m) = &mut r.method {
                *m = m.to_ascii_uppercase();
            }
        }
        self
    }
}

/// How often one rule matched and fired since the plan was set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCounter {
    /// Requests whose route and method matched the rule.
    pub seen: u64,
    /// Of those, how many the rule acted on.
    pub fired: u64,
}

/// The active plan and its counters (what `GET /sandbox/faults` answers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultReport {
    /// The active plan.
    pub plan: FaultPlan,
    /// One per rule, in order.
    pub counters: Vec<RuleCounter>,
}

/// The sandbox's fault state, shared by the middleware and the admin routes.
pub(crate) struct Faults {
    active: Mutex<Active>,
    clock_offset: AtomicI64,
}

struct Active {
    plan: FaultPlan,
    counters: Vec<RuleCounter>,
    rng: StdRng,
}

impl Active {
    fn new(plan: FaultPlan) -> Active {
        Active {
            counters: vec![RuleCounter::default(); plan.rules.len()],
            rng: StdRng::seed_from_u64(plan.seed.unwrap_or(0)),
            plan,
        }
    }
}

/// What the middleware does to one request.
#[derive(Debug, Default)]
struct Decision {
    latency_ms: u64,
    fault: Option<Fault>,
}

impl Faults {
    /// Install a checked plan.
    pub fn new(plan: FaultPlan) -> Faults {
        let plan = plan.normalized();
        Faults {
            clock_offset: AtomicI64::new(plan.clock_offset_secs),
            active: Mutex::new(Active::new(plan)),
        }
    }

    /// Replace the plan (checked by the caller) and restart the counters.
    pub fn set(&self, plan: FaultPlan) {
        let plan = plan.normalized();
        let mut a = self.active.lock().unwrap_or_else(|p| p.into_inner());
        self.clock_offset
            .store(plan.clock_offset_secs, Ordering::Relaxed);
        *a = Active::new(plan);
    }

    pub fn report(&self) -> FaultReport {
        let a = self.active.lock().unwrap_or_else(|p| p.into_inner());
        FaultReport {
            plan: a.plan.clone(),
            counters: a.counters.clone(),
        }
    }

    pub fn clock_offset_secs(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    fn decide(&self, method: &Method, path: &str, route: Option<&str>) -> Decision {
        let mut a = self.active.lock().unwrap_or_else(|p| p.into_inner());
        let Active {
            plan,
            counters,
            rng,
        } = &mut *a;
        let mut d = Decision::default();
        for (rule, counter) in plan.rules.iter().zip(counters.iter_mut()) {
            if !rule.matches(method, path, route) {
                continue;
            }
            counter.seen = counter.seen.saturating_add(1);
            let fires = if let Some(n) = rule.first {
                counter.seen <= n
            } else if let Some(n) = rule.every {
                counter.seen % n.max(1) == 0
            } else if let Some(p) = rule.probability {
                rng.r#gen::<f64>() < p
            } else {
                true
            };
            if !fires {
                continue;
            }
            counter.fired = counter.fired.saturating_add(1);
            match &rule.fault {
                Fault::Latency { ms } => d.latency_ms = d.latency_ms.saturating_add(*ms),
                other => {
                    d.fault = Some(other.clone());
                    break;
                }
            }
        }
        d
    }
}

/// The middleware over every route.
pub(crate) async fn inject(State(app): State<Shared>, req: Request, next: Next) -> Response {
    if req.uri().path() == FAULTS_PATH {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let decision = app
        .faults
        .decide(req.method(), req.uri().path(), route.as_deref());
    if decision.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.latency_ms)).await;
    }
    let fault_name = decision.fault.as_ref().map(kind_name);
    if let Some(name) = fault_name {
        tracing::info!(method = %req.method(), path = %req.uri().path(), fault = name, "injecting a fault");
    }
    let mut resp = match decision.fault {
        None => next.run(req).await,
        Some(Fault::Latency { .. }) => next.run(req).await,
        Some(Fault::Status { status, body }) => status_answer(status, body),
        Some(Fault::RateLimit { retry_after_secs }) => rate_limited(retry_after_secs),
        Some(Fault::Drop { after_handler }) => {
            if after_handler {
                drop(next.run(req).await);
            }
            return dropped_connection();
        }
        Some(Fault::Truncate) => truncate(next.run(req).await).await,
        Some(Fault::Malformed { body }) => malformed(body),
    };
    let offset = app.faults.clock_offset_secs();
    if offset != 0 {
        set_skewed_date(resp.headers_mut(), offset);
    }
    resp
}

fn kind_name(f: &Fault) -> &'static str {
    match f {
        Fault::Latency { .. } => "latency",
        Fault::Status { .. } => "status",
        Fault::RateLimit { .. } => "rate_limit",
        Fault::Drop { .. } => "drop",
        Fault::Truncate => "truncate",
        Fault::Malformed { .. } => "malformed",
    }
}

/// `Date` as a server whose clock is `offset` seconds off would send it (hyper only adds its own
/// when the answer has none).
fn set_skewed_date(headers: &mut HeaderMap, offset: i64) {
    let now = SystemTime::now();
    let delta = Duration::from_secs(offset.unsigned_abs());
    let then = if offset >= 0 {
        now.checked_add(delta)
    } else {
        now.checked_sub(delta)
    };
    if let Some(t) = then
        && let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(t))
    {
        headers.insert(header::DATE, v);
    }
}

fn status_answer(status: u16, body: Option<String>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = body.unwrap_or_else(|| {
        format!(
            "sandbox fault: {} {} (injected by the fault plan)",
            code.as_u16(),
            code.canonical_reason().unwrap_or("Server Error")
        )
    });
    let ct = if body.trim_start().starts_with(['{', '[']) {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut resp = (code, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

/// guess: Altinn's and Maskinporten's gateways are Azure API Management; its rate-limit policy
/// answers 429 with `Retry-After` and this body.
fn rate_limited(secs: u64) -> Response {
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(json!({
            "statusCode": 429,
            "message": format!("Rate limit is exceeded. Try again in {secs} seconds."),
        })),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

fn malformed(body: Option<String>) -> Response {
    let mut resp = (
        StatusCode::OK,
        body.unwrap_or_else(|| DEFAULT_MALFORMED_BODY.to_string()),
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TRUNCATE_BYTES).await else {
        return dropped_connection();
    };
    let cut: Bytes = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}

/// A body that fails before yielding anything: hyper then closes the connection without
/// flushing the head it buffered, so the client sees the connection end with no answer
/// (reqwest: "connection closed before message completed").
struct FailingBody;

impl HttpBody for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: connection dropped",
        ))))
    }
}

fn dropped_connection() -> Response {
    Response::new(Body::new(FailingBody))
}

// ---------------------------------------------------------------------------------------------
// Admin routes
// ---------------------------------------------------------------------------------------------

fn report_json(app: &Shared) -> Response {
    let report = app.faults.report();
    (
        StatusCode::OK,
        axum::Json(serde_json::to_value(&report).unwrap_or(Value::Null)),
    )
        .into_response()
}

/// sandbox: `GET /sandbox/faults` — the plan and its counters.
pub(crate) async fn get_plan(State(app): State<Shared>) -> Response {
    report_json(&app)
}

/// sandbox: `PUT /sandbox/faults` — replace the plan (counters restart).
pub(crate) async fn put_plan(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A plan breaks every participant's sandbox: only the host may set one.
    if let Err(refused) = super::admin::require_host_secret(&app, &headers) {
        return refused;
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if !is_json {
        return sandbox_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the plan as JSON with Content-Type: application/json",
        );
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return sandbox_error(
            StatusCode::BAD_REQUEST,
            "invalid_fault_plan",
            "The body is not UTF-8",
        );
    };
    match FaultPlan::parse(text, "in the request body") {
        Ok(plan) => {
            tracing::info!(
                rules = plan.rules.len(),
                clock_offset_secs = plan.clock_offset_secs,
                "fault plan set"
            );
            app.faults.set(plan);
            report_json(&app)
        }
        Err(e) => sandbox_error(StatusCode::BAD_REQUEST, "invalid_fault_plan", e.to_string()),
    }
}

/// sandbox: `DELETE /sandbox/faults` — no faults, the real clock.
pub(crate) async fn delete_plan(State(app): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(refused) = super::admin::require_host_secret(&app, &headers) {
        return refused;
    }
    app.faults.set(FaultPlan::none());
    tracing::info!("fault plan cleared");
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("faults.rs");
        let start = doc.find("//! ```json").map(|i| i + "//! ```json".len());
        let example: String = start
            .and_then(|s| doc[s..].find("//! ```").map(|e| &doc[s..s + e]))
            .unwrap_or("")
            .lines()
            .map(|l| l.trim_start().trim_start_matches("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let plan = FaultPlan::from_json(&example).unwrap_or_else(|e| panic!("{e}\n{example}"));
        assert_eq!(plan.rules.len(), 6);
        assert_eq!(plan.seed, Some(7));
        assert_eq!(plan.rules[1].fault, Fault::rate_limit(1));
        assert_eq!(plan.rules[2].fault, Fault::dropped_connection());
        assert_eq!(plan.rules[4].fault, Fault::Truncate);
    }

    #[test]
    fn mistakes_get_clear_errors() {
        let cases = [
            (r#"{"rules":[{"fault":{"kind":"drop"}}]}"#, "exactly one of"),
            (
                r#"{"rules":[{"path":"/a","prefix":"/b","fault":{"kind":"drop"}}]}"#,
                "path and prefix",
            ),
            (
                r#"{"rules":[{"path":"token","fault":{"kind":"drop"}}]}"#,
                "must start with /",
            ),
            (
                r#"{"rules":[{"path":"/token","first":1,"every":2,"fault":{"kind":"drop"}}]}"#,
                "at most one of",
            ),
            (
                r#"{"rules":[{"path":"/token","fault":{"kind":"status","status":429}}]}"#,
                "rate_limit",
            ),
            (
                r#"{"rules":[{"path":"/token","probabilty":0.5,"fault":{"kind":"drop"}}]}"#,
                "unknown field `probabilty`",
            ),
            (
                r#"{"rules":[{"path":"/token","fault":{"kind":"explode"}}]}"#,
                "unknown variant `explode`",
            ),
            (
                r#"{"rules":[{"path":"/token","fault":{"kind":"latency","ms":5,"extra":1}}]}"#,
                "unknown field `extra`",
            ),
            (
                r#"{"rules":[{"prefix":"/sandbox/faults","fault":{"kind":"drop"}}]}"#,
                "never faulted",
            ),
            (
                r#"{"rules":[{"path":"/token","method":"GE T","fault":{"kind":"drop"}}]}"#,
                "HTTP method",
            ),
            (
                r#"{"rules":[{"path":"/token","probability":1.5,"fault":{"kind":"drop"}}]}"#,
                "between 0 and 1",
            ),
            (r#"{"clock_offset_secs": 99999999999}"#, "out of range"),
            (r#"{"rules": [}"#, "not a valid plan"),
        ];
        for (json, want) in cases {
            let err = FaultPlan::from_json(json).expect_err(json).to_string();
            assert!(err.contains(want), "{json}: {err}");
        }
    }

    #[test]
    fn first_every_and_latency_are_counted_per_rule() {
        let plan = FaultPlan::none()
            .rule(FaultRule::prefix("/", Fault::latency_ms(5)))
            .rule(
                FaultRule::path("/a", Fault::status(503))
                    .method("get")
                    .first(2),
            )
            .rule(FaultRule::path("/a", Fault::status(502)).every(2));
        plan.validate().expect("valid");
        let f = Faults::new(plan);
        let got: Vec<Option<u16>> = (0..6)
            .map(|_| {
                let d = f.decide(&Method::GET, "/a", None);
                assert_eq!(d.latency_ms, 5);
                match d.fault {
                    Some(Fault::Status { status, .. }) => Some(status),
                    _ => None,
                }
            })
            .collect();
        // Rule 1 takes requests 1 and 2; rule 2 counts only what reaches it (3..6): 4th and 6th.
        assert_eq!(
            got,
            [Some(503), Some(503), None, Some(502), None, Some(502)]
        );
        assert!(f.decide(&Method::POST, "/b", None).fault.is_none());
        let r = f.report();
        assert_eq!(r.counters[0], RuleCounter { seen: 7, fired: 7 });
        assert_eq!(r.counters[1], RuleCounter { seen: 6, fired: 2 });
        assert_eq!(r.counters[2], RuleCounter { seen: 4, fired: 2 });
        assert_eq!(r.plan.rules[1].method.as_deref(), Some("GET"));
    }

    #[test]
    fn probability_is_reproducible_with_a_seed() {
        let run = |seed| {
            let f = Faults::new(
                FaultPlan::none()
                    .seed(seed)
                    .rule(FaultRule::prefix("/", Fault::dropped_connection()).probability(0.5)),
            );
            (0..64)
                .map(|_| f.decide(&Method::GET, "/x", None).fault.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        let hits = run(1).iter().filter(|h| **h).count();
        assert!((16..=48).contains(&hits), "{hits}");
    }

    #[test]
    fn route_templates_match_the_matched_route() {
        let f =
            Faults::new(FaultPlan::none().rule(FaultRule::route("/x/{id}", Fault::status(500))));
        assert!(
            f.decide(&Method::GET, "/x/1", Some("/x/{id}"))
                .fault
                .is_some()
        );
        assert!(f.decide(&Method::GET, "/x/{id}", None).fault.is_none());
    }
}
