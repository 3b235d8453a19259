//! The `--json` shape of every command: one named struct each, field names in snake_case
//! (upstream models such as `system show`'s registered system and `request list`'s requests
//! keep Altinn's own names). `tests/cli_json.rs` snapshots each shape.

use crate::altinn::model::RequestStatus;
use crate::env::EnvKind;
use crate::flow::Step;
use crate::profile::{Profile, RequestKind};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `keys generate`, `keys import`.
#[derive(Debug, Serialize)]
pub struct KeyOutput {
    pub kid: String,
    pub private_key_path: PathBuf,
    pub public_jwk: Value,
}

/// `keys show`.
#[derive(Debug, Serialize)]
pub struct KeyShowOutput {
    pub kid: String,
    pub private_key_path: PathBuf,
    pub bits: usize,
    pub public_jwk: Value,
}

/// `keys show --jwks`: a JWK set (RFC 7517), as Maskinporten's portal takes it.
#[derive(Debug, Serialize)]
pub struct JwksOutput {
    pub keys: Vec<Value>,
}

/// `client set`.
#[derive(Debug, Serialize)]
pub struct ClientOutput {
    pub client_id: Option<String>,
    pub vendor_org: Option<String>,
    pub scopes: Vec<String>,
    pub kid: Option<String>,
    pub registered: bool,
    pub environment: EnvKind,
}

/// `system register`: `outcome` is created, updated or unchanged; the three flags say the
/// same for `jq -e .created`.
#[derive(Debug, Serialize)]
pub struct SystemRegisterOutput {
    pub id: String,
    pub outcome: String,
    pub created: bool,
    pub updated: bool,
    pub unchanged: bool,
    pub changes: Vec<String>,
    pub client_id: String,
}

/// `request create`.
#[derive(Debug, Serialize)]
pub struct RequestCreateOutput {
    pub id: String,
    pub status: RequestStatus,
    pub confirm_url: Option<String>,
    pub customer_org: String,
    pub external_ref: Option<String>,
    pub kind: RequestKind,
}

/// `request change`. `id` is null when nothing needed changing (Altinn stores nothing then).
#[derive(Debug, Serialize)]
pub struct RequestChangeOutput {
    pub id: Option<String>,
    pub status: RequestStatus,
    pub confirm_url: Option<String>,
    pub customer_org: String,
    pub system_user_id: Option<String>,
    /// What the change request asks the customer for.
    pub add_rights: Vec<String>,
    pub add_access_packages: Vec<String>,
    /// What was asked for that the system user has already.
    pub already_rights: Vec<String>,
    pub already_access_packages: Vec<String>,
}

/// `request status`.
#[derive(Debug, Serialize)]
pub struct RequestStatusOutput {
    pub id: String,
    pub status: RequestStatus,
    pub confirm_url: Option<String>,
    /// Sandbox only: why the customer's last approval attempt was refused (absent when it was
    /// not, and always absent on TT02/production, which do not tell the vendor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_refusal: Option<crate::flow::ApprovalRefusal>,
}

/// `token`: never the token itself unless `--show`.
#[derive(Debug, Serialize)]
pub struct TokenOutput {
    pub token_type: String,
    pub expires_in: i64,
    pub expires_at: i64,
    pub scope: String,
    pub cached: bool,
    pub claims: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

/// `call`.
#[derive(Debug, Serialize)]
pub struct CallOutput {
    pub status: u16,
    pub elapsed_ms: u64,
    pub url: String,
    pub method: String,
    /// One single-entry object per header, in the order received.
    pub headers: Vec<BTreeMap<String, String>>,
    /// The response: JSON as it came (tokens in it redacted), else its text.
    pub body: Value,
    pub token_claims: Value,
}

/// One row of `profile list`: a profile that cannot be read shows its error instead.
#[derive(Debug, Serialize)]
pub struct ProfileRow {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `profile show`: the profile as stored, plus where and what is next.
#[derive(Debug, Serialize)]
pub struct ProfileShowOutput<'a> {
    #[serde(flatten)]
    pub profile: &'a Profile,
    pub path: PathBuf,
    pub next_step: Step,
}

/// `profile rm`.
#[derive(Debug, Serialize)]
pub struct ProfileRemovedOutput {
    pub removed: String,
}

/// `doctor`.
#[derive(Debug, Serialize)]
pub struct DoctorOutput<'a> {
    pub ok: bool,
    pub checks: &'a [super::doctor::Check],
    /// Ready e-mails (`to`, `subject`, `body`) where the fix is a request to a service desk or
    /// a scope owner (readiness, issue 11); omitted when there are none.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub emails: &'a [crate::readiness::ReadyEmail],
}

