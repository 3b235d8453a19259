//! Seed data: fictitious organisations, the resource list for `--strict-resources`, and the
//! access packages the sandbox treats as "for client relations" (agent system users).

use serde::Serialize;

/// A fictitious organisation known to the sandbox's stand-in for the Entity Register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeedOrg {
    #[serde(rename = "orgNo")]
    /// Organisation number (9 digits, valid check digit).
    pub org_no: &'static str,
    /// Display name.
    pub name: &'static str,
}

/// Organisation numbers are valid (9 digits, mod-11 check digit); the names are invented.
static SEEDED_ORGS: &[SeedOrg] = &[
    SeedOrg {
        org_no: "310904473",
        name: "Fjellbekk Regnskap AS",
    },
    SeedOrg {
        org_no: "312345676",
        name: "Havbris Bakeri AS",
    },
    SeedOrg {
        org_no: "313456781",
        name: "Nordlys Rørlegger AS",
    },
    SeedOrg {
        org_no: "314567897",
        name: "Solsikke Barnehage SA",
    },
    SeedOrg {
        org_no: "315678900",
        name: "Tindeklatrer Sport AS",
    },
    SeedOrg {
        org_no: "316789013",
        name: "Granskog Snekkerverksted AS",
    },
];

/// The organisations every sandbox knows from the start.
pub fn seeded_orgs() -> &'static [SeedOrg] {
    SEEDED_ORGS
}

/// Name of a seeded organisation.
pub fn seeded_org_name(org_no: &str) -> Option<&'static str> {
    SEEDED_ORGS
        .iter()
        .find(|o| o.org_no == org_no)
        .map(|o| o.name)
}

/// Why Access Management says a person cannot delegate a right: the `DetailCodeExternal`
/// reasons that DelegationHelper.MapDetailExternalErrorListToProblemInstance maps to a problem
/// (src/Authentication/Helpers/DelegationHelper.cs:205-224).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DelegationReason {
    /// -> AUTH-00016 (Problem.cs:113-114)
    MissingRoleAccess,
    /// -> AUTH-00018 (Problem.cs:125-126)
    MissingDelegationAccess,
    /// -> AUTH-00019 (Problem.cs:131-132)
    MissingSrrRightAccess,
    /// -> AUTH-00020 (Problem.cs:137-138)
    InsufficientAuthenticationLevel,
    /// -> AUTH-00068 (Problem.cs:420-421)
    MissingPackageAccess,
    /// -> AUTH-00069 (Problem.cs:426-427)
    AccessListValidationFail,
}

