//! The onboarding as a pure state machine: `Flow::update(msg) -> Vec<Effect>`.
//!
//! No I/O and no clock: user intents and the results of effects come in as [`Msg`], what must
//! happen next goes out as [`Effect`] data. The [`crate::runner`] executes effects with the real
//! clients and feeds the results back; the wizard runs them in tokio tasks, the CLI one after
//! another. Everything the user has achieved lives in the [`Profile`], so a flow can be rebuilt
//! from a saved profile and resumes at the first unfinished step.

use crate::altinn::model::{
    AccessPackage, CreateRequest, RequestStatus, Right, SystemRegistration, VendorRef,
};
use crate::env::{EnvKind, EnvSetting};
use crate::profile::{
    Profile, RegistrationRecord, RequestKind, RequestRecord, SystemSpec, TestCallRecord,
};
use crate::secret::Secret;
use crate::validate::{self, ValidationError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

mod customers_screen;
pub use customers_screen::{CustomersLoad, CustomersView, LoadState, row_label, status_words};

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Environment,
    Key,
    Client,
    System,
    Request,
    Approval,
    Polling,
    TestCall,
    Done,
}

impl Step {
    pub const ALL: [Step; 9] = [
        Step::Environment,
        Step::Key,
        Step::Client,
        Step::System,
        Step::Request,
        Step::Approval,
        Step::Polling,
        Step::TestCall,
        Step::Done,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Step::Environment => "Environment",
            Step::Key => "Key pair",
            Step::Client => "Maskinporten client",
            Step::System => "System registration",
            Step::Request => "System user request",
            Step::Approval => "Customer approval",
            Step::Polling => "Waiting for approval",
            Step::TestCall => "Test call",
            Step::Done => "Done",
        }
    }

    pub fn index(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn next(self) -> Step {
        Step::ALL
            .get(self.index() + 1)
            .copied()
            .unwrap_or(Step::Done)
    }

    pub fn prev(self) -> Step {
        self.index()
            .checked_sub(1)
            .map(|i| Step::ALL[i])
            .unwrap_or(Step::Environment)
    }
}

/// How a step looks in the step list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Done,
    Current,
    Pending,
    Failed,
}

/// Why something failed, which decides what the user can do and the CLI exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad input; nothing was sent. Exit code 1.
    Validation,
    /// Local problem (files, keys, profile). Exit code 1.
    Local,
    /// The remote said no (4xx with OAuth error or ProblemDetails). Exit code 2.
    Rejected,
    /// Network or server failure. Exit code 3.
    Network,
    /// The customer rejected or the request expired. Exit code 4.
    Refused,
}

/// An error as the flow shows it: the step it belongs to, a message and a fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowError {
    pub step: Step,
    pub kind: ErrorKind,
    /// The input field it concerns, for validation errors.
    pub field: Option<String>,
    pub message: String,
    /// The remote's error code (AUTH-xxxxx, MP-xxx, OAuth `invalid_grant`), when one answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The remote's HTTP status, when one answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// A failed effect, as reported by the runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    /// The remote's error code (AUTH-xxxxx, AUTH.VLD-xxxxx, MP-xxx, OAuth `invalid_grant`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The remote's HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            code: None,
            status: None,
        }
    }

    /// The same failure with the remote's code and HTTP status attached.
    pub fn with_upstream(mut self, code: Option<String>, status: Option<u16>) -> Self {
        self.code = code;
        self.status = status;
        self
    }
}

/// The key as the flow knows it (never the private part).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub path: PathBuf,
    pub public_jwk: serde_json::Value,
    pub bits: usize,
    /// RFC 7638 thumbprint of the public key: tells two keys apart even under the same kid.
    pub thumbprint: String,
    /// Set when the key file is inside a git work tree.
    pub warning: Option<String>,
}

/// What the system registration did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistrationSummary {
    pub system_id: String,
    /// "created", "updated" or "unchanged".
    pub outcome: String,
    pub changes: Vec<String>,
    pub client_id: String,
    pub at: DateTime<Utc>,
}

/// The test call's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestCallSummary {
    pub record: TestCallRecord,
    /// Decoded, non-secret claims of the system-user token.
    pub token_claims: serde_json::Value,
    pub token_expires_in: i64,
    pub response_json: Option<serde_json::Value>,
    /// The response headers worth showing (content type, request ids, ...).
    pub headers: Vec<(String, String)>,
}

/// A status answer from polling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusUpdate {
    pub request_id: String,
    pub status: RequestStatus,
    pub confirm_url: Option<String>,
    pub at: DateTime<Utc>,
    /// Sandbox only: why the customer's last approval attempt was refused (the request is
    /// still New). TT02 and production do not tell the vendor.
    pub refusal: Option<ApprovalRefusal>,
}

/// An approval the customer tried and Altinn refused, as the sandbox reports it
/// (`GET /sandbox/requests/{id}` -> `lastRefusal`): the Altinn code, which right or package,
/// why, and what must change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ApprovalRefusal {
    /// e.g. "AUTH-00071"
    pub code: String,
    pub status: u16,
    pub title: String,
    pub detail: String,
    /// The single right (resource id) or access package urn at fault, if one is.
    #[serde(default, alias = "subject")]
    pub subject: Option<String>,
    pub fix: String,
    /// The seeded person who tried (handle) and their name.
    pub person: String,
    #[serde(alias = "personName")]
    pub person_name: String,
    pub at: DateTime<Utc>,
}

impl ApprovalRefusal {
    /// The lines the CLI and the wizard show.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "the customer's approval was refused by Altinn: {} {}",
            self.code, self.title
        )];
        if let Some(s) = &self.subject {
            out.push(format!("right/package: {s}"));
        }
        out.push(format!("why: {}", self.detail));
        out.push(format!("what to change: {}", self.fix));
        out.push(format!("tried by: {} ({})", self.person_name, self.person));
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PollState {
    pub request_id: String,
    pub generation: u64,
    pub attempts: u32,
    pub interval: Duration,
    pub started_at: Option<DateTime<Utc>>,
    pub last_checked_at: Option<DateTime<Utc>>,
    /// A transient error on the last poll (we keep polling).
    pub last_error: Option<String>,
    pub active: bool,
    /// Sandbox only: the customer's last approval attempt was refused (see [`ApprovalRefusal`]).
    pub refusal: Option<ApprovalRefusal>,
}

/// What is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Busy {
    Key,
    Client,
    System,
    Request,
    Browser,
    Polling,
    TestCall,
    /// Creating a change request (finding the system user first).
    Change,
}

/// Fields of the system step's form, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SystemForm {
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// Resource ids, separated by spaces or commas.
    pub rights: String,
    /// Access package URNs (or bare names), separated by spaces or commas.
    pub access_packages: String,
    pub redirect_urls: String,
    pub is_visible: bool,
}

impl SystemForm {
    pub fn from_spec(spec: &SystemSpec) -> Self {
        SystemForm {
            name: spec.name.clone(),
            display_name: spec
                .display_name
                .get("nb")
                .or_else(|| spec.display_name.values().next())
                .cloned()
                .unwrap_or_default(),
            description: spec
                .description
                .get("nb")
                .or_else(|| spec.description.values().next())
                .cloned()
                .unwrap_or_default(),
            rights: spec.rights.join(" "),
            access_packages: spec.access_packages.join(" "),
            redirect_urls: spec.allowed_redirect_urls.join(" "),
            is_visible: spec.is_visible,
        }
    }
}

/// A call with the system-user token. Unset fields take the wizard's defaults: GET, no body,
/// the profile's system-user scopes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiCall {
    pub url: Option<String>,
    pub method: Option<String>,
    pub body: Option<serde_json::Value>,
    pub scope: Option<Vec<String>>,
}

