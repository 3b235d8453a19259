//! The pre-flight: before `system register` or `request create` sends anything, say what the
//! system register, the request API or the customer's all-or-nothing approval would refuse,
//! with the code the service would answer, the reason and the fix. Pure: the metadata is
//! looked up first ([`super::MetadataClient::resolve`]); [`preflight`] only judges.
//!
//! The rules and their codes (the sandbox checks the same, `crates/sandbox/src/altinn/`):
//! - registration: an unknown resource is AUTH.VLD-00003, a MaskinportenSchema, Altinn2Service
//!   or Consent resource AUTH.VLD-00017 (SystemRegisterService.cs:31-40,154-185); an unknown
//!   package, or one neither delegable nor assignable, AUTH.VLD-00008; a visible system listing
//!   a package that is not assignable (a client-only one) AUTH.VLD-00018 (SRS:205-254);
//! - requests: a standard request may only ask for assignable packages (AUTH-00064), an agent
//!   request only for delegable ones (AUTH-00065) (SystemUserService.ValidateAccessPackages,
//!   SUS:682-757);
//! - approval: a resource with `delegable: false` registers but cannot be delegated by anyone
//!   (AUTH-00070, DelegationHelper.cs:205-224), and approval is all or nothing, so one such
//!   right fails the whole request.
//!
//! Mixed owners are a warning, not a refusal: the request is valid, but whoever approves must
//! be able to delegate every right, which gets harder with every owner (competent authority)
//! or package area the request spans.

use super::client::Lookup;
use super::{Fit, RightCandidate, RightKind};
use crate::profile::{RequestKind, SystemSpec};
use serde::Serialize;
use std::collections::BTreeSet;

/// What is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "for", content = "kind")]
pub enum Purpose {
    /// `system register` (the system register's checks, and what no approval could pass).
    Register,
    /// `request create` of this kind (a change request is judged as a standard one).
    Request(RequestKind),
}

/// How one right fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    /// The service or the approval would refuse it: nothing is sent.
    Refused,
    /// Allowed, but worth knowing (mixed owners, rights an agent request leaves out).
    Warning,
    /// The metadata could not be had: not checked, the service decides.
    Unchecked,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The resource id or package urn, or `system` for findings about the whole set.
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<RightKind>,
    pub outcome: Outcome,
    /// The code the service would answer (AUTH.VLD-00017, AUTH-00064, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The pre-flight's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub purpose: Purpose,
    pub findings: Vec<Finding>,
    /// "offline: results from cache of <time>" when the metadata came from a stale cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Report {
    /// Anything refused: the command must not send.
    pub fn is_refused(&self) -> bool {
        self.findings.iter().any(|f| f.outcome == Outcome::Refused)
    }

    pub fn refused(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.outcome == Outcome::Refused)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.outcome == Outcome::Warning)
    }

    pub fn unchecked(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.outcome == Outcome::Unchecked)
    }

    /// The most telling code among the refusals (the first one), for `--json`'s `code`.
    pub fn first_code(&self) -> Option<&str> {
        self.refused().find_map(|f| f.code.as_deref())
    }

    /// The refusal as one message: every refused right with its reason and fix.
    pub fn refusal_message(&self) -> String {
        let what = match self.purpose {
            Purpose::Register => "the system register or the customer's approval",
            Purpose::Request(RequestKind::Agent) => "the agent request",
            Purpose::Request(_) => "the request or the customer's approval",
        };
        let mut s = format!("pre-flight: {what} would refuse this (nothing was sent):");
        for f in self.refused() {
            s.push_str(&format!("\n  - {}", line(f)));
            if let Some(fix) = &f.fix {
                s.push_str(&format!("\n    fix: {fix}"));
            }
        }
        s.push_str("\n  hint: `altinn-onboard rights check` lists every right of the system; --no-preflight sends it anyway (the service then answers with the code above)");
        s
    }

    /// Warnings and unchecked rights as lines for stderr (empty when there are none).
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(n) = &self.note {
            out.push(format!("pre-flight: {n}"));
        }
        for f in self.warnings() {
            let mut s = format!("pre-flight warning: {}", line(f));
            if let Some(fix) = &f.fix {
                s.push_str(&format!("\n  fix: {fix}"));
            }
            out.push(s);
        }
        let unchecked: Vec<&Finding> = self.unchecked().collect();
        if let Some(first) = unchecked.first() {
            out.push(format!(
                "pre-flight: could not check {} ({}); the service will decide",
                unchecked
                    .iter()
                    .map(|f| f.subject.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                first.reason.lines().next().unwrap_or("")
            ));
        }
        out
    }
}

