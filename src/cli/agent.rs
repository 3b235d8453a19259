//! `agent ...`: an agent (client) system user after its request was accepted (issue 12). The
//! vendor's side asks, with a system-user token, which clients the agent may act for; the
//! facilitator's side (adding and removing clients) is the client-delegation API
//! (`/authentication/api/v1/enduser/systemuser/clients`), which takes an end-user token of the
//! facilitator's client administrator. The vendor has no such token on TT02/production, so
//! there these commands explain who does it where; on the sandbox they log in as the
//! facilitator's person through the sandbox's simulated ID-porten and call the real API.

use clap::Subcommand;
use serde::Serialize;
use serde_json::Value;

use super::{AppError, Ctx, exit, scopes_arg, with_flow};
use crate::env::EnvKind;
use crate::profile::{Profile, RequestKind};
use crate::session::Session;

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// The clients the agent system user may act for, as the vendor sees them (a system-user
    /// token for the facilitator; sandbox: the reference API lists them).
    Clients,
    /// Get a system-user token and ask whether the agent may act for ORG (exit 0 permitted,
    /// 2 not permitted).
    Check {
        /// The client organisation number.
        #[arg(long)]
        client: String,
    },
    /// As the facilitator's client administrator, add a client to the agent (sandbox only; on
    /// TT02/prod the facilitator does it in Altinn).
    AddClient {
        /// The client organisation number.
        #[arg(long)]
        client: String,
        /// The facilitator's person to log in as (default: its first client administrator).
        #[arg(long = "as", value_name = "PERSON")]
        person: Option<String>,
    },
    /// As the facilitator's client administrator, remove a client (sandbox only).
    RemoveClient {
        #[arg(long)]
        client: String,
        #[arg(long = "as", value_name = "PERSON")]
        person: Option<String>,
    },
}

/// Altinn's page where the facilitator's client administrator (DAGL or Klientadministrator)
/// adds clients: the system-access overview, then the system access, then "Add clients"
/// (docs.altinn.studio/en/authorization/guides/end-user/system-user/delegate-clients; the
/// overview URL from .../end-user/system-user/delete-system-user, am.ui.altinn.no for
/// production and, as for every AM UI link, am.ui.tt02.altinn.no for TT02).
pub fn client_page_url(kind: EnvKind) -> Option<&'static str> {
    match kind {
        EnvKind::Tt02 => {
            Some("https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/overview")
        }
        EnvKind::Prod => Some("https://am.ui.altinn.no/accessmanagement/ui/systemuser/overview"),
        EnvKind::Sandbox | EnvKind::Custom => None,
    }
}

fn facilitator_guide(kind: EnvKind, facilitator: &str) -> String {
    let url = client_page_url(kind).unwrap_or("Altinn's system-access overview");
    format!(
        "clients are added by the facilitator ({facilitator}), not by the vendor: its client administrator (daglig leder or Klientadministrator) logs in to Altinn, opens {url}, chooses the system access and \"Add clients\". A system of the facilitator can do it through the client-delegation API (authentication/api/v1/enduser/systemuser/clients) with an ID-porten token exchanged for an Altinn token (scope altinn:clientdelegations.write); this tool has no such token"
    )
}

/// The agent request the profile's commands work on: the newest one, which must be an agent
/// request. Its id is the agent system user's id once accepted (as in Altinn).
fn agent_request(p: &Profile) -> Result<(String, String), AppError> {
    let r = p.current_request().ok_or_else(|| {
        AppError::usage(
            "no request in this profile yet: `request create --agent --customer-org <facilitator>`",
        )
    })?;
    if r.kind != RequestKind::Agent {
        return Err(AppError::usage(format!(
            "the profile's newest request ({}) is not an agent request: `request create --agent --customer-org <facilitator>`",
            r.id
        )));
    }
    Ok((r.id.clone(), r.customer_org.clone()))
}

fn network(url: &str, e: reqwest::Error) -> AppError {
    AppError::new(
        exit::NETWORK,
        format!(
            "could not reach {url}: {}",
            crate::maskinporten::describe_reqwest(&e)
        ),
    )
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
) -> Result<(u16, Value), AppError> {
    let resp = http
        .request(method, url)
        .bearer_auth(token)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| network(url, e))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| network(url, e))?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

