//! Wire models of the Altinn authentication API, as the real service (Altinn/altinn-authentication,
//! `src/Core/Models`) serialises them: camelCase, nulls left out, enums as PascalCase strings.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `RequestStatus.cs` plus `NoChangeNeeded` from `ChangeRequestStatus.cs`. Unknown values are
/// kept verbatim so a newer server never breaks an older client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    New,
    Accepted,
    Rejected,
    Denied,
    Timedout,
    NoChangeNeeded,
    Other(String),
}

impl RequestStatus {
    pub fn as_str(&self) -> &str {
        match self {
            RequestStatus::New => "New",
            RequestStatus::Accepted => "Accepted",
            RequestStatus::Rejected => "Rejected",
            RequestStatus::Denied => "Denied",
            RequestStatus::Timedout => "Timedout",
            RequestStatus::NoChangeNeeded => "NoChangeNeeded",
            RequestStatus::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        // The service writes PascalCase; docs have shown lower case and "TimedOut". Accept all.
        match s.to_ascii_lowercase().as_str() {
            "new" => RequestStatus::New,
            "accepted" => RequestStatus::Accepted,
            "rejected" => RequestStatus::Rejected,
            "denied" => RequestStatus::Denied,
            "timedout" => RequestStatus::Timedout,
            "nochangeneeded" => RequestStatus::NoChangeNeeded,
            _ => RequestStatus::Other(s.to_string()),
        }
    }

    /// Still waiting for the customer.
    pub fn is_pending(&self) -> bool {
        matches!(self, RequestStatus::New)
    }

    /// The customer said no (or the request can never be approved).
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            RequestStatus::Rejected | RequestStatus::Denied | RequestStatus::Timedout
        )
    }

    pub fn is_accepted(&self) -> bool {
        matches!(
            self,
            RequestStatus::Accepted | RequestStatus::NoChangeNeeded
        )
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RequestStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RequestStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(RequestStatus::parse(&s))
    }
}

use std::collections::BTreeMap;

pub const RESOURCE_ATTRIBUTE: &str = "urn:altinn:resource";

/// `vendor` in the system register: `{"authority", "ID": "0192:<orgno>"}`. The service binds
/// `ID`; accept `id` too (see altinn-api-details.md §2.5 on letter case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(rename = "ID", alias = "id")]
    pub id: String,
}

impl VendorRef {
    pub fn org(org_no: &str) -> Self {
        VendorRef {
            authority: Some("iso6523-actorid-upis".into()),
            id: format!("0192:{org_no}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct AttributePair {
    pub id: String,
    pub value: String,
}

/// `Right.cs`: a list of attribute pairs identifying a resource (plus an optional action).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Right {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default)]
    pub resource: Vec<AttributePair>,
}

impl Right {
    pub fn resource(id: &str) -> Self {
        Right {
            action: None,
            resource: vec![AttributePair {
                id: RESOURCE_ATTRIBUTE.into(),
                value: id.into(),
            }],
        }
    }

    /// The resource id when this right names one via `urn:altinn:resource`.
    pub fn resource_id(&self) -> Option<&str> {
        self.resource
            .iter()
            .find(|p| p.id == RESOURCE_ATTRIBUTE)
            .map(|p| p.value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct AccessPackage {
    pub urn: String,
}

/// Body of `POST/PUT systemregister/vendor[/{id}]` (`RegisterSystemRequest.cs`) as real clients
/// send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemRegistration {
    pub id: String,
    pub vendor: VendorRef,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    #[serde(default)]
    pub rights: Vec<Right>,
    #[serde(default)]
    pub access_packages: Vec<AccessPackage>,
    #[serde(default)]
    pub client_id: Vec<String>,
    #[serde(default)]
    pub allowed_redirect_urls: Vec<String>,
    #[serde(default = "default_true")]
    pub is_visible: bool,
}

fn default_true() -> bool {
    true
}

/// `GET systemregister/vendor/{id}` (`RegisteredSystemResponse.cs`). Lenient: every field the
/// comparison does not need is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredSystem {
    #[serde(alias = "systemId")]
    pub id: String,
    #[serde(default)]
    pub vendor: Option<VendorRef>,
    #[serde(default)]
    pub name: BTreeMap<String, String>,
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    #[serde(default)]
    pub rights: Vec<Right>,
    #[serde(default)]
    pub access_packages: Vec<AccessPackage>,
    #[serde(default)]
    pub is_deleted: bool,
    #[serde(default)]
    pub client_id: Vec<String>,
    #[serde(default = "default_true")]
    pub is_visible: bool,
    #[serde(default)]
    pub allowed_redirect_urls: Vec<String>,
}

/// Body of `POST systemuser/request/vendor` (`CreateRequestSystemUser.cs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    pub system_id: String,
    pub party_org_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<Vec<Right>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_packages: Option<Vec<AccessPackage>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_title: Option<String>,
}

/// `RequestSystemResponse.cs` / `AgentRequestSystemResponse.cs`: one shape for both (agent has
/// no rights).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub system_id: String,
    #[serde(default)]
    pub party_org_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<Vec<Right>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_packages: Option<Vec<AccessPackage>>,
    pub status: RequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Since PR #1667 an old request keeps its status and gets this flag instead.
    #[serde(default)]
    pub timed_out: bool,
}

impl RequestInfo {
    /// The status with the `timedOut` flag folded in.
    pub fn effective_status(&self) -> RequestStatus {
        if self.timed_out && self.status.is_pending() {
            RequestStatus::Timedout
        } else {
            self.status.clone()
        }
    }
}

/// Body of `POST systemuser/changerequest/vendor` (`ChangeRequestSystemUser.cs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequestBody {
    #[serde(default)]
    pub required_rights: Vec<Right>,
    #[serde(default)]
    pub unwanted_rights: Vec<Right>,
    #[serde(default)]
    pub required_access_packages: Vec<AccessPackage>,
    #[serde(default)]
    pub unwanted_access_packages: Vec<AccessPackage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// `ChangeRequestResponse.cs` (src/Core/Models/SystemUsers/ChangeRequestResponse.cs:11-122 at
/// Altinn/altinn-authentication@ad4f6f36): the four sets, the status (`ChangeRequestStatus.cs`:
/// New, Accepted, Rejected, Denied, Timedout, NoChangeNeeded), `redirectUrl`, `confirmUrl`
/// (single answers only; `""` on a NoChangeNeeded answer), `created` and `timedOut`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequestInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub system_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_user_id: Option<String>,
    #[serde(default)]
    pub party_org_no: String,
    #[serde(default)]
    pub required_rights: Vec<Right>,
    #[serde(default)]
    pub unwanted_rights: Vec<Right>,
    #[serde(default)]
    pub required_access_packages: Vec<AccessPackage>,
    #[serde(default)]
    pub unwanted_access_packages: Vec<AccessPackage>,
    pub status: RequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default)]
    pub timed_out: bool,
}

