//! Every customer at a glance (issue 12): the system's system users and requests from every
//! page of Altinn's `bysystem` lists, folded into one row per customer organisation, with
//! what the profile remembers (names, confirm URLs, the last token check). No terminal code:
//! the CLI's `customers` command and the wizard's customers screen both use this.
//!
//! Loading is [`load`] (three paginated lists; `progress` is told after every page, so a
//! caller can show progress or stay responsive), folding is the pure [`rows`], and
//! [`remember`] writes the result into the profile's customer list.

use crate::altinn::client::{
    AltinnClient, AltinnError, PageProgress, SCOPE_REGISTER_WRITE, SCOPE_REQUEST_READ,
};
use crate::altinn::model::{RequestInfo, RequestStatus, SystemUserInfo};
use crate::flow::Failure;
use crate::profile::{
    CustomerRecord, CustomerRequest, CustomerStatus, Profile, RequestKind, TokenCheck,
};
use crate::runner::Runner;
use crate::secret::Secret;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Which of the three lists a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// `GET systemuser/request/vendor/bysystem/{systemId}` (scope systemuser.request.read).
    Requests,
    /// `GET systemuser/request/vendor/agent/bysystem/{systemId}` (systemuser.request.read).
    AgentRequests,
    /// `GET systemuser/vendor/bysystem/{systemId}` (scope systemregister.write).
    SystemUsers,
}

impl ListKind {
    pub fn label(self) -> &'static str {
        match self {
            ListKind::Requests => "requests",
            ListKind::AgentRequests => "agent requests",
            ListKind::SystemUsers => "system users",
        }
    }
}

/// Told after every page: which list, which page, how many items of that list so far, and
/// whether another page follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LoadProgress {
    pub list: ListKind,
    pub page: usize,
    pub items: usize,
    pub more: bool,
}

/// Everything Altinn lists for one system.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub system_id: String,
    pub requests: Vec<RequestInfo>,
    pub agent_requests: Vec<RequestInfo>,
    pub system_users: Vec<SystemUserInfo>,
    /// Pages read, over the three lists.
    pub pages: usize,
}

impl Listing {
    /// The requests and the agent requests, each with its kind.
    pub fn all_requests(&self) -> impl Iterator<Item = (&RequestInfo, RequestKind)> {
        self.requests
            .iter()
            .map(|r| (r, RequestKind::Standard))
            .chain(self.agent_requests.iter().map(|r| (r, RequestKind::Agent)))
    }
}

/// The customer list's record of a request as Altinn answered it (created `at` when the
/// answer names no creation time).
pub fn listed_request(r: &RequestInfo, kind: RequestKind, at: DateTime<Utc>) -> CustomerRequest {
    CustomerRequest {
        id: r.id.clone(),
        kind,
        external_ref: r.external_ref.clone(),
        status: r.status.clone(),
        timed_out: r.timed_out,
        confirm_url: r.confirm_url.clone(),
        created_at: r
            .created
            .as_deref()
            .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
            .map(|c| c.with_timezone(&Utc))
            .unwrap_or(at),
        change: None,
    }
}

/// The two vendor tokens the lists need (their scopes differ: systemregister.write for the
/// system users, systemuser.request.read for the requests).
pub struct ListTokens {
    pub register: Secret,
    pub request_read: Secret,
}

/// Read every page of the three lists. Requests are read before system users, so a customer
/// who approves while we read shows as accepted (never as a request without its system user).
pub async fn load(
    client: &AltinnClient,
    tokens: &ListTokens,
    system_id: &str,
    progress: &mut (dyn FnMut(LoadProgress) + Send),
) -> Result<Listing, AltinnError> {
    let mut pages = 0;
    let mut tell = |list: ListKind, p: PageProgress, pages: &mut usize| {
        *pages += 1;
        progress(LoadProgress {
            list,
            page: p.page,
            items: p.items,
            more: p.more,
        })
    };
    let requests = client
        .list_requests_with_progress(&tokens.request_read, system_id, false, &mut |p| {
            tell(ListKind::Requests, p, &mut pages)
        })
        .await?;
    let agent_requests = client
        .list_requests_with_progress(&tokens.request_read, system_id, true, &mut |p| {
            tell(ListKind::AgentRequests, p, &mut pages)
        })
        .await?;
    let system_users = client
        .list_system_users_with_progress(&tokens.register, system_id, &mut |p| {
            tell(ListKind::SystemUsers, p, &mut pages)
        })
        .await?;
    Ok(Listing {
        system_id: system_id.to_string(),
        requests,
        agent_requests,
        system_users,
        pages,
    })
}