/// Fields of the request step's form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestForm {
    pub customer_org: String,
    pub agent: bool,
    pub external_ref: String,
}

/// A change request as typed (`request change`, the Done step's `c`): rights and access
/// packages to add to a customer's existing system user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeForm {
    pub customer_org: String,
    /// Resource ids, separated by spaces or commas.
    pub add_rights: String,
    /// Access package URNs (or bare names), separated by spaces or commas.
    pub add_access_packages: String,
}

/// What creating a change request came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeOutcome {
    /// The change request (kind `Change`). With status `NoChangeNeeded` it was not stored by
    /// Altinn (nothing to approve), and the profile does not keep it.
    pub record: RequestRecord,
    /// What was asked for that the system user has already (left out of the request).
    pub already_rights: Vec<String>,
    pub already_access_packages: Vec<String>,
}

impl ChangeOutcome {
    /// The resource ids and package urns the change request asks the customer for.
    pub fn asked(&self) -> Vec<String> {
        self.record
            .change
            .as_ref()
            .map(|c| {
                c.add_rights
                    .iter()
                    .chain(c.add_access_packages.iter())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    // --- user intents ---
    SelectEnvironment(EnvSetting),
    GenerateKey {
        bits: u32,
        kid: Option<String>,
    },
    /// `source` may be the private key itself, so it is a [`Secret`]: logging a message or an
    /// effect with `{:?}` shows only a redacted form.
    ImportKey {
        source: Secret,
        kid: Option<String>,
    },
    SubmitClient {
        vendor_org: String,
        client_id: String,
        scopes: String,
    },
    /// TT02/prod: the user says the public JWK is uploaded to the client in the portal.
    ConfirmClientUploaded,
    /// The next key generated or imported may replace the key registered with the client
    /// (`keys generate --replace`); without it the flow refuses once and explains.
    AllowKeyReplacement,
    SubmitSystem(SystemForm),
    /// The system step's rights picker ([`picker`]).
    Picker(PickerMsg),
    SubmitRequest(RequestForm),
    /// Ask a customer to add rights or access packages to its system user.
    SubmitChange(ChangeForm),
    OpenBrowser,
    /// Skip the browser (headless, or opened by hand) and start polling.
    StartPolling,
    PollNow,
    CancelPolling,
    SubmitTestCall {
        url: Option<String>,
    },
    /// A call with the system-user token to any API (`altinn-onboard call`).
    SubmitApiCall(ApiCall),
    /// Poll one request's status, which need not be the profile's current one
    /// (`request status --id`).
    PollRequest {
        request_id: String,
    },
    Retry,
    GoTo(Step),
    DismissError,
    // --- effect results ---
    KeyReady(Result<KeyInfo, Failure>),
    ClientRegistered(Result<String, Failure>),
    /// The server is not a sandbox (it says so in its metadata): the client id given is kept,
    /// and, as in TT02, the user uploads the public JWK in that server's portal and confirms.
    ClientAwaitsUpload {
        client_id: String,
    },
    SystemRegistered(Result<RegistrationSummary, Failure>),
    RequestCreated(Result<RequestRecord, Failure>),
    ChangeRequested(Result<ChangeOutcome, Failure>),
    BrowserOpened(Result<(), Failure>),
    StatusPolled {
        generation: u64,
        result: Result<StatusUpdate, Failure>,
    },
    TestCallDone(Result<TestCallSummary, Failure>),
    ProfileSaved(Result<(), Failure>),
    /// The environment's session (and on the sandbox the emulator) could not be opened: the
    /// remote effects waiting for it were dropped.
    SessionFailed(Failure),
    /// The environment's session is open. A saved request's confirmUrl may name a server that
    /// is gone (the embedded sandbox listens on a new port each run): ask for it again.
    SessionOpened,
    /// The current request as the session's server has it now (its confirmUrl, its status).
    RequestRefreshed(Result<StatusUpdate, Failure>),
    /// Run the readiness check (TT02/production, before the key step; `doctor` runs the same).
    CheckReadiness,
    /// Its result: what was checked, what could not be and why, the ready e-mails.
    ReadinessChecked(crate::readiness::ReadinessReport),
    // --- the customers screen (`flow/customers_screen.rs`) ---
    /// Show the customers screen; the first time, load every customer.
    OpenCustomers,
    CloseCustomers,
    /// Read every page again.
    LoadCustomers,
    /// A page of a load was read.
    CustomersProgress {
        generation: u64,
        progress: crate::customers::LoadProgress,
    },
    CustomersLoaded {
        generation: u64,
        result: Result<CustomersLoad, Failure>,
    },
    /// Make a listed customer the current one (a pending one's confirmUrl is fetched again).
    SelectCustomer {
        org: String,
    },
    /// Select an accepted customer and run the test call with its system-user token.
    CheckCustomerToken {
        org: String,
    },
    /// Select an accepted customer and go to the Done step, whose change action asks it for
    /// more rights.
    StartChange {
        org: String,
    },
}

/// Work for the runner.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    GenerateKey {
        bits: u32,
        kid: Option<String>,
    },
    /// `source` is a file path, or the key text itself (PEM, JWK, base64 JWK).
    ImportKey {
        source: Secret,
        kid: Option<String>,
    },
    /// Sandbox/custom: create the client with the public key (stand-in for Digdir's portal).
    RegisterClient {
        vendor_org: String,
        scopes: Vec<String>,
        client_id: Option<String>,
        /// The profile's client when the vendor organisation changed: the portal replaces it
        /// (a client's organisation is fixed) instead of keeping the old organisation.
        previous: Option<String>,
    },
    RegisterSystem {
        registration: SystemRegistration,
    },
    /// The rights picker's timer, searches and look-ups ([`picker`]).
    Picker(PickerEffect),
    /// Create a request; delete a refused one for the same triple first (the API hands back
    /// the old request otherwise).
    CreateRequest {
        body: CreateRequest,
        agent: bool,
        delete_first: Option<String>,
    },
    /// Find the customer's system user (`systemuser/vendor/byquery`), leave out what it has
    /// already, and create a change request for the rest under a fresh correlation id (never
    /// the system user's id). Nothing left: an empty change request, which Altinn answers
    /// `NoChangeNeeded`.
    CreateChangeRequest {
        system_id: String,
        customer_org: String,
        external_ref: Option<String>,
        add_rights: Vec<String>,
        add_access_packages: Vec<String>,
    },
    OpenBrowser {
        url: String,
    },
    PollStatus {
        request_id: String,
        agent: bool,
        after: Duration,
        generation: u64,
    },
    TestCall {
        url: Option<String>,
        /// An HTTP method name, upper case ("GET" for the wizard's test call).
        method: String,
        /// A JSON body to send.
        body: Option<serde_json::Value>,
        customer_org: String,
        external_ref: Option<String>,
        scope: Vec<String>,
    },
    SaveProfile(Box<Profile>),
    /// Fetch a request once, quietly (no busy state, no error on failure), to refresh what
    /// the profile saved about it: its confirmUrl and status.
    RefreshRequest {
        request_id: String,
        agent: bool,
    },
    /// The readiness check ([`crate::readiness::check`]); answers [`Msg::ReadinessChecked`].
    CheckReadiness,
    /// Read every page of the system's requests, agent requests and system users; the wizard
    /// reports each page as [`Msg::CustomersProgress`].
    LoadCustomers {
        generation: u64,
    },
}

impl Effect {
    /// Whether the effect talks to a remote service (for "quit while in flight?").
    pub fn is_remote(&self) -> bool {
        !matches!(
            self,
            Effect::GenerateKey { .. }
                | Effect::ImportKey { .. }
                | Effect::SaveProfile(_)
                | Effect::OpenBrowser { .. }
        ) && !matches!(self, Effect::Picker(p) if !p.is_remote())
    }
}

/// Polling cadence. The sandbox answers instantly, so a short interval; TT02 shows approval
/// 10-20 s after the click, so backing off to 10 s costs nothing there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollConfig {
    pub first: Duration,
    pub max: Duration,
    pub factor: f64,
    /// Give up (client side) after this many attempts; the request stays valid.
    pub max_attempts: u32,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            first: Duration::from_secs(2),
            max: Duration::from_secs(10),
            factor: 1.5,
            max_attempts: 360,
        }
    }
}