fn line(f: &Finding) -> String {
    let code = f
        .code
        .as_deref()
        .map(|c| format!(" [{c}]"))
        .unwrap_or_default();
    if f.subject == "system" {
        format!("{}{code}", f.reason)
    } else {
        format!("{}: {}{code}", f.subject, f.reason)
    }
}

/// Judge a system's rights and packages for `purpose`, from the candidates known for them.
/// A right or package without a candidate is reported as not checked (use
/// [`preflight_lookup`] to refuse the ones the service said do not exist).
pub fn preflight(spec: &SystemSpec, purpose: Purpose, candidates: &[RightCandidate]) -> Report {
    let lookup = Lookup {
        found: candidates.to_vec(),
        ..Lookup::default()
    };
    preflight_lookup(spec, purpose, &lookup)
}

/// [`preflight`] from a [`Lookup`]: also refuses what the service does not know, and marks
/// what could not be checked.
pub fn preflight_lookup(spec: &SystemSpec, purpose: Purpose, lookup: &Lookup) -> Report {
    let agent = purpose == Purpose::Request(RequestKind::Agent);
    let mut findings = Vec::new();
    let unchecked_reason = |r: &str| {
        lookup
            .unchecked
            .iter()
            .find(|(x, _)| x == r)
            .map(|(_, why)| why.clone())
            .unwrap_or_else(|| "no metadata for it".to_string())
    };

    if agent && !spec.rights.is_empty() {
        findings.push(Finding {
            subject: "system".into(),
            kind: None,
            outcome: Outcome::Warning,
            code: None,
            reason: format!(
                "an agent request asks only for the system's access packages; its {} single right(s) ({}) are not part of it",
                spec.rights.len(),
                spec.rights.join(", ")
            ),
            fix: Some("for those rights, make a standard request (`request create` without --agent)".into()),
        });
    }

    let mut owners: BTreeSet<String> = BTreeSet::new();
    let mut areas: BTreeSet<String> = BTreeSet::new();

    if !agent {
        for id in &spec.rights {
            let found = lookup
                .found
                .iter()
                .find(|c| c.kind == RightKind::Resource && c.matches(id));
            let f = match found {
                Some(c) => {
                    if let Some(o) = &c.owner {
                        owners.insert(o.label().to_string());
                    }
                    judge_resource(id, c)
                }
                None if lookup.not_found.contains(id) => Finding {
                    subject: id.clone(),
                    kind: Some(RightKind::Resource),
                    outcome: Outcome::Refused,
                    code: Some("AUTH.VLD-00003".into()),
                    reason: "the Resource Registry has no resource with this id".into(),
                    fix: Some(format!(
                        "check the id (exact, case-sensitive): `altinn-onboard rights search {}`",
                        search_hint(id)
                    )),
                },
                None => unchecked(id, RightKind::Resource, unchecked_reason(id)),
            };
            findings.push(f);
        }
    }

    for urn in &spec.access_packages {
        let found = lookup
            .found
            .iter()
            .find(|c| c.kind == RightKind::Package && c.matches(urn));
        let f = match found {
            Some(c) => {
                if let Some(a) = &c.area {
                    areas.insert(a.name.clone());
                }
                judge_package(urn, c, purpose, spec.is_visible)
            }
            None if lookup.not_found.contains(urn) => Finding {
                subject: urn.clone(),
                kind: Some(RightKind::Package),
                outcome: Outcome::Refused,
                code: Some("AUTH.VLD-00008".into()),
                reason: "Access Management knows no access package by this urn".into(),
                fix: Some(format!(
                    "check the urn (e.g. urn:altinn:accesspackage:skatt-naering): `altinn-onboard rights search --packages {}`",
                    search_hint(urn)
                )),
            },
            None => unchecked(urn, RightKind::Package, unchecked_reason(urn)),
        };
        findings.push(f);
    }

    if owners.len() > 1 || areas.len() > 1 {
        let mut spans = Vec::new();
        if owners.len() > 1 {
            spans.push(format!(
                "{} owners ({})",
                owners.len(),
                owners.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if areas.len() > 1 {
            spans.push(format!(
                "{} package areas ({})",
                areas.len(),
                areas.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        findings.push(Finding {
            subject: "system".into(),
            kind: None,
            outcome: Outcome::Warning,
            code: None,
            reason: format!(
                "the rights span {}: approval is all or nothing, so whoever approves must be able to delegate every one of them, and one they cannot delegate fails the whole request",
                spans.join(" and ")
            ),
            fix: Some(
                "consider one system per owner or area (e.g. `system register --name <name>-skatt` with only those rights), so each customer approves what its people can delegate".into(),
            ),
        });
    }

    Report {
        purpose,
        findings,
        note: lookup.note.clone(),
    }
}

fn search_hint(reference: &str) -> String {
    let last = reference.rsplit(':').next().unwrap_or(reference);
    last.split(['-', '_']).next().unwrap_or(last).to_string()
}

fn unchecked(subject: &str, kind: RightKind, reason: String) -> Finding {
    Finding {
        subject: subject.to_string(),
        kind: Some(kind),
        outcome: Outcome::Unchecked,
        code: None,
        reason,
        fix: None,
    }
}

fn ok(subject: &str, kind: RightKind, reason: String) -> Finding {
    Finding {
        subject: subject.to_string(),
        kind: Some(kind),
        outcome: Outcome::Ok,
        code: None,
        reason,
        fix: None,
    }
}

fn judge_resource(id: &str, c: &RightCandidate) -> Finding {
    let t = c.resource_type.as_deref().unwrap_or("Default");
    let owner = c
        .owner
        .as_ref()
        .map(|o| o.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "its owner".into());
    match c.standard() {
        Fit::No { code, reason } if code == "AUTH.VLD-00017" => {
            let fix = if t.eq_ignore_ascii_case("MaskinportenSchema") {
                format!(
                    "remove {id} from the system's rights; a MaskinportenSchema API is reached with its Maskinporten scope on your client and the customer's API delegation in Altinn, not with a system user"
                )
            } else {
                format!(
                    "remove {id} from the system's rights (a {t} resource cannot be delegated to a system user); ask {owner} for the Altinn 3 resource that replaces it"
                )
            };
            Finding {
                subject: id.to_string(),
                kind: Some(RightKind::Resource),
                outcome: Outcome::Refused,
                code: Some(code),
                reason,
                fix: Some(fix),
            }
        }
        Fit::No { code, .. } => Finding {
            subject: id.to_string(),
            kind: Some(RightKind::Resource),
            outcome: Outcome::Refused,
            code: Some(code),
            reason: "the resource is not delegable (`delegable: false`): the system register accepts it, but no customer can approve it, and approval is all or nothing"
                .to_string(),
            fix: Some(format!(
                "remove {id} from the system's rights; ask {owner} whether another resource gives the access"
            )),
        },
        Fit::Yes | Fit::Unknown => ok(
            id,
            RightKind::Resource,
            format!("{t}, owned by {owner}, delegable"),
        ),
    }
}

fn judge_package(urn: &str, c: &RightCandidate, purpose: Purpose, visible: bool) -> Finding {
    let refused = |code: &str, reason: String, fix: String| Finding {
        subject: urn.to_string(),
        kind: Some(RightKind::Package),
        outcome: Outcome::Refused,
        code: Some(code.to_string()),
        reason,
        fix: Some(fix),
    };
    let delegable = c.delegable.unwrap_or(true);
    let assignable = c.assignable.unwrap_or(true);
    match purpose {
        Purpose::Register => {
            if !delegable && !assignable {
                return refused(
                    "AUTH.VLD-00008",
                    "the package can be neither delegated nor assigned (\"Not possible to delegate\")".into(),
                    format!("remove {urn} from the system's access packages"),
                );
            }
            if visible && !assignable {
                return refused(
                    "AUTH.VLD-00018",
                    "a client-only package (delegable, not assignable) on a visible system: only agent systems, which are not visible, may list it".into(),
                    format!(
                        "register the system with --invisible to use it for agent (client) system users, or remove {urn}"
                    ),
                );
            }
        }
        Purpose::Request(RequestKind::Agent) => {
            if !delegable {
                return refused(
                    "AUTH-00065",
                    "an agent request may only ask for delegable packages (`isDelegable: false`)"
                        .into(),
                    format!(
                        "remove {urn} from the system for agent requests, or ask for it in a standard request (`request create` without --agent)"
                    ),
                );
            }
        }
        Purpose::Request(_) => {
            if !assignable {
                let (reason, fix) = if c.is_client_only() {
                    (
                        "a client-only package in a standard request: it is for client relations (delegable, not assignable), so only an agent system user can hold it".to_string(),
                        format!(
                            "make an agent request (`request create --agent`), or remove {urn} from the system"
                        ),
                    )
                } else {
                    (
                        "a standard request may only ask for assignable packages (`isAssignable: false`)".to_string(),
                        format!("remove {urn} from the system"),
                    )
                };
                return refused("AUTH-00064", reason, fix);
            }
        }
    }
    let area = c
        .area
        .as_ref()
        .map(|a| format!(" (area {})", a.name))
        .unwrap_or_default();
    ok(
        urn,
        RightKind::Package,
        format!(
            "{}{area}: {}",
            c.name.nb,
            match (delegable, assignable) {
                (true, true) => "standard and agent system users",
                (false, true) => "standard system users",
                (true, false) => "agent system users",
                (false, false) => "neither",
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(id: &str, t: &str, delegable: bool, owner: &str) -> RightCandidate {
        RightCandidate::from_service_resource(&json!({
            "identifier": id, "resourceType": t, "delegable": delegable,
            "hasCompetentAuthority": {"orgcode": owner, "organization": owner, "name": {"nb": owner}}
        }))
        .unwrap()
    }

    fn package(code: &str, d: bool, a: bool, area: &str) -> RightCandidate {
        RightCandidate::from_package_dto(&json!({
            "id": code, "urn": format!("urn:altinn:accesspackage:{code}"), "name": code,
            "isDelegable": d, "isAssignable": a, "area": {"urn": area, "name": area}
        }))
        .unwrap()
    }

    fn spec(rights: &[&str], packages: &[&str], visible: bool) -> SystemSpec {
        let mut s = SystemSpec::simple("s", "S", "S");
        s.rights = rights.iter().map(|r| r.to_string()).collect();
        s.access_packages = packages
            .iter()
            .map(|p| format!("urn:altinn:accesspackage:{p}"))
            .collect();
        s.is_visible = visible;
        s
    }

    fn codes(r: &Report) -> Vec<(String, String)> {
        r.refused()
            .map(|f| (f.subject.clone(), f.code.clone().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn refuses_what_registration_refuses() {
        let cands = vec![
            resource("mp", "MaskinportenSchema", true, "skd"),
            resource("a2", "Altinn2Service", true, "skd"),
            resource("broker", "BrokerService", false, "skd"),
            resource("ok", "GenericAccessResource", true, "skd"),
            package("none", false, false, "x"),
            package("client", true, false, "x"),
        ];
        let s = spec(&["mp", "a2", "broker", "ok"], &["none", "client"], true);
        let r = preflight(&s, Purpose::Register, &cands);
        assert_eq!(
            codes(&r),
            [
                ("mp".into(), "AUTH.VLD-00017".into()),
                ("a2".into(), "AUTH.VLD-00017".into()),
                ("broker".into(), "AUTH-00070".into()),
                (
                    "urn:altinn:accesspackage:none".into(),
                    "AUTH.VLD-00008".into()
                ),
                (
                    "urn:altinn:accesspackage:client".into(),
                    "AUTH.VLD-00018".into()
                ),
            ]
        );
        assert!(r.is_refused());
        let msg = r.refusal_message();
        assert!(
            msg.contains("nothing was sent") && msg.contains("fix: remove mp"),
            "{msg}"
        );
        // Invisible: the client-only package registers.
        let s = spec(&["ok"], &["client"], false);
        assert!(!preflight(&s, Purpose::Register, &cands).is_refused());
    }

    #[test]
    fn packages_are_judged_by_request_kind() {
        let cands = vec![
            package("client", true, false, "x"),
            package("admin", false, true, "x"),
            package("both", true, true, "x"),
        ];
        let s = spec(&[], &["client", "admin", "both"], false);
        let std = preflight(&s, Purpose::Request(RequestKind::Standard), &cands);
        assert_eq!(
            codes(&std),
            [(
                "urn:altinn:accesspackage:client".into(),
                "AUTH-00064".into()
            )]
        );
        assert!(
            std.refusal_message()
                .contains("client-only package in a standard request")
        );
        let agent = preflight(&s, Purpose::Request(RequestKind::Agent), &cands);
        assert_eq!(
            codes(&agent),
            [("urn:altinn:accesspackage:admin".into(), "AUTH-00065".into())]
        );
        let change = preflight(&s, Purpose::Request(RequestKind::Change), &cands);
        assert_eq!(codes(&change), codes(&std));
    }

    #[test]
    fn mixed_owners_warn_and_do_not_refuse() {
        let cands = vec![
            resource("a", "GenericAccessResource", true, "skd"),
            resource("b", "GenericAccessResource", true, "nav"),
        ];
        let r = preflight(
            &spec(&["a", "b"], &[], true),
            Purpose::Request(RequestKind::Standard),
            &cands,
        );
        assert!(!r.is_refused());
        let w: Vec<&Finding> = r.warnings().collect();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].reason.contains("2 owners (nav, skd)") && w[0].reason.contains("all or nothing")
        );
        let one = preflight(
            &spec(&["a"], &[], true),
            Purpose::Request(RequestKind::Standard),
            &cands,
        );
        assert_eq!(one.warnings().count(), 0);
    }

    #[test]
    fn unknown_and_unchecked() {
        let lookup = Lookup {
            found: vec![],
            not_found: vec!["nope".into()],
            unchecked: vec![(
                "urn:altinn:accesspackage:p".into(),
                "could not fetch x: connection refused".into(),
            )],
            note: None,
        };
        let r = preflight_lookup(&spec(&["nope"], &["p"], true), Purpose::Register, &lookup);
        assert_eq!(codes(&r), [("nope".into(), "AUTH.VLD-00003".into())]);
        assert_eq!(r.unchecked().count(), 1);
        let notes = r.notes().join("\n");
        assert!(
            notes.contains("could not check urn:altinn:accesspackage:p")
                && notes.contains("the service will decide"),
            "{notes}"
        );
        // Nothing known at all: nothing refused, everything unchecked.
        let r = preflight(&spec(&["x"], &[], true), Purpose::Register, &[]);
        assert!(!r.is_refused() && r.unchecked().count() == 1);
    }

    #[test]
    fn agent_requests_leave_single_rights_out_with_a_warning() {
        let cands = vec![
            resource("mp", "MaskinportenSchema", true, "skd"),
            package("both", true, true, "x"),
        ];
        let r = preflight(
            &spec(&["mp"], &["both"], false),
            Purpose::Request(RequestKind::Agent),
            &cands,
        );
        assert!(!r.is_refused(), "an agent request does not send the rights");
        assert_eq!(r.warnings().count(), 1);
    }
}
