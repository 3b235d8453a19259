//! Readiness for TT02 and production: what can be checked before anything is sent, without
//! credentials, and what cannot (with why and how to check it by hand).
//!
//! - **Scopes**, from Digdir's public scope catalogue (`GET api/v1/scopes/all` on the
//!   environment's self-service API host, [`crate::env::Environment::scope_catalogue_url`];
//!   anonymous). For each scope the profile needs: does it exist, is it active, may a
//!   Maskinporten client have it, and is it open to every organisation (`accessible_for_all`)
//!   or must its owner grant the organisation access first (then: the ready e-mail to ask).
//! - **The key's one-year expiry.** Maskinporten rejects a key a year after it was uploaded
//!   (MP-121, "keys live 1 year from upload": shared/docs/altinn-api-details.md §2.6, from Digdir's
//!   Maskinporten troubleshooting guide, `maskinporten_feilsoking`). Warned 30 days ahead.
//! - **The five-key limit.** A client holds at most five keys ("et Set som er en array av flere
//!   (inntil 5) JWK-representasjoner", felleslosninger/docs@01a0f825
//!   `_docs/idporten/oidc/oidc_api_admin.md`, "Bruk av asymmetrisk nøkkel"). The sandbox's admin
//!   API knows a client's keys; on TT02/production only the self-service API (with its own
//!   business-certificate credentials) or the portal does.
//! - **Terms of use and system-vendor status** cannot be seen from outside: explained, with
//!   how to find out.
//!
//! No terminal code here: `doctor` prints a [`ReadinessReport`], the wizard's readiness panel
//! shows one (the check runs as an effect in a tokio task).

use crate::env::{EnvKind, Environment};
use crate::profile::Profile;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Maskinporten keys expire this long after upload (MP-121).
pub const KEY_LIFETIME_DAYS: i64 = 365;
/// Warn this long before the key expires.
pub const KEY_EXPIRY_WARNING_DAYS: i64 = 30;
/// A Maskinporten client holds at most this many keys (oidc_api_admin.md: "inntil 5").
pub const MAX_CLIENT_KEYS: usize = 5;
/// Digdir's service desk: scope access, Maskinporten and self-service access.
pub const DIGDIR_SERVICE_DESK: &str = "servicedesk@digdir.no";
/// Digdir's organisation number; it owns the `altinn:` scope prefix (as the recorded catalogue
/// shows, `tests/fixtures/digdir_scopes_all_prod.json`).
pub const DIGDIR_ORG: &str = "991825827";

/// One scope in Digdir's catalogue, as `api/v1/scopes/all` answers it (Digdir's scope model,
/// docs.digdir.no `oidc_protocol_scope`; a recorded answer is
/// `tests/fixtures/digdir_scopes_all_prod.json`). Unknown keys (the localised `description#en`
/// and the like) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeInfo {
    pub prefix: String,
    pub subscope: String,
    /// `prefix:subscope`; computed when absent.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub active: bool,
    /// Any organisation may add it to a client; otherwise the owner grants access per
    /// organisation.
    #[serde(default)]
    pub accessible_for_all: bool,
    /// Empty: any integration type.
    #[serde(default)]
    pub allowed_integration_types: Vec<String>,
    #[serde(default)]
    pub owner_orgno: Option<String>,
    /// `PUBLIC` or `PRIVATE` (a private scope is listed only to its owner).
    #[serde(default)]
    pub visibility: Option<String>,
    /// Where access may also be delegated (e.g. `https://www.altinn.no/`).
    #[serde(default)]
    pub delegation_source: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub at_max_age: Option<u64>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub last_updated: Option<String>,
}

impl ScopeInfo {
    pub fn full_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{}:{}", self.prefix, self.subscope))
    }

    /// May a Maskinporten client have it (no restriction, or `maskinporten` listed)?
    pub fn for_maskinporten(&self) -> bool {
        self.allowed_integration_types.is_empty()
            || self
                .allowed_integration_types
                .iter()
                .any(|t| t == "maskinporten")
    }
}

