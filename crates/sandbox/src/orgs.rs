//! Seed data: fictitious organisations (the sandbox's stand-in for the Entity Register) and
//! the Maskinporten scopes the sandbox's stand-in for Digdir grants, and to whom. Resources and
//! access packages are in [`crate::catalogue`].

use serde::Serialize;

/// A fictitious organisation known to the sandbox's stand-in for the Entity Register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeedOrg {
    #[serde(rename = "orgNo")]
    /// Organisation number (9 digits, valid check digit).
    pub org_no: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Digdir has granted it the `altinn:authentication/*` scopes (on application, to system
    /// vendors); a client of an organisation without them cannot have them.
    #[serde(rename = "systemVendor")]
    pub system_vendor: bool,
}

/// Organisation numbers are valid (9 digits, mod-11 check digit); the names are invented.
/// guess: all but one are registered system vendors, so any of them can play vendor or customer;
/// the last one stays a vendor because the wizard proposes it as the vendor.
static SEEDED_ORGS: &[SeedOrg] = &[
    SeedOrg {
        org_no: "310904473",
        name: "Fjellbekk Regnskap AS",
        system_vendor: true,
    },
    SeedOrg {
        org_no: "312345676",
        name: "Havbris Bakeri AS",
        system_vendor: true,
    },
    SeedOrg {
        org_no: "313456781",
        name: "Nordlys Rørlegger AS",
        system_vendor: true,
    },
    SeedOrg {
        org_no: "314567897",
        name: "Solsikke Barnehage SA",
        // A kindergarten that never applied to Digdir to be a system vendor: a client of this
        // org cannot get the altinn:authentication/* scopes (tests and workshops use it).
        system_vendor: false,
    },
    SeedOrg {
        org_no: "315678900",
        name: "Tindeklatrer Sport AS",
        system_vendor: true,
    },
    // The facilitator (issue 12): an accountant and auditor firm with client relationships
    // ([`client_relations`]); it approves agent requests and adds clients to agent system
    // users. Not last: the wizard proposes the last org as the vendor.
    SeedOrg {
        org_no: FACILITATOR_ORG,
        name: "Tallknuser Regnskap og Revisjon AS",
        system_vendor: true,
    },
    SeedOrg {
        org_no: "316789013",
        name: "Granskog Snekkerverksted AS",
        system_vendor: true,
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
    SeedPerson {
        id: "tone",
        name: "Tone Tallknuser",
        org_no: FACILITATOR_ORG,
        role: "DAGL",
        access_manager: true,
        gaps: &[],
        shows: "approves agent requests; client administrator (adds and removes clients)",
    },
    SeedPerson {
        id: "mona",
        name: "Mona Klient",
        org_no: FACILITATOR_ORG,
        role: "klientadministrator",
        access_manager: false,
        gaps: &[],
        shows: "client administrator only: adds and removes clients; AUTH-00066 on approval",
    },
    SeedPerson {
        id: "geir",
        name: "Geir Bilag",
        org_no: FACILITATOR_ORG,
        role: "ANSATT",
        access_manager: false,
        gaps: &[],
        shows: "neither: 403 from the client-delegation API, refused on the client page",
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

// ---------------------------------------------------------------------------------------------
// Client relationships (the facilitator's clients; issue 12)
// ---------------------------------------------------------------------------------------------

/// The seeded facilitator: an accountant and auditor firm (Tallknuser Regnskap og Revisjon AS).
pub const FACILITATOR_ORG: &str = "311223348";

/// An Entity Register role one organisation holds for another, which gives the holder access
/// packages for that client. The packages per role are Altinn's table "ER Role / Available
/// Access Packages" (docs.altinn.studio/en/authorization/guides/end-user/system-user/delegate-clients;
/// the packages' own descriptions in assets/catalogue/packages.tsv say the same: "Fullmakt hos
/// regnskapsfører oppstår når kunden registrerer regnskapsfører i Enhetsregisteret").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClientRole {
    /// REGN, regnskapsfører (accountant)
    Accountant,
    /// REVI, revisor (auditor)
    Auditor,
}

impl ClientRole {
    /// The ER role code.
    pub fn code(self) -> &'static str {
        match self {
            ClientRole::Accountant => "REGN",
            ClientRole::Auditor => "REVI",
        }
    }

    /// The access packages (names, without `urn:altinn:accesspackage:`) the role gives.
    pub fn packages(self) -> &'static [&'static str] {
        match self {
            ClientRole::Accountant => &[
                "regnskapsforer-med-signeringsrettighet",
                "regnskapsforer-uten-signeringsrettighet",
                "regnskapsforer-lonn",
            ],
            ClientRole::Auditor => &["ansvarlig-revisor", "revisormedarbeider"],
        }
    }
}

/// One client relationship: `client` registered `facilitator` in `role` in the Entity Register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClientRelation {
    /// The organisation that acts for the client (owns the agent system user).
    pub facilitator: &'static str,
    /// The client organisation.
    pub client: &'static str,
    /// Its roles for the client.
    pub roles: &'static [ClientRole],
}

