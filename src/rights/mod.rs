//! Rights a system can ask for: resources from the Resource Registry and access packages from
//! Access Management's metadata API, both public (no token), normalised into one
//! [`RightCandidate`]; a cache so that search works offline ([`cache`]); and the pre-flight
//! that says, before anything is sent, what the system register, the request API or the
//! customer's approval would refuse ([`preflight`]). No terminal code: the CLI (`rights
//! search`, `rights check`), the runner (before `system register` and `request create`) and
//! the wizard's picker all call into this module.
//!
//! Shapes (read from the real services):
//! - ServiceResource: Altinn/altinn-resource-registry@408d858a
//!   `src/Altinn.ResourceRegistry.Core/Models/ServiceResource.cs` (`identifier`, `title`,
//!   `resourceType`, `delegable` default true, `visible` default true, `hasCompetentAuthority`,
//!   `resourceReferences`); JSON camelCase, enums as strings.
//! - PackageDto / ResourceDto / AreaDto: Altinn/altinn-authorization-tmp@f7ff53bd2
//!   `src/apps/Altinn.AccessManagement/src/Altinn.AccessManagement.Api.Metadata/Controllers/PackagesController.cs`
//!   and `DtoMapperRolePackage.cs:24-36,119-128,194-205` (`isDelegable`, `isAssignable`,
//!   `area`, `resources`); search answers `[{object, score, fields}]`, 204 when nothing matches.

pub mod cache;
pub mod client;
pub mod preflight;

pub use client::{Lookup, MetadataClient, RightsError, SearchResult, Source};
pub use preflight::{Finding, Outcome, Purpose, Report, preflight, preflight_lookup};

use serde::Serialize;
use serde_json::Value;

/// Prefix of a resource right's urn (`{"id": "urn:altinn:resource", "value": id}`).
pub const RESOURCE_URN_PREFIX: &str = "urn:altinn:resource:";
/// Prefix of every access package urn.
pub const PACKAGE_URN_PREFIX: &str = "urn:altinn:accesspackage:";

/// A resource or an access package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RightKind {
    Resource,
    Package,
}

/// What to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    /// The Resource Registry (`resourceregistry/api/v1/resource/search`).
    Resources,
    /// Access packages (`accessmanagement/api/v1/meta/info/accesspackages/search`).
    Packages,
}

/// A name in bokmål and, where the source has it, English.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Name {
    pub nb: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Name {
    /// English when asked for and known, else bokmål.
    pub fn get(&self, english: bool) -> &str {
        match (&self.en, english) {
            (Some(en), true) if !en.is_empty() => en,
            _ => &self.nb,
        }
    }
}

/// A resource's competent authority (`hasCompetentAuthority`), or a package resource's
/// provider.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Owner {
    /// Organisation number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_no: Option<String>,
    /// `orgcode`, e.g. `skd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub name: String,
}

impl Owner {
    /// What tells two owners apart: the org number, else the code, else the name.
    pub fn key(&self) -> String {
        self.org_no
            .clone()
            .or_else(|| self.code.clone())
            .unwrap_or_else(|| self.name.clone())
            .to_lowercase()
    }

    /// Short label for tables: the code, else the name.
    pub fn label(&self) -> &str {
        self.code
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(&self.name)
    }
}

/// An access package's area (fullmaktsområde).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Area {
    pub urn: String,
    pub name: String,
}

/// Whether a candidate can be given to a system user of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fit", rename_all = "lowercase")]
pub enum Fit {
    /// Yes.
    Yes,
    /// No, and what the service answers: its code and why.
    No { code: String, reason: String },
    /// The metadata does not say (e.g. a package's resource list carries no `delegable`).
    Unknown,
}

impl Fit {
    pub fn is_yes(&self) -> bool {
        matches!(self, Fit::Yes)
    }
    pub fn is_no(&self) -> bool {
        matches!(self, Fit::No { .. })
    }
    /// `yes`, `no` or `?` for tables.
    pub fn mark(&self) -> &'static str {
        match self {
            Fit::Yes => "yes",
            Fit::No { .. } => "no",
            Fit::Unknown => "?",
        }
    }
}