/// A seeded sandbox organisation (`sandbox orgs`, `sandbox serve`) and its people.
#[derive(Debug, Serialize)]
pub struct OrgOutput {
    pub org_no: String,
    pub name: String,
    pub people: Vec<PersonOutput>,
}

/// A seeded person of an organisation: who may approve on the sandbox and what happens.
#[derive(Debug, Serialize)]
pub struct PersonOutput {
    /// The handle for `sandbox approve --as` and the approval page.
    pub id: String,
    pub name: String,
    pub role: String,
    /// May approve (else AUTH-00066 when the page loads).
    pub access_manager: bool,
    /// Approves when nobody is chosen.
    pub default_approver: bool,
    /// What approving as this person shows (approves, or which refusal).
    pub shows: String,
}

/// `sandbox serve`, printed once it listens.
#[derive(Debug, Serialize)]
pub struct SandboxServeOutput {
    pub base_url: String,
    pub maskinporten_issuer: String,
    pub token_endpoint: String,
    pub altinn_base: String,
    pub orgs: Vec<OrgOutput>,
}

/// `sandbox approve`, `sandbox reject`.
#[derive(Debug, Serialize)]
pub struct DecisionOutput {
    pub id: String,
    /// "approved" or "rejected".
    pub decision: &'static str,
    /// The seeded person who decided.
    pub person: Option<String>,
}

pub fn seeded_orgs() -> Vec<OrgOutput> {
    crate::sandbox::seeded_orgs()
        .iter()
        .map(|o| {
            let default = crate::sandbox::default_person(o.org_no).id;
            OrgOutput {
                org_no: o.org_no.to_string(),
                name: o.name.to_string(),
                people: crate::sandbox::people_of(o.org_no)
                    .into_iter()
                    .map(|p| PersonOutput {
                        id: p.id.to_string(),
                        name: p.name.to_string(),
                        role: p.role.to_string(),
                        access_manager: p.access_manager,
                        default_approver: p.id == default,
                        shows: p.shows.to_string(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// `tokens serve`: where the local token service listens and what it serves.
#[derive(Debug, Serialize)]
pub struct TokensServeOutput {
    pub url: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub exchange_endpoint: String,
    pub environment: crate::env::EnvKind,
    pub client_id: Option<String>,
    pub scope: String,
    /// The profile's current customer, the example a caller can copy.
    pub profile_request: Option<TokensCustomer>,
}

#[derive(Debug, Serialize)]
pub struct TokensCustomer {
    pub customer_org: String,
    pub external_ref: Option<String>,
}

/// `export --out FILE`: what was written.
#[derive(Debug, Serialize)]
pub struct ExportOutput {
    pub format: &'static str,
    pub out: std::path::PathBuf,
    pub inline_key: bool,
}

/// One row of `rights search`.
#[derive(Debug, Serialize)]
pub struct RightRow {
    pub kind: crate::rights::RightKind,
    /// Resource id, or package urn.
    pub id: String,
    pub name: String,
    pub name_en: Option<String>,
    /// The competent authority of a resource.
    pub owner: Option<String>,
    pub owner_code: Option<String>,
    pub owner_org: Option<String>,
    pub resource_type: Option<String>,
    /// A package's area.
    pub area: Option<String>,
    pub delegable: Option<bool>,
    pub assignable: Option<bool>,
    /// Whether a standard system user can hold it: "yes", "no" or "?".
    pub standard: String,
    /// The code the service answers when it cannot.
    pub standard_code: Option<String>,
    /// Whether an agent (client) system user can hold it.
    pub agent: String,
    pub agent_code: Option<String>,
}

/// `rights search`.
#[derive(Debug, Serialize)]
pub struct RightsSearchOutput {
    pub term: String,
    pub kind: crate::rights::SearchKind,
    /// `{"from": "network"}` or `{"from": "cache", "fetched_at", "offline"}`.
    pub source: crate::rights::Source,
    /// "offline: results from cache of <time>".
    pub note: Option<String>,
    pub results: Vec<RightRow>,
}

/// `rights check`.
#[derive(Debug, Serialize)]
pub struct RightsCheckOutput {
    pub system_id: Option<String>,
    pub request_kind: RequestKind,
    /// false when anything is refused.
    pub ok: bool,
    pub note: Option<String>,
    pub findings: Vec<crate::rights::Finding>,
}