/// guess: invented relationships. Solsikke Barnehage SA (314567897) is deliberately nobody's
/// client, so adding it is refused as Altinn refuses a non-client (AUTH-00079); Tindeklatrer
/// has only an auditor, so an accountant's agent user cannot have it (AUTH-00079 as well: Access
/// Management lists only clients with the agent's packages).
static CLIENT_RELATIONS: &[ClientRelation] = &[
    ClientRelation {
        facilitator: FACILITATOR_ORG,
        client: "312345676",
        roles: &[ClientRole::Accountant],
    },
    ClientRelation {
        facilitator: FACILITATOR_ORG,
        client: "313456781",
        roles: &[ClientRole::Accountant],
    },
    ClientRelation {
        facilitator: FACILITATOR_ORG,
        client: "316789013",
        roles: &[ClientRole::Accountant, ClientRole::Auditor],
    },
    ClientRelation {
        facilitator: FACILITATOR_ORG,
        client: "315678900",
        roles: &[ClientRole::Auditor],
    },
];

/// Every seeded client relationship.
pub fn client_relations() -> &'static [ClientRelation] {
    CLIENT_RELATIONS
}

/// The client relationships of one facilitator.
pub fn clients_of(facilitator: &str) -> Vec<&'static ClientRelation> {
    CLIENT_RELATIONS
        .iter()
        .filter(|r| r.facilitator == facilitator)
        .collect()
}

/// guess: who the PDP lets administer clients (`altinn_client_administration`, read and write;
/// SystemUserClientDelegationController.cs:40, 325-341): the facilitator's DAGL (main
/// administrator) and its "klientadministrator"; nobody else.
pub fn is_client_administrator(person: &SeedPerson) -> bool {
    matches!(person.role, "DAGL" | "klientadministrator")
}

/// A seeded person by handle (handles are unique across organisations).
pub fn person_by_id(id: &str) -> Option<&'static SeedPerson> {
    let id = id.trim();
    SEEDED_PEOPLE.iter().find(|p| p.id.eq_ignore_ascii_case(id))
}

/// guess: the Altinn user id (`urn:altinn:userid`) of a seeded person: 20 000 001 and up, in
/// seeding order.
pub fn user_id(person: &SeedPerson) -> Option<u64> {
    SEEDED_PEOPLE
        .iter()
        .position(|p| p.id == person.id)
        .map(|i| 20_000_001 + i as u64)
}

/// The seeded person with an Altinn user id.
pub fn person_by_user_id(user_id: u64) -> Option<&'static SeedPerson> {
    let i = user_id.checked_sub(20_000_001)?;
    SEEDED_PEOPLE.get(usize::try_from(i).ok()?)
}

fn org_hash(org: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(format!("sandbox-party:{org}").as_bytes()).into()
}