/// Parse the catalogue: a JSON array of scopes.
pub fn parse_catalogue(text: &str) -> Result<Vec<ScopeInfo>, String> {
    serde_json::from_str(text).map_err(|e| format!("not a scope catalogue (a JSON array): {e}"))
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Pass,
    Warn,
    Fail,
    /// Not checked, with the reason in the detail (no network, needs credentials).
    Skip,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub level: Level,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Item {
    fn new(name: impl Into<String>, level: Level, detail: impl Into<String>) -> Self {
        Item {
            name: name.into(),
            level,
            detail: detail.into(),
            fix: None,
        }
    }
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// An e-mail ready to send: where the fix is a request to a service desk or a scope owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyEmail {
    /// An address, or who to write to when no address is known (a scope owner's contact).
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl ReadyEmail {
    /// The e-mail as text to copy: To, Subject, a blank line, the body.
    pub fn as_text(&self) -> String {
        format!(
            "To: {}\nSubject: {}\n\n{}",
            self.to, self.subject, self.body
        )
    }
}

/// What the readiness check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessReport {
    pub items: Vec<Item>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ReadyEmail>,
}

impl ReadinessReport {
    pub fn failed(&self) -> bool {
        self.items.iter().any(|i| i.level == Level::Fail)
    }
    /// The items that could not be checked.
    pub fn skipped(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.level == Level::Skip)
    }
}

/// What is known about the profile's client and key that the check cannot fetch itself.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Scopes a token was just issued for, or the sandbox's client holds: granted for sure.
    pub granted: Vec<String>,
    /// The number of keys on the client, when it can be known (the sandbox's admin API).
    pub client_keys: Option<usize>,
    /// When the key was made (the key file's date), for profiles without
    /// [`Profile::key_registered_at`].
    pub key_file_date: Option<DateTime<Utc>>,
}

/// The scopes to check: the profile's client scopes and system-user scope, and the vendor
/// scopes every vendor needs (before the client step the profile has none).
pub fn scopes_to_check(profile: &Profile) -> Vec<String> {
    let mut out: Vec<String> = crate::altinn::client::VENDOR_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let extra = profile.scopes.iter().cloned().chain(
        profile
            .system_user_scope
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_string)),
    );
    for s in extra {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Judge each scope against the catalogue. Scopes in `granted` are known to be on the client
/// (a token was issued for them), so an owner's grant is not in question for them.
pub fn judge_scopes(scopes: &[String], catalogue: &[ScopeInfo], granted: &[String]) -> Vec<Item> {
    scopes
        .iter()
        .map(|name| {
            let item = format!("scope {name}");
            let Some(s) = catalogue.iter().find(|s| s.full_name() == *name) else {
                return Item::new(item, Level::Fail, "does not exist in Digdir's scope catalogue for this environment (Maskinporten answers invalid_scope)")
                    .fix("check the spelling (scopes are case-sensitive) and the environment: some scopes exist only in test or only in production; the API's documentation names its scope");
            };
            if !s.active {
                return Item::new(item, Level::Fail, "exists but is not active: Maskinporten issues no tokens for it")
                    .fix(format!("ask its owner (organisation {}) whether it was replaced", s.owner_orgno.as_deref().unwrap_or("?")));
            }
            if !s.for_maskinporten() {
                return Item::new(
                    item,
                    Level::Fail,
                    format!("is only for integration types [{}], not a Maskinporten client (MP-201)", s.allowed_integration_types.join(", ")),
                )
                .fix("use the API's Maskinporten scope, or a client of the integration type the scope allows");
            }
            if granted.contains(name) {
                return Item::new(item, Level::Pass, "exists, active, and granted to this client");
            }
            if s.accessible_for_all {
                return Item::new(item, Level::Pass, "exists, active, open to every organisation: add it to the client in the portal");
            }
            let owner = s.owner_orgno.as_deref().unwrap_or("?");
            let via = s
                .delegation_source
                .as_deref()
                .map(|d| format!("; access may also be delegated in {d}"))
                .unwrap_or_default();
            Item::new(
                item,
                Level::Warn,
                format!("exists and is active, but not open to all: its owner (organisation {owner}) must grant your organisation access before the portal offers it{via}"),
            )
            .fix(if is_digdir_owned(s) {
                format!("if the portal does not list it for your organisation, e-mail {DIGDIR_SERVICE_DESK} (the e-mail below)")
            } else {
                format!("if the portal does not list it for your organisation, ask the owner (organisation {owner}) for access (the e-mail below)")
            })
        })
        .collect()
}

fn is_digdir_owned(s: &ScopeInfo) -> bool {
    s.prefix == "altinn" || s.owner_orgno.as_deref() == Some(DIGDIR_ORG)
}

fn env_name(kind: EnvKind) -> &'static str {
    match kind {
        EnvKind::Tt02 => "TT02 / Maskinporten test (Ver2)",
        EnvKind::Prod => "production",
        EnvKind::Sandbox => "the altinn-onboard sandbox",
        EnvKind::Custom => "a custom server",
    }
}

