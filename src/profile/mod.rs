//! Profiles: everything the user has done so far, so the wizard and CLI can resume.
//!
//! The data model lives here; `store` persists it (atomic writes, a lock, format versioning).
//! Secrets never live in a profile: the private key has its own 0600 file and cached tokens a
//! separate 0600 cache.

pub mod store;

pub use store::{ProfileError, ProfileLock, ProfileStore, write_atomic};

use crate::altinn::model::RequestStatus;
use crate::env::EnvSetting;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Bump when the on-disk shape changes incompatibly; `store` migrates older versions and
/// refuses newer ones.
/// Format 2 added `environments` (the state of the environments not in use, kept for a switch
/// back); a format-1 file needs no change but is kept as `.v1.bak` on the first save, since an
/// older altinn-onboard would drop the other environments' state when it rewrites the file.
/// Format 3 added `customers` (every customer of the system, not only the current one); a
/// format-1 or -2 file's `customer_org` and `requests` become its first entries (in every
/// environment's state too), and the old file is kept as `.v1.bak` / `.v2.bak`.
pub const PROFILE_FORMAT_VERSION: u32 = 3;

pub const DEFAULT_PROFILE: &str = "default";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub environment: EnvSetting,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// TT02/production: the kid Digdir's portal shows for the uploaded key, when it differs
    /// from ours (a key uploaded as PEM gets a kid from the portal; an uploaded JWK keeps its
    /// own). The grant's `kid` header must be the one the portal has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_kid: Option<String>,
    /// Scopes of the vendor's Maskinporten client (space-separated in grants).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// RFC 7638 thumbprint of the public key (public; tells a replaced key under the same kid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_thumbprint: Option<String>,
    /// The private key file (PKCS#8 PEM, 0600). Not the key itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_path: Option<PathBuf>,
    /// When this key was first registered with a client (the sandbox registered it, or the
    /// user confirmed the upload to Digdir's portal). Maskinporten's keys expire one year after
    /// upload (MP-121), so the readiness check warns from this date. Stamped when a profile with
    /// a registered client is first saved (older profiles lack it: the check then uses the key
    /// file's date, which is never later than the upload); cleared when the key is replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_registered_at: Option<DateTime<Utc>>,
    /// On TT02/prod the user uploads the public JWK in Digdir's portal and confirms it here;
    /// on the sandbox the tool registers the client itself and sets this.
    #[serde(default)]
    pub client_registered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemSpec>,
    /// When the system was last created/updated in the register, and as what id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_registered: Option<RegistrationRecord>,
    /// The current customer: the one the wizard's request, approval and test-call steps are
    /// about (one of `customers`; [`Profile::select_customer`] changes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_org: Option<String>,
    /// Requests the flow made so far, newest last (the newest is the current request).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestRecord>,
    /// Every customer of this environment's system that we know of: asked by the flow, by
    /// `request create --customers`, or seen by `customers`. One entry per organisation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customers: Vec<CustomerRecord>,
    /// The API the test call goes to; defaults to the environment's reference API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_url: Option<String>,
    /// Scope(s) asked for in the system-user token; defaults to the client's scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_user_scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_test_call: Option<TestCallRecord>,
    /// The progress made in the environments not in use now, by [`env_key`]: a switch to
    /// TT02 and back finds the sandbox's client, system and requests where they were. The
    /// fields above are always the current environment's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, EnvState>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Profile {
    pub fn new(name: &str, environment: EnvSetting) -> Self {
        let now = Utc::now();
        Profile {
            version: PROFILE_FORMAT_VERSION,
            name: name.to_string(),
            environment,
            vendor_org: None,
            client_id: None,
            kid: None,
            portal_kid: None,
            key_thumbprint: None,
            scopes: Vec::new(),
            key_path: None,
            key_registered_at: None,
            client_registered: false,
            system: None,
            system_registered: None,
            customer_org: None,
            requests: Vec::new(),
            customers: Vec::new(),
            test_url: None,
            system_user_scope: None,
            last_test_call: None,
            environments: BTreeMap::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The system id the register uses: `{vendorOrg}_{name}`.
    pub fn system_id(&self) -> Option<String> {
        match (&self.vendor_org, &self.system) {
            (Some(org), Some(sys)) => Some(format!("{org}_{}", sys.name)),
            _ => None,
        }
    }

    /// The request the flow is currently about: the newest request for a system user.
    /// Change requests (kind `Change`) are kept in the same list but are not it: they change
    /// a system user that a request made.
    pub fn current_request(&self) -> Option<&RequestRecord> {
        self.requests
            .iter()
            .rev()
            .find(|r| r.kind != RequestKind::Change)
    }

    pub fn current_request_mut(&mut self) -> Option<&mut RequestRecord> {
        self.requests
            .iter_mut()
            .rev()
            .find(|r| r.kind != RequestKind::Change)
    }

    /// The newest record of any kind, change requests included (`request status`,
    /// `sandbox approve` without an id).
    pub fn newest_request(&self) -> Option<&RequestRecord> {
        self.requests.last()
    }

    /// The accepted (standard or agent) request that made the system user for `customer_org`:
    /// its id is the system user's id in Altinn (SystemUserService.cs:509, `Id = requestId`).
    pub fn system_user_request(&self, customer_org: &str) -> Option<&RequestRecord> {
        self.requests.iter().rev().find(|r| {
            r.kind != RequestKind::Change
                && r.customer_org == customer_org
                && r.status == RequestStatus::Accepted
        })
    }

    /// Move the current environment's progress out of the profile (leaving it empty there).
    pub fn take_env_state(&mut self) -> EnvState {
        EnvState {
            vendor_org: self.vendor_org.take(),
            client_id: self.client_id.take(),
            portal_kid: self.portal_kid.take(),
            scopes: std::mem::take(&mut self.scopes),
            client_registered: std::mem::take(&mut self.client_registered),
            system_registered: self.system_registered.take(),
            customer_org: self.customer_org.take(),
            requests: std::mem::take(&mut self.requests),
            customers: std::mem::take(&mut self.customers),
            test_url: self.test_url.take(),
            last_test_call: self.last_test_call.take(),
        }
    }

    /// Make `state` the current environment's progress.
    pub fn put_env_state(&mut self, state: EnvState) {
        self.vendor_org = state.vendor_org;
        self.client_id = state.client_id;
        self.portal_kid = state.portal_kid;
        self.scopes = state.scopes;
        self.client_registered = state.client_registered;
        self.system_registered = state.system_registered;
        self.customer_org = state.customer_org;
        self.requests = state.requests;
        self.customers = state.customers;
        self.test_url = state.test_url;
        self.last_test_call = state.last_test_call;
    }

    /// Switch to another environment kind: the current one's progress is put aside under its
    /// key and the new one's (if it was used before) comes back. Returns whether there was
    /// progress to come back to. The key and the system's description are shared.
    pub fn switch_environment(&mut self, setting: EnvSetting) -> bool {
        let old = self.take_env_state();
        if !old.is_empty() {
            self.environments
                .insert(env_key(&self.environment).to_string(), old);
        }
        let restored = self.environments.remove(env_key(&setting));
        let found = restored.is_some();
        self.put_env_state(restored.unwrap_or_default());
        self.environment = setting;
        found
    }

    /// A new key must be registered again with every client, in every environment.
    pub fn key_replaced(&mut self) {
        self.client_registered = false;
        self.key_registered_at = None;
        self.portal_kid = None;
        for s in self.environments.values_mut() {
            s.client_registered = false;
            s.portal_kid = None;
        }
    }

    /// Insert or replace a request record by id (a re-POST returns the same id). The
    /// request's customer is recorded in `customers` too.
    pub fn upsert_request(&mut self, rec: RequestRecord) {
        if let Some(pos) = self.requests.iter().position(|r| r.id == rec.id) {
            self.requests.remove(pos);
        }
        self.customer_mut(&rec.customer_org)
            .note_request(CustomerRequest::from(&rec));
        self.requests.push(rec);
    }

    /// The customer entry for `org`, if there is one.
    pub fn customer(&self, org: &str) -> Option<&CustomerRecord> {
        self.customers.iter().find(|c| c.org == org)
    }

    /// The customer entry for `org`, made (empty) when missing.
    pub fn customer_mut(&mut self, org: &str) -> &mut CustomerRecord {
        match self.customers.iter().position(|c| c.org == org) {
            Some(i) => &mut self.customers[i],
            None => {
                self.customers.push(CustomerRecord::new(org));
                self.customers.last_mut().expect("just pushed")
            }
        }
    }

    /// Make `org` the current customer: the flow's steps are then about it, and its newest
    /// request (if any) becomes the current request. Returns false (and changes nothing) when
    /// the profile does not know the customer.
    pub fn select_customer(&mut self, org: &str) -> bool {
        let Some(c) = self.customer(org) else {
            return false;
        };
        let newest = c.newest_request().cloned();
        self.customer_org = Some(org.to_string());
        if let Some(req) = newest {
            let rec = match self.requests.iter().position(|r| r.id == req.id) {
                Some(pos) => self.requests.remove(pos),
                None => req.to_record(org),
            };
            self.requests.push(rec);
        }
        true
    }

    /// Bring `customers` up to date with what the flow changed in place: request statuses
    /// (polling), the current customer and the last test call (its token check). Called by
    /// the store before every save, so every path that records a request is covered.
    pub fn sync_customers(&mut self) {
        for rec in self.requests.clone() {
            self.customer_mut(&rec.customer_org)
                .note_request(CustomerRequest::from(&rec));
        }
        // The last test call belongs to the customer whose system user made it; only when no
        // customer is known by that system user yet does the current customer get it (never
        // one known by another system user; a call that did not learn its system user goes to
        // the current customer): a switch of customer after a call does not credit the new
        // one with the old one's check.
        let call = self.last_test_call.clone();
        let owner = call.as_ref().and_then(|call| {
            let by_user = call.system_user_id.as_deref().and_then(|id| {
                self.customers
                    .iter()
                    .find(|c| c.system_user_id.as_deref() == Some(id))
                    .map(|c| c.org.clone())
            });
            by_user.or_else(|| {
                self.customer_org.clone().filter(|org| {
                    self.customer(org).is_none_or(|c| {
                        match (&c.system_user_id, &call.system_user_id) {
                            (Some(known), Some(made_by)) => known == made_by,
                            _ => true,
                        }
                    })
                })
            })
        });
        if let Some(org) = owner {
            let c = self.customer_mut(&org);
            if let Some(call) = call {
                let check = TokenCheck::from(&call);
                if c.last_token_check.as_ref().is_none_or(|t| t.at < check.at) {
                    if let Some(id) = &call.system_user_id {
                        c.system_user_id = Some(id.clone());
                    }
                    c.last_token_check = Some(check);
                }
            }
        }
    }

    /// Format 1 and 2 had one `customer_org` and the flow's `requests`: they become the first
    /// entries of `customers`, here and in every environment put aside.
    pub fn adopt_legacy_customers(&mut self) {
        self.sync_customers();
        for state in self.environments.values_mut() {
            let mut p = Profile::new(&self.name, self.environment.clone());
            p.put_env_state(std::mem::take(state));
            p.sync_customers();
            *state = p.take_env_state();
        }
    }
}

/// Which slot of [`Profile::environments`] an environment's progress goes to: one per kind.
/// (A custom server's URLs may change between runs, e.g. a restarted test sandbox, without
/// its objects changing, so they are not part of the key.)
pub fn env_key(setting: &EnvSetting) -> &'static str {
    setting.kind.as_str()
}

