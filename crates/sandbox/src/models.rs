//! Wire models mirroring the C# models of Altinn/altinn-authentication. Output follows ASP.NET's
//! web defaults there: camelCase (or the explicit `[JsonPropertyName]`), nulls left out
//! (`WhenWritingNull`), enums as PascalCase strings. Input is read case-insensitively like
//! System.Text.Json with `PropertyNameCaseInsensitive` (see [`normalize_input`]).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// mirrors: src/Core/Models/AttributePair.cs
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributePair {
    pub id: String,
    pub value: String,
}

/// mirrors: src/Core/Models/Right.cs (record Right { Action?, Resource })
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Right {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default)]
    pub resource: Vec<AttributePair>,
}

impl Right {
    /// mirrors: Right.Compare — same attribute set, order-independent.
    pub fn same_as(&self, other: &Right) -> bool {
        self.resource.len() == other.resource.len()
            && self.resource.iter().all(|a| other.resource.contains(a))
            && other.resource.iter().all(|a| self.resource.contains(a))
    }
}

/// mirrors: src/Core/Models/AccessPackages/AccessPackage.cs (record AccessPackage { Urn? })
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPackage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urn: Option<String>,
}

/// mirrors: src/Core/Models/VendorInfo.cs — `Authority` is a C# *field*, which System.Text.Json
/// neither reads nor writes, so only `ID` is on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VendorInfo {
    #[serde(rename = "ID", default)]
    pub id: Option<String>,
}

/// mirrors: src/Core/Models/SystemRegisters/RegisterSystemRequest.cs
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterSystemRequest {
    pub id: String,
    pub vendor: VendorInfo,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    #[serde(default)]
    pub rights: Option<Vec<Right>>,
    #[serde(default)]
    pub access_packages: Option<Vec<AccessPackage>>,
    #[serde(default)]
    pub client_id: Vec<String>,
    #[serde(default = "default_true")]
    pub is_visible: bool,
    #[serde(default)]
    pub allowed_redirect_urls: Vec<String>,
}

fn default_true() -> bool {
    true
}

/// mirrors: src/Core/Models/SystemRegisters/RegisteredSystemResponse.cs
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredSystemResponse {
    pub id: String,
    pub vendor: VendorInfo,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    pub is_deleted: bool,
    pub client_id: Vec<String>,
    pub is_visible: bool,
    pub allowed_redirect_urls: Vec<String>,
}

/// mirrors: src/Core/Models/SystemRegisters/RegisteredSystemDTO.cs
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredSystemDto {
    pub system_id: String,
    pub system_vendor_org_number: String,
    /// Always "" in the real service: RegisteredSystemResponse.SystemVendorOrgName is a
    /// get-only property initialised to string.Empty.
    pub system_vendor_org_name: String,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    pub is_visible: bool,
}

/// mirrors: src/Core/Models/SystemRegisters/SystemRegisterUpdateResult.cs
#[derive(Debug, Clone, Serialize)]
pub struct SystemRegisterUpdateResult {
    pub succeeded: bool,
}

/// mirrors: src/Core/Models/SystemUsers/CreateRequestSystemUser.cs
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequestSystemUser {
    #[serde(default)]
    pub integration_title: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
    pub system_id: String,
    pub party_org_no: String,
    #[serde(default)]
    pub rights: Option<Vec<Right>>,
    #[serde(default)]
    pub access_packages: Option<Vec<AccessPackage>>,
    #[serde(default)]
    pub redirect_url: Option<String>,
}

/// mirrors: src/Core/Models/SystemUsers/CreateAgentRequestSystemUser.cs
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAgentRequestSystemUser {
    #[serde(default)]
    pub integration_title: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
    pub system_id: String,
    pub party_org_no: String,
    /// [Required] in C#, but a null list only fails later with AUTH-00058.
    #[serde(default)]
    pub access_packages: Option<Vec<AccessPackage>>,
    #[serde(default)]
    pub redirect_url: Option<String>,
}

/// mirrors: src/Core/Models/SystemUsers/ChangeRequestSystemUser.cs
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequestSystemUser {
    #[serde(default)]
    pub required_rights: Vec<Right>,
    #[serde(default)]
    pub unwanted_rights: Vec<Right>,
    #[serde(default)]
    pub required_access_packages: Vec<AccessPackage>,
    #[serde(default)]
    pub unwanted_access_packages: Vec<AccessPackage>,
    #[serde(default)]
    pub redirect_url: Option<String>,
}

/// mirrors: src/Core/Models/SystemUsers/RequestSystemResponse.cs
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestSystemResponse {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    pub system_id: String,
    pub party_org_no: String,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    pub escalated: bool,
    pub created: String,
    pub timed_out: bool,
}

