//! The customer's side (approval pages behind `confirmUrl`), the sandbox-only administration
//! routes under `/sandbox/`, and the reference API `GET /reference/whoami`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::admin::{self, Owner};
use super::altinn::{self, DecideError, Decision};
use super::auth::verify_sandbox_token;
use super::maskinporten::validate_client_jwk;
use super::models::{AccessPackage, Right};
use super::orgs::{self, seeded_org_name};
use super::problem::{json_ok, sandbox_error};
use super::state::{Client, RequestKind};
use super::{Base, Shared};

const STYLE: &str = include_str!("../assets/style.css");
const APPROVAL_HTML: &str = include_str!("../assets/approval.html");
const RESULT_HTML: &str = include_str!("../assets/result.html");

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fill `{{KEY}}` placeholders. Values must already be HTML-safe.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.replace("{{STYLE}}", STYLE);
    for (k, v) in values {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

fn html_page(status: StatusCode, body: String) -> Response {
    let mut resp = (status, Html(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn result_page(
    status: StatusCode,
    headline: &str,
    class: &str,
    data_status: &str,
    message: &str,
    redirect: Option<&str>,
) -> Response {
    result_page_with(
        status,
        headline,
        class,
        data_status,
        message,
        redirect,
        String::new(),
    )
}

/// What the customer sees when Altinn refuses the approval: the problem (code, title), which
/// right or package, why, and what must change. `again` links back to the page.
fn refusal_page(r: &altinn::decision::Refused, again: Option<String>) -> Response {
    let f = &r.refusal;
    let mut details = String::from(r#"<dl class="refusal" id="refusal">"#);
    details += &format!(
        r#"<dt>Code</dt><dd id="refusal-code">{}</dd>"#,
        escape(&f.code)
    );
    if let Some(s) = &f.subject {
        details += &format!(
            r#"<dt>Right / package</dt><dd id="refusal-subject"><code>{}</code></dd>"#,
            escape(s)
        );
    }
    details += &format!(
        r#"<dt>Why</dt><dd id="refusal-detail">{}</dd><dt>What to change</dt><dd id="refusal-fix">{}</dd><dt>Logged in as</dt><dd id="refusal-person">{} ({})</dd></dl>"#,
        escape(&f.detail),
        escape(&f.fix),
        escape(&f.person_name),
        escape(&f.person)
    );
    details += r#"<p class="note">The request is still New: it can be approved once the cause is fixed.</p>"#;
    if let Some(link) = again {
        details += &format!(
            r#"<p><a id="again" href="{}">Back to the request (log in as someone else)</a></p>"#,
            escape(&link)
        );
    }
    result_page_with(
        StatusCode::from_u16(f.status).unwrap_or(StatusCode::FORBIDDEN),
        "Altinn refused the approval",
        "no",
        &f.code,
        &format!("{} ({})", f.title, f.code),
        None,
        details,
    )
}

#[allow(clippy::too_many_arguments)]
fn result_page_with(
    status: StatusCode,
    headline: &str,
    class: &str,
    data_status: &str,
    message: &str,
    redirect: Option<&str>,
    details: String,
) -> Response {
    // Redirect only to absolute http(s) URLs (the API accepted it against the system's list).
    let redirect = redirect
        .filter(|r| url::Url::parse(r).is_ok_and(|u| matches!(u.scheme(), "http" | "https")));
    let (refresh, link) = match redirect {
        Some(r) => (
            format!(
                r#"<meta http-equiv="refresh" content="3;url={}">"#,
                escape(r)
            ),
            format!(
                r#"<p>Returning you to the vendor in 3 seconds: <a id="redirect" href="{0}">{0}</a></p>"#,
                escape(r)
            ),
        ),
        None => (String::new(), String::new()),
    };
    html_page(
        status,
        fill(
            RESULT_HTML,
            &[
                ("REFRESH", refresh),
                ("HEADLINE", escape(headline)),
                ("CLASS", class.to_string()),
                ("STATUS", escape(data_status)),
                ("MESSAGE", escape(message)),
                ("DETAILS", details),
                ("REDIRECT", link),
            ],
        ),
    )
}

fn org_label(st: &super::state::State, org: &str) -> String {
    seeded_org_name(org)
        .map(str::to_string)
        .or_else(|| {
            st.clients
                .values()
                .any(|c| c.org == org)
                .then(|| format!("Vendor organisation {org}"))
        })
        .unwrap_or_else(|| format!("Organisation {org}"))
}

fn rights_list(rights: &[Right]) -> String {
    rights
        .iter()
        .map(|r| {
            let attrs = r
                .resource
                .iter()
                .map(|a| {
                    if a.id == "urn:altinn:resource" {
                        escape(&a.value)
                    } else {
                        format!("{}={}", escape(&a.id), escape(&a.value))
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            match &r.action {
                Some(action) => format!("<li>{attrs} <small>({})</small></li>", escape(action)),
                None => format!("<li>{attrs}</li>"),
            }
        })
        .collect()
}

fn packages_list(packages: &[AccessPackage]) -> String {
    packages
        .iter()
        .map(|p| format!("<li>{}</li>", escape(p.urn.as_deref().unwrap_or(""))))
        .collect()
}

fn section(id: &str, heading: &str, items: String) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(r#"<h2>{heading}</h2><ul class="rights" id="{id}">{items}</ul>"#)
    }
}

#[derive(Debug, Deserialize)]
pub struct IdQuery {
    id: Option<String>,
    /// sandbox-only: the seeded person "logged in" (simulated ID-porten); default: the
    /// customer's first access manager.
    person: Option<String>,
}

#[derive(Clone, Copy)]
enum PageKind {
    Standard,
    Agent,
    Change,
}

impl PageKind {
    fn path(self) -> &'static str {
        match self {
            PageKind::Standard => "request",
            PageKind::Agent => "agentrequest",
            PageKind::Change => "changerequest",
        }
    }
    fn kind_name(self) -> &'static str {
        match self {
            PageKind::Standard => "standard",
            PageKind::Agent => "agent",
            PageKind::Change => "change",
        }
    }
}

fn not_found_page() -> Response {
    result_page(
        StatusCode::NOT_FOUND,
        "Request not found",
        "no",
        "NotFound",
        "The link does not point at a request in this sandbox. It may have been deleted, or it belongs to another sandbox state file.",
        None,
    )
}

async fn render_page(app: Shared, query: IdQuery, kind: PageKind) -> Response {
    let Some(id) = query
        .id
        .as_deref()
        .and_then(|i| Uuid::parse_str(i.trim()).ok())
    else {
        return not_found_page();
    };
    // Who is "logged in": the customer org's seeded person named in the link, else its default
    // approver (an access manager, so a first run approves with one click).
    let org = {
        let st = app.lock().await;
        match kind {
            PageKind::Standard | PageKind::Agent => {
                let want = if matches!(kind, PageKind::Agent) {
                    RequestKind::Agent
                } else {
                    RequestKind::Standard
                };
                st.requests
                    .get(&id)
                    .filter(|r| !r.deleted && r.kind == want)
                    .map(|r| r.party_org_no.clone())
            }
            PageKind::Change => st
                .change_requests
                .get(&id)
                .filter(|c| !c.deleted)
                .map(|c| c.party_org_no.clone()),
        }
    };
    let Some(org) = org else {
        return not_found_page();
    };
    let page_link = |person: Option<&str>| {
        let mut link = format!("/accessmanagement/ui/systemuser/{}?id={id}", kind.path());
        if let Some(p) = person {
            link += &format!("&person={p}");
        }
        link
    };
    let person = match altinn::resolve_person(&org, query.person.as_deref()) {
        Ok(p) => p,
        Err(_) => {
            return result_page(
                StatusCode::BAD_REQUEST,
                "Unknown person",
                "no",
                "UnknownPerson",
                &format!(
                    "Nobody by that name can log in for organisation {org} in this sandbox. Choose one of: {}",
                    altinn::people_list(&org)
                ),
                None,
            );
        }
    };
    // mirrors: the page's BFF load, RSUS.ValidateAndVerifyRequest (RSUS:907-953) /
    // CRS.CheckUserAuthorizationAndGetRequest (CRS:890-961): AUTH-00066, and for a change
    // request the package delegation check.
    match altinn::check_page_load(&app, id, person).await {
        Ok(()) => {}
        Err(DecideError::Refused(r)) => return refusal_page(&r, Some(page_link(None))),
        Err(DecideError::Save(e)) => {
            return result_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Could not show the request",
                "no",
                "Error",
                &format!("The sandbox could not save its state: {e}"),
                None,
            );
        }
        Err(_) => return not_found_page(),
    }
    let st = app.lock().await;
    struct View {
        last_refusal: Option<super::state::Refusal>,
        system_id: String,
        customer: String,
        status: String,
        sections: String,
        what: &'static str,
        title: &'static str,
    }
    let view = match kind {
        PageKind::Standard | PageKind::Agent => {
            let want = if matches!(kind, PageKind::Agent) {
                RequestKind::Agent
            } else {
                RequestKind::Standard
            };
            let Some(r) = st
                .requests
                .get(&id)
                .filter(|r| !r.deleted && r.kind == want)
            else {
                return not_found_page();
            };
            View {
                last_refusal: r.last_refusal.clone(),
                system_id: r.system_id.clone(),
                customer: r.party_org_no.clone(),
                status: r.status.clone(),
                sections: section(
                    "rights",
                    "Rights (single resources)",
                    rights_list(&r.rights),
                ) + &section(
                    "packages",
                    "Access packages",
                    packages_list(&r.access_packages),
                ),
                what: if want == RequestKind::Agent {
                    "create a system user that acts for its clients"
                } else {
                    "create a system user with the rights below"
                },
                title: if want == RequestKind::Agent {
                    "Approve system user for clients"
                } else {
                    "Approve system user"
                },
            }
        }
        PageKind::Change => {
            let Some(c) = st.change_requests.get(&id).filter(|c| !c.deleted) else {
                return not_found_page();
            };
            View {
                last_refusal: c.last_refusal.clone(),
                system_id: c.system_id.clone(),
                customer: c.party_org_no.clone(),
                status: c.status.clone(),
                sections: section(
                    "required-rights",
                    "Rights to add",
                    rights_list(&c.required_rights),
                ) + &section(
                    "unwanted-rights",
                    "Rights to remove",
                    rights_list(&c.unwanted_rights),
                ) + &section(
                    "required-packages",
                    "Access packages to add",
                    packages_list(&c.required_access_packages),
                ) + &section(
                    "unwanted-packages",
                    "Access packages to remove",
                    packages_list(&c.unwanted_access_packages),
                ),
                what: "change what an existing system user may do",
                title: "Approve changes to a system user",
            }
        }
    };
    let system = st.systems.get(&view.system_id);
    let vendor_org = system
        .map(|s| s.vendor_org().to_string())
        .unwrap_or_default();
    let system_name = system
        .map(|s| s.display_name())
        .unwrap_or_else(|| view.system_id.clone());
    let actions = if view.status == "New" {
        format!(
            r#"<form method="post" action="/accessmanagement/ui/systemuser/{path}" class="actions">
<input type="hidden" name="id" value="{id}">
<input type="hidden" name="person" value="{person}">
<button type="submit" class="approve" id="approve" name="decision" value="approve">Approve</button>
<button type="submit" class="reject" id="reject" name="decision" value="reject">Reject</button>
</form>"#,
            path = kind.path(),
            person = escape(person.id),
        )
    } else {
        format!(
            r#"<p class="note" id="decided">This request has already been answered ({}).</p>"#,
            escape(&view.status)
        )
    };
    let options: String = orgs::people_of(&org)
        .iter()
        .map(|p| {
            format!(
                r#"<option value="{}"{}>{} ({}{})</option>"#,
                escape(p.id),
                if p.id == person.id { " selected" } else { "" },
                escape(p.name),
                escape(p.role),
                if p.access_manager {
                    ", access manager"
                } else {
                    ""
                }
            )
        })
        .collect();
    let mut login = format!(
        r#"<form method="get" action="/accessmanagement/ui/systemuser/{path}" class="login" id="login">
<input type="hidden" name="id" value="{id}">
<label for="person">Logged in as <small>(simulated ID-porten)</small></label>
<select name="person" id="person">{options}</select>
<button type="submit" id="switch">Log in</button>
</form>"#,
        path = kind.path()
    );
    if let Some(f) = view.last_refusal.as_ref().filter(|_| view.status == "New") {
        login += &format!(
            r#"<p class="warning" id="last-refusal">Last attempt refused ({}) for {}: {}</p>"#,
            escape(&f.code),
            escape(&f.person_name),
            escape(&f.detail)
        );
    }
    let body = fill(
        APPROVAL_HTML,
        &[
            ("TITLE", view.title.to_string()),
            ("WHAT", view.what.to_string()),
            ("VENDOR_NAME", escape(&org_label(&st, &vendor_org))),
            ("VENDOR_ORG", escape(&vendor_org)),
            ("SYSTEM_NAME", escape(&system_name)),
            ("SYSTEM_ID", escape(&view.system_id)),
            ("CUSTOMER_NAME", escape(&org_label(&st, &view.customer))),
            ("CUSTOMER_ORG", escape(&view.customer)),
            ("REQUEST_ID", id.to_string()),
            ("STATUS", escape(&view.status)),
            ("LOGIN", login),
            ("SECTIONS", view.sections),
            ("ACTIONS", actions),
        ],
    );
    html_page(StatusCode::OK, body)
}

/// mirrors: AM UI /accessmanagement/ui/systemuser/request?id=…
pub async fn page_request(State(app): State<Shared>, Query(q): Query<IdQuery>) -> Response {
    render_page(app, q, PageKind::Standard).await
}

/// mirrors: AM UI /accessmanagement/ui/systemuser/agentrequest?id=…
pub async fn page_agent_request(State(app): State<Shared>, Query(q): Query<IdQuery>) -> Response {
    render_page(app, q, PageKind::Agent).await
}

/// mirrors: AM UI /accessmanagement/ui/systemuser/changerequest?id=…
pub async fn page_change_request(State(app): State<Shared>, Query(q): Query<IdQuery>) -> Response {
    render_page(app, q, PageKind::Change).await
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    id: Option<String>,
    decision: Option<String>,
    person: Option<String>,
}

async fn decide_from_form(
    app: Shared,
    form: Result<Form<DecisionForm>, axum::extract::rejection::FormRejection>,
    kind: PageKind,
) -> Response {
    let bad = |msg: &str| {
        result_page(
            StatusCode::BAD_REQUEST,
            "Could not record your answer",
            "no",
            "Error",
            msg,
            None,
        )
    };
    let Ok(Form(form)) = form else {
        return bad("The form was not submitted correctly.");
    };
    let Some(id) = form
        .id
        .as_deref()
        .and_then(|i| Uuid::parse_str(i.trim()).ok())
    else {
        return not_found_page();
    };
    let decision = match form.decision.as_deref() {
        Some("approve") => Decision::Approve,
        Some("reject") => Decision::Reject,
        _ => return bad("Choose Approve or Reject."),
    };
    match altinn::decide(
        &app,
        id,
        decision,
        Some(kind.kind_name()),
        form.person.as_deref(),
    )
    .await
    {
        Ok(outcome) => {
            let (headline, class, message) = if outcome.status == "Accepted" {
                (
                    "Request approved",
                    "ok",
                    "The system user has been created. The vendor's system can now get tokens for it.",
                )
            } else {
                ("Request rejected", "no", "No system user was created.")
            };
            // An accepted agent request has no clients yet: the facilitator adds them next.
            let details = match (&outcome.system_user_id, outcome.kind) {
                (Some(su), "agent") => Uuid::parse_str(su)
                    .map(|su| {
                        format!(
                            r#"<p>The agent system user acts for no client yet: <a id="add-clients" href="{}">add clients</a>.</p>"#,
                            escape(&agent_clients_link(su, Some(&outcome.person)))
                        )
                    })
                    .unwrap_or_default(),
                _ => String::new(),
            };
            result_page_with(
                StatusCode::OK,
                headline,
                class,
                &outcome.status,
                message,
                outcome.redirect_url.as_deref(),
                details,
            )
        }
        Err(DecideError::Refused(r)) => refusal_page(
            &r,
            Some(format!(
                "/accessmanagement/ui/systemuser/{}?id={id}",
                kind.path()
            )),
        ),
        Err(DecideError::UnknownPerson { org, who }) => bad(&format!(
            "{who} cannot log in for organisation {org} in this sandbox. Choose one of: {}",
            altinn::people_list(&org)
        )),
        Err(DecideError::Problem(p)) => result_page(
            StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST),
            "Could not record your answer",
            "no",
            &p.code_string(),
            &format!("{} ({})", p.title, p.code_string()),
            None,
        ),
        Err(DecideError::Save(e)) => result_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Could not record your answer",
            "no",
            "Error",
            &format!("The sandbox could not save its state: {e}"),
            None,
        ),
    }
}

pub async fn decide_request(
    State(app): State<Shared>,
    form: Result<Form<DecisionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    decide_from_form(app, form, PageKind::Standard).await
}

pub async fn decide_agent_request(
    State(app): State<Shared>,
    form: Result<Form<DecisionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    decide_from_form(app, form, PageKind::Agent).await
}

pub async fn decide_change_request(
    State(app): State<Shared>,
    form: Result<Form<DecisionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    decide_from_form(app, form, PageKind::Change).await
}

// ---------------------------------------------------------------------------------------------
// /sandbox/ administration
// ---------------------------------------------------------------------------------------------

fn parse_admin_json(headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if !is_json {
        return Err(sandbox_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with Content-Type: application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        sandbox_error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("The body is not valid JSON: {e}"),
        )
    })
}

fn client_json(c: &Client) -> Value {
    json!({
        "client_id": c.client_id,
        "org": c.org,
        "org_name": seeded_org_name(&c.org),
        "scopes": c.scopes,
        "jwks": { "keys": c.keys },
        "created": c.created.to_rfc3339(),
    })
}

/// Two public JWKs are the same key: same kid, modulus and exponent.
fn same_public_key(a: &Value, b: &Value) -> bool {
    ["kid", "n", "e"]
        .iter()
        .all(|m| a.get(*m).and_then(Value::as_str).is_some() && a.get(*m) == b.get(*m))
}

/// The most keys a Maskinporten client may hold.
const MAX_CLIENT_KEYS: usize = 5;

fn parse_keys(v: Option<&Value>) -> Result<Vec<Value>, Response> {
    let bad = |m: String| sandbox_error(StatusCode::BAD_REQUEST, "invalid_jwks", m);
    let keys = v
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .ok_or_else(|| bad("\"jwks\" must be {\"keys\": [<public JWK with kid>, ...]}".into()))?;
    if keys.is_empty() {
        return Err(bad("\"jwks.keys\" must contain at least one key".into()));
    }
    // mirrors: Digdir's self-service API takes "inntil 5" JWKs per client
    // (felleslosninger/docs@01a0f825 _docs/idporten/oidc/oidc_api_admin.md, "Bruk av
    // asymmetrisk nøkkel"). guess: the error text; the limit is documented, the answer is not.
    if keys.len() > MAX_CLIENT_KEYS {
        return Err(bad(format!(
            "a client holds at most {MAX_CLIENT_KEYS} keys ({} given): remove unused keys first",
            keys.len()
        )));
    }
    let mut kids = std::collections::HashSet::new();
    let mut out = Vec::new();
    for k in keys {
        let kid = validate_client_jwk(k).map_err(bad)?;
        if !kids.insert(kid.clone()) {
            return Err(bad(format!("duplicate kid {kid}")));
        }
        // Store only the public members.
        let mut public = serde_json::Map::new();
        for m in ["kty", "kid", "n", "e", "alg", "use"] {
            if let Some(x) = k.get(m) {
                public.insert(m.to_string(), x.clone());
            }
        }
        out.push(Value::Object(public));
    }
    Ok(out)
}

fn parse_scopes(v: Option<&Value>) -> Result<Vec<String>, &'static str> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for s in a {
                match s.as_str().map(str::trim) {
                    Some(s) if !s.is_empty() && !s.contains(char::is_whitespace) => {
                        out.push(s.to_string())
                    }
                    _ => return Err("\"scopes\" must be an array of scope strings without spaces"),
                }
            }
            Ok(out)
        }
        Some(_) => Err("\"scopes\" must be an array of strings"),
    }
}