/// A resource or access package as the picker, `rights search` and the pre-flight see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RightCandidate {
    pub kind: RightKind,
    /// The resource identifier (`ske-krav-og-betalinger`) or the package urn
    /// (`urn:altinn:accesspackage:skatt-naering`): what a system's rights name.
    pub id: String,
    /// `urn:altinn:resource:{id}` or the package urn.
    pub urn: String,
    /// Access Management's id of a package (`package/{id}/resources`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_id: Option<String>,
    pub name: Name,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Competent authority of a resource (packages have none of their own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// `resourceType` of a resource, e.g. `GenericAccessResource`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// A package's area.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
    /// A resource's `delegable`, a package's `isDelegable` (None: the source does not say).
    pub delegable: Option<bool>,
    /// A package's `isAssignable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignable: Option<bool>,
    /// A resource's `visible`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    /// Maskinporten scopes among a resource's `resourceReferences`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// The resource types the system register accepts in a system's rights:
/// Altinn/altinn-authentication@ad4f6f36 src/Authentication/Services/SystemRegisterService.cs:31-40
/// (AltinnApp, Systemresource, Default, CorrespondenceService, BrokerService,
/// GenericAccessResource, MigratedApp). Anything else is AUTH.VLD-00017.
pub fn resource_type_allowed_on_system(resource_type: &str) -> bool {
    const ALLOWED: [&str; 7] = [
        "AltinnApp",
        "Systemresource",
        "Default",
        "CorrespondenceService",
        "BrokerService",
        "GenericAccessResource",
        "MigratedApp",
    ];
    // The enum's numbers, for a serializer that writes them (ResourceType.cs).
    const ALLOWED_NUMBERS: [&str; 7] = ["8", "1", "0", "64", "32", "16", "256"];
    ALLOWED
        .iter()
        .any(|t| t.eq_ignore_ascii_case(resource_type))
        || ALLOWED_NUMBERS.contains(&resource_type.trim())
}

impl RightCandidate {
    /// Whether a standard system user can hold it (a standard request may ask for it and the
    /// customer's approval can delegate it).
    pub fn standard(&self) -> Fit {
        match self.kind {
            RightKind::Resource => {
                if let Some(t) = &self.resource_type
                    && !resource_type_allowed_on_system(t)
                {
                    return Fit::No {
                        code: "AUTH.VLD-00017".into(),
                        reason: format!(
                            "a {t} resource cannot be a system user's right (the system register refuses it)"
                        ),
                    };
                }
                match self.delegable {
                    Some(false) => Fit::No {
                        code: "AUTH-00070".into(),
                        reason: "the resource is not delegable (`delegable: false`): the customer's approval fails".into(),
                    },
                    Some(true) if self.resource_type.is_some() => Fit::Yes,
                    _ => Fit::Unknown,
                }
            }
            RightKind::Package => match self.assignable {
                Some(true) => Fit::Yes,
                Some(false) if self.delegable == Some(true) => Fit::No {
                    code: "AUTH-00064".into(),
                    reason: "a client-relation package (delegable, not assignable): only an agent system user can hold it".into(),
                },
                Some(false) => Fit::No {
                    code: "AUTH-00064".into(),
                    reason: "the package is not assignable (`isAssignable: false`)".into(),
                },
                None => Fit::Unknown,
            },
        }
    }

    /// Whether an agent (client) system user can hold it. Agent requests carry access packages
    /// only; a package must be `isDelegable` (else AUTH-00065).
    pub fn agent(&self) -> Fit {
        match self.kind {
            RightKind::Resource => Fit::No {
                code: "AUTH-00058".into(),
                reason: "an agent system user holds access packages only, not single rights"
                    .into(),
            },
            RightKind::Package => match self.delegable {
                Some(true) => Fit::Yes,
                Some(false) => Fit::No {
                    code: "AUTH-00065".into(),
                    reason: "the package is not delegable (`isDelegable: false`), so it cannot be delegated onwards for a client".into(),
                },
                None => Fit::Unknown,
            },
        }
    }

    /// Delegable but not assignable: a client-relation package (regnskapsfører, revisor,
    /// forretningsfører), for agent system users only.
    pub fn is_client_only(&self) -> bool {
        self.kind == RightKind::Package
            && self.delegable == Some(true)
            && self.assignable == Some(false)
    }

    /// What tells this candidate's approver group apart for the all-or-nothing warning: the
    /// owner of a resource, the area of a package.
    pub fn approval_group(&self) -> Option<String> {
        match self.kind {
            RightKind::Resource => self.owner.as_ref().map(|o| o.label().to_string()),
            RightKind::Package => self.area.as_ref().map(|a| a.name.clone()),
        }
    }

    /// Whether `reference` (a resource id or urn, a package urn or code) names this candidate.
    /// Packages follow Access Management's lookup: the urn ends with `:{value}`,
    /// case-insensitively (PackageService.GetPackageByUrnValue, PackageService.cs:255-266).
    pub fn matches(&self, reference: &str) -> bool {
        let r = reference.trim();
        match self.kind {
            RightKind::Resource => r.strip_prefix(RESOURCE_URN_PREFIX).unwrap_or(r) == self.id,
            RightKind::Package => {
                let r = r.to_lowercase();
                let suffix = if r.starts_with("urn:") || r.starts_with(':') {
                    r
                } else {
                    format!(":{r}")
                };
                self.urn.to_lowercase().ends_with(&suffix)
            }
        }
    }

    /// From a ServiceResource (`resource/{id}`, one element of `resource/search`).
    pub fn from_service_resource(v: &Value) -> Option<RightCandidate> {
        let id = v.get("identifier")?.as_str()?.trim().to_string();
        if id.is_empty() {
            return None;
        }
        let text = |o: Option<&Value>, lang: &str| {
            o.and_then(|o| o.get(lang))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let title = v.get("title");
        let authority = v.get("hasCompetentAuthority");
        let owner = authority.filter(|a| a.is_object()).map(|a| Owner {
            org_no: a
                .get("organization")
                .and_then(Value::as_str)
                .map(str::to_string),
            code: a.get("orgcode").and_then(Value::as_str).map(str::to_string),
            name: text(a.get("name"), "nb")
                .or_else(|| text(a.get("name"), "en"))
                .unwrap_or_default(),
        });
        let resource_type = match v.get("resourceType") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            // ServiceResource.ResourceType has no default member set: absent reads as 0.
            _ => "Default".to_string(),
        };
        let scopes = v
            .get("resourceReferences")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter(|r| {
                        r.get("referenceType").and_then(Value::as_str) == Some("MaskinportenScope")
                    })
                    .filter_map(|r| r.get("reference").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Some(RightCandidate {
            kind: RightKind::Resource,
            urn: format!("{RESOURCE_URN_PREFIX}{id}"),
            package_id: None,
            name: Name {
                nb: text(title, "nb")
                    .or_else(|| text(title, "en"))
                    .unwrap_or_else(|| id.clone()),
                en: text(title, "en"),
            },
            description: text(v.get("description"), "nb")
                .or_else(|| text(v.get("description"), "en")),
            owner,
            resource_type: Some(resource_type),
            area: None,
            // ServiceResource.cs: `Delegable { get; set; } = true`, `Visible … = true`.
            delegable: Some(v.get("delegable").and_then(Value::as_bool).unwrap_or(true)),
            assignable: None,
            visible: Some(v.get("visible").and_then(Value::as_bool).unwrap_or(true)),
            scopes,
            id,
        })
    }

    /// From a PackageDto (`package/urn/{urn}`, `package/{id}`, a search hit's `object`).
    pub fn from_package_dto(v: &Value) -> Option<RightCandidate> {
        let urn = v.get("urn")?.as_str()?.trim().to_string();
        if urn.is_empty() {
            return None;
        }
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let area = v.get("area").filter(|a| a.is_object()).map(|a| Area {
            urn: a
                .get("urn")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            name: a
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
        Some(RightCandidate {
            kind: RightKind::Package,
            id: urn.clone(),
            package_id: s("id"),
            name: Name {
                nb: s("name").unwrap_or_else(|| urn.clone()),
                en: None,
            },
            description: s("description").filter(|d| !d.is_empty()),
            owner: None,
            resource_type: None,
            area,
            delegable: v.get("isDelegable").and_then(Value::as_bool),
            assignable: v.get("isAssignable").and_then(Value::as_bool),
            visible: None,
            scopes: Vec::new(),
            urn,
        })
    }

    /// From a ResourceDto (`package/{id}/resources`, a PackageDto's `resources`): name, owner
    /// (the provider) and type; it carries no `delegable`.
    pub fn from_package_resource(v: &Value) -> Option<RightCandidate> {
        let id = v.get("refId")?.as_str()?.trim().to_string();
        if id.is_empty() {
            return None;
        }
        let provider = v.get("provider").filter(|p| p.is_object()).map(|p| Owner {
            org_no: p.get("refId").and_then(Value::as_str).map(str::to_string),
            code: p.get("code").and_then(Value::as_str).map(str::to_string),
            name: p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
        Some(RightCandidate {
            kind: RightKind::Resource,
            urn: format!("{RESOURCE_URN_PREFIX}{id}"),
            package_id: None,
            name: Name {
                nb: v
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(&id)
                    .to_string(),
                en: None,
            },
            description: v
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            owner: provider,
            resource_type: v
                .get("type")
                .and_then(|t| t.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string),
            area: None,
            delegable: None,
            assignable: None,
            visible: None,
            scopes: Vec::new(),
            id,
        })
    }
}

/// Parse a `resource/search` answer (a plain array of ServiceResource).
pub fn parse_resource_list(v: &Value) -> Vec<RightCandidate> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(RightCandidate::from_service_resource)
                .collect()
        })
        .unwrap_or_default()
}

/// Parse an access-package search answer (`[{object, score, fields}]`; `null` for a 204).
pub fn parse_package_search(v: &Value) -> Vec<RightCandidate> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|hit| hit.get("object"))
                .filter_map(RightCandidate::from_package_dto)
                .collect()
        })
        .unwrap_or_default()
}