/// guess: an organisation's party UUID in the sandbox's stand-in for Register, derived from its
/// number so that every sandbox (and every process on one state file) agrees.
pub fn party_uuid(org: &str) -> uuid::Uuid {
    let h = org_hash(org);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// guess: an organisation's party id (Altinn 2's integer), likewise derived (50 000 000 and up).
pub fn party_id(org: &str) -> u64 {
    let h = org_hash(org);
    50_000_000 + u64::from(u32::from_be_bytes([h[16], h[17], h[18], h[19]]) % 10_000_000)
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

// ---------------------------------------------------------------------------------------------
// Digdir's scope grants
// ---------------------------------------------------------------------------------------------

/// Who Digdir lets have a scope (its "scope access" list for an organisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeGrant {
    /// `accessible_for_all`: any organisation may add it to a client.
    AllOrgs,
    /// Granted on application to registered system vendors only: the three
    /// `altinn:authentication/*` vendor scopes (Digdir's system-user onboarding:
    /// shared/docs/altinn-api-details.md §6 "get the system register and system-user scopes from
    /// Digdir"; altinn-fidelity-audit.md (e) item 4).
    SystemVendors,
    /// Only for Altinn's operator (Digdir, 991825827): `systemregister.admin`, which bypasses
    /// system ownership (AuthenticationHelper.HasAdminAccess). guess: no vendor gets it.
    AltinnOperator,
}

/// Digdir's organisation number; it operates Altinn (and Digdir's own samples use it as vendor).
pub(crate) const DIGDIR_ORG: &str = "991825827";

/// The Maskinporten scopes the sandbox knows (a small slice of Digdir's `scopes/all`; names from
/// Altinn/altinn-authentication@ad4f6f36 src/Core/Constants/AuthzConstants.cs and the demo API's
/// scope from Digdir's SmartCloud sample). Any other scope does not exist here: Maskinporten
/// answers `invalid_scope` for it.
pub static KNOWN_SCOPES: &[(&str, ScopeGrant)] = &[
    (
        "altinn:authentication/systemregister.write",
        ScopeGrant::SystemVendors,
    ),
    (
        "altinn:authentication/systemuser.request.write",
        ScopeGrant::SystemVendors,
    ),
    (
        "altinn:authentication/systemuser.request.read",
        ScopeGrant::SystemVendors,
    ),
    (
        "altinn:authentication/systemregister.admin",
        ScopeGrant::AltinnOperator,
    ),
    // guess: the demo API's scope is open to every organisation in TT02.
    ("altinn:systembruker.demo", ScopeGrant::AllOrgs),
];

/// Is `org` a registered system vendor? The seeded organisations say so themselves; an
/// organisation the sandbox does not seed is taken to be the user's own, and in TT02 a user of
/// this tool has applied for the vendor scopes. guess: that default; use the seeded
/// non-vendor (Solsikke Barnehage SA, 314567897) to see the refusal.
pub fn is_system_vendor(org: &str) -> bool {
    SEEDED_ORGS
        .iter()
        .find(|o| o.org_no == org)
        .is_none_or(|o| o.system_vendor)
}

/// Why Digdir would not let a client of `org` have `scope` (None: it may). Checked when a
/// sandbox client is created or its scopes change (Digdir's self-service only offers the
/// scopes the organisation has access to) and again at the token endpoint (Maskinporten
/// answers `invalid_scope`, MP-200), so a state file from an older sandbox cannot smuggle
/// one through.
pub fn scope_refusal(org: &str, scope: &str) -> Option<String> {
    let Some((_, grant)) = KNOWN_SCOPES.iter().find(|(name, _)| *name == scope) else {
        return Some(format!(
            "the scope {scope} does not exist in the sandbox's scope catalogue (known: {})",
            KNOWN_SCOPES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    match grant {
        ScopeGrant::AllOrgs => None,
        ScopeGrant::SystemVendors if is_system_vendor(org) => None,
        ScopeGrant::SystemVendors => Some(format!(
            "organisation {org} is not a registered system vendor: Digdir grants {scope} only to organisations that applied to be system vendors"
        )),
        ScopeGrant::AltinnOperator if org == DIGDIR_ORG => None,
        ScopeGrant::AltinnOperator => Some(format!(
            "{scope} is only granted to Altinn's operator, not to vendors; use altinn:authentication/systemregister.write"
        )),
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
    fn scopes_follow_digdirs_grants() {
        let write = "altinn:authentication/systemregister.write";
        assert_eq!(scope_refusal("310904473", write), None, "seeded vendor");
        assert_eq!(
            scope_refusal("317890125", write),
            None,
            "unseeded: the user's own org"
        );
        let refusal = scope_refusal("314567897", write).expect("seeded non-vendor");
        assert!(
            refusal.contains("not a registered system vendor"),
            "{refusal}"
        );
        assert_eq!(scope_refusal("314567897", "altinn:systembruker.demo"), None);
        assert!(scope_refusal("310904473", "altinn:extra").is_some());
        // Exact names: no prefix, suffix or case games.
        assert!(scope_refusal("310904473", "ALTINN:authentication/systemregister.write").is_some());
        assert!(
            scope_refusal("310904473", "altinn:authentication/systemregister.write.x").is_some()
        );
        let admin = "altinn:authentication/systemregister.admin";
        assert!(scope_refusal("310904473", admin).is_some());
        assert_eq!(scope_refusal("991825827", admin), None);
        assert_eq!(
            seeded_orgs().iter().filter(|o| !o.system_vendor).count(),
            1,
            "exactly one seeded non-vendor"
        );
        assert!(seeded_orgs().last().is_some_and(|o| o.system_vendor));
    }

    #[test]
    fn client_relations_are_consistent() {
        for r in client_relations() {
            assert!(
                seeded_org_name(r.facilitator).is_some(),
                "{}",
                r.facilitator
            );
            assert!(seeded_org_name(r.client).is_some(), "{}", r.client);
            assert_ne!(r.facilitator, r.client);
            for role in r.roles {
                for p in role.packages() {
                    let urn = format!("urn:altinn:accesspackage:{p}");
                    let pkg = crate::catalogue::package(&urn).expect("package in the catalogue");
                    // Client packages: delegable to an agent, not assignable to a standard user.
                    assert!(pkg.is_delegable() && !pkg.is_assignable(), "{p}");
                }
            }
        }
        let d = default_person(FACILITATOR_ORG);
        assert_eq!(d.id, "tone");
        assert!(is_client_administrator(d));
        assert!(is_client_administrator(person_by_id("mona").expect("mona")));
        assert!(!is_client_administrator(
            person_by_id("geir").expect("geir")
        ));
        for p in seeded_people() {
            assert_eq!(person_by_user_id(user_id(p).expect("id")), Some(p));
        }
        assert_ne!(party_uuid("312345676"), party_uuid("313456781"));
        assert_eq!(party_uuid("312345676"), party_uuid("312345676"));
    }

    #[test]
    fn org_no_rules() {
        assert!(is_valid_org_no("991825827"));
        assert!(!is_valid_org_no("991825828"));
        assert!(!is_valid_org_no("99182582"));
        assert!(!is_valid_org_no("99182582a"));
    }
}