/// An Altinn error answer as the CLI's error (with the remote code, e.g. AUTH-00079).
fn remote_error(what: &str, status: u16, body: &Value) -> AppError {
    let code = body["code"].as_str().map(str::to_string).or_else(|| {
        body["validationErrors"][0]["code"]
            .as_str()
            .map(str::to_string)
    });
    let title = body["validationErrors"][0]["title"]
        .as_str()
        .or(body["title"].as_str())
        .or(body["error_description"].as_str())
        .unwrap_or(match status {
            401 => "not authenticated",
            403 => "forbidden (not a client administrator of the facilitator, or a missing scope)",
            _ => "",
        });
    let hint = match code.as_deref() {
        Some("AUTH-00079") => Some(
            "the organisation is not among the facilitator's clients for this agent's access packages: `altinn-onboard sandbox orgs` shows the client relations",
        ),
        Some("AUTH-00080") => Some(
            "the client gave the facilitator only some of the agent's access packages; a client must have all of them",
        ),
        _ => None,
    };
    let mut e = AppError::new(
        if status >= 500 {
            exit::NETWORK
        } else {
            exit::REJECTED
        },
        format!(
            "{what}: HTTP {status}{}{}",
            code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
            if title.is_empty() {
                String::new()
            } else {
                format!(": {title}")
            }
        ),
    );
    e.code = code;
    e.status = Some(status);
    e.hint = hint.map(str::to_string);
    e
}

async fn system_user_token(
    flow: &crate::flow::Flow,
    session: &Session,
    facilitator: &str,
) -> Result<String, AppError> {
    let p = &flow.profile;
    let scopes = scopes_arg(None, p)?;
    let ext = p.current_request().and_then(|r| r.external_ref.clone());
    let tok = session
        .runner
        .system_user_token(p, scopes, facilitator, ext, true)
        .await?;
    Ok(tok.token.expose().to_string())
}

#[derive(Debug, Serialize)]
pub struct ClientsOutput {
    pub agent: String,
    pub facilitator_org: String,
    pub clients: Vec<ClientRow>,
}

#[derive(Debug, Serialize)]
pub struct ClientRow {
    pub org: String,
    pub name: Option<String>,
    /// `client` or `own` (the facilitator's own organisation)
    pub relation: String,
}

