//! Altinn's error answers: ProblemDetails with `AUTH-*` codes, validation problems with
//! `AUTH.VLD-*` entries, plain-text bodies and empty 401/403s, each turned into a typed error
//! with a human hint. Codes and meanings: `Problem.cs` and `ValidationErrors.cs` in
//! Altinn/altinn-authentication (tabulated in `shared/docs/altinn-api-details.md` §3.1).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProblemDetails {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_errors: Vec<ValidationIssue>,
    /// ASP.NET model-binding errors: `{"field": ["message", ...]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationIssue {
    pub code: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ProblemDetails {
    /// All codes in the answer: the top-level one and every validation entry's.
    pub fn codes(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.code.iter().map(String::as_str).collect();
        v.extend(self.validation_errors.iter().map(|e| e.code.as_str()));
        v
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.codes().contains(&code)
    }
}

impl fmt::Display for ProblemDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(code) = &self.code {
            write!(f, "{code}: ")?;
        }
        f.write_str(self.title.as_deref().unwrap_or("(no title)"))?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        for v in &self.validation_errors {
            write!(f, "\n  - {}: {}", v.code, v.title)?;
            if !v.paths.is_empty() {
                write!(f, " [{}]", v.paths.join(", "))?;
            }
            if let Some(d) = &v.detail {
                write!(f, " ({d})")?;
            }
        }
        if let Some(errors) = &self.errors {
            for (field, msgs) in errors {
                write!(f, "\n  - {field}: {msgs}")?;
            }
        }
        Ok(())
    }
}

/// What the user should do about a code.
pub fn hint_for_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "AUTH-00000" => {
            "the customer organisation was not found in the Entity Register; in TT02 use a Tenor test organisation"
        }
        "AUTH-00001" => {
            "a requested right is not on the registered system (or no rights/packages were given); register the system with it first"
        }
        "AUTH-00004" => {
            "a system user already exists for this customer, system and external reference: it is already approved, go on to the test call"
        }
        "AUTH-00010" => "no such request (wrong id, deleted, or expired); create a new request",
        "AUTH-00011" => {
            "the system does not exist or belongs to another vendor; check the system id and that the token's org is the vendor"
        }
        "AUTH-00013" => "the request is no longer New, so it cannot be approved or rejected again",
        "AUTH-00015" => "no such system user",
        "AUTH-00021" => {
            "the redirectUrl is not one of the system's allowedRedirectUrls (scheme, host and path must match)"
        }
        "AUTH-00023" => {
            "the token has no vendor organisation (consumer claim); use a Maskinporten token of the vendor's client"
        }
        "AUTH-00026" => {
            "the system has no allowedRedirectUrls, so a request cannot carry a redirectUrl; add one to the system or drop it"
        }
        "AUTH-00030" => "no such agent request",
        "AUTH-00058" => "an agent request needs at least one access package",
        "AUTH-00059" => "a request needs at least one right or access package",
        "AUTH-00063" => {
            "a requested access package is not on the registered system; register the system with it first"
        }
        "AUTH-00064" => {
            "this access package cannot be delegated to a standard system user; use an agent request or another package"
        }
        "AUTH-00065" => "this access package is not valid for client relations (agent requests)",
        "AUTH.VLD-00000" => "vendor must be `0192:<org number>`",
        "AUTH.VLD-00001" => {
            "the system id must start with the vendor's org number and an underscore: `<vendorOrg>_<name>`"
        }
        "AUTH.VLD-00002" => "a system with this id already exists (update it instead)",
        "AUTH.VLD-00003" => {
            "a resource in rights is not in Altinn's resource registry; check the resource id"
        }
        "AUTH.VLD-00004" => {
            "this Maskinporten client id is already used by another system; one client id per system"
        }
        "AUTH.VLD-00005" => "allowed redirect URLs must be absolute https URLs",
        "AUTH.VLD-00006" => "the same right is listed twice",
        "AUTH.VLD-00007" => "the same access package is listed twice",
        "AUTH.VLD-00008" => "an access package is unknown or not delegable",
        "AUTH.VLD-00009" => "resource ids must use the attribute urn:altinn:resource",
        "AUTH.VLD-00011" => "the same client id is listed twice",
        "AUTH.VLD-00012" => "the id in the body differs from the id in the URL",
        "AUTH.VLD-00013" => "the system id must not contain spaces",
        "AUTH.VLD-00017" => "this resource type cannot be delegated",
        "AUTH.VLD-00018" => {
            "a visible system cannot carry a client-only access package; set isVisible false or remove it"
        }
        "AUTH-00016" | "AUTH-00018" | "AUTH-00019" | "AUTH-00020" | "AUTH-00066" | "AUTH-00068"
        | "AUTH-00069" | "AUTH-00070" | "AUTH-00071" => {
            "the approver cannot delegate what was requested (needs the access-manager role and every right/package); ask only for what you need"
        }
        _ => return None,
    })
}

/// A hint for the whole answer: the first code we know something about.
pub fn hint_for(problem: &ProblemDetails) -> String {
    problem
        .codes()
        .into_iter()
        .find_map(hint_for_code)
        .map(str::to_string)
        .unwrap_or_else(|| "see the code in Altinn's system-user documentation".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_validation_problem() {
        let body = r#"{"type":"urn:altinn:error:STD-00000","title":"One or more validation errors occurred.","status":400,
            "code":"STD-00000","traceId":"00-x","validationErrors":[{"code":"AUTH.VLD-00004","title":"ClientId already tagged",
            "paths":["/registersystemrequest/clientid"]}]}"#;
        let p: ProblemDetails = serde_json::from_str(body).unwrap();
        assert!(p.has_code("AUTH.VLD-00004"));
        assert!(hint_for(&p).contains("one client id per system"));
        let shown = p.to_string();
        assert!(
            shown.contains("STD-00000")
                && shown.contains("AUTH.VLD-00004")
                && shown.contains("/registersystemrequest/clientid")
        );
    }

    #[test]
    fn parses_domain_problem() {
        let body = r#"{"type":"urn:altinn:error:AUTH-00004","title":"Failed to create new SystemUser, existing SystemUser tied to the given System-Id.","status":400,"code":"AUTH-00004"}"#;
        let p: ProblemDetails = serde_json::from_str(body).unwrap();
        assert_eq!(p.code.as_deref(), Some("AUTH-00004"));
        assert!(hint_for(&p).contains("already approved"));
    }
}