impl ChangeRequestInfo {
    /// The status with the `timedOut` flag folded in (as [`RequestInfo::effective_status`]).
    pub fn effective_status(&self) -> RequestStatus {
        if self.timed_out && self.status.is_pending() {
            RequestStatus::Timedout
        } else {
            self.status.clone()
        }
    }

    /// The confirmUrl, unless the service sent none or `""` (a NoChangeNeeded answer,
    /// ChangeRequestSystemUserController.cs:139).
    pub fn confirm_url(&self) -> Option<&str> {
        self.confirm_url.as_deref().filter(|u| !u.is_empty())
    }
}

/// `SystemUserExternalDTO.cs` (note `supplierOrgno`, lower-case "no").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemUserInfo {
    pub id: String,
    #[serde(default)]
    pub integration_title: Option<String>,
    #[serde(default)]
    pub system_id: String,
    #[serde(default)]
    pub reportee_org_no: String,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub is_deleted: bool,
    #[serde(default)]
    pub supplier_orgno: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub user_type: Option<String>,
}

/// `Paginated<T>`: `{"links": {"next"?}, "data": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Paginated<T> {
    #[serde(default)]
    pub links: Links,
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_serialises_like_real_clients() {
        let reg = SystemRegistration {
            id: "991825827_smartcloud".into(),
            vendor: VendorRef::org("991825827"),
            name: [("nb".to_string(), "SmartCloud".to_string())].into(),
            description: [("nb".to_string(), "d".to_string())].into(),
            rights: vec![Right::resource("ske-krav-og-betalinger")],
            access_packages: vec![],
            client_id: vec!["c".into()],
            allowed_redirect_urls: vec![],
            is_visible: true,
        };
        let v = serde_json::to_value(&reg).unwrap();
        assert_eq!(v["vendor"]["ID"], "0192:991825827");
        assert_eq!(v["rights"][0]["resource"][0]["id"], "urn:altinn:resource");
        assert_eq!(v["clientId"][0], "c");
        assert_eq!(v["isVisible"], true);
        assert!(v.get("accessPackages").is_some() && v["rights"][0].get("action").is_none());
    }

    #[test]
    fn request_info_parses_the_documented_example_and_timeouts() {
        let body = r#"{"id":"bb4955d4-6c44-4716-841c-911205dadade","integrationTitle":"SmartCloud","externalRef":"310904473",
          "systemId":"991825827_smartcloud","partyOrgNo":"310904473","rights":[{"resource":[{"id":"urn:altinn:resource","value":"ske-krav-og-betalinger"}]}],
          "accessPackages":[],"status":"New","redirectUrl":"https://smartcloud.example/receipt",
          "confirmUrl":"https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/request?id=bb49&DONTCHOOSEREPORTEE=true",
          "escalated":false,"created":"2026-01-05T10:11:12.123456Z","timedOut":true}"#;
        let r: RequestInfo = serde_json::from_str(body).unwrap();
        assert_eq!(r.status, RequestStatus::New);
        assert_eq!(r.effective_status(), RequestStatus::Timedout);
        let lower: RequestInfo = serde_json::from_str(r#"{"id":"x","status":"accepted"}"#).unwrap();
        assert_eq!(lower.status, RequestStatus::Accepted);
        let odd: RequestInfo = serde_json::from_str(r#"{"id":"x","status":"Escalated"}"#).unwrap();
        assert_eq!(odd.status, RequestStatus::Other("Escalated".into()));
    }
}