/// The e-mails asking for access to the scopes that need an owner's grant: one to Digdir's
/// service desk for Digdir-owned (`altinn:`) scopes, one per other owner.
pub fn access_emails(
    kind: EnvKind,
    profile: &Profile,
    catalogue: &[ScopeInfo],
    scopes: &[String],
    granted: &[String],
) -> Vec<ReadyEmail> {
    let needs: Vec<&ScopeInfo> = scopes
        .iter()
        .filter(|n| !granted.contains(n))
        .filter_map(|n| catalogue.iter().find(|s| s.full_name() == **n))
        .filter(|s| s.active && s.for_maskinporten() && !s.accessible_for_all)
        .collect();
    let mut groups: Vec<(Option<String>, Vec<&ScopeInfo>)> = Vec::new();
    for s in needs {
        let key = (!is_digdir_owned(s)).then(|| s.owner_orgno.clone().unwrap_or_default());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(s),
            None => groups.push((key, vec![s])),
        }
    }
    let org = profile
        .vendor_org
        .as_deref()
        .unwrap_or("<your organisation number>");
    let client = profile
        .client_id
        .as_deref()
        .unwrap_or("<the client id from the self-service portal>");
    let env = env_name(kind);
    groups
        .into_iter()
        .map(|(owner, list)| {
            let names: Vec<String> = list.iter().map(|s| s.full_name()).collect();
            let lines = names
                .iter()
                .map(|n| format!("  - {n}"))
                .collect::<Vec<_>>()
                .join("\n");
            let vendor_note = if names.iter().any(|n| n.starts_with("altinn:authentication/")) {
                "\nWe are a system vendor (systemleverandør) onboarding customers with Altinn system users \
                 (systembruker); the altinn:authentication scopes are the vendor API's.\n"
            } else {
                ""
            };
            let (to, greeting) = match &owner {
                None => (DIGDIR_SERVICE_DESK.to_string(), "Hello Digdir service desk,"),
                Some(o) => (
                    format!("the owner of the scopes, organisation {o} (the contact named in its API documentation)"),
                    "Hello,",
                ),
            };
            ReadyEmail {
                to,
                subject: format!("Scope access for organisation {org} in {env}: {}", names.join(", ")),
                body: format!(
                    "{greeting}\n\nPlease give organisation {org} access to these Maskinporten scopes in {env}:\n{lines}\n\n\
                     They are for our Maskinporten client {client}.\n{vendor_note}\nOrganisation number: {org}\nClient id: {client}\n\
                     Environment: {env}\n\nThank you.\n"
                ),
            }
        })
        .collect()
}