impl PollConfig {
    pub fn fast() -> Self {
        PollConfig {
            first: Duration::from_millis(500),
            max: Duration::from_secs(2),
            factor: 1.5,
            max_attempts: 1800,
        }
    }

    pub fn next_interval(&self, current: Duration) -> Duration {
        current.mul_f64(self.factor).min(self.max)
    }
}

/// The onboarding state.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub profile: Profile,
    pub step: Step,
    pub busy: Option<Busy>,
    pub error: Option<FlowError>,
    /// A one-line success or information message for the current step.
    pub notice: Option<String>,
    pub key: Option<KeyInfo>,
    pub registration: Option<RegistrationSummary>,
    /// The rights picker of the system step, while it is open.
    pub picker: Option<RightsPicker>,
    /// The picks the picker handed over on Confirm, for the system form to take.
    pub picked: Option<Selection>,
    pub polling: Option<PollState>,
    pub test: Option<TestCallSummary>,
    /// The last change request made here (the Done step shows it, with its confirmUrl).
    pub change: Option<ChangeOutcome>,
    pub poll_config: PollConfig,
    /// A custom server that is not a sandbox took the client id: the JWK upload awaits the
    /// user's confirmation (on TT02/production that is implied by the environment).
    pub client_awaits_upload: bool,
    /// Every customer of the system, as the customers screen shows it.
    pub customers: CustomersView,
    /// The last remote effect, for Retry.
    last_effect: Option<Effect>,
    poll_generation: u64,
    /// A new key may replace the one registered with the client: set by
    /// [`Msg::AllowKeyReplacement`] (`keys generate --replace`), or by a first refused attempt
    /// in the wizard, so that asking again confirms.
    key_replacement_allowed: bool,
    /// The readiness check: not run, running, or its report. It blocks nothing (the user may
    /// go on while it runs), so it is not a [`Busy`].
    pub readiness: Readiness,
}

/// The state of the readiness check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Readiness {
    #[default]
    NotRun,
    Running,
    Done(crate::readiness::ReadinessReport),
}

/// The first step whose work is not done yet, from a saved profile.
pub fn resume_step(p: &Profile) -> Step {
    if p.key_path.is_none() || p.kid.is_none() {
        return Step::Key;
    }
    if p.vendor_org.is_none()
        || p.client_id.is_none()
        || p.scopes.is_empty()
        || !p.client_registered
    {
        return Step::Client;
    }
    let registered = p.system_registered.as_ref().is_some_and(|r| {
        Some(&r.system_id) == p.system_id().as_ref() && r.client_id == p.client_id
    });
    if p.system.is_none() || !registered {
        return Step::System;
    }
    let Some(req) = p.current_request() else {
        return Step::Request;
    };
    if req.status.is_pending() {
        return Step::Approval;
    }
    if !req.status.is_accepted() {
        return Step::Request;
    }
    match &p.last_test_call {
        Some(t) if (200..300).contains(&t.status) => Step::Done,
        _ => Step::TestCall,
    }
}

impl Flow {
    /// A brand-new profile starts by choosing the environment.
    pub fn new(profile: Profile) -> Self {
        let fresh = profile.key_path.is_none() && profile.client_id.is_none();
        let mut f = Flow::resume(profile);
        if fresh {
            f.step = Step::Environment;
        }
        f
    }

    /// Resume a saved profile at its first unfinished step.
    pub fn resume(profile: Profile) -> Self {
        let step = resume_step(&profile);
        let poll_config = if profile.environment.kind == EnvKind::Sandbox {
            PollConfig::fast()
        } else {
            PollConfig::default()
        };
        Flow {
            step,
            busy: None,
            error: None,
            notice: None,
            key: None,
            registration: None,
            picker: None,
            picked: None,
            polling: None,
            test: None,
            change: None,
            poll_config,
            client_awaits_upload: false,
            customers: CustomersView::default(),
            last_effect: None,
            poll_generation: 0,
            key_replacement_allowed: false,
            readiness: Readiness::NotRun,
            profile,
        }
    }

    /// Refuse (once) a new key while the current one is registered with a client: the client
    /// would keep the old public key, and `token` and `call` would fail until `client set` (or
    /// an upload in the portal) registered the new one. Returns true when refused; the refusal
    /// arms the confirmation, so asking again (the wizard's second `g`) goes ahead.
    fn refuse_key_replacement(&mut self) -> bool {
        let Some(client_id) = self
            .profile
            .client_id
            .clone()
            .filter(|_| self.profile.client_registered && self.profile.kid.is_some())
        else {
            return false;
        };
        if self.key_replacement_allowed {
            return false;
        }
        self.key_replacement_allowed = true;
        let kid = self.profile.kid.clone().unwrap_or_default();
        let next = if self.is_sandbox_like() {
            "`client set` registers the new key with it"
        } else {
            "upload the new public JWK to the client in Digdir's self-service portal, then run `client set --confirm-uploaded`"
        };
        self.fail(
            Step::Key,
            ErrorKind::Validation,
            format!(
                "this profile's key {kid} is registered with Maskinporten client {client_id}; a new key replaces it here, and `token` and `call` fail until the client has the new public key ({next})\n  hint: to replace it anyway run `keys generate --replace` (or `keys import --replace`); in the wizard, press the same key again"
            ),
        );
        true
    }

    /// The furthest step the user may go to now.
    pub fn reachable(&self) -> Step {
        resume_step(&self.profile)
    }

    /// Done / current / pending / failed for the step list.
    pub fn step_state(&self, step: Step) -> StepState {
        if step == self.step {
            return if self
                .error
                .as_ref()
                .is_some_and(|e| e.step == step && e.kind != ErrorKind::Validation)
            {
                StepState::Failed
            } else {
                StepState::Current
            };
        }
        let reach = self.reachable();
        let done = match step {
            Step::Environment => true,
            Step::Approval | Step::Polling => {
                self.profile
                    .current_request()
                    .is_some_and(|r| !r.status.is_pending())
                    && reach > Step::Polling
            }
            Step::Done => reach == Step::Done,
            s => s < reach,
        };
        if done {
            StepState::Done
        } else {
            StepState::Pending
        }
    }

    /// True while a remote call is in flight (quitting then needs confirmation).
    pub fn in_flight(&self) -> bool {
        self.busy.is_some_and(|b| b != Busy::Polling)
            || self.polling.as_ref().is_some_and(|p| p.active)
    }

    fn fail(&mut self, step: Step, kind: ErrorKind, message: impl Into<String>) {
        self.error = Some(FlowError {
            step,
            kind,
            field: None,
            message: message.into(),
            code: None,
            status: None,
        });
    }

    /// A failed effect, keeping the remote's code and status.
    fn failed(&mut self, step: Step, f: Failure) {
        self.error = Some(FlowError {
            step,
            kind: f.kind,
            field: None,
            message: f.message,
            code: f.code,
            status: f.status,
        });
    }

    fn invalid(&mut self, e: ValidationError) {
        self.error = Some(FlowError {
            step: self.step,
            kind: ErrorKind::Validation,
            field: Some(e.field.to_string()),
            message: e.to_string(),
            code: None,
            status: None,
        });
    }