/// [`load`] for the profile's system with the profile's client: gets both tokens through the
/// runner (its token cache), then reads every page.
pub async fn load_for_profile(
    runner: &Runner,
    profile: &Profile,
    progress: &mut (dyn FnMut(LoadProgress) + Send),
) -> Result<Listing, Failure> {
    let system_id = profile.system_id().ok_or_else(|| {
        Failure::new(
            crate::flow::ErrorKind::Validation,
            "no system in this profile yet: `system register --name <name>`",
        )
    })?;
    let request_read = runner
        .vendor_token(profile, SCOPE_REQUEST_READ, false)
        .await?
        .token;
    let register = runner
        .vendor_token(profile, SCOPE_REGISTER_WRITE, false)
        .await?
        .token;
    let tokens = ListTokens {
        register,
        request_read,
    };
    Ok(load(runner.altinn(), &tokens, &system_id, progress).await?)
}

/// One customer, as the overview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerRow {
    pub org: String,
    pub name: Option<String>,
    pub status: CustomerStatus,
    /// `standard` or `agent`: the kind of the request (or system user) the status comes from.
    pub kind: RequestKind,
    /// The newest request to this customer.
    pub request_id: Option<String>,
    /// Altinn's `status` of that request, verbatim (`New` also while timed out).
    pub request_status: Option<RequestStatus>,
    pub requested_at: Option<String>,
    /// Every external reference used with this customer (requests and system users).
    pub external_refs: Vec<String>,
    pub system_user_id: Option<String>,
    /// Resource ids and access-package URNs of the newest request.
    pub rights: Vec<String>,
    /// Only from the profile: Altinn's lists carry no confirmUrl.
    pub confirm_url: Option<String>,
    pub last_token_check: Option<TokenCheck>,
}

/// Fold the lists into one row per customer organisation, sorted by organisation number.
///
/// A customer with a system user is `accepted`; otherwise its newest request decides
/// (`New` with `timedOut: true` is `timed_out`); an accepted request whose system user is
/// gone is `withdrawn` (the customer deleted it). Names, confirm URLs and token checks come
/// from `known` (the profile), else names from `name_of`.
pub fn rows(
    listing: &Listing,
    known: &[CustomerRecord],
    name_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<CustomerRow> {
    struct Acc<'a> {
        requests: Vec<(&'a RequestInfo, RequestKind)>,
        users: Vec<&'a SystemUserInfo>,
    }
    let mut by_org: BTreeMap<&str, Acc> = BTreeMap::new();
    let both = listing.all_requests();
    for (r, kind) in both {
        by_org
            .entry(r.party_org_no.as_str())
            .or_insert_with(|| Acc {
                requests: Vec::new(),
                users: Vec::new(),
            })
            .requests
            .push((r, kind));
    }
    for su in listing.system_users.iter().filter(|su| !su.is_deleted) {
        by_org
            .entry(su.reportee_org_no.as_str())
            .or_insert_with(|| Acc {
                requests: Vec::new(),
                users: Vec::new(),
            })
            .users
            .push(su);
    }
    by_org
        .into_iter()
        .filter(|(org, _)| !org.is_empty())
        .map(|(org, acc)| {
            let remembered = known.iter().find(|c| c.org == org);
            // Newest by `created` (ISO 8601 text sorts in time order); the list order breaks ties.
            let newest = acc
                .requests
                .iter()
                .enumerate()
                .max_by(|(i, (a, _)), (j, (b, _))| {
                    a.created
                        .as_deref()
                        .unwrap_or("")
                        .cmp(b.created.as_deref().unwrap_or(""))
                        .then(i.cmp(j))
                })
                .map(|(_, r)| *r);
            let user = acc.users.first().copied();
            let status = match (user, newest) {
                (Some(_), _) => CustomerStatus::Accepted,
                (None, Some((r, _))) if r.status.is_accepted() => CustomerStatus::Withdrawn,
                (None, Some((r, _))) => CustomerStatus::of_request(&r.status, r.timed_out),
                (None, None) => CustomerStatus::Unknown,
            };
            let kind = match (user, newest) {
                (Some(su), _) if su.user_type.as_deref().is_some_and(is_agent_type) => {
                    RequestKind::Agent
                }
                (Some(_), Some((_, k))) => k,
                (Some(_), None) => RequestKind::Standard,
                (None, Some((_, k))) => k,
                (None, None) => RequestKind::Standard,
            };
            let mut external_refs: Vec<String> = Vec::new();
            let refs = acc
                .requests
                .iter()
                .filter_map(|(r, _)| r.external_ref.clone())
                .chain(acc.users.iter().filter_map(|su| su.external_ref.clone()));
            for x in refs {
                if !x.is_empty() && !external_refs.contains(&x) {
                    external_refs.push(x);
                }
            }
            let rights = newest
                .map(|(r, _)| {
                    let mut v: Vec<String> = r
                        .rights
                        .iter()
                        .flatten()
                        .filter_map(|right| right.resource_id().map(str::to_string))
                        .collect();
                    v.extend(r.access_packages.iter().flatten().map(|p| p.urn.clone()));
                    v
                })
                .unwrap_or_default();
            let request_id = newest.map(|(r, _)| r.id.clone());
            let confirm_url = remembered.and_then(|c| {
                c.requests
                    .iter()
                    .find(|k| Some(&k.id) == request_id.as_ref())
                    .and_then(|k| k.confirm_url.clone())
            });
            CustomerRow {
                org: org.to_string(),
                name: remembered
                    .and_then(|c| c.name.clone())
                    .or_else(|| name_of(org)),
                status,
                kind,
                request_id,
                request_status: newest.map(|(r, _)| r.status.clone()),
                requested_at: newest.and_then(|(r, _)| r.created.clone()),
                external_refs,
                system_user_id: user.map(|su| su.id.clone()),
                rights,
                confirm_url,
                last_token_check: remembered.and_then(|c| c.last_token_check.clone()),
            }
        })
        .collect()
}

fn is_agent_type(t: &str) -> bool {
    t.eq_ignore_ascii_case("agent")
}

/// Count of rows per status, in a fixed order (for summaries).
pub fn tally(rows: &[CustomerRow]) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry(r.status.as_str()).or_insert(0) += 1;
    }
    out
}