/// What a seeded person cannot delegate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "id")]
pub enum Gap {
    /// Every single right (resource) the person is asked to delegate.
    AnyResource(DelegationReason),
    /// One resource id.
    Resource(&'static str, DelegationReason),
    /// Every access package (AUTH-00053 has no per-reason mapping, DelegationHelper.cs:322-335).
    AnyPackage,
    /// One access package urn.
    Package(&'static str),
}

/// A synthetic person in a seeded organisation: who logs in on the approval page (simulated
/// ID-porten) or whom `sandbox approve --as` acts as.
///
/// The real service asks the PDP whether the user may "write" `altinn_access_management` for
/// the customer (RequestSystemUserService.cs:925-938) and Access Management whether the user
/// can delegate each right and package (DelegationHelper.cs:36-126, 235-335). The sandbox has
/// neither, so each person carries the answers: `access_manager` and `gaps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedPerson {
    /// Short handle for `--as` and the approval page (unique across all orgs).
    pub id: &'static str,
    /// Display name (invented).
    pub name: &'static str,
    /// The organisation the person acts for.
    pub org_no: &'static str,
    /// ER role or relation, e.g. "DAGL" (daglig leder), "LEDE" (styreleder), "ANSATT".
    pub role: &'static str,
    /// May approve: the PDP permits write on altinn_access_management for the org.
    pub access_manager: bool,
    /// What this person cannot delegate (empty: everything the catalogue allows).
    pub gaps: &'static [Gap],
    /// One line for `sandbox orgs` and the README: what a workshop shows with this person.
    pub shows: &'static str,
}

use DelegationReason::*;

/// guess: invented people and roles. The first access manager of each org is its default
/// approver and can delegate everything, so a first run approves without choosing anyone;
/// the others show one refusal each (`shows`). Orgs without seeded people (vendors known from
/// their clients) get [`FALLBACK_PERSON`].
static SEEDED_PEOPLE: &[SeedPerson] = &[
    SeedPerson {
        id: "anne",
        name: "Anne Fjellbekk",
        org_no: "310904473",
        role: "DAGL",
        access_manager: true,
        gaps: &[],
        shows: "approves",
    },
    SeedPerson {
        id: "bjorn",
        name: "Bjørn Bekkelund",
        org_no: "310904473",
        role: "REGN",
        access_manager: true,
        gaps: &[Gap::AnyResource(MissingSrrRightAccess)],
        shows: "refused: AUTH-00019 on any single right (no SRR access)",
    },
    SeedPerson {
        id: "kari",
        name: "Kari Havbris",
        org_no: "312345676",
        role: "DAGL",
        access_manager: true,
        gaps: &[],
        shows: "approves",
    },
    SeedPerson {
        id: "per",
        name: "Per Bakke",
        org_no: "312345676",
        role: "ANSATT",
        access_manager: false,
        gaps: &[],
        shows: "refused: AUTH-00066 when the page loads (not an access manager)",
    },
    SeedPerson {
        id: "ola",
        name: "Ola Nordlys",
        org_no: "313456781",
        role: "DAGL",
        access_manager: true,
        gaps: &[],
        shows: "approves",
    },
    SeedPerson {
        id: "ingrid",
        name: "Ingrid Lysne",
        org_no: "313456781",
        role: "tilgangsstyrer",
        access_manager: true,
        gaps: &[Gap::AnyResource(MissingPackageAccess), Gap::AnyPackage],
        shows: "refused: AUTH-00068 on any single right, AUTH-00053 on any access package",
    },
    SeedPerson {
        id: "tor",
        name: "Tor Blom",
        org_no: "314567897",
        role: "LEDE",
        access_manager: true,
        gaps: &[],
        shows: "approves",
    },
    SeedPerson {
        id: "siri",
        name: "Siri Solberg",
        org_no: "314567897",
        role: "DAGL",
        access_manager: true,
        gaps: &[Gap::AnyResource(MissingRoleAccess), Gap::AnyPackage],
        shows: "refused: AUTH-00016 on any single right, AUTH-00053 on any access package",
    },
    SeedPerson {
        id: "eva",
        name: "Eva Tind",
        org_no: "315678900",
        role: "DAGL",
        access_manager: true,
        gaps: &[],
        shows: "approves",
    },
    SeedPerson {
        id: "jon",
        name: "Jon Klatre",
        org_no: "315678900",
        role: "ANSATT",
        access_manager: true,
        gaps: &[Gap::AnyResource(InsufficientAuthenticationLevel)],
        shows: "refused: AUTH-00020 on any single right (logged in at too low a level)",
    },
    SeedPerson {
        id: "liv",
        name: "Liv Granskog",
        org_no: "316789013",
        role: "DAGL",
        access_manager: true,
        gaps: &[],
        shows: "approves",
    },
    SeedPerson {
        id: "nils",
        name: "Nils Skog",
        org_no: "316789013",
        role: "tilgangsstyrer",
        access_manager: true,
        gaps: &[Gap::AnyResource(MissingDelegationAccess)],
        shows: "refused: AUTH-00018 on any single right (no direct delegation)",
    },
];

/// The approver of an organisation the sandbox has no people for (a vendor org known from its
/// client, acting as its own customer): an access manager who can delegate everything.
pub static FALLBACK_PERSON: SeedPerson = SeedPerson {
    id: "dagl",
    name: "Daglig leder (sandbox)",
    org_no: "",
    role: "DAGL",
    access_manager: true,
    gaps: &[],
    shows: "approves",
};

/// All seeded people.
pub fn seeded_people() -> &'static [SeedPerson] {
    SEEDED_PEOPLE
}

/// The seeded people of one organisation, default approver first.
pub fn people_of(org_no: &str) -> Vec<&'static SeedPerson> {
    let mut people: Vec<&'static SeedPerson> = SEEDED_PEOPLE
        .iter()
        .filter(|p| p.org_no == org_no)
        .collect();
    // Stable: access managers keep their order, ahead of everyone else.
    people.sort_by_key(|p| !p.access_manager);
    if people.is_empty() {
        people.push(&FALLBACK_PERSON);
    }
    people
}

/// Who approves when nobody is chosen: the org's first access manager.
pub fn default_person(org_no: &str) -> &'static SeedPerson {
    people_of(org_no)[0]
}