/// Digdir's self-service only offers an organisation the scopes it has access to: a scope the
/// sandbox does not know, or a vendor scope for an organisation that is not a registered
/// system vendor, is refused (400 `invalid_scope`, with the reason) instead of silently
/// producing a client that can never get a token.
fn refuse_ungranted_scopes(org: &str, scopes: &[String]) -> Result<(), Response> {
    for scope in scopes {
        if let Some(reason) = orgs::scope_refusal(org, scope) {
            return Err(sandbox_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!("Digdir would not give this client {scope}: {reason}"),
            ));
        }
    }
    Ok(())
}

/// mirrors (in spirit): Digdir self-service "edit client scopes" — PUT
/// /sandbox/clients/{id}/scopes `{"scopes": [...]}` replaces the client's scopes → 200 with it.
pub async fn replace_client_scopes(
    State(app): State<Shared>,
    base: Base,
    uri: Uri,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v = match parse_admin_json(&headers, &body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let scopes = match parse_scopes(v.get("scopes")) {
        Ok(s) => s,
        Err(m) => {
            return sandbox_error(
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                m.to_string(),
            );
        }
    };
    let mut st = app.lock().await;
    let Some(client) = st.clients.get_mut(&client_id) else {
        return client_not_found(&client_id);
    };
    if let Err(refused) = authorize_owner(&app, &base, &Method::PUT, &uri, &headers, &body, client)
    {
        return refused;
    }
    if let Err(e) = refuse_ungranted_scopes(&client.org, &scopes) {
        return e;
    }
    client.scopes = scopes;
    let body = client_json(client);
    if let Err(e) = app.persist(&st).await {
        return sandbox_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "state_not_saved",
            e.to_string(),
        );
    }
    json_ok(StatusCode::OK, &body)
}