/// Parse a `package/{id}/resources` answer (`[ResourceDto]`; `null` for a 204).
pub fn parse_package_resources(v: &Value) -> Vec<RightCandidate> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(RightCandidate::from_package_resource)
                .collect()
        })
        .unwrap_or_default()
}

/// Resources matching `term` (case-insensitive) in id, names, owner or keywords, best first:
/// the registry's search has no free-text term (ResourceController.Search binds `id`,
/// `description`, `keyword`, ... each ANDed), so the whole list is fetched once, cached, and
/// filtered here. An empty term keeps everything.
pub fn filter_resources(list: &[(RightCandidate, Vec<String>)], term: &str) -> Vec<RightCandidate> {
    let t = term.trim().to_lowercase();
    let mut scored: Vec<(u32, &RightCandidate)> = list
        .iter()
        .filter_map(|(c, keywords)| {
            if t.is_empty() {
                return Some((0, c));
            }
            let id = c.id.to_lowercase();
            let score = if id == t {
                100
            } else if id.starts_with(&t) {
                60
            } else if id.contains(&t) {
                40
            } else if c.name.nb.to_lowercase().contains(&t)
                || c.name
                    .en
                    .as_deref()
                    .unwrap_or("")
                    .to_lowercase()
                    .contains(&t)
            {
                30
            } else if keywords.iter().any(|k| k.to_lowercase().contains(&t)) {
                20
            } else if c.owner.as_ref().is_some_and(|o| {
                o.name.to_lowercase().contains(&t)
                    || o.code.as_deref().unwrap_or("").eq_ignore_ascii_case(&t)
                    || o.org_no.as_deref() == Some(t.as_str())
            }) {
                10
            } else if c
                .description
                .as_deref()
                .unwrap_or("")
                .to_lowercase()
                .contains(&t)
            {
                5
            } else {
                0
            };
            (score > 0).then_some((score, c))
        })
        .collect();
    // Stable: equal scores keep the registry's order.
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().map(|(_, c)| c.clone()).collect()
}