/// A person of `org_no` by handle or full name (case-insensitive).
pub fn find_person(org_no: &str, who: &str) -> Option<&'static SeedPerson> {
    let who = who.trim();
    people_of(org_no)
        .into_iter()
        .find(|p| p.id.eq_ignore_ascii_case(who) || p.name.eq_ignore_ascii_case(who))
}

/// Norwegian organisation number check: 9 digits, weights 3,2,7,6,5,4,3,2, check digit
/// 11 - (sum mod 11), where remainder 0 gives 0 and remainder 1 makes the number invalid.
pub fn is_valid_org_no(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() != 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = bytes[..8]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = match sum % 11 {
        0 => 0,
        1 => return false,
        r => 11 - r,
    };
    u32::from(bytes[8] - b'0') == check
}

/// Resources known to the sandbox's stand-in for the Resource Registry in strict mode.
/// guess: a plausible mix of real TT02 demo resources and the sandbox's own reference API.
static SEEDED_RESOURCES: &[&str] = &[
    "ske-krav-og-betalinger",
    "ttd_systembruker-logistikk-demo",
    "ttd_systembruker-salary",
    "altinn-onboard-sandbox-reference",
    "app_ttd_sandbox-demo",
];

/// Resource ids that exist when [`SandboxConfig::strict_resources`](crate::SandboxConfig) is set.
pub fn seeded_resources() -> &'static [&'static str] {
    SEEDED_RESOURCES
}

/// guess: access packages meant for client relations (regnskapsfører/revisor/forretningsfører).
/// The real list comes from Access Management's package metadata, which we do not have. These are
/// the packages an agent (client) system user may ask for; a standard system user may not
/// (AUTH-00064), and a visible system may not list them (AUTH.VLD-00018).
static CLIENT_ONLY_PACKAGES: &[&str] = &[
    "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet",
    "urn:altinn:accesspackage:regnskapsforer-uten-signeringsrettighet",
    "urn:altinn:accesspackage:regnskapsforer-lonn",
    "urn:altinn:accesspackage:ansvarlig-revisor",
    "urn:altinn:accesspackage:revisormedarbeider",
    "urn:altinn:accesspackage:forretningsforer-eiendom",
];

pub fn is_client_only_package(urn: &str) -> bool {
    CLIENT_ONLY_PACKAGES
        .iter()
        .any(|p| p.eq_ignore_ascii_case(urn))
}

/// Well-formed access package urn: `urn:altinn:accesspackage:<name>` with a lower-case name.
pub fn is_wellformed_package(urn: &str) -> bool {
    match urn.strip_prefix("urn:altinn:accesspackage:") {
        Some(name) => {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        }
        None => false,
    }
}

/// A resource id the (imagined) Resource Registry could contain: letters, digits, `-`, `_`.
pub fn is_wellformed_resource(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_orgs_are_valid() {
        for o in seeded_orgs() {
            assert!(is_valid_org_no(o.org_no), "{}", o.org_no);
        }
    }

    #[test]
    fn people_are_consistent() {
        let mut ids = std::collections::HashSet::new();
        for p in seeded_people() {
            assert!(ids.insert(p.id), "duplicate person id {}", p.id);
            assert!(
                seeded_org_name(p.org_no).is_some(),
                "{} has no seeded org",
                p.id
            );
        }
        for o in seeded_orgs() {
            let d = default_person(o.org_no);
            assert!(d.access_manager && d.org_no == o.org_no, "{}", o.org_no);
        }
        // Every default approver approves (a first run needs no choice); someone refuses.
        for o in seeded_orgs() {
            assert!(default_person(o.org_no).gaps.is_empty(), "{}", o.org_no);
        }
        assert!(!find_person("314567897", "siri").unwrap().gaps.is_empty());
        assert_eq!(default_person("991825827").id, "dagl");
        assert_eq!(find_person("312345676", "PER").map(|p| p.id), Some("per"));
        assert_eq!(
            find_person("312345676", "Kari Havbris").map(|p| p.id),
            Some("kari")
        );
        assert!(find_person("312345676", "ola").is_none());
    }

    #[test]
    fn org_no_rules() {
        assert!(is_valid_org_no("991825827"));
        assert!(!is_valid_org_no("991825828"));
        assert!(!is_valid_org_no("99182582"));
        assert!(!is_valid_org_no("99182582a"));
    }
}