/// mirrors (in spirit): Digdir self-service "create client" — POST /sandbox/clients
/// `{"client_id"?, "org", "scopes": [...], "jwks": {"keys": [...]}}` → 201 with the client.
pub async fn create_client(
    State(app): State<Shared>,
    base: Base,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v = match parse_admin_json(&headers, &body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let bad = |m: &str| {
        sandbox_error(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            m.to_string(),
        )
    };
    let Some(org) = v.get("org").and_then(Value::as_str).map(str::trim) else {
        return bad("\"org\" (the vendor organisation number) is required");
    };
    if !orgs::is_valid_org_no(org) {
        return bad("\"org\" must be a valid 9-digit organisation number (mod-11 check digit)");
    }
    let scopes = match parse_scopes(v.get("scopes")) {
        Ok(s) => s,
        Err(m) => return bad(m),
    };
    let keys = match parse_keys(v.get("jwks")) {
        Ok(k) => k,
        Err(e) => return e,
    };
    let client_id = match v.get("client_id") {
        None | Some(Value::Null) => Uuid::new_v4().to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => s.trim().to_string(),
        Some(_) => return bad("\"client_id\" must be a non-empty string when given"),
    };
    // Proof of possession of a key being registered, naming the org (or the host secret):
    // nobody registers a client for another vendor's org with a key they do not hold.
    let owner = Owner::New { org, keys: &keys };
    if let Err(refused) = admin::authorize(
        &app,
        &base,
        &Method::POST,
        uri.path(),
        &headers,
        &body,
        owner,
    ) {
        return refused;
    }
    // What Digdir grants is checked once the caller is known (as the portal does after log-in).
    if let Err(e) = refuse_ungranted_scopes(org, &scopes) {
        return e;
    }
    let explicit_id = !matches!(v.get("client_id"), None | Some(Value::Null));
    let mut st = app.lock().await;
    // Idempotent for the same key and org (issue 16, item 3): when the answer to a create was
    // lost, the retry gets the client that was made (200) instead of "kid already used".
    // The caller has just proven it holds the key, so it learns nothing it does not own.
    // (With an explicit client id the caller names the client; that case answers 409 and the
    // caller updates it, as before.)
    if let Some(existing) = st.clients.values().find(|c| {
        !explicit_id
            && c.org == org
            && keys
                .iter()
                .all(|k| c.keys.iter().any(|x| same_public_key(x, k)))
    }) {
        tracing::info!(client_id = %existing.client_id, org, "sandbox client already registered with this key; answering it");
        return json_ok(StatusCode::OK, &client_json(existing));
    }
    if st.clients.contains_key(&client_id) {
        return sandbox_error(
            StatusCode::CONFLICT,
            "client_exists",
            format!(
                "A client with id {client_id} already exists; use PUT /sandbox/clients/{client_id}/jwks to change its keys"
            ),
        );
    }
    // A kid must be unique across all clients (as across all of Maskinporten).
    for k in &keys {
        let kid = k.get("kid").and_then(Value::as_str).unwrap_or("");
        if st.clients.values().any(|c| {
            c.keys
                .iter()
                .any(|x| x.get("kid").and_then(Value::as_str) == Some(kid))
        }) {
            return sandbox_error(
                StatusCode::CONFLICT,
                "kid_in_use",
                format!("kid {kid} is already used by another client"),
            );
        }
    }
    let client = Client {
        client_id: client_id.clone(),
        org: org.to_string(),
        scopes,
        keys,
        created: Utc::now(),
    };
    let body = client_json(&client);
    st.clients.insert(client_id.clone(), client);
    if let Err(e) = app.persist(&st).await {
        return sandbox_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "state_not_saved",
            e.to_string(),
        );
    }
    tracing::info!(client_id = %client_id, org, "sandbox client created");
    json_ok(StatusCode::CREATED, &body)
}