/// The key's age against Maskinporten's one-year lifetime. `registered` is when it was
/// uploaded (exact), `file_date` when the key was made (the upload is never earlier).
pub fn key_expiry(
    registered: Option<DateTime<Utc>>,
    file_date: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Item {
    let name = "key expiry";
    let (since, what) = match (registered, file_date) {
        (Some(d), _) => (d, "registered with the client"),
        (None, Some(d)) => (
            d,
            "made (the key file's date; the profile has no upload date, and the upload came later)",
        ),
        (None, None) => {
            return Item::new(
                name,
                Level::Skip,
                "no key yet (or its file is unreadable): nothing to expire",
            );
        }
    };
    let expires = since + Duration::days(KEY_LIFETIME_DAYS);
    let left = (expires - now).num_days();
    let when = format!(
        "{what} {}; Maskinporten rejects it after one year (MP-121), on {}",
        since.format("%Y-%m-%d"),
        expires.format("%Y-%m-%d")
    );
    let rotate = "make a new key (`keys generate --replace`), upload it to the client next to the old one (a client holds up to 5), \
                  switch with `client set`, then remove the old one in the portal";
    if left < 0 {
        Item::new(
            name,
            Level::Fail,
            format!("expired {} days ago: {when}", -left),
        )
        .fix(rotate)
    } else if left <= KEY_EXPIRY_WARNING_DAYS {
        Item::new(name, Level::Warn, format!("expires in {left} days: {when}")).fix(rotate)
    } else {
        Item::new(name, Level::Pass, format!("{left} days left: {when}"))
    }
}

/// The client's keys against the five-key limit.
pub fn client_keys(kind: EnvKind, count: Option<usize>, client_id: Option<&str>) -> Item {
    let name = "client keys";
    let client = client_id.unwrap_or("<client id>");
    match count {
        Some(n) if n >= MAX_CLIENT_KEYS => Item::new(
            name,
            Level::Warn,
            format!("client {client} has {n} keys, the most a client may hold ({MAX_CLIENT_KEYS}): a new key cannot be added"),
        )
        .fix("remove an unused key from the client before adding a new one (the sandbox: `client set` replaces them; the portal: the client's key list)"),
        Some(n) => Item::new(name, Level::Pass, format!("client {client} has {n} of at most {MAX_CLIENT_KEYS} keys")),
        None => {
            let portal = kind
                .self_service_portal()
                .unwrap_or("the server's own portal");
            Item::new(
                name,
                Level::Skip,
                format!(
                    "cannot be checked without the self-service API's credentials (an admin client with a business certificate \
                     and idporten:dcr.read); a client holds at most {MAX_CLIENT_KEYS} keys"
                ),
            )
            .fix(format!("count them in the portal: {portal}, client {client}, its keys; remove unused ones before adding a sixth"))
        }
    }
}

/// What cannot be seen without logging in, for a real environment.
fn unseen(kind: EnvKind) -> Vec<Item> {
    let portal = kind
        .self_service_portal()
        .unwrap_or("the self-service portal");
    vec![
        Item::new(
            "terms of use",
            Level::Skip,
            "cannot be checked without logging in: until your organisation has accepted Digdir's terms of use, the \
             self-service portal answers PRECONDITION_REQUIRED (\"Virksomheten har ikke signert de relevante bruksvilkårene\")",
        )
        .fix(format!("log in to {portal}; if it says PRECONDITION_REQUIRED, someone with authority in your organisation accepts the terms in Samarbeidsportalen")),
        Item::new(
            "system vendor",
            Level::Skip,
            "cannot be checked from outside: Digdir grants the altinn:authentication scopes only to registered system vendors",
        )
        .fix(format!("if {portal} does not offer the altinn:authentication scopes for your organisation, send the e-mail to {DIGDIR_SERVICE_DESK}")),
    ]
}

/// The whole readiness check. Never fails: what cannot be checked is an item at
/// [`Level::Skip`] with the reason.
pub async fn check(
    http: &reqwest::Client,
    env: &Environment,
    profile: &Profile,
    known: &Known,
    now: DateTime<Utc>,
) -> ReadinessReport {
    let mut report = ReadinessReport::default();
    let url = env.scope_catalogue_url();
    let scopes = scopes_to_check(profile);
    match fetch_catalogue(http, &url).await {
        Ok(catalogue) => {
            report.items.push(Item::new(
                "scope catalogue",
                Level::Pass,
                format!("{url}: {} scopes", catalogue.len()),
            ));
            report
                .items
                .extend(judge_scopes(&scopes, &catalogue, &known.granted));
            report.emails = access_emails(env.kind, profile, &catalogue, &scopes, &known.granted);
        }
        Err(why) => {
            report.items.push(
                Item::new(
                    "scope catalogue",
                    Level::Skip,
                    format!("could not read {url}: {why}; so whether the scopes exist and are open to all is not known"),
                )
                .fix("check the network (or HTTPS_PROXY), then run the check again (`doctor`, or r in the wizard)"),
            );
            for s in &scopes {
                report.items.push(Item::new(
                    format!("scope {s}"),
                    Level::Skip,
                    "not checked: the scope catalogue could not be read",
                ));
            }
        }
    }
    if matches!(env.kind, EnvKind::Tt02 | EnvKind::Prod) {
        report.items.extend(unseen(env.kind));
    }
    report.items.push(key_expiry(
        profile.key_registered_at,
        known.key_file_date,
        now,
    ));
    report.items.push(client_keys(
        env.kind,
        known.client_keys,
        profile.client_id.as_deref(),
    ));
    report
}

async fn fetch_catalogue(http: &reqwest::Client, url: &str) -> Result<Vec<ScopeInfo>, String> {
    let resp = http
        .get(url)
        .timeout(std::time::Duration::from_secs(20))
        .send()
        .await
        .map_err(|e| crate::maskinporten::describe_reqwest(&e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("it answered {}", status.as_u16()));
    }
    // The real catalogue is a few MB; cap what is read.
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| crate::maskinporten::describe_reqwest(&e))?;
    if bytes.len() > 64 * 1024 * 1024 {
        return Err("the answer is larger than 64 MiB".into());
    }
    parse_catalogue(&String::from_utf8_lossy(&bytes))
}

