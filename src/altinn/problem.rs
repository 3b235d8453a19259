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

/// What a code means for the user: in which step it happens, why, and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CodeHelp {
    /// The onboarding step the answer belongs to ("client", "system", "request", "approval",
    /// "token").
    pub step: &'static str,
    pub cause: &'static str,
    pub fix: &'static str,
}

impl CodeHelp {
    /// One line: the cause, then the fix.
    pub fn hint(&self) -> String {
        format!("{}; {}", self.cause, self.fix)
    }
}

pub const fn help(step: &'static str, cause: &'static str, fix: &'static str) -> CodeHelp {
    CodeHelp { step, cause, fix }
}

/// Every Altinn code the client knows, with its step, cause and fix. Codes and meanings:
/// Altinn/altinn-authentication `src/Core/Problems/Problem.cs` (AUTH-*) and
/// `src/Core/Errors/ValidationErrors.cs` (AUTH.VLD-*); which check raises each is in
/// `shared/docs/altinn-api-details.md` §3 and `notes/strictness-spec.md` §1-2.
pub const ALTINN_CODES: &[(&str, CodeHelp)] = &[
    // --- system register (SystemRegisterController validation) ---
    (
        "AUTH.VLD-00000",
        help(
            "system",
            "the vendor is not written as `0192:<org number>`",
            "register with vendor ID `0192:<your org number>`",
        ),
    ),
    (
        "AUTH.VLD-00001",
        help(
            "system",
            "the system id does not start with the vendor's org number",
            "name the system `<vendorOrg>_<name>`",
        ),
    ),
    (
        "AUTH.VLD-00002",
        help(
            "system",
            "a system with this id already exists",
            "update it instead (`system register` does), or pick another name",
        ),
    ),
    (
        "AUTH.VLD-00003",
        help(
            "system",
            "a resource in rights is not in Altinn's resource registry",
            "check the resource id against the Resource Registry of this environment (resourceregistry/api/v1/resource/search), or drop it",
        ),
    ),
    (
        "AUTH.VLD-00004",
        help(
            "system",
            "this Maskinporten client id is already used by another system",
            "one client id per system: use another client, or remove it from the other system",
        ),
    ),
    (
        "AUTH.VLD-00005",
        help(
            "system",
            "an allowed redirect URL is not an absolute https URL",
            "give every redirect URL as https://host/path",
        ),
    ),
    (
        "AUTH.VLD-00006",
        help(
            "system",
            "the same right is listed twice",
            "list each resource once",
        ),
    ),
    (
        "AUTH.VLD-00007",
        help(
            "system",
            "the same access package is listed twice",
            "list each access package once",
        ),
    ),
    (
        "AUTH.VLD-00008",
        help(
            "system",
            "an access package is unknown, malformed or cannot be delegated at all",
            "use a package URN from the access-package catalogue (urn:altinn:accesspackage:<name>) that is delegable",
        ),
    ),
    (
        "AUTH.VLD-00009",
        help(
            "system",
            "a right does not use the attribute urn:altinn:resource",
            "write rights as {\"id\": \"urn:altinn:resource\", \"value\": \"<resource id>\"}",
        ),
    ),
    (
        "AUTH.VLD-00011",
        help(
            "system",
            "the same client id is listed twice",
            "list each client id once",
        ),
    ),
    (
        "AUTH.VLD-00012",
        help(
            "system",
            "the id in the body differs from the id in the URL",
            "send the same system id in both",
        ),
    ),
    (
        "AUTH.VLD-00013",
        help(
            "system",
            "the system id contains spaces",
            "use a system id without spaces",
        ),
    ),
    (
        "AUTH.VLD-00017",
        help(
            "system",
            "a resource in rights has a type that cannot be delegated to a system user (MaskinportenSchema, Altinn2Service or Consent)",
            "remove it; use a resource of a delegable type (e.g. GenericAccessResource or AltinnApp)",
        ),
    ),
    (
        "AUTH.VLD-00018",
        help(
            "system",
            "a visible system carries a client-only access package (one meant for agent system users)",
            "register the system with isVisible false (`system register --invisible`), or remove the client package",
        ),
    ),
    // --- requests (RequestSystemUserController / ChangeRequestSystemUserController) ---
    (
        "AUTH-00000",
        help(
            "request",
            "the customer organisation was not found in the Entity Register",
            "in TT02 use a Tenor test organisation; in the sandbox a seeded one",
        ),
    ),
    (
        "AUTH-00001",
        help(
            "request",
            "a requested right is not on the registered system (or the request has neither rights nor packages)",
            "register the system with that right first, or ask only for rights the system has",
        ),
    ),
    (
        "AUTH-00004",
        help(
            "request",
            "a system user already exists for this customer, system and external reference",
            "it is already approved: go on to the test call, or use another external reference",
        ),
    ),
    (
        "AUTH-00006",
        help(
            "request",
            "a request with these external ids was already accepted",
            "the system user exists: go on to the token and the test call",
        ),
    ),
    (
        "AUTH-00007",
        help(
            "request",
            "a request with these external ids is still pending",
            "reuse it (`request status`) or delete it and create a new one",
        ),
    ),
    (
        "AUTH-00008",
        help(
            "request",
            "a request with these external ids was denied",
            "delete it and create a new request (`request create` does)",
        ),
    ),
    (
        "AUTH-00009",
        help(
            "request",
            "a request with these external ids was rejected",
            "delete it and create a new request (`request create` does)",
        ),
    ),
    (
        "AUTH-00010",
        help(
            "request",
            "no such request: wrong id, deleted, expired, or a standard request asked for on the agent route (or the reverse)",
            "check the id and whether it is an agent request (--agent), or create a new request",
        ),
    ),
    (
        "AUTH-00011",
        help(
            "system",
            "the system does not exist or belongs to another vendor",
            "check the system id, and that the token's organisation (the client's vendor org) owns the system",
        ),
    ),
    (
        "AUTH-00013",
        help(
            "approval",
            "the request is no longer New: it was already approved, rejected or decided",
            "nothing to decide again: check `request status`, or create a new request",
        ),
    ),
    (
        "AUTH-00014",
        help(
            "approval",
            "the delegation check failed with an unknown error",
            "try again; if it persists, report the traceId to Altinn",
        ),
    ),
    (
        "AUTH-00015",
        help(
            "request",
            "no such system user (or an agent system user, which change requests do not support)",
            "check the system-user id; it is shown once the request is approved",
        ),
    ),
    (
        "AUTH-00016",
        help(
            "approval",
            "the approver has no role in the Entity Register or Altinn that gives a requested right",
            "let someone with the needed role (e.g. the general manager) approve, or ask only for rights the approver can delegate",
        ),
    ),
    (
        "AUTH-00018",
        help(
            "approval",
            "the approver lacks a direct delegation of a requested right",
            "have the right delegated to the approver first, or let someone who holds it approve",
        ),
    ),
    (
        "AUTH-00019",
        help(
            "approval",
            "the service requires explicit access in the service-rights register (SRR) and the customer lacks it",
            "the service owner must grant the customer access, or drop that right from the request",
        ),
    ),
    (
        "AUTH-00020",
        help(
            "approval",
            "the service requires a higher authentication level than the approver logged in with",
            "log in with a higher level (BankID, or TestID in TT02) and approve again",
        ),
    ),
    (
        "AUTH-00021",
        help(
            "request",
            "the redirectUrl is not one of the system's allowedRedirectUrls (scheme, host and path must match)",
            "use one of the system's redirect URLs, or add it to the system",
        ),
    ),
    (
        "AUTH-00023",
        help(
            "request",
            "the token has no vendor organisation (consumer claim)",
            "use a Maskinporten token of the vendor's client",
        ),
    ),
    (
        "AUTH-00025",
        help(
            "request",
            "the id is a standard request, not an agent request",
            "look it up without --agent",
        ),
    ),
    (
        "AUTH-00026",
        help(
            "request",
            "the system has no allowedRedirectUrls, so a request cannot carry a redirectUrl",
            "add a redirect URL to the system, or drop it from the request",
        ),
    ),
    (
        "AUTH-00030",
        help(
            "approval",
            "the id is not an agent request (Altinn's approval page uses this code; vendor lookups answer AUTH-00010)",
            "check the id and open the agent request's confirmUrl",
        ),
    ),
    (
        "AUTH-00050",
        help(
            "approval",
            "Access Management could not check the access packages",
            "try again later; report the traceId if it persists",
        ),
    ),
    (
        "AUTH-00052",
        help(
            "approval",
            "a requested access package is not on the system",
            "register the system with the package first",
        ),
    ),
    (
        "AUTH-00053",
        help(
            "approval",
            "the approver does not have enough access to delegate the requested access packages",
            "let someone who holds the packages (and may delegate them) approve, or ask for fewer packages",
        ),
    ),
    (
        "AUTH-00058",
        help(
            "request",
            "an agent request needs at least one access package",
            "register the system with access packages (`--access-package`); an agent request asks for them",
        ),
    ),
    (
        "AUTH-00059",
        help(
            "request",
            "a request needs at least one right or access package",
            "ask for at least one right or access package",
        ),
    ),
    (
        "AUTH-00061",
        help(
            "approval",
            "the change request is no longer New",
            "create a new change request with a new correlation id",
        ),
    ),
    (
        "AUTH-00063",
        help(
            "request",
            "a requested access package is not on the registered system",
            "register the system with the package first, or ask only for its packages",
        ),
    ),
    (
        "AUTH-00064",
        help(
            "request",
            "an access package cannot go to a standard system user: it is meant for client relations (or cannot be delegated further)",
            "use an agent request for client packages (`request create --agent`), or another package",
        ),
    ),
    (
        "AUTH-00065",
        help(
            "request",
            "an access package cannot go to an agent system user: it is not meant for client relations",
            "use a standard request for it, or a client package (e.g. regnskapsforer-*, ansvarlig-revisor)",
        ),
    ),
    (
        "AUTH-00066",
        help(
            "approval",
            "the person approving lacks access-manager rights (tilgangsstyrer) for the customer",
            "approve as someone with the access-manager role (e.g. the general manager), or have that role delegated first",
        ),
    ),
    (
        "AUTH-00068",
        help(
            "approval",
            "the approver has no access package that gives a requested right",
            "have the package delegated to the approver, or ask only for rights the approver can delegate",
        ),
    ),
    (
        "AUTH-00069",
        help(
            "approval",
            "the customer is not on the resource's access list",
            "the service owner must add the customer to the access list, or drop that right",
        ),
    ),
    (
        "AUTH-00070",
        help(
            "approval",
            "a requested resource cannot be delegated (delegable: false in the Resource Registry)",
            "remove that right from the system and the request; use a delegable resource",
        ),
    ),
    (
        "AUTH-00071",
        help(
            "approval",
            "a requested resource is a Maskinporten schema, which cannot be delegated to a system user",
            "remove it from the rights; access to a Maskinporten scope is granted to the client in Digdir's portal, not through a system user",
        ),
    ),
];

/// The step, cause and fix of an Altinn code ([`ALTINN_CODES`]).
pub fn explain_code(code: &str) -> Option<CodeHelp> {
    ALTINN_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, h)| *h)
}

/// What the user should do about a code: its cause and fix on one line.
pub fn hint_for_code(code: &str) -> Option<String> {
    explain_code(code).map(|h| h.hint())
}

/// A hint for the whole answer: the first code we know something about.
pub fn hint_for(problem: &ProblemDetails) -> String {
    problem
        .codes()
        .into_iter()
        .find_map(hint_for_code)
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