pub async fn get_client(State(app): State<Shared>, Path(client_id): Path<String>) -> Response {
    let st = app.lock().await;
    match st.clients.get(&client_id) {
        Some(c) => json_ok(StatusCode::OK, &client_json(c)),
        None => client_not_found(&client_id),
    }
}

/// DELETE /sandbox/clients/{id}: the portal's "delete client". A client's organisation is
/// fixed (as in Digdir's portal), so a vendor that fixes a mistyped organisation deletes the
/// client and creates a new one for the right organisation, with the same key.
/// Only the client's owner may: a proof signed with one of its keys, or the host secret.
pub async fn delete_client(
    State(app): State<Shared>,
    base: Base,
    uri: Uri,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = app.lock().await;
    let Some(client) = st.clients.get(&client_id) else {
        return client_not_found(&client_id);
    };
    if let Err(refused) =
        authorize_owner(&app, &base, &Method::DELETE, &uri, &headers, &body, client)
    {
        return refused;
    }
    st.clients.remove(&client_id);
    if let Err(e) = app.persist(&st).await {
        return sandbox_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "state_not_saved",
            e.to_string(),
        );
    }
    tracing::info!(client_id = %client_id, "sandbox client deleted");
    StatusCode::NO_CONTENT.into_response()
}

async fn change_keys(
    app: Shared,
    base: Base,
    uri: Uri,
    client_id: String,
    headers: HeaderMap,
    body: Bytes,
    replace: bool,
) -> Response {
    let v = match parse_admin_json(&headers, &body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    // Accept both {"keys": [...]} and {"jwks": {"keys": [...]}}.
    let jwks = if v.get("jwks").is_some() {
        v.get("jwks")
    } else {
        Some(&v)
    };
    let keys = match parse_keys(jwks) {
        Ok(k) => k,
        Err(e) => return e,
    };
    let mut st = app.lock().await;
    let Some(current) = st.clients.get(&client_id) else {
        return client_not_found(&client_id);
    };
    // Rotation: the new key is added with a proof signed by the old one.
    let method = if replace { Method::PUT } else { Method::POST };
    if let Err(refused) = authorize_owner(&app, &base, &method, &uri, &headers, &body, current) {
        return refused;
    }
    for k in &keys {
        let kid = k.get("kid").and_then(Value::as_str).unwrap_or("");
        let clash = st.clients.values().any(|c| {
            (c.client_id != client_id || !replace)
                && c.keys
                    .iter()
                    .any(|x| x.get("kid").and_then(Value::as_str) == Some(kid))
        });
        if clash {
            return sandbox_error(
                StatusCode::CONFLICT,
                "kid_in_use",
                format!("kid {kid} is already in use"),
            );
        }
    }
    let Some(client) = st.clients.get_mut(&client_id) else {
        return client_not_found(&client_id);
    };
    // mirrors: DCR allows at most 5 keys per client. Checked before anything changes, so a
    // refused request leaves the client as it was.
    let total = if replace { 0 } else { client.keys.len() } + keys.len();
    if total > 5 {
        return sandbox_error(
            StatusCode::BAD_REQUEST,
            "invalid_jwks",
            "A client may have at most 5 keys; replace the set with PUT",
        );
    }
    if replace {
        client.keys = keys;
    } else {
        client.keys.extend(keys);
    }
    let body = client_json(client);
    if let Err(e) = app.persist(&st).await {
        return sandbox_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "state_not_saved",
            e.to_string(),
        );
    }
    json_ok(StatusCode::OK, &body)
}