#[derive(Debug, Serialize)]
pub struct CheckOutput {
    pub agent: String,
    pub facilitator_org: String,
    pub client_org: String,
    pub permitted: bool,
    pub decision: String,
    pub status: u16,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ChangeOutput {
    pub agent: String,
    pub facilitator_org: String,
    pub client_org: String,
    pub client_id: String,
    pub action: &'static str,
    pub person: String,
    pub clients: Vec<String>,
}

pub async fn run(ctx: &Ctx, cmd: AgentCommand) -> Result<i32, AppError> {
    with_flow(ctx, |flow, session| async move {
        let r = run_in(ctx, cmd, &flow, &session).await;
        (r, session)
    })
    .await
}

async fn is_sandbox(session: &Session) -> Result<bool, AppError> {
    Ok(matches!(
        session.runner.server_kind().await.map_err(AppError::from)?,
        crate::discovery::ServerKind::Sandbox { .. }
    ))
}

async fn run_in(
    ctx: &Ctx,
    cmd: AgentCommand,
    flow: &crate::flow::Flow,
    session: &Session,
) -> Result<i32, AppError> {
    let (agent, facilitator) = agent_request(&flow.profile)?;
    let kind = session.env.kind;
    let base = session
        .env
        .altinn_base
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let http = session.runner.http();
    match cmd {
        AgentCommand::Clients => {
            if !is_sandbox(session).await? {
                let mut e = AppError::usage(
                    "Altinn gives a vendor no list of an agent system user's clients: check one with `agent check --client ORG`, which asks the way an API does",
                );
                e.hint = Some(facilitator_guide(kind, &facilitator));
                return Err(e);
            }
            let token = system_user_token(flow, session, &facilitator).await?;
            let url = format!("{base}/reference/whoami");
            let (status, body) = call(http, reqwest::Method::GET, &url, &token).await?;
            if status != 200 {
                return Err(remote_error("the reference API refused", status, &body));
            }
            let clients: Vec<ClientRow> = body["clients"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|c| ClientRow {
                    org: c["orgNo"].as_str().unwrap_or("").to_string(),
                    name: c["name"].as_str().map(str::to_string),
                    relation: c["relation"].as_str().unwrap_or("client").to_string(),
                })
                .collect();
            let v = ClientsOutput {
                agent: agent.clone(),
                facilitator_org: facilitator.clone(),
                clients,
            };
            ctx.out.result(&v, || {
                if v.clients.is_empty() {
                    return format!(
                        "agent {agent} (facilitator {facilitator}) acts for no client yet\n  hint: the facilitator adds clients: `agent add-client --client ORG` on the sandbox, or its client page"
                    );
                }
                let mut s = format!("agent {agent} (facilitator {facilitator}) may act for:");
                for c in &v.clients {
                    s += &format!(
                        "\n  {}  {}{}",
                        c.org,
                        c.name.as_deref().unwrap_or(""),
                        if c.relation == "own" { " (own organisation)" } else { "" }
                    );
                }
                s
            });
            Ok(exit::OK)
        }
        AgentCommand::Check { client } => {
            let client =
                crate::validate::org_number(&client).map_err(|e| AppError::usage(e.to_string()))?;
            let token = system_user_token(flow, session, &facilitator).await?;
            if !is_sandbox(session).await? {
                // guess: no public decision endpoint for vendors; the API provider asks the PDP.
                let mut e = AppError::usage(format!(
                    "Maskinporten issued a system-user token for the facilitator {facilitator}; whether it may act for {client} is decided by the API you call (it asks Altinn's PDP for urn:altinn:systemuser:uuid {agent} on urn:altinn:organization:identifier-no {client}): `altinn-onboard call <your API URL>`"
                ));
                e.hint = Some(facilitator_guide(kind, &facilitator));
                return Err(e);
            }
            let url = format!("{base}/reference/clients/{client}");
            let (status, body) = call(http, reqwest::Method::GET, &url, &token).await?;
            if status != 200 && status != 403 {
                return Err(remote_error("the reference API refused", status, &body));
            }
            let v = CheckOutput {
                agent: agent.clone(),
                facilitator_org: facilitator.clone(),
                client_org: client.clone(),
                permitted: status == 200,
                decision: body["decision"].as_str().unwrap_or("").to_string(),
                status,
                reason: body["error_description"].as_str().map(str::to_string),
            };
            ctx.out.result(&v, || {
                if v.permitted {
                    format!(
                        "Permit: agent {agent} may act for {client} (facilitator {facilitator})"
                    )
                } else {
                    format!(
                        "NotApplicable: agent {agent} may not act for {client}\n  {}",
                        v.reason.as_deref().unwrap_or("")
                    )
                }
            });
            Ok(if v.permitted {
                exit::OK
            } else {
                exit::REJECTED
            })
        }
        AgentCommand::AddClient { client, person } => {
            change(ctx, session, &agent, &facilitator, &client, person, true).await
        }
        AgentCommand::RemoveClient { client, person } => {
            change(ctx, session, &agent, &facilitator, &client, person, false).await
        }
    }
}

/// The facilitator's side on the sandbox: log in as its client administrator (the sandbox's
/// simulated ID-porten), exchange the token at Altinn's real path, find the client's party id
/// in the API's own lists and POST or DELETE `clients?agent=&client=`.
async fn change(
    ctx: &Ctx,
    session: &Session,
    agent: &str,
    facilitator: &str,
    client: &str,
    person: Option<String>,
    adding: bool,
) -> Result<i32, AppError> {
    let client = crate::validate::org_number(client).map_err(|e| AppError::usage(e.to_string()))?;
    if !is_sandbox(session).await? {
        let mut e = AppError::usage(format!(
            "on {} the vendor cannot {} clients of the agent system user",
            session.env.kind.as_str(),
            if adding { "add" } else { "remove" }
        ));
        e.hint = Some(facilitator_guide(session.env.kind, facilitator));
        return Err(e);
    }
    let person = match person {
        Some(p) => p,
        None => crate::sandbox::people_of(facilitator)
            .into_iter()
            .find(|p| crate::sandbox::is_client_administrator(p))
            .map(|p| p.id.to_string())
            .ok_or_else(|| {
                AppError::usage(format!(
                    "the sandbox has no client administrator for {facilitator}; name one with --as"
                ))
            })?,
    };
    let http = session.runner.http();
    let base = session
        .env
        .altinn_base
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let portal = session
        .env
        .maskinporten_issuer
        .as_str()
        .trim_end_matches('/')
        .to_string();
    // 1. The simulated ID-porten log-in.
    let url = format!("{portal}/sandbox/idporten/token");
    let resp = http
        .post(&url)
        .query(&[("as", person.as_str())])
        .send()
        .await
        .map_err(|e| network(&url, e))?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let Some(idporten) = body["access_token"].as_str().filter(|_| status == 200) else {
        return Err(remote_error(
            &format!("could not log in as {person}"),
            status,
            &body,
        ));
    };
    // 2. Altinn's token exchange (test=true, as on TT02).
    let url = format!("{base}/authentication/api/v1/exchange/id-porten?test=true");
    let resp = http
        .get(&url)
        .bearer_auth(idporten)
        .send()
        .await
        .map_err(|e| network(&url, e))?;
    if !resp.status().is_success() {
        let status = resp.status().as_u16();
        return Err(remote_error(
            "the token exchange refused",
            status,
            &Value::Null,
        ));
    }
    let token = crate::secret::Secret::new(resp.text().await.map_err(|e| network(&url, e))?);
    let api = format!("{base}/authentication/api/v1/enduser/systemuser");
    // 3. The client's party id, from the API's own lists (available to add, delegated to remove).
    let list_url = if adding {
        format!("{api}/clients/available?agent={agent}")
    } else {
        format!("{api}/clients?agent={agent}")
    };
    let (status, page) = call(http, reqwest::Method::GET, &list_url, token.expose()).await?;
    if status != 200 {
        return Err(remote_error("listing the clients failed", status, &page));
    }
    let party = page["data"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|c| c["clientOrganizationNumber"].as_str() == Some(client.as_str()))
        })
        .and_then(|c| c["clientId"].as_str())
        .map(str::to_string)
        // Not in the list: send the call anyway with its party id, so Altinn's own answer
        // (AUTH-00079 or AUTH-00031) is what the user sees.
        .unwrap_or_else(|| crate::sandbox::party_uuid(&client).to_string());
    // 4. The change.
    let url = format!("{api}/clients?agent={agent}&client={party}");
    let method = if adding {
        reqwest::Method::POST
    } else {
        reqwest::Method::DELETE
    };
    let (status, body) = call(http, method, &url, token.expose()).await?;
    if status != 200 {
        let what = format!(
            "{} {client} {} agent {agent} was refused",
            if adding { "adding" } else { "removing" },
            if adding { "to" } else { "from" }
        );
        return Err(remote_error(&what, status, &body));
    }
    let (_, now) = call(
        http,
        reqwest::Method::GET,
        &format!("{api}/clients?agent={agent}"),
        token.expose(),
    )
    .await?;
    let clients: Vec<String> = now["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c["clientOrganizationNumber"].as_str().map(str::to_string))
        .collect();
    let v = ChangeOutput {
        agent: agent.to_string(),
        facilitator_org: facilitator.to_string(),
        client_org: client.clone(),
        client_id: party,
        action: if adding { "added" } else { "removed" },
        person: person.clone(),
        clients,
    };
    ctx.out.result(&v, || {
        format!(
            "{} {client} ({} as {person}); the agent's clients now: {}",
            v.action,
            facilitator,
            if v.clients.is_empty() {
                "none".to_string()
            } else {
                v.clients.join(", ")
            }
        )
    });
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_environments_name_altinns_client_page_and_who_acts() {
        let g = facilitator_guide(EnvKind::Tt02, "311223348");
        assert!(g.contains("https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/overview"));
        assert!(g.contains("311223348") && g.contains("Klientadministrator"));
        assert_eq!(
            client_page_url(EnvKind::Prod),
            Some("https://am.ui.altinn.no/accessmanagement/ui/systemuser/overview")
        );
        assert_eq!(client_page_url(EnvKind::Sandbox), None);
    }
}