/// The keywords (`keywords[].word`) of a ServiceResource, for [`filter_resources`].
pub fn resource_keywords(v: &Value) -> Vec<String> {
    v.get("keywords")
        .and_then(Value::as_array)
        .map(|ws| {
            ws.iter()
                .filter_map(|w| w.get("word").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_defaults_follow_service_resource() {
        let c = RightCandidate::from_service_resource(&json!({"identifier": "x"})).unwrap();
        assert_eq!(c.delegable, Some(true), "Delegable defaults to true");
        assert_eq!(c.visible, Some(true));
        assert_eq!(c.resource_type.as_deref(), Some("Default"));
        assert_eq!(c.urn, "urn:altinn:resource:x");
        assert!(c.standard().is_yes());
        assert!(c.agent().is_no());
        assert!(RightCandidate::from_service_resource(&json!({"identifier": ""})).is_none());
        assert!(RightCandidate::from_service_resource(&json!({})).is_none());
    }

    #[test]
    fn refused_types_and_undelegable_resources() {
        for t in [
            "MaskinportenSchema",
            "Altinn2Service",
            "Consent",
            "2",
            "4",
            "128",
        ] {
            let c = RightCandidate::from_service_resource(
                &json!({"identifier": "x", "resourceType": t}),
            )
            .unwrap();
            assert!(
                matches!(c.standard(), Fit::No { ref code, .. } if code == "AUTH.VLD-00017"),
                "{t}"
            );
        }
        let c = RightCandidate::from_service_resource(
            &json!({"identifier": "x", "resourceType": "BrokerService", "delegable": false}),
        )
        .unwrap();
        assert!(matches!(c.standard(), Fit::No { ref code, .. } if code == "AUTH-00070"));
    }

    #[test]
    fn package_fits_follow_the_two_flags() {
        let p = |d: bool, a: bool| {
            RightCandidate::from_package_dto(&json!({
                "id": "1", "urn": "urn:altinn:accesspackage:p", "name": "P",
                "isDelegable": d, "isAssignable": a,
                "area": {"urn": "accesspackage:area:x", "name": "X"}
            }))
            .unwrap()
        };
        assert!(p(true, true).standard().is_yes() && p(true, true).agent().is_yes());
        let client = p(true, false);
        assert!(client.is_client_only());
        assert!(matches!(client.standard(), Fit::No { ref code, .. } if code == "AUTH-00064"));
        assert!(client.agent().is_yes());
        let admin = p(false, true);
        assert!(admin.standard().is_yes());
        assert!(matches!(admin.agent(), Fit::No { ref code, .. } if code == "AUTH-00065"));
        assert!(p(false, false).standard().is_no() && p(false, false).agent().is_no());
    }

    #[test]
    fn references_match_like_the_services_look_them_up() {
        let r = RightCandidate::from_service_resource(&json!({"identifier": "abc"})).unwrap();
        assert!(r.matches("abc") && r.matches("urn:altinn:resource:abc"));
        assert!(!r.matches("ABC"), "resource ids are exact");
        let p = RightCandidate::from_package_dto(
            &json!({"urn": "urn:altinn:accesspackage:skatt-naering"}),
        )
        .unwrap();
        for ok in [
            "urn:altinn:accesspackage:skatt-naering",
            "skatt-naering",
            "Skatt-Naering",
        ] {
            assert!(p.matches(ok), "{ok}");
        }
        assert!(!p.matches("naering") && !p.matches("skattnaering"));
    }

    #[test]
    fn local_filter_ranks_id_matches_first() {
        let mk = |id: &str, title: &str| {
            (
                RightCandidate::from_service_resource(
                    &json!({"identifier": id, "title": {"nb": title}}),
                )
                .unwrap(),
                vec![],
            )
        };
        let list = vec![mk("a-other", "Krav"), mk("krav", "Z"), mk("b", "Y")];
        let hits: Vec<String> = filter_resources(&list, "krav")
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(hits, ["krav", "a-other"]);
        assert_eq!(filter_resources(&list, "").len(), 3);
        assert!(filter_resources(&list, "nothing-like-it").is_empty());
    }
}