/// POST /sandbox/clients/{id}/jwks: add keys (rotation: add the new key, switch, then PUT).
pub async fn add_client_keys(
    State(app): State<Shared>,
    base: Base,
    uri: Uri,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change_keys(app, base, uri, client_id, headers, body, false).await
}

/// PUT /sandbox/clients/{id}/jwks: replace the whole key set.
pub async fn replace_client_keys(
    State(app): State<Shared>,
    base: Base,
    uri: Uri,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change_keys(app, base, uri, client_id, headers, body, true).await
}

/// GET /sandbox/orgs: `[{"orgNo","name","systemVendor","people":[{"id","name","role","accessManager",...}]}]`
pub async fn list_orgs() -> Response {
    let body: Vec<Value> = orgs::seeded_orgs()
        .iter()
        .map(|o| {
            // The org as it serialises (orgNo, name, systemVendor, ...) plus its people.
            let mut v = serde_json::to_value(o).unwrap_or_else(|_| json!({}));
            if let Some(map) = v.as_object_mut() {
                map.insert("people".into(), json!(orgs::people_of(o.org_no)));
            }
            v
        })
        .collect();
    json_ok(StatusCode::OK, &body)
}

#[derive(Debug, Deserialize)]
pub struct AsQuery {
    /// The seeded person of the customer org to act as (handle or name); default: its
    /// first access manager.
    #[serde(rename = "as")]
    person: Option<String>,
}

async fn admin_decide(
    app: Shared,
    raw_id: String,
    decision: Decision,
    person: Option<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(raw_id.trim()) else {
        return super::problem::model_binding_problem(
            "requestId",
            &format!("The value '{raw_id}' is not valid."),
        );
    };
    match altinn::decide(&app, id, decision, None, person.as_deref()).await {
        Ok(outcome) => json_ok(StatusCode::OK, &outcome),
        Err(e) => e.into_response(),
    }
}