/// Write what the lists said into the profile's customer list (one entry per row; customers
/// the lists do not name are left as they were). The caller saves the profile once.
pub fn remember(profile: &mut Profile, listing: &Listing, rows: &[CustomerRow], at: DateTime<Utc>) {
    // What the flow changed in place (a polled status, a token check) reaches the list first;
    // then the flow's own records of the listed requests take the lists' answers, or the
    // store's sync on save would put their older statuses back (a rejection read as pending).
    profile.sync_customers();
    for (r, _) in listing.all_requests() {
        if let Some(rec) = profile.requests.iter_mut().find(|rec| rec.id == r.id) {
            // The flow folds Altinn's `timedOut` flag into the status it records.
            rec.status = if r.timed_out && r.status.is_pending() {
                crate::altinn::model::RequestStatus::Timedout
            } else {
                r.status.clone()
            };
            rec.checked_at = Some(at);
        }
    }
    let requests = listing.all_requests();
    for (r, kind) in requests {
        if r.party_org_no.is_empty() {
            continue;
        }
        profile
            .customer_mut(&r.party_org_no)
            .note_request(listed_request(r, kind, at));
    }
    for row in rows {
        let c = profile.customer_mut(&row.org);
        if c.name.is_none() {
            c.name = row.name.clone();
        }
        c.system_user_id = row.system_user_id.clone();
        c.status = row.status;
        c.rights = row.rights.clone();
        c.checked_at = Some(at);
    }
}

