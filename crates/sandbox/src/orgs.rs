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
    fn org_no_rules() {
        assert!(is_valid_org_no("991825827"));
        assert!(!is_valid_org_no("991825828"));
        assert!(!is_valid_org_no("99182582"));
        assert!(!is_valid_org_no("99182582a"));
    }
}