/// One environment's progress: the client, the system's registration and the requests.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EnvState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_kid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub client_registered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_registered: Option<RegistrationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_org: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customers: Vec<CustomerRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_test_call: Option<TestCallRecord>,
}

impl EnvState {
    pub fn is_empty(&self) -> bool {
        *self == EnvState::default()
    }
}

/// The vendor's system as the user describes it; turned into the register's JSON by `altinn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemSpec {
    /// Short name; the id becomes `{vendorOrg}_{name}`.
    pub name: String,
    /// Display names by language (`nb`, `nn`, `en`).
    pub display_name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    /// Resource ids (the `value` of `urn:altinn:resource`), e.g. `ske-krav-og-betalinger`.
    #[serde(default)]
    pub rights: Vec<String>,
    /// Access package URNs, e.g. `urn:altinn:accesspackage:skatt-naering`.
    #[serde(default)]
    pub access_packages: Vec<String>,
    #[serde(default)]
    pub allowed_redirect_urls: Vec<String>,
    #[serde(default = "yes")]
    pub is_visible: bool,
}

fn yes() -> bool {
    true
}

impl SystemSpec {
    /// A spec with the same display name and description in every language.
    pub fn simple(name: &str, display: &str, description: &str) -> Self {
        let all = |t: &str| {
            ["nb", "nn", "en"]
                .iter()
                .map(|l| (l.to_string(), t.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        SystemSpec {
            name: name.to_string(),
            display_name: all(display),
            description: all(description),
            rights: Vec::new(),
            access_packages: Vec::new(),
            allowed_redirect_urls: Vec::new(),
            is_visible: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRecord {
    pub system_id: String,
    pub at: DateTime<Utc>,
    /// "created", "updated" or "unchanged".
    pub outcome: String,
    /// Client id the system was registered with (a changed client id means re-register).
    #[serde(default)]
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    #[default]
    Standard,
    Agent,
    Change,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub id: String,
    #[serde(default)]
    pub kind: RequestKind,
    pub customer_org: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    pub status: RequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
    /// Kind `Change` only: the system user it changes and what it asks to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeRecord>,
}

/// What a change request asks for (`request change`, the wizard's Done step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub system_user_id: String,
    /// Resource ids to add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_rights: Vec<String>,
    /// Access package URNs to add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_access_packages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCallRecord {
    pub url: String,
    pub method: String,
    pub status: u16,
    pub elapsed_ms: u64,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_user_id: Option<String>,
    /// First part of the response body (the reference API answers who is calling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_excerpt: Option<String>,
}

/// What we last knew of one customer: a row of the `customers` overview, kept between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    /// The customer's organisation number.
    pub org: String,
    /// Its name, when known (the sandbox's seeded organisations; later, the Entity Register).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Requests made to it, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<CustomerRequest>,
    /// The last known status (from the newest request, or the system-user list).
    #[serde(default)]
    pub status: CustomerStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_user_id: Option<String>,
    /// Resource ids and access-package URNs the customer was asked for (or granted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rights: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_token_check: Option<TokenCheck>,
    /// When the status was last read from Altinn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
}

impl CustomerRecord {
    pub fn new(org: &str) -> Self {
        CustomerRecord {
            org: org.to_string(),
            name: None,
            requests: Vec::new(),
            status: CustomerStatus::Unknown,
            system_user_id: None,
            rights: Vec::new(),
            last_token_check: None,
            checked_at: None,
        }
    }

    /// The newest request (by creation time; the later-recorded one on a tie).
    pub fn newest_request(&self) -> Option<&CustomerRequest> {
        self.requests
            .iter()
            .enumerate()
            .max_by_key(|(i, r)| (r.created_at, *i))
            .map(|(_, r)| r)
    }

    /// The external references of its requests, without repeats, in order.
    pub fn external_refs(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.requests {
            if let Some(x) = &r.external_ref
                && !out.contains(x)
            {
                out.push(x.clone());
            }
        }
        out
    }

    /// Record a request (replacing the entry with the same id) and take the newest request's
    /// status as the customer's, unless a system user already proves it accepted.
    pub fn note_request(&mut self, req: CustomerRequest) {
        match self.requests.iter_mut().find(|r| r.id == req.id) {
            Some(r) => {
                // A list answer has no confirmUrl; keep the one we had.
                // Nor does it say what a change request added; keep that too.
                let url = req.confirm_url.clone().or(r.confirm_url.take());
                let change = req.change.clone().or(r.change.take());
                *r = CustomerRequest {
                    confirm_url: url,
                    change,
                    ..req
                };
            }
            None => self.requests.push(req),
        }
        self.status = self.derived_status();
    }

    /// A system user means accepted, whatever came after (a change request, a second
    /// request); otherwise the newest request (change requests aside) says.
    fn derived_status(&self) -> CustomerStatus {
        if self.system_user_id.is_some() {
            return CustomerStatus::Accepted;
        }
        self.requests
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind != RequestKind::Change)
            .max_by_key(|(i, r)| (r.created_at, *i))
            .map(|(_, r)| CustomerStatus::of_request(&r.status, r.timed_out))
            // An accepted request says nothing new about a system user seen to be gone.
            .map(|s| match (s, self.status) {
                (CustomerStatus::Accepted, CustomerStatus::Withdrawn) => CustomerStatus::Withdrawn,
                (s, _) => s,
            })
            .unwrap_or(self.status)
    }
}

/// One request made to a customer, as the profile remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRequest {
    pub id: String,
    #[serde(default)]
    pub kind: RequestKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    pub status: RequestStatus,
    /// Altinn's `timedOut` flag: past the request's lifetime, while `status` stays `New`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timed_out: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A change request: the system user it changes and what it adds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeRecord>,
}

impl From<&RequestRecord> for CustomerRequest {
    fn from(r: &RequestRecord) -> Self {
        CustomerRequest {
            id: r.id.clone(),
            kind: r.kind,
            external_ref: r.external_ref.clone(),
            // The flow folds `timedOut` into the status it records.
            timed_out: r.status == RequestStatus::Timedout,
            status: r.status.clone(),
            confirm_url: r.confirm_url.clone(),
            created_at: r.created_at,
            change: r.change.clone(),
        }
    }
}

impl CustomerRequest {
    /// The flow's record of this request (to make it the current request again).
    pub fn to_record(&self, org: &str) -> RequestRecord {
        RequestRecord {
            id: self.id.clone(),
            kind: self.kind,
            customer_org: org.to_string(),
            external_ref: self.external_ref.clone(),
            status: if self.timed_out && self.status.is_pending() {
                RequestStatus::Timedout
            } else {
                self.status.clone()
            },
            confirm_url: self.confirm_url.clone(),
            created_at: self.created_at,
            checked_at: None,
            change: self.change.clone(),
        }
    }
}

/// Where a customer stands, in the words of the `customers` overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    /// A system user exists (or the newest request was accepted).
    Accepted,
    /// The newest request waits for the customer.
    Pending,
    /// The customer rejected (or Altinn denied) the newest request.
    Rejected,
    /// The newest request passed its lifetime unanswered (`timedOut: true`, or `Timedout`).
    TimedOut,
    /// A request was accepted, but its system user is gone: the customer deleted it.
    Withdrawn,
    /// Nothing known yet (a customer named in a file before any request was made).
    #[default]
    Unknown,
}

impl CustomerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Accepted => "accepted",
            CustomerStatus::Pending => "pending",
            CustomerStatus::Rejected => "rejected",
            CustomerStatus::TimedOut => "timed_out",
            CustomerStatus::Withdrawn => "withdrawn",
            CustomerStatus::Unknown => "unknown",
        }
    }

    /// A request's status with its `timedOut` flag (Altinn keeps `New` and sets the flag
    /// after 180 days: RequestRepository.cs:23, 473-476 in altinn-authentication).
    pub fn of_request(status: &RequestStatus, timed_out: bool) -> Self {
        match status {
            RequestStatus::New if timed_out => CustomerStatus::TimedOut,
            RequestStatus::New => CustomerStatus::Pending,
            RequestStatus::Accepted | RequestStatus::NoChangeNeeded => CustomerStatus::Accepted,
            RequestStatus::Rejected | RequestStatus::Denied => CustomerStatus::Rejected,
            RequestStatus::Timedout => CustomerStatus::TimedOut,
            RequestStatus::Other(_) => CustomerStatus::Unknown,
        }
    }
}

impl std::fmt::Display for CustomerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last system-user token check for a customer (a test call with its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCheck {
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// What came of it, e.g. `HTTP 200 from https://.../whoami` or the token error's code.
    pub result: String,
}

impl From<&TestCallRecord> for TokenCheck {
    fn from(c: &TestCallRecord) -> Self {
        TokenCheck {
            at: c.at,
            ok: (200..300).contains(&c.status),
            result: format!("HTTP {} from {} {}", c.status, c.method, c.url),
        }
    }
}