/// POST /sandbox/requests/{id}/approve[?as=<person>] — for standard, agent and change
/// requests; the same checks as the approval page.
pub async fn admin_approve(
    State(app): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<AsQuery>,
) -> Response {
    admin_decide(app, id, Decision::Approve, q.person).await
}

/// POST /sandbox/requests/{id}/reject[?as=<person>]
pub async fn admin_reject(
    State(app): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<AsQuery>,
) -> Response {
    admin_decide(app, id, Decision::Reject, q.person).await
}

/// GET /sandbox/requests/{id} -> `{id, kind, status, partyOrgNo, lastRefusal}` (sandbox-only:
/// why the customer's last approval attempt failed; the real vendor API does not say).
pub async fn admin_request_state(
    State(app): State<Shared>,
    Path(raw_id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(raw_id.trim()) else {
        return sandbox_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_id",
            format!("{raw_id:?} is not a request id (a GUID)"),
        );
    };
    match altinn::request_state(&app, id).await {
        Some(state) => json_ok(StatusCode::OK, &state),
        None => sandbox_error(
            StatusCode::NOT_FOUND,
            "request_not_found",
            format!("No request with id {id} in this sandbox"),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Reference API
// ---------------------------------------------------------------------------------------------

fn whoami_error(status: StatusCode, error: &str, reason: impl Into<String>) -> Response {
    let mut resp = sandbox_error(status, error, reason);
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    resp
}

/// GET /reference/whoami — an API that, like a real API owner's, accepts Maskinporten
/// system-user tokens: verifies the sandbox signature and `authorization_details`, and answers
/// who is calling.
pub async fn whoami(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    _q: Query<HashMap<String, String>>,
) -> Response {
    let (claims, su_id) = match system_user_in_token(&app, &base, &headers) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let st = app.lock().await;
    let Some(su) = st.system_users.get(&su_id).filter(|s| !s.is_deleted) else {
        return whoami_error(
            StatusCode::FORBIDDEN,
            "system_user_gone",
            "The system user in the token no longer exists",
        );
    };
    let customer_name = seeded_org_name(&su.reportee_org_no);
    let system_name = st.systems.get(&su.system_id).map(|s| s.display_name());
    let mut body = json!({
        "systemUserId": su.id.to_string(),
        "systemId": su.system_id,
        "systemName": system_name,
        "customerOrg": su.reportee_org_no,
        "customerName": customer_name,
        "vendorOrg": su.supplier_org_no,
        "externalRef": su.external_ref,
        "userType": su.user_type,
        "clientId": claims.get("client_id").cloned().unwrap_or(Value::Null),
        "scope": claims.get("scope").cloned().unwrap_or(Value::Null),
        "rights": su.rights,
        "accessPackages": su.access_packages,
        "tokenExpiresAt": claims.get("exp").cloned().unwrap_or(Value::Null),
    });
    if su.user_type == "agent" {
        // sandbox: whom the agent may act for now (the facilitator's own org when assigned,
        // then the clients it added); the real way to ask is per organisation, see act_for.
        let clients: Vec<Value> = altinn::client_delegation::acting_for(&st, su)
            .into_iter()
            .map(|org| {
                json!({
                    "orgNo": org,
                    "name": seeded_org_name(&org),
                    "relation": if org == su.reportee_org_no { "own" } else { "client" },
                })
            })
            .collect();
        body["clients"] = Value::Array(clients);
    }
    json_ok(StatusCode::OK, &body)
}

/// The verified claims of a system-user token in `Authorization` and its system user id, or the
/// reference API's 401/403.
fn system_user_in_token(
    app: &Shared,
    base: &Base,
    headers: &HeaderMap,
) -> Result<(serde_json::Map<String, Value>, Uuid), Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(whoami_error(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "Send a Maskinporten system-user token as Authorization: Bearer <token>",
        ));
    };
    let claims = verify_sandbox_token(app, base, &token)
        .map_err(|reason| whoami_error(StatusCode::UNAUTHORIZED, "invalid_token", reason))?;
    let details = claims
        .get("authorization_details")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|d| d.get("type").and_then(Value::as_str) == Some("urn:altinn:systemuser"))
        });
    let Some(details) = details else {
        return Err(whoami_error(
            StatusCode::FORBIDDEN,
            "not_a_system_user_token",
            "The token has no urn:altinn:systemuser authorization_details: ask Maskinporten for a system-user token (a grant with authorization_details for the customer organisation)",
        ));
    };
    let su_id = details
        .get("systemuser_id")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok());
    let Some(su_id) = su_id else {
        return Err(whoami_error(
            StatusCode::FORBIDDEN,
            "not_a_system_user_token",
            "authorization_details.systemuser_id is missing",
        ));
    };
    Ok((claims, su_id))
}