/// The sandbox's name for a seeded organisation (names elsewhere need the Entity Register).
pub fn sandbox_name(org: &str) -> Option<String> {
    crate::sandbox::seeded_orgs()
        .iter()
        .find(|o| o.org_no == org)
        .map(|o| o.name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: &str, org: &str, status: &str, created: &str, timed_out: bool) -> RequestInfo {
        serde_json::from_value(serde_json::json!({
            "id": id, "systemId": "s", "partyOrgNo": org, "status": status,
            "externalRef": format!("ref-{org}"), "created": created, "timedOut": timed_out,
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
            "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
        }))
        .expect("request")
    }

    fn user(id: &str, org: &str) -> SystemUserInfo {
        serde_json::from_value(serde_json::json!({
            "id": id, "systemId": "s", "reporteeOrgNo": org, "externalRef": format!("ref-{org}"),
        }))
        .expect("system user")
    }

    /// The CLI's `customers` saves through the store, whose sync copies the flow's records into
    /// the list: a request the flow last saw as New and the lists now show Rejected stays
    /// rejected after that sync.
    #[test]
    fn a_listed_answer_survives_the_stores_sync() {
        use crate::env::{EnvKind, EnvSetting};
        let mut p = Profile::new("t", EnvSetting::new(EnvKind::Sandbox));
        p.upsert_request(crate::profile::RequestRecord {
            id: "r1".into(),
            kind: RequestKind::Standard,
            customer_org: "100000003".into(),
            external_ref: None,
            status: crate::altinn::model::RequestStatus::New,
            confirm_url: None,
            created_at: Utc::now(),
            checked_at: None,
            change: None,
        });
        let listing = Listing {
            system_id: "s".into(),
            requests: vec![req(
                "r1",
                "100000003",
                "Rejected",
                "2026-01-01T00:00:00Z",
                false,
            )],
            agent_requests: vec![],
            system_users: vec![],
            pages: 1,
        };
        let rows = rows(&listing, &p.customers, &|_| None);
        remember(&mut p, &listing, &rows, Utc::now());
        p.sync_customers();
        assert_eq!(
            p.customer("100000003").expect("customer").status,
            CustomerStatus::Rejected
        );
    }

    #[test]
    fn one_row_per_customer_with_the_right_status() {
        let listing = Listing {
            system_id: "s".into(),
            requests: vec![
                req("a1", "100000001", "Accepted", "2026-01-01T00:00:00Z", false),
                req("p1", "100000002", "New", "2026-01-01T00:00:00Z", false),
                req("r1", "100000003", "Rejected", "2026-01-01T00:00:00Z", false),
                req("t1", "100000004", "New", "2026-01-01T00:00:00Z", true),
                req("w1", "100000005", "Accepted", "2026-01-01T00:00:00Z", false),
                // An old rejection, then a newer pending request: pending.
                req("o1", "100000006", "Rejected", "2026-01-01T00:00:00Z", false),
                req("o2", "100000006", "New", "2026-02-01T00:00:00Z", false),
                req("d1", "100000007", "Denied", "2026-01-01T00:00:00Z", false),
            ],
            agent_requests: vec![],
            system_users: vec![user("su-1", "100000001"), user("su-8", "100000008")],
            pages: 3,
        };
        let known = vec![CustomerRecord {
            name: Some("Known AS".into()),
            ..CustomerRecord::new("100000002")
        }];
        let rows = rows(&listing, &known, &|_| None);
        let got: Vec<(&str, CustomerStatus)> =
            rows.iter().map(|r| (r.org.as_str(), r.status)).collect();
        use CustomerStatus::*;
        assert_eq!(
            got,
            [
                ("100000001", Accepted),
                ("100000002", Pending),
                ("100000003", Rejected),
                ("100000004", TimedOut),
                ("100000005", Withdrawn),
                ("100000006", Pending),
                ("100000007", Rejected),
                ("100000008", Accepted),
            ]
        );
        assert_eq!(rows[0].system_user_id.as_deref(), Some("su-1"));
        assert_eq!(
            rows[0].rights,
            [
                "ske-krav-og-betalinger",
                "urn:altinn:accesspackage:skatt-naering"
            ]
        );
        assert_eq!(rows[1].name.as_deref(), Some("Known AS"));
        assert_eq!(rows[3].request_status, Some(RequestStatus::New));
        assert_eq!(rows[5].request_id.as_deref(), Some("o2"));
        assert_eq!(rows[7].request_id, None);
        assert_eq!(rows[7].external_refs, ["ref-100000008"]);
        let t = tally(&rows);
        assert_eq!((t["accepted"], t["pending"], t["rejected"]), (2, 2, 2));
    }

    #[test]
    fn remember_updates_the_profile() {
        let mut p = Profile::new("x", crate::env::EnvSetting::default());
        let listing = Listing {
            system_id: "s".into(),
            requests: vec![req("t1", "100000004", "New", "2026-01-01T00:00:00Z", true)],
            system_users: vec![user("su-8", "100000008")],
            ..Default::default()
        };
        let r = rows(&listing, &p.customers, &|o| Some(format!("Org {o}")));
        remember(&mut p, &listing, &r, Utc::now());
        assert_eq!(p.customers.len(), 2);
        let t = p.customer("100000004").expect("t");
        assert_eq!(t.status, CustomerStatus::TimedOut);
        assert!(t.requests[0].timed_out);
        assert_eq!(t.name.as_deref(), Some("Org 100000004"));
        let a = p.customer("100000008").expect("a");
        assert_eq!(
            (a.status, a.system_user_id.as_deref()),
            (CustomerStatus::Accepted, Some("su-8"))
        );
    }
}