    fn save(&self) -> Effect {
        Effect::SaveProfile(Box::new(self.profile.clone()))
    }

    fn remote(&mut self, busy: Busy, effect: Effect) -> Vec<Effect> {
        self.busy = Some(busy);
        self.error = None;
        self.notice = None;
        self.last_effect = Some(effect.clone());
        vec![effect]
    }

    fn is_sandbox_like(&self) -> bool {
        matches!(
            self.profile.environment.kind,
            EnvKind::Sandbox | EnvKind::Custom
        )
    }

    /// Advance the state machine.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::SelectEnvironment(setting) => self.select_environment(setting),
            Msg::AllowKeyReplacement => {
                self.key_replacement_allowed = true;
                vec![]
            }
            Msg::GenerateKey { bits, kid } => {
                if let Some(k) = &kid
                    && let Err(e) = validate::kid(k)
                {
                    self.invalid(e);
                    return vec![];
                }
                if !matches!(bits, 2048 | 3072 | 4096) {
                    self.fail(Step::Key, ErrorKind::Validation, format!("key size {bits} is not supported: use 2048 (Maskinporten's portal expects it), 3072 or 4096"));
                    return vec![];
                }
                if self.refuse_key_replacement() {
                    return vec![];
                }
                self.remote(Busy::Key, Effect::GenerateKey { bits, kid })
            }
            Msg::ImportKey { source, kid } => {
                if source.expose().trim().is_empty() {
                    self.fail(
                        Step::Key,
                        ErrorKind::Validation,
                        "give a key file path, or paste a PEM, JWK or base64-encoded JWK",
                    );
                    return vec![];
                }
                if let Some(k) = &kid
                    && let Err(e) = validate::kid(k)
                {
                    self.invalid(e);
                    return vec![];
                }
                if self.refuse_key_replacement() {
                    return vec![];
                }
                self.remote(Busy::Key, Effect::ImportKey { source, kid })
            }
            Msg::KeyReady(res) => {
                self.busy = None;
                match res {
                    Ok(info) => {
                        // A different key under the same kid is a different key too: the
                        // client must get it, or every grant fails its signature check.
                        let key_changed = self.profile.kid.as_deref() != Some(info.kid.as_str())
                            || self.profile.key_thumbprint.as_deref()
                                != Some(info.thumbprint.as_str());
                        self.profile.kid = Some(info.kid.clone());
                        self.profile.key_thumbprint = Some(info.thumbprint.clone());
                        self.profile.key_path = Some(info.path.clone());
                        if key_changed {
                            // A new key must be registered with the client again (in every
                            // environment; the portal's kid for the old key is void).
                            self.profile.key_replaced();
                        }
                        self.key_replacement_allowed = false;
                        self.notice =
                            Some(format!("key {} saved to {}", info.kid, info.path.display()));
                        self.key = Some(info);
                        self.step = Step::Client;
                        vec![self.save()]
                    }
                    Err(f) => {
                        self.failed(Step::Key, f);
                        vec![]
                    }
                }
            }
            Msg::SubmitClient {
                vendor_org,
                client_id,
                scopes,
            } => self.submit_client(vendor_org, client_id, scopes),
            Msg::ConfirmClientUploaded => {
                if self.profile.client_id.is_none() || self.profile.vendor_org.is_none() {
                    self.fail(
                        Step::Client,
                        ErrorKind::Validation,
                        "enter the client id, vendor organisation and scopes first",
                    );
                    return vec![];
                }
                self.profile.client_registered = true;
                self.client_awaits_upload = false;
                self.error = None;
                self.step = Step::System;
                vec![self.save()]
            }
            Msg::ClientAwaitsUpload { client_id } => {
                self.busy = None;
                if self.profile.client_id.as_deref() != Some(client_id.as_str()) {
                    self.profile.system_registered = None;
                }
                self.profile.client_id = Some(client_id.clone());
                self.profile.client_registered = false;
                self.client_awaits_upload = true;
                self.error = None;
                self.notice = Some(format!(
                    "this server is not an altinn-onboard sandbox: upload the public JWK to client {client_id} in its portal, then confirm"
                ));
                vec![self.save()]
            }
            Msg::ClientRegistered(res) => {
                self.busy = None;
                match res {
                    Ok(client_id) => {
                        if self.profile.client_id.as_deref() != Some(client_id.as_str()) {
                            self.profile.system_registered = None;
                        }
                        self.profile.client_id = Some(client_id.clone());
                        self.profile.client_registered = true;
                        self.client_awaits_upload = false;
                        self.notice =
                            Some(format!("client {client_id} is registered with this key"));
                        self.step = Step::System;
                        vec![self.save()]
                    }
                    Err(f) => {
                        self.failed(Step::Client, f);
                        vec![]
                    }
                }
            }
            Msg::SubmitSystem(form) => self.submit_system(form),
            Msg::Picker(m) => self.update_picker(m),
            Msg::SystemRegistered(res) => {
                self.busy = None;
                match res {
                    Ok(summary) => {
                        self.profile.system_registered = Some(RegistrationRecord {
                            system_id: summary.system_id.clone(),
                            at: summary.at,
                            outcome: summary.outcome.clone(),
                            client_id: Some(summary.client_id.clone()),
                        });
                        self.notice = Some(match summary.outcome.as_str() {
                            "created" => format!("system {} created", summary.system_id),
                            "unchanged" => {
                                format!("system {} already up to date", summary.system_id)
                            }
                            _ => format!(
                                "system {} updated: {}",
                                summary.system_id,
                                summary.changes.join(", ")
                            ),
                        });
                        self.registration = Some(summary);
                        self.step = Step::Request;
                        vec![self.save()]
                    }
                    Err(f) => {
                        self.failed(Step::System, f);
                        vec![]
                    }
                }
            }
            Msg::SubmitRequest(form) => self.submit_request(form),
            Msg::SubmitChange(form) => self.submit_change(form),
            Msg::ChangeRequested(res) => self.change_requested(res),
            Msg::RequestCreated(res) => {
                self.busy = None;
                match res {
                    Ok(rec) => {
                        self.profile.customer_org = Some(rec.customer_org.clone());
                        let status = rec.status.clone();
                        self.notice = Some(format!("request {} is {}", rec.id, rec.status));
                        self.profile.upsert_request(rec);
                        self.profile.last_test_call = None;
                        self.step = if status.is_accepted() {
                            Step::TestCall
                        } else if status.is_pending() {
                            Step::Approval
                        } else {
                            self.fail(
                                Step::Request,
                                ErrorKind::Refused,
                                format!(
                                    "the existing request is {status}; submit again to replace it"
                                ),
                            );
                            Step::Request
                        };
                        vec![self.save()]
                    }
                    Err(f) => {
                        self.failed(Step::Request, f);
                        vec![]
                    }
                }
            }
            // On the Done step, the pending change request's page. The change request is being
            // polled already (busy stays `Polling`, which blocks no key), so opening the browser
            // neither blocks nor starts another poll.
            Msg::OpenBrowser if self.step == Step::Done => {
                match self.pending_change_url().map(str::to_string) {
                    Some(url) => vec![Effect::OpenBrowser { url }],
                    None => {
                        self.fail(
                            Step::Done,
                            ErrorKind::Validation,
                            "no change request is waiting for the customer; press c to ask for one",
                        );
                        vec![]
                    }
                }
            }
            Msg::BrowserOpened(res) if self.step == Step::Done => {
                self.notice = Some(match res {
                    Ok(()) => "opened the change request's approval page in your browser".into(),
                    Err(f) => format!("{} — open the URL shown, or scan the QR code", f.message),
                });
                vec![]
            }
            Msg::OpenBrowser => match self
                .profile
                .current_request()
                .and_then(|r| r.confirm_url.clone())
            {
                Some(url) => {
                    self.busy = Some(Busy::Browser);
                    vec![Effect::OpenBrowser { url }]
                }
                None => {
                    self.fail(
                        Step::Approval,
                        ErrorKind::Validation,
                        "there is no request with a confirm URL yet; create one first",
                    );
                    vec![]
                }
            },
            Msg::BrowserOpened(res) => {
                self.busy = None;
                let effects = self.start_polling();
                self.notice = Some(match res {
                    Ok(()) => "opened the approval page in your browser".to_string(),
                    Err(f) => format!("{} — open the URL shown, or scan the QR code", f.message),
                });
                effects
            }
            Msg::StartPolling | Msg::PollNow => self.start_polling(),
            Msg::CancelPolling => {
                let change = self
                    .polling
                    .as_ref()
                    .is_some_and(|p| Self::is_change(&self.profile, &p.request_id));
                if let Some(p) = &mut self.polling {
                    p.active = false;
                }
                self.poll_generation += 1;
                self.busy = None;
                self.notice = Some("stopped polling; the request is still open".into());
                if !change {
                    self.step = Step::Approval;
                }
                vec![]
            }
            Msg::StatusPolled { generation, result } => self.status_polled(generation, result),
            Msg::SessionOpened => {
                // A poll in flight refreshes the request anyway; an answered request's page
                // is of no more use.
                let Some(req) = self.profile.current_request() else {
                    return vec![];
                };
                if self.polling.as_ref().is_some_and(|p| p.active) || !req.status.is_pending() {
                    return vec![];
                }
                vec![Effect::RefreshRequest {
                    request_id: req.id.clone(),
                    agent: req.kind == RequestKind::Agent,
                }]
            }
            Msg::CheckReadiness => {
                if self.readiness == Readiness::Running {
                    return vec![];
                }
                self.readiness = Readiness::Running;
                vec![Effect::CheckReadiness]
            }
            Msg::ReadinessChecked(report) => {
                self.readiness = Readiness::Done(report);
                vec![]
            }
            Msg::RequestRefreshed(result) => {
                // On failure the saved URL stays; the next poll reports what is wrong.
                let Ok(update) = result else {
                    return vec![];
                };
                let Some(rec) = self
                    .profile
                    .requests
                    .iter_mut()
                    .find(|r| r.id == update.request_id)
                else {
                    return vec![];
                };
                let url = update.confirm_url.clone().or(rec.confirm_url.clone());
                if rec.confirm_url == url && rec.status == update.status {
                    return vec![];
                }
                rec.confirm_url = url;
                rec.status = update.status;
                rec.checked_at = Some(update.at);
                vec![self.save()]
            }
            Msg::SubmitTestCall { url } => self.submit_test_call(
                ApiCall {
                    url,
                    ..ApiCall::default()
                },
                true,
            ),
            Msg::SubmitApiCall(call) => self.submit_test_call(call, false),
            Msg::PollRequest { request_id } => self.poll_request(request_id),
            Msg::TestCallDone(res) => {
                self.busy = None;
                match res {
                    Ok(summary) => {
                        let ok = (200..300).contains(&summary.record.status);
                        self.profile.last_test_call = Some(summary.record.clone());
                        self.note_token_check(&summary.record);
                        self.notice = Some(format!(
                            "{} answered {} in {} ms",
                            summary.record.url, summary.record.status, summary.record.elapsed_ms
                        ));
                        if ok {
                            self.step = Step::Done;
                        } else {
                            self.fail(
                                Step::TestCall,
                                ErrorKind::Rejected,
                                format!(
                                    "the API answered HTTP {}; see the response",
                                    summary.record.status
                                ),
                            );
                        }
                        self.test = Some(summary);
                        vec![self.save()]
                    }
                    Err(f) => {
                        self.failed(Step::TestCall, f);
                        vec![]
                    }
                }
            }
            Msg::ProfileSaved(res) => {
                if let Err(f) = res {
                    // Keep the in-memory state: nothing the user did is lost; saving again
                    // happens with the next change or on Retry.
                    self.fail(
                        self.step,
                        ErrorKind::Local,
                        format!("could not save the profile: {}", f.message),
                    );
                }
                vec![]
            }
            Msg::SessionFailed(f) => {
                self.busy = None;
                // A poll waiting for the session was dropped with it.
                if let Some(p) = &mut self.polling {
                    p.active = false;
                }
                // So was a customers load.
                self.customers_load_dropped(&f);
                // Shown where the user is: at start that can be any step of a resumed profile.
                let message = format!(
                    "could not open the {} environment: {}",
                    self.profile.environment.kind, f.message
                );
                self.failed(self.step, Failure { message, ..f });
                vec![]
            }
            Msg::Retry => match self.last_effect.clone() {
                Some(effect) if self.error.is_some() => {
                    let busy = busy_for(&effect);
                    self.remote(busy, effect)
                }
                _ if self.step == Step::Polling => self.start_polling(),
                _ => vec![],
            },
            Msg::GoTo(step) => {
                // Leaving the key step withdraws a confirmation the wizard had armed.
                self.key_replacement_allowed = false;
                if step > self.reachable().max(self.step) && step != Step::Polling {
                    self.fail(
                        self.step,
                        ErrorKind::Validation,
                        format!("finish {} first", self.reachable().title()),
                    );
                    return vec![];
                }
                if self.step == Step::Polling && step != Step::Polling {
                    if let Some(p) = &mut self.polling {
                        p.active = false;
                    }
                    self.poll_generation += 1;
                }
                if step != Step::System {
                    self.picker = None;
                }
                self.step = step;
                self.error = None;
                self.notice = None;
                vec![]
            }
            Msg::DismissError => {
                self.error = None;
                vec![]
            }
            msg @ (Msg::OpenCustomers
            | Msg::CloseCustomers
            | Msg::LoadCustomers
            | Msg::CustomersProgress { .. }
            | Msg::CustomersLoaded { .. }
            | Msg::SelectCustomer { .. }
            | Msg::CheckCustomerToken { .. }
            | Msg::StartChange { .. }) => self.customers_update(msg),
        }
    }

    fn select_environment(&mut self, setting: EnvSetting) -> Vec<Effect> {
        if let Err(e) = setting.resolve() {
            self.fail(Step::Environment, ErrorKind::Validation, e.to_string());
            return vec![];
        }
        if setting != self.profile.environment {
            self.reset_customers();
        }
        if setting.kind != self.profile.environment.kind {
            // Clients, systems and requests belong to one environment: the current one's are
            // put aside (a switch back finds them), the new one's come back. The key is shared.
            let from = self.profile.environment.kind;
            let had_work = self.profile.client_registered || !self.profile.requests.is_empty();
            let restored = self.profile.switch_environment(setting.clone());
            self.notice = Some(match (had_work, restored) {
                (_, true) => format!(
                    "switched to {}: its client, system and requests are as you left them; {from}'s are kept too",
                    setting.kind
                ),
                (true, false) => format!(
                    "switched to {}: set up its client, system and requests; {from}'s are kept for a switch back",
                    setting.kind
                ),
                (false, false) => format!("using {}", setting.kind),
            });
        } else if setting != self.profile.environment {
            // The same kind at other URLs (another custom server): what was made on the old
            // server is not on the new one.
            let had_work = self.profile.client_registered || !self.profile.requests.is_empty();
            self.profile.environment = setting.clone();
            self.profile.client_registered = false;
            self.profile.system_registered = None;
            self.profile.requests.clear();
            self.profile.customers.clear();
            self.profile.last_test_call = None;
            if matches!(setting.kind, EnvKind::Sandbox | EnvKind::Custom) {
                // The sandbox assigns client ids.
                self.profile.client_id = None;
            }
            self.notice = Some(if had_work {
                format!(
                    "switched to {}; the client, system and requests must be set up there again",
                    setting.kind
                )
            } else {
                format!("using {}", setting.kind)
            });
        }
        self.poll_config = if self.profile.environment.kind == EnvKind::Sandbox {
            PollConfig::fast()
        } else {
            PollConfig::default()
        };
        self.error = None;
        self.step = resume_step(&self.profile);
        vec![self.save()]
    }

    fn submit_client(
        &mut self,
        vendor_org: String,
        client_id: String,
        scopes: String,
    ) -> Vec<Effect> {
        let org = match validate::org_number(&vendor_org) {
            Ok(o) => o,
            Err(e) => {
                self.invalid(e);
                return vec![];
            }
        };
        let scopes = match validate::scopes(&scopes) {
            Ok(s) => s,
            Err(e) => {
                self.invalid(e);
                return vec![];
            }
        };
        let client_id = client_id.trim().to_string();
        let client_id = if client_id.is_empty() {
            None
        } else {
            match validate::client_id(&client_id) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.invalid(e);
                    return vec![];
                }
            }
        };
        // What was typed is checked first, so every mistake is reported before prerequisites.
        if self.profile.key_path.is_none() {
            self.fail(
                Step::Client,
                ErrorKind::Validation,
                "create or import a key first (`keys generate`)",
            );
            return vec![];
        }
        let same_vendor = self.profile.vendor_org.as_deref() == Some(org.as_str());
        let had_vendor = self.profile.vendor_org.is_some();
        // TT02/prod: the portal cannot move a client to another organisation. Keeping the
        // client id is right when only the profile had the org wrong; said here, and `doctor`
        // compares the token's consumer org with the profile's.
        let org_note = (!same_vendor
            && had_vendor
            && !self.is_sandbox_like()
            && client_id.is_some()
            && client_id == self.profile.client_id)
            .then(|| {
                format!(
                    "vendor organisation now {org}. A client's organisation is fixed in the self-service portal: \
                     if client {} was created for {}, create a new client for {org} there, upload the public JWK \
                     and enter its id (`doctor` checks which organisation the client's tokens name)",
                    client_id.as_deref().unwrap_or("?"),
                    self.profile.vendor_org.as_deref().unwrap_or("?"),
                )
            });
        let previous = (!same_vendor)
            .then(|| self.profile.client_id.clone())
            .flatten();
        if !same_vendor {
            self.reset_customers();
            self.profile.system_registered = None;
            self.profile.requests.clear();
            self.profile.customers.clear();
            self.profile.last_test_call = None;
        }
        // Re-running the step keeps the client it already has (scripts repeat `client set`);
        // a different vendor organisation means a different client.
        let client_id = client_id.or_else(|| {
            same_vendor
                .then(|| self.profile.client_id.clone())
                .flatten()
        });
        self.profile.vendor_org = Some(org.clone());
        self.profile.scopes = scopes.clone();
        if self.is_sandbox_like() {
            self.profile.client_registered = false;
            return self.remote(
                Busy::Client,
                Effect::RegisterClient {
                    vendor_org: org,
                    scopes,
                    client_id,
                    previous,
                },
            );
        }
        let Some(client_id) = client_id else {
            self.fail(
                Step::Client,
                ErrorKind::Validation,
                if had_vendor && !same_vendor {
                    format!(
                        "a client's organisation is fixed in the self-service portal: create a client for {org} \
                         there, upload the public JWK to it and enter its client id"
                    )
                } else {
                    "enter the client id shown in Maskinporten's self-service portal".to_string()
                },
            );
            return vec![];
        };
        if self.profile.client_id.as_deref() != Some(client_id.as_str()) {
            self.profile.client_registered = false;
            self.profile.system_registered = None;
        }
        self.profile.client_id = Some(client_id);
        self.error = None;
        // Real environments: the user uploads the JWK in the portal, then confirms.
        self.notice = Some(org_note.unwrap_or_else(|| {
            "upload the public JWK to this client in the self-service portal, then confirm".into()
        }));
        vec![self.save()]
    }

    /// The register body for the profile's system.
    pub fn registration(&self) -> Result<SystemRegistration, String> {
        let org = self
            .profile
            .vendor_org
            .clone()
            .ok_or("set the vendor organisation first")?;
        let client = self
            .profile
            .client_id
            .clone()
            .ok_or("set up the Maskinporten client first")?;
        let spec = self
            .profile
            .system
            .clone()
            .ok_or("describe the system first")?;
        Ok(SystemRegistration {
            id: format!("{org}_{}", spec.name),
            vendor: VendorRef::org(&org),
            name: spec.display_name.clone(),
            description: spec.description.clone(),
            rights: spec.rights.iter().map(|r| Right::resource(r)).collect(),
            access_packages: spec
                .access_packages
                .iter()
                .map(|u| AccessPackage { urn: u.clone() })
                .collect(),
            client_id: vec![client],
            allowed_redirect_urls: spec.allowed_redirect_urls.clone(),
            is_visible: spec.is_visible,
        })
    }

    fn submit_system(&mut self, form: SystemForm) -> Vec<Effect> {
        match parse_system_form(&form) {
            Ok(spec) => {
                self.profile.system = Some(spec);
                match self.registration() {
                    Ok(registration) => {
                        self.remote(Busy::System, Effect::RegisterSystem { registration })
                    }
                    Err(m) => {
                        self.fail(Step::System, ErrorKind::Validation, m);
                        vec![]
                    }
                }
            }
            Err(e) => {
                self.invalid(e);
                vec![]
            }
        }
    }

    /// The body a request form would send (for previews): validated, nothing changed.
    pub fn request_body(&self, form: &RequestForm) -> Result<CreateRequest, String> {
        self.build_request(form).map_err(|e| e.message)
    }

    /// The body of a request to `form`'s customer for the profile's system (validated).
    pub fn build_request(&self, form: &RequestForm) -> Result<CreateRequest, FlowError> {
        let invalid = |e: ValidationError| FlowError {
            step: Step::Request,
            kind: ErrorKind::Validation,
            field: Some(e.field.to_string()),
            message: e.to_string(),
            code: None,
            status: None,
        };
        let refuse = |m: &str| FlowError {
            step: Step::Request,
            kind: ErrorKind::Validation,
            field: None,
            message: m.to_string(),
            code: None,
            status: None,
        };
        let customer = validate::org_number(&form.customer_org).map_err(invalid)?;
        let external_ref = match form.external_ref.trim() {
            "" => None,
            r => Some(validate::external_ref(r).map_err(invalid)?),
        };
        let (Some(system_id), Some(spec)) = (self.profile.system_id(), self.profile.system.clone())
        else {
            return Err(refuse("register the system first"));
        };
        if form.agent && spec.access_packages.is_empty() {
            return Err(refuse(
                "an agent request needs access packages: add at least one to the system (AUTH-00058)",
            ));
        }
        if !form.agent && spec.rights.is_empty() && spec.access_packages.is_empty() {
            return Err(refuse(
                "the system has neither rights nor access packages to ask for (AUTH-00059)",
            ));
        }
        let packages: Vec<AccessPackage> = spec
            .access_packages
            .iter()
            .map(|u| AccessPackage { urn: u.clone() })
            .collect();
        Ok(CreateRequest {
            external_ref,
            system_id,
            party_org_no: customer,
            rights: if form.agent {
                None
            } else {
                Some(spec.rights.iter().map(|r| Right::resource(r)).collect())
            },
            access_packages: if packages.is_empty() && !form.agent {
                None
            } else {
                Some(packages)
            },
            redirect_url: None,
            integration_title: None,
        })
    }

    fn submit_request(&mut self, form: RequestForm) -> Vec<Effect> {
        let body = match self.build_request(&form) {
            Ok(b) => b,
            Err(e) => {
                self.error = Some(e);
                return vec![];
            }
        };
        let kind = if form.agent {
            RequestKind::Agent
        } else {
            RequestKind::Standard
        };
        // The API de-duplicates on (org, externalRef ?? org, system) and hands back a refused
        // request as it is; delete it first so the customer gets a fresh one.
        let delete_first = self
            .profile
            .requests
            .iter()
            .rev()
            .find(|r| {
                r.customer_org == body.party_org_no
                    && r.external_ref == body.external_ref
                    && r.kind == kind
            })
            .filter(|r| r.status.is_refused())
            .map(|r| r.id.clone());
        self.remote(
            Busy::Request,
            Effect::CreateRequest {
                body,
                agent: form.agent,
                delete_first,
            },
        )
    }

    /// The change request for the form, checked against the profile: the customer's system
    /// user, and rights and packages that are registered on the system. Altinn only lets a
    /// change request ask for what the system has (ChangeRequestSystemUserService.cs:550-566:
    /// SystemUserService.ValidateRights -> AUTH-00001, ValidateAccessPackages -> AUTH-00063).
    fn submit_change(&mut self, form: ChangeForm) -> Vec<Effect> {
        let step = self.step;
        let refuse = |f: &mut Flow, m: String| {
            f.fail(step, ErrorKind::Validation, m);
            vec![]
        };
        let customer = match validate::org_number(&form.customer_org) {
            Ok(o) => o,
            Err(e) => {
                self.invalid(e);
                return vec![];
            }
        };
        let mut rights: Vec<String> = Vec::new();
        for r in split_list(&form.add_rights) {
            match validate::resource_id(r) {
                Ok(r) if !rights.contains(&r) => rights.push(r),
                Ok(_) => {}
                Err(e) => {
                    self.invalid(e);
                    return vec![];
                }
            }
        }
        let mut packages: Vec<String> = Vec::new();
        for p in split_list(&form.add_access_packages) {
            match validate::access_package(p) {
                Ok(p) if !packages.contains(&p) => packages.push(p),
                Ok(_) => {}
                Err(e) => {
                    self.invalid(e);
                    return vec![];
                }
            }
        }
        if rights.is_empty() && packages.is_empty() {
            return refuse(
                self,
                "name at least one resource or access package to add (--add-resource R, --add-package P)".into(),
            );
        }
        let (Some(system_id), Some(spec)) = (self.profile.system_id(), self.profile.system.clone())
        else {
            return refuse(self, "register the system first (`system register`)".into());
        };
        let missing_rights: Vec<&String> =
            rights.iter().filter(|r| !spec.rights.contains(r)).collect();
        let missing_packages: Vec<&String> = packages
            .iter()
            .filter(|p| !spec.access_packages.contains(p))
            .collect();
        if !missing_rights.is_empty() || !missing_packages.is_empty() {
            // `system register` replaces the lists, so the command names what is there too.
            let mut cmd = format!("system register --name {}", spec.name);
            for r in spec.rights.iter().chain(missing_rights.iter().copied()) {
                cmd.push_str(&format!(" --resource {r}"));
            }
            for p in spec
                .access_packages
                .iter()
                .chain(missing_packages.iter().copied())
            {
                cmd.push_str(&format!(" --access-package {p}"));
            }
            let names: Vec<&str> = missing_rights
                .iter()
                .chain(missing_packages.iter())
                .map(|s| s.as_str())
                .collect();
            return refuse(
                self,
                format!(
                    "{} not registered on the system {system_id}: a change request may only ask for rights and access packages the system has (Altinn answers AUTH-00001 / AUTH-00063)\n  hint: register the right on the system first: {cmd}",
                    names.join(", ")
                ),
            );
        }
        let known = self
            .profile
            .requests
            .iter()
            .rev()
            .find(|r| r.kind != RequestKind::Change && r.customer_org == customer);
        if known.is_some_and(|r| r.kind == RequestKind::Agent) {
            return refuse(
                self,
                format!(
                    "the system user for {customer} is an agent system user: Altinn does not take change requests for those yet (ChangeRequestSystemUserService.cs:60-64 answers AUTH-00015); send a new agent request with the packages instead"
                ),
            );
        }
        let external_ref = known.and_then(|r| r.external_ref.clone());
        self.change = None;
        self.remote(
            Busy::Change,
            Effect::CreateChangeRequest {
                system_id,
                customer_org: customer,
                external_ref,
                add_rights: rights,
                add_access_packages: packages,
            },
        )
    }

    fn change_requested(&mut self, res: Result<ChangeOutcome, Failure>) -> Vec<Effect> {
        self.busy = None;
        let outcome = match res {
            Ok(o) => o,
            Err(f) => {
                self.failed(self.step, f);
                return vec![];
            }
        };
        let rec = outcome.record.clone();
        let already: Vec<String> = outcome
            .already_rights
            .iter()
            .chain(outcome.already_access_packages.iter())
            .cloned()
            .collect();
        self.change = Some(outcome);
        if rec.status == RequestStatus::NoChangeNeeded {
            self.notice = Some(format!(
                "no change needed: the system user for {} already has {}",
                rec.customer_org,
                already.join(", ")
            ));
            return vec![];
        }
        let id = rec.id.clone();
        let status = rec.status.clone();
        self.profile.upsert_request(rec);
        let mut effects = vec![self.save()];
        if status.is_pending() {
            effects.extend(self.poll_request(id.clone()));
            self.notice = Some(format!(
                "change request {id} is New: the customer approves it at the link"
            ));
        } else {
            self.change_answered(&id, &status);
        }
        effects
    }

    /// A change request got its final answer.
    fn change_answered(&mut self, id: &str, status: &RequestStatus) {
        let what = self
            .profile
            .requests
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.change.as_ref().map(|c| (r.customer_org.clone(), c)))
            .map(|(org, c)| {
                let all: Vec<&str> = c
                    .add_rights
                    .iter()
                    .chain(c.add_access_packages.iter())
                    .map(String::as_str)
                    .collect();
                format!("the system user for {org} now has {}", all.join(", "))
            })
            .unwrap_or_else(|| "the system user has the new rights".into());
        if status.is_accepted() {
            self.notice = Some(format!("the customer approved the change: {what}"));
        } else {
            self.fail(
                self.step,
                ErrorKind::Refused,
                format!("the change request was {status}; the system user keeps the rights it had"),
            );
        }
    }

    /// Where the customer approves the newest change request, while it waits for an answer
    /// (what the Done step shows, and opens with `o`).
    pub fn pending_change_url(&self) -> Option<&str> {
        self.profile
            .newest_request()
            .filter(|r| r.kind == RequestKind::Change && r.status.is_pending())
            .and_then(|r| r.confirm_url.as_deref())
    }

    fn start_polling(&mut self) -> Vec<Effect> {
        let Some(req) = self.profile.current_request().cloned() else {
            self.fail(
                Step::Approval,
                ErrorKind::Validation,
                "there is no request to wait for; create one first",
            );
            return vec![];
        };
        self.poll_request(req.id)
    }

    /// Whether a request is an agent request (the status lives under another path); a
    /// request the profile does not know is taken as a standard one.
    fn is_agent(profile: &Profile, request_id: &str) -> bool {
        profile
            .requests
            .iter()
            .any(|r| r.id == request_id && r.kind == RequestKind::Agent)
    }

    /// Whether `request_id` is a change request the profile knows (its status lives under
    /// `systemuser/changerequest/vendor/{id}`; the wizard waits for it on the Done step).
    fn is_change(profile: &Profile, request_id: &str) -> bool {
        profile
            .requests
            .iter()
            .any(|r| r.id == request_id && r.kind == RequestKind::Change)
    }

    fn poll_request(&mut self, request_id: String) -> Vec<Effect> {
        let agent = Self::is_agent(&self.profile, &request_id);
        self.poll_generation += 1;
        if !Self::is_change(&self.profile, &request_id) {
            self.step = Step::Polling;
        }
        self.error = None;
        // "request X is New" belongs to the request step, not to the live status.
        self.notice = None;
        self.busy = Some(Busy::Polling);
        self.polling = Some(PollState {
            request_id: request_id.clone(),
            generation: self.poll_generation,
            attempts: 0,
            interval: self.poll_config.first,
            started_at: None,
            last_checked_at: None,
            last_error: None,
            active: true,
            refusal: None,
        });
        vec![Effect::PollStatus {
            request_id,
            agent,
            after: Duration::ZERO,
            generation: self.poll_generation,
        }]
    }

    fn status_polled(
        &mut self,
        generation: u64,
        result: Result<StatusUpdate, Failure>,
    ) -> Vec<Effect> {
        let config = self.poll_config;
        let Some(poll) = self
            .polling
            .as_mut()
            .filter(|p| p.generation == generation && p.active)
        else {
            // A late answer from a cancelled poll.
            return vec![];
        };
        poll.attempts += 1;
        match result {
            Ok(update) => {
                poll.last_error = None;
                poll.refusal = update.refusal.clone();
                poll.started_at.get_or_insert(update.at);
                poll.last_checked_at = Some(update.at);
                let request_id = poll.request_id.clone();
                let status = update.status.clone();
                let known = self
                    .profile
                    .requests
                    .iter()
                    .any(|r| r.id == update.request_id);
                if let Some(rec) = self
                    .profile
                    .requests
                    .iter_mut()
                    .find(|r| r.id == update.request_id)
                {
                    rec.status = update.status.clone();
                    rec.checked_at = Some(update.at);
                    if update.confirm_url.is_some() {
                        rec.confirm_url = update.confirm_url.clone();
                    }
                }
                let change = Self::is_change(&self.profile, &request_id);
                let poll_step = if change { self.step } else { Step::Polling };
                if status.is_pending() {
                    let poll = self.polling.as_mut().expect("checked above");
                    if poll.attempts >= config.max_attempts {
                        poll.active = false;
                        self.busy = None;
                        self.fail(poll_step, ErrorKind::Network, "still waiting after a long time; the request stays open — press r to keep polling");
                        return vec![self.save()];
                    }
                    let after = poll.interval;
                    poll.interval = config.next_interval(poll.interval);
                    let agent = Self::is_agent(&self.profile, &request_id);
                    return vec![Effect::PollStatus {
                        request_id,
                        agent,
                        after,
                        generation,
                    }];
                }
                let poll = self.polling.as_mut().expect("checked above");
                poll.active = false;
                self.busy = None;
                if change {
                    self.change_answered(&request_id, &status);
                } else if status.is_accepted() {
                    self.notice = Some("the customer approved: the system user exists".into());
                    self.step = Step::TestCall;
                } else {
                    self.fail(
                        Step::Polling,
                        ErrorKind::Refused,
                        format!("the request was {status}; go back to the request step to send a new one (the old one is deleted first)"),
                    );
                }
                // A request the profile does not know (`request status --id`) changes nothing
                // worth saving.
                if known { vec![self.save()] } else { vec![] }
            }
            Err(f) if f.kind == ErrorKind::Network => {
                // Keep polling through transient trouble, showing it.
                poll.last_error = Some(f.message);
                let after = poll.interval;
                poll.interval = config.next_interval(poll.interval);
                let request_id = poll.request_id.clone();
                let agent = Self::is_agent(&self.profile, &request_id);
                vec![Effect::PollStatus {
                    request_id,
                    agent,
                    after,
                    generation,
                }]
            }
            Err(f) => {
                poll.active = false;
                self.busy = None;
                self.failed(Step::Polling, f);
                vec![]
            }
        }
    }

    /// The wizard's test call (a GET; a URL typed there is remembered for next time) and the
    /// CLI's `call` (any method, body and scope; the URL is for this call only) share this.
    fn submit_test_call(&mut self, call: ApiCall, remember_url: bool) -> Vec<Effect> {
        let url = match call.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => match validate::https_url(u) {
                Ok(u) => {
                    if remember_url {
                        self.profile.test_url = Some(u.clone());
                    }
                    Some(u)
                }
                Err(e) => {
                    self.invalid(e);
                    return vec![];
                }
            },
            None => self.profile.test_url.clone(),
        };
        let Some(req) = self.profile.current_request().cloned() else {
            self.fail(
                Step::TestCall,
                ErrorKind::Validation,
                "there is no approved request yet",
            );
            return vec![];
        };
        let scope = match (call.scope, &self.profile.system_user_scope) {
            (Some(s), _) => s,
            (None, Some(s)) => s.split_whitespace().map(str::to_string).collect(),
            (None, None) => self.profile.scopes.clone(),
        };
        self.remote(
            Busy::TestCall,
            Effect::TestCall {
                url,
                method: call.method.unwrap_or_else(|| "GET".into()),
                body: call.body,
                customer_org: req.customer_org,
                external_ref: req.external_ref,
                scope,
            },
        )
    }
}