/// The key file's date (its modification time: key files are written once), for
/// [`Known::key_file_date`].
pub fn key_file_date(profile: &Profile) -> Option<DateTime<Utc>> {
    let meta = std::fs::metadata(profile.key_path.as_ref()?).ok()?;
    meta.modified().ok().map(DateTime::<Utc>::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvSetting;
    use chrono::TimeZone;

    fn fixture() -> Vec<ScopeInfo> {
        let text = include_str!("../tests/fixtures/digdir_scopes_all_prod.json");
        parse_catalogue(text).expect("the recorded answer parses")
    }

    #[test]
    fn the_recorded_catalogue_parses_with_its_real_fields() {
        let c = fixture();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].full_name(),
            "altinn:accessmanagement/authorizedparties.admin"
        );
        assert_eq!(c[0].prefix, "altinn");
        assert_eq!(c[0].subscope, "accessmanagement/authorizedparties.admin");
        assert!(c[0].active);
        assert!(!c[0].accessible_for_all);
        assert_eq!(c[0].allowed_integration_types, ["maskinporten"]);
        assert_eq!(c[0].owner_orgno.as_deref(), Some(DIGDIR_ORG));
        assert_eq!(c[0].visibility.as_deref(), Some("PUBLIC"));
        assert_eq!(c[0].delegation_source, None);
        assert_eq!(c[0].at_max_age, Some(3600));
        assert_eq!(
            c[1].delegation_source.as_deref(),
            Some("https://www.altinn.no/")
        );
        assert_eq!(
            c[1].last_updated.as_deref(),
            Some("2026-01-19T09:40:37.258551Z")
        );
    }

    /// Constructed for this test (not a recording): TT02's answer adds localised texts under
    /// keys like `description#en`; they are ignored.
    #[test]
    fn localised_keys_and_a_missing_name_are_fine() {
        let c = parse_catalogue(
            r#"[{"prefix":"x","subscope":"y.read","description#en":"e","active":true,"accessible_for_all":true}]"#,
        )
        .unwrap();
        assert_eq!(c[0].full_name(), "x:y.read");
        assert!(
            c[0].for_maskinporten(),
            "no restriction: any integration type"
        );
        assert!(parse_catalogue("{}").is_err());
    }

    #[test]
    fn each_scope_is_judged() {
        let mut c = fixture();
        c.push(ScopeInfo {
            accessible_for_all: true,
            ..scope("altinn:open")
        });
        c.push(ScopeInfo {
            active: false,
            ..scope("altinn:old")
        });
        c.push(ScopeInfo {
            allowed_integration_types: vec!["idporten".into()],
            ..scope("altinn:login")
        });
        let names: Vec<String> = [
            "altinn:accessmanagement/authorizedparties.admin",
            "altinn:open",
            "altinn:old",
            "altinn:login",
            "altinn:nope",
        ]
        .map(String::from)
        .to_vec();
        let items = judge_scopes(&names, &c, &[]);
        let levels: Vec<Level> = items.iter().map(|i| i.level).collect();
        assert_eq!(
            levels,
            [
                Level::Warn,
                Level::Pass,
                Level::Fail,
                Level::Fail,
                Level::Fail
            ]
        );
        assert!(
            items[0].detail.contains("organisation 991825827"),
            "{items:?}"
        );
        assert!(
            items[0]
                .fix
                .as_deref()
                .unwrap()
                .contains(DIGDIR_SERVICE_DESK)
        );
        assert!(items[3].detail.contains("MP-201"));
        assert!(items[4].detail.contains("does not exist"));
        // Granted (a token proved it): no question of access.
        let granted = judge_scopes(&names[..1], &c, &names[..1]);
        assert_eq!(granted[0].level, Level::Pass);
    }

    fn scope(name: &str) -> ScopeInfo {
        let (p, s) = name.split_once(':').unwrap();
        ScopeInfo {
            prefix: p.into(),
            subscope: s.into(),
            name: Some(name.into()),
            description: String::new(),
            active: true,
            accessible_for_all: false,
            allowed_integration_types: vec!["maskinporten".into()],
            owner_orgno: Some(DIGDIR_ORG.into()),
            visibility: Some("PUBLIC".into()),
            delegation_source: None,
            token_type: None,
            at_max_age: None,
            created: None,
            last_updated: None,
        }
    }

    #[test]
    fn the_ready_emails_name_org_client_environment_and_scopes() {
        let mut p = Profile::new("t", EnvSetting::new(EnvKind::Tt02));
        p.vendor_org = Some("312345676".into());
        p.client_id = Some("abc-123".into());
        let mut c = vec![scope("altinn:authentication/systemregister.write")];
        c.push(ScopeInfo {
            owner_orgno: Some("974761076".into()),
            ..scope("skatteetaten:krav")
        });
        let names = [
            "altinn:authentication/systemregister.write",
            "skatteetaten:krav",
        ]
        .map(String::from);
        let mails = access_emails(EnvKind::Tt02, &p, &c, &names, &[]);
        assert_eq!(mails.len(), 2, "{mails:?}");
        assert_eq!(mails[0].to, DIGDIR_SERVICE_DESK);
        for needle in [
            "312345676",
            "abc-123",
            "TT02",
            "altinn:authentication/systemregister.write",
            "system vendor",
        ] {
            assert!(
                mails[0].as_text().contains(needle),
                "{needle}: {}",
                mails[0].as_text()
            );
        }
        assert!(mails[1].to.contains("974761076"), "{:?}", mails[1]);
        assert!(mails[1].body.contains("skatteetaten:krav"));
        // A granted scope needs no e-mail.
        assert!(access_emails(EnvKind::Tt02, &p, &c, &names[..1], &names[..1]).is_empty());
    }

    #[test]
    fn key_expiry_warns_a_month_ahead_and_fails_after_a_year() {
        let t = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap();
        let now = t(2026, 11, 24);
        assert_eq!(
            key_expiry(Some(t(2026, 1, 10)), None, now).level,
            Level::Pass
        );
        let soon = key_expiry(Some(t(2025, 12, 10)), None, now);
        assert_eq!(soon.level, Level::Warn, "{soon:?}");
        assert!(soon.detail.contains("expires in 16 days"), "{soon:?}");
        let gone = key_expiry(None, Some(t(2025, 11, 1)), now);
        assert_eq!(gone.level, Level::Fail, "{gone:?}");
        assert!(gone.detail.contains("key file"), "{gone:?}");
        assert_eq!(key_expiry(None, None, now).level, Level::Skip);
        // The upload date wins over the file's.
        assert_eq!(
            key_expiry(Some(t(2026, 6, 1)), Some(t(2025, 1, 1)), now).level,
            Level::Pass
        );
    }

    #[test]
    fn five_keys_is_the_limit() {
        assert_eq!(
            client_keys(EnvKind::Sandbox, Some(4), Some("c")).level,
            Level::Pass
        );
        let full = client_keys(EnvKind::Sandbox, Some(5), Some("c"));
        assert_eq!(full.level, Level::Warn);
        assert!(full.detail.contains("5 keys"), "{full:?}");
        let tt02 = client_keys(EnvKind::Tt02, None, Some("c"));
        assert_eq!(tt02.level, Level::Skip);
        assert!(tt02.detail.contains("credentials"), "{tt02:?}");
        assert!(
            tt02.fix
                .unwrap()
                .contains("sjolvbetjening.test.samarbeid.digdir.no")
        );
    }
}