/// mirrors: src/Core/Models/SystemUsers/AgentRequestSystemResponse.cs (no `rights`;
/// `UserType` is [JsonIgnore]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRequestSystemResponse {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    pub system_id: String,
    pub party_org_no: String,
    pub access_packages: Vec<AccessPackage>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    pub escalated: bool,
    pub created: String,
    pub timed_out: bool,
}

/// mirrors: src/Core/Models/SystemUsers/ChangeRequestResponse.cs
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequestResponse {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    pub system_id: String,
    pub system_user_id: String,
    pub party_org_no: String,
    pub required_rights: Vec<Right>,
    pub unwanted_rights: Vec<Right>,
    pub required_access_packages: Vec<AccessPackage>,
    pub unwanted_access_packages: Vec<AccessPackage>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    pub created: String,
    pub timed_out: bool,
}

/// mirrors: src/Core/Models/SystemUserExternalDTO.cs (note `supplierOrgno`, lower-case "no").
#[derive(Debug, Clone, Serialize)]
pub struct SystemUserExternalDto {
    pub id: String,
    #[serde(rename = "integrationTitle")]
    pub integration_title: String,
    #[serde(rename = "systemId")]
    pub system_id: String,
    #[serde(rename = "productName")]
    pub product_name: String,
    #[serde(rename = "reporteeOrgNo")]
    pub reportee_org_no: String,
    pub created: String,
    #[serde(rename = "isDeleted")]
    pub is_deleted: bool,
    #[serde(rename = "supplierName")]
    pub supplier_name: String,
    #[serde(rename = "supplierOrgno")]
    pub supplier_org_no: String,
    #[serde(rename = "externalRef")]
    pub external_ref: String,
    /// "standard" | "agent" (JsonStringEnumMemberName in src/Core/Enums/SystemUserType.cs)
    #[serde(rename = "userType")]
    pub user_type: String,
}

/// mirrors: src/Authentication/Model/Paginated.cs + ListObject.cs: `{"links":{"next"?},"data":[]}`
#[derive(Debug, Clone, Serialize)]
pub struct Paginated<T> {
    pub links: PaginatedLinks,
    pub data: Vec<T>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaginatedLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// .NET writes DateTime from Postgres timestamps with microsecond precision and a `Z`.
pub fn dotnet_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Make a JSON body look the way System.Text.Json would bind it in the real service:
/// property names are matched case-insensitively (ASP.NET web defaults), and — for routes with
/// `TrimStringsActionFilter` — string values are trimmed. Keys are rewritten to the canonical
/// spelling our serde models expect. Dictionaries (`name`, `description`) keep their keys.
pub fn normalize_input(value: Value, trim: bool) -> Value {
    normalize(value, trim, None)
}

const CANONICAL_KEYS: &[&str] = &[
    "id",
    "vendor",
    "name",
    "description",
    "rights",
    "accessPackages",
    "clientId",
    "isVisible",
    "allowedRedirectUrls",
    "resource",
    "action",
    "value",
    "urn",
    "integrationTitle",
    "externalRef",
    "systemId",
    "partyOrgNo",
    "redirectUrl",
    "requiredRights",
    "unwantedRights",
    "requiredAccessPackages",
    "unwantedAccessPackages",
];

fn normalize(value: Value, trim: bool, parent_key: Option<&str>) -> Value {
    match value {
        Value::Object(map) => {
            let is_dictionary = matches!(parent_key, Some("name") | Some("description"));
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = if is_dictionary {
                    k
                } else if parent_key == Some("vendor") && k.eq_ignore_ascii_case("id") {
                    "ID".to_string()
                } else {
                    CANONICAL_KEYS
                        .iter()
                        .find(|c| c.eq_ignore_ascii_case(&k))
                        .map(|c| (*c).to_string())
                        .unwrap_or(k)
                };
                let child = normalize(v, trim, Some(key.as_str()));
                out.insert(key, child);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| normalize(v, trim, parent_key))
                .collect(),
        ),
        Value::String(s) if trim => Value::String(s.trim().to_string()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalizes_case_and_trims() {
        let v = json!({"SystemId": " a_b ", "Vendor": {"id": "0192:1"}, "Name": {"NB": "x"},
                       "Rights": [{"Resource": [{"ID": "urn", "Value": "v"}]}]});
        let n = normalize_input(v, true);
        assert_eq!(
            n,
            json!({"systemId": "a_b", "vendor": {"ID": "0192:1"}, "name": {"NB": "x"},
                   "rights": [{"resource": [{"id": "urn", "value": "v"}]}]})
        );
    }

    #[test]
    fn nulls_are_left_out() {
        let r = Right {
            action: None,
            resource: vec![],
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap_or_default(),
            r#"{"resource":[]}"#
        );
    }
}