fn busy_for(effect: &Effect) -> Busy {
    match effect {
        Effect::GenerateKey { .. } | Effect::ImportKey { .. } => Busy::Key,
        Effect::RegisterClient { .. } => Busy::Client,
        Effect::RegisterSystem { .. } => Busy::System,
        Effect::Picker(_) => Busy::System,
        Effect::CreateRequest { .. } => Busy::Request,
        Effect::CreateChangeRequest { .. } => Busy::Change,
        Effect::OpenBrowser { .. } => Busy::Browser,
        Effect::PollStatus { .. } => Busy::Polling,
        Effect::TestCall { .. } | Effect::SaveProfile(_) => Busy::TestCall,
        Effect::RefreshRequest { .. } => Busy::Polling,
        // Never a Retry's effect (it blocks nothing); listed for completeness.
        Effect::CheckReadiness => Busy::Key,
        // Never a last effect (a load is no step's work and has its own reload key).
        Effect::LoadCustomers { .. } => Busy::Polling,
    }
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
}

/// Validate the system form into a spec.
pub fn parse_system_form(form: &SystemForm) -> Result<SystemSpec, ValidationError> {
    let name = validate::system_name(&form.name)?;
    let display = if form.display_name.trim().is_empty() {
        form.name.trim().to_string()
    } else {
        form.display_name.trim().to_string()
    };
    let description = if form.description.trim().is_empty() {
        display.clone()
    } else {
        form.description.trim().to_string()
    };
    let mut rights = Vec::new();
    for r in split_list(&form.rights) {
        let r = validate::resource_id(r)?;
        if !rights.contains(&r) {
            rights.push(r);
        }
    }
    let mut packages = Vec::new();
    for p in split_list(&form.access_packages) {
        let p = validate::access_package(p)?;
        if !packages.contains(&p) {
            packages.push(p);
        }
    }
    let mut urls = Vec::new();
    for u in split_list(&form.redirect_urls) {
        urls.push(validate::redirect_url(u)?);
    }
    let all = |t: &str| {
        ["nb", "nn", "en"]
            .iter()
            .map(|l| (l.to_string(), t.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    Ok(SystemSpec {
        name,
        display_name: all(&display),
        description: all(&description),
        rights,
        access_packages: packages,
        allowed_redirect_urls: urls,
        is_visible: form.is_visible,
    })
}

#[path = "flow_picker.rs"]
pub mod picker;
pub use picker::{PickerEffect, PickerMsg, RightsPicker, Selection};

#[cfg(test)]
#[path = "flow_tests.rs"]
mod tests;