/// GET /reference/clients/{org} — an API provider's check before acting for `org` with a
/// system-user token: the token names the system user (`authorization_details.systemuser_id`;
/// for an agent, `systemuser_org` is the facilitator), and the provider asks Altinn's PDP
/// whether that system user may act for `org` (subject `urn:altinn:systemuser:uuid`, resource
/// attribute `urn:altinn:organization:identifier-no`; ClientDelegationVendorTests.cs and
/// ClientDelegationFixture.PerformDecision). 200 with `"decision":"Permit"`, or 403 with
/// `"decision":"NotApplicable"` and why.
pub async fn act_for(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Response {
    let (_claims, su_id) = match system_user_in_token(&app, &base, &headers) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let org = org.trim().to_string();
    if !orgs::is_valid_org_no(&org) {
        return sandbox_error(
            StatusCode::BAD_REQUEST,
            "invalid_org",
            format!("{org:?} is not an organisation number (9 digits, valid check digit)"),
        );
    }
    let st = app.lock().await;
    let Some(su) = st.system_users.get(&su_id).filter(|s| !s.is_deleted) else {
        return whoami_error(
            StatusCode::FORBIDDEN,
            "system_user_gone",
            "The system user in the token no longer exists",
        );
    };
    let acting_for = altinn::client_delegation::acting_for(&st, su);
    let base_body = json!({
        "systemUserId": su.id.to_string(),
        "userType": su.user_type,
        "systemUserOwnerOrg": su.reportee_org_no,
        "clientOrg": org,
        "clientName": seeded_org_name(&org),
        "actingFor": acting_for,
    });
    if altinn::client_delegation::may_act_for(&st, su, &org) {
        let mut body = base_body;
        body["decision"] = json!("Permit");
        body["accessPackages"] = json!(su.access_packages);
        return json_ok(StatusCode::OK, &body);
    }
    let why = if su.user_type == "agent" {
        if org == su.reportee_org_no {
            format!(
                "The facilitator {org} has not assigned its own organisation to this agent system user"
            )
        } else {
            format!(
                "{org} is not a client of this agent system user: the facilitator {} must add it (Altinn's system-access page, or the client-delegation API)",
                su.reportee_org_no
            )
        }
    } else {
        format!(
            "A standard system user acts only for the organisation that approved it ({}), not for {org}",
            su.reportee_org_no
        )
    };
    let mut body = base_body;
    body["decision"] = json!("NotApplicable");
    body["error"] = json!("not_permitted");
    body["error_description"] = json!(why);
    json_ok(StatusCode::FORBIDDEN, &body)
}

/// 404 for an admin call naming a client the sandbox does not have.
fn client_not_found(client_id: &str) -> Response {
    sandbox_error(
        StatusCode::NOT_FOUND,
        "client_not_found",
        format!("No client with id {client_id}"),
    )
}

/// A change to an existing client: only its owner (a proof signed with one of the client's
/// keys) or the host secret may make it.
fn authorize_owner(
    app: &Shared,
    base: &Base,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    client: &Client,
) -> Result<(), Response> {
    let owner = Owner::Existing {
        client_id: &client.client_id,
        org: &client.org,
        keys: &client.keys,
    };
    admin::authorize(app, base, method, uri.path(), headers, body, owner)
}

// ---------------------------------------------------------------------------------------------
// The facilitator's client administration for an agent system user (Altinn's system-access
// page, "Add clients"; rules in altinn/client_delegation.rs, the same as the API's)
// ---------------------------------------------------------------------------------------------

const AGENT_CLIENTS_PATH: &str = "/accessmanagement/ui/systemuser/agentclients";

/// The link to an agent system user's client page, as `person`.
pub(crate) fn agent_clients_link(id: Uuid, person: Option<&str>) -> String {
    let mut link = format!("{AGENT_CLIENTS_PATH}?id={id}");
    if let Some(p) = person {
        link += &format!("&person={p}");
    }
    link
}

#[derive(Debug, Deserialize)]
pub struct AgentClientsForm {
    id: Option<String>,
    person: Option<String>,
    /// `add`, `remove`, `add-own`, `remove-own`
    action: Option<String>,
    /// The client's organisation number (add, remove).
    client: Option<String>,
}

/// GET: the agent system user's clients, the facilitator's other available clients and its own
/// organisation, each with a button; `?person=` logs in as another person of the facilitator.
pub async fn page_agent_clients(
    State(app): State<Shared>,
    Query(q): Query<AgentClientsForm>,
) -> Response {
    agent_clients_page(&app, &q, None).await
}

/// POST: add or remove a client (or the facilitator's own organisation), as the person chosen,
/// with the API's checks; the page is shown again with the outcome.
pub async fn change_agent_clients(
    State(app): State<Shared>,
    form: Result<Form<AgentClientsForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return result_page(
            StatusCode::BAD_REQUEST,
            "Could not change the clients",
            "no",
            "Error",
            "The form was not submitted correctly.",
            None,
        );
    };
    let outcome = apply_agent_clients_change(&app, &form).await;
    agent_clients_page(&app, &form, Some(outcome)).await
}

/// What a change did: `Ok(message)` or `Err((status, code, message))`.
type ChangeOutcome = Result<String, (StatusCode, String, String)>;

async fn apply_agent_clients_change(app: &Shared, form: &AgentClientsForm) -> ChangeOutcome {
    use altinn::client_delegation as cd;
    let refused = |p: crate::problem::AuthProblem, extra: &str| {
        (
            StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST),
            p.code_string(),
            format!("{} ({}){extra}", p.title, p.code_string()),
        )
    };
    let id = form
        .id
        .as_deref()
        .and_then(|i| Uuid::parse_str(i.trim()).ok())
        .ok_or((
            StatusCode::NOT_FOUND,
            "NotFound".into(),
            "No such system user".into(),
        ))?;
    let mut st = app.lock().await;
    let su = st
        .system_users
        .get(&id)
        .filter(|s| !s.is_deleted && s.user_type == "agent")
        .cloned()
        .ok_or((
            StatusCode::NOT_FOUND,
            "NotFound".into(),
            "No such agent system user".into(),
        ))?;
    let person =
        altinn::resolve_person(&su.reportee_org_no, form.person.as_deref()).map_err(|_| {
            (
                StatusCode::BAD_REQUEST,
                "UnknownPerson".to_string(),
                format!(
                    "Unknown person; log in as one of: {}",
                    altinn::people_list(&su.reportee_org_no)
                ),
            )
        })?;
    if !cd::may_administer_clients(person, &su.reportee_org_no) {
        return Err((
            StatusCode::FORBIDDEN,
            "Forbidden".into(),
            format!(
                "{} ({}) is not a client administrator of {}",
                person.name, person.role, su.reportee_org_no
            ),
        ));
    }
    let client = form.client.as_deref().map(str::trim).unwrap_or("");
    let name = |org: &str| seeded_org_name(org).unwrap_or(org).to_string();
    let message = match form.action.as_deref() {
        Some("add") => {
            cd::check_client(&su, client).map_err(|p| refused(p, ""))?;
            cd::add_client(&mut st, &su, client);
            format!("{} ({client}) added", name(client))
        }
        Some("remove") => {
            cd::remove_client(&mut st, &su, client).map_err(|p| refused(p, ""))?;
            format!("{} ({client}) removed", name(client))
        }
        Some("add-own") => {
            cd::check_own_org(&su).map_err(|(p, which)| {
                refused(
                    p,
                    &if which.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ": NotDelegablePackages {which}. Client packages cannot be assigned for the facilitator itself; a system with packages a standard system user can have (e.g. skatt-naering) can"
                        )
                    },
                )
            })?;
            cd::set_own_org(&mut st, &su, true);
            format!("Your own organisation ({}) added", su.reportee_org_no)
        }
        Some("remove-own") => {
            cd::set_own_org(&mut st, &su, false);
            format!("Your own organisation ({}) removed", su.reportee_org_no)
        }
        _ => {
            return Err((
                StatusCode::BAD_REQUEST,
                "Error".into(),
                "Choose add or remove".into(),
            ));
        }
    };
    app.persist(&st).await.map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error".into(),
            format!("The sandbox could not save its state: {e}"),
        )
    })?;
    tracing::info!(agent = %su.id, person = person.id, %message, "client page change");
    Ok(message)
}

fn client_button(id: Uuid, person: &str, action: &str, client: &str, label: &str) -> String {
    format!(
        r#"<form method="post" action="{AGENT_CLIENTS_PATH}" class="inline"><input type="hidden" name="id" value="{id}"><input type="hidden" name="person" value="{}"><input type="hidden" name="action" value="{action}"><input type="hidden" name="client" value="{}"><button type="submit" id="{action}-{}">{}</button></form>"#,
        escape(person),
        escape(client),
        escape(if client.is_empty() { "own" } else { client }),
        escape(label)
    )
}

async fn agent_clients_page(
    app: &Shared,
    q: &AgentClientsForm,
    outcome: Option<ChangeOutcome>,
) -> Response {
    use altinn::client_delegation as cd;
    let Some(id) = q.id.as_deref().and_then(|i| Uuid::parse_str(i.trim()).ok()) else {
        return not_found_page();
    };
    let st = app.lock().await;
    let Some(su) = st
        .system_users
        .get(&id)
        .filter(|s| !s.is_deleted && s.user_type == "agent")
        .cloned()
    else {
        return not_found_page();
    };
    let org = su.reportee_org_no.clone();
    let org_label = |o: &str| {
        escape(&match seeded_org_name(o) {
            Some(n) => format!("{n} ({o})"),
            None => o.to_string(),
        })
    };
    let system_name = st
        .systems
        .get(&su.system_id)
        .map(|s| s.display_name())
        .unwrap_or_else(|| su.system_id.clone());
    let person = match altinn::resolve_person(&org, q.person.as_deref()) {
        Ok(p) => p,
        Err(_) => {
            return result_page(
                StatusCode::BAD_REQUEST,
                "Unknown person",
                "no",
                "UnknownPerson",
                &format!(
                    "Nobody by that name can log in for {org}; choose one of: {}",
                    altinn::people_list(&org)
                ),
                None,
            );
        }
    };
    let options: String = orgs::people_of(&org)
        .iter()
        .map(|p| {
            format!(
                r#"<option value="{0}"{1}>{2} ({3})</option>"#,
                escape(p.id),
                if p.id == person.id { " selected" } else { "" },
                escape(p.name),
                escape(p.role)
            )
        })
        .collect();
    let mut details = format!(
        r#"<form method="get" action="{AGENT_CLIENTS_PATH}"><input type="hidden" name="id" value="{id}"><label for="person">Logged in as <small>(simulated ID-porten)</small></label> <select name="person" id="person">{options}</select> <button type="submit" id="switch">Switch</button></form>"#
    );
    let (status, class, data_status, message) = match &outcome {
        Some(Ok(m)) => (StatusCode::OK, "ok", "Changed".to_string(), m.clone()),
        Some(Err((s, code, m))) => (*s, "no", code.clone(), m.clone()),
        None => (
            StatusCode::OK,
            "ok",
            "Clients".to_string(),
            format!(
                "Choose which clients {} may act for. Only clients that gave {} every access package of the system user can be added.",
                system_name,
                seeded_org_name(&org).unwrap_or(&org)
            ),
        ),
    };
    if !cd::may_administer_clients(person, &org) {
        details += &format!(
            r#"<p id="not-allowed" class="no">{} ({}) is not a client administrator of {}: log in as its DAGL or a klientadministrator ({}).</p>"#,
            escape(person.name),
            escape(person.role),
            org_label(&org),
            escape(
                &orgs::people_of(&org)
                    .iter()
                    .filter(|p| orgs::is_client_administrator(p))
                    .map(|p| p.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        );
        return result_page_with(
            StatusCode::FORBIDDEN,
            "Not a client administrator",
            "no",
            "Forbidden",
            &message,
            None,
            details,
        );
    }
    let packages: Vec<String> = su
        .access_packages
        .iter()
        .filter_map(|p| p.urn.clone())
        .collect();
    details += &format!(
        r#"<dl><dt>System user</dt><dd id="agent">{}</dd><dt>System</dt><dd>{}</dd><dt>Facilitator</dt><dd>{}</dd><dt>Access packages</dt><dd id="packages">{}</dd></dl>"#,
        su.id,
        escape(&system_name),
        org_label(&org),
        escape(&packages.join(", "))
    );
    let delegated = st.agent_clients.get(&id).cloned().unwrap_or_default();
    let mut rows = String::new();
    if delegated.own_org {
        rows += &format!(
            r#"<li data-org="{org}">{} (own organisation) {}</li>"#,
            org_label(&org),
            client_button(id, person.id, "remove-own", "", "Remove")
        );
    }
    for c in &delegated.clients {
        rows += &format!(
            r#"<li data-org="{}">{} {}</li>"#,
            escape(c),
            org_label(c),
            client_button(id, person.id, "remove", c, "Remove")
        );
    }
    if rows.is_empty() {
        rows = "<li>none yet</li>".into();
    }
    details += &format!(r#"<h2>Clients of this system user</h2><ul id="delegated">{rows}</ul>"#);
    let mut avail = String::new();
    for rel in cd::available_clients(&su) {
        if delegated.clients.iter().any(|c| c == rel.client) {
            continue;
        }
        let roles: Vec<&str> = rel.roles.iter().map(|r| r.code()).collect();
        avail += &format!(
            r#"<li data-org="{}">{} <small>({})</small> {}</li>"#,
            rel.client,
            org_label(rel.client),
            roles.join(", "),
            client_button(id, person.id, "add", rel.client, "Add")
        );
    }
    if !delegated.own_org {
        avail += &format!(
            r#"<li data-org="{org}">{} (own organisation) {}</li>"#,
            org_label(&org),
            client_button(id, person.id, "add-own", "", "Add")
        );
    }
    details += &format!(r#"<h2>Available</h2><ul id="available">{avail}</ul>"#);
    result_page_with(
        status,
        "Clients of the system user",
        class,
        &data_status,
        &message,
        None,
        details,
    )
}
