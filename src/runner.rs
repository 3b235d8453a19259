//! The effect runners: execute the [`Effect`]s of the flow and turn every outcome into a
//! [`Msg`]. [`LocalRunner`] does the local work (keys, the profile store, the browser) and
//! needs no environment; [`Runner`] adds one environment's remotes (Maskinporten, Altinn, the
//! sandbox's portal) and hands local effects to its `LocalRunner`. [`Effect::is_remote`]
//! decides which one an effect needs. The wizard runs each effect in a tokio task; the CLI
//! awaits them in turn. Typed errors become [`Failure`]s with the kind that decides retry and
//! exit code.

use crate::altinn::client::{SCOPE_REGISTER_WRITE, SCOPE_REQUEST_READ, SCOPE_REQUEST_WRITE};
use crate::altinn::{AltinnClient, AltinnError, UpsertKind};
use crate::discovery::{self, ServerKind};
use crate::env::{EnvKind, Environment};
use crate::flow::{
    Effect, ErrorKind, Failure, KeyInfo, Msg, RegistrationSummary, StatusUpdate, TestCallSummary,
};
use crate::keys::{KeyBits, KeyError, KeyPair};
use crate::maskinporten::{
    AccessToken, ClientCredentials, MaskinportenClient, MaskinportenError, SystemUserTarget,
    TokenCache, TokenRequest,
};
use crate::portal;
use crate::profile::{Profile, ProfileStore, RequestKind, RequestRecord, TestCallRecord};
use crate::secret::Secret;
use chrono::Utc;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Executes the local effects: key generation, import and loading, profile saves, the
/// browser. No environment, no network.
pub struct LocalRunner {
    store: Arc<ProfileStore>,
    keys: Mutex<HashMap<PathBuf, Arc<KeyPair>>>,
}

/// Executes effects for one environment: remote ones itself, local ones through its
/// [`LocalRunner`] (whose key cache it shares).
pub struct Runner {
    env: Environment,
    http: reqwest::Client,
    mp: MaskinportenClient,
    altinn: AltinnClient,
    local: Arc<LocalRunner>,
    /// What the Maskinporten side says it is (asked once, on first need).
    server: tokio::sync::OnceCell<ServerKind>,
    /// The sandbox's host secret when this process knows it (it hosts the sandbox, or a
    /// `sandbox serve` of this user recorded it): lets `client set` re-key a client whose
    /// old key is gone.
    sandbox_secret: Option<crate::secret::Secret>,
}

impl From<MaskinportenError> for Failure {
    fn from(e: MaskinportenError) -> Self {
        let kind = if e.is_rejection() {
            ErrorKind::Rejected
        } else if e.is_network() {
            ErrorKind::Network
        } else {
            ErrorKind::Local
        };
        let (code, status) = match &e {
            MaskinportenError::Rejected { status, error, .. } => {
                (Some(error.clone()), Some(*status))
            }
            MaskinportenError::Server { status, .. }
            | MaskinportenError::BadResponse { status, .. } => (None, Some(*status)),
            MaskinportenError::Throttled { .. } => (None, Some(429)),
            _ => (None, None),
        };
        Failure::new(kind, e.to_string()).with_upstream(code, status)
    }
}

impl From<AltinnError> for Failure {
    fn from(e: AltinnError) -> Self {
        // Anything that is not a 4xx refusal (network, 5xx, unparseable answers) is worth
        // retrying later.
        let kind = if e.is_rejection() {
            ErrorKind::Rejected
        } else {
            ErrorKind::Network
        };
        let code = e
            .problem()
            .and_then(|p| p.codes().first().map(|c| c.to_string()));
        Failure::new(kind, e.to_string()).with_upstream(code, e.status())
    }
}

impl From<KeyError> for Failure {
    fn from(e: KeyError) -> Self {
        Failure::new(ErrorKind::Local, e.to_string())
    }
}

impl From<portal::PortalError> for Failure {
    fn from(e: portal::PortalError) -> Self {
        // An answer that is not the sandbox's (an HTML page, broken JSON) is a server
        // failure (exit 3), like a network error; a refusal is the remote's "no" (exit 2).
        let kind = if e.is_network() || e.is_bad_answer() {
            ErrorKind::Network
        } else {
            ErrorKind::Rejected
        };
        let status = match &e {
            portal::PortalError::Rejected { status, .. }
            | portal::PortalError::DecisionRefused { status, .. }
            | portal::PortalError::Refused { status, .. } => Some(*status),
            portal::PortalError::NotASandbox { .. } => Some(404),
            _ => None,
        };
        let code = e.code().map(str::to_string);
        Failure::new(kind, e.to_string()).with_upstream(code, status)
    }
}

impl LocalRunner {
    pub fn new(store: Arc<ProfileStore>) -> Self {
        LocalRunner {
            store,
            keys: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &ProfileStore {
        &self.store
    }

    /// Load (once) the profile's private key, refusing unsafe permissions.
    pub fn key_for(&self, profile: &Profile) -> Result<Arc<KeyPair>, Failure> {
        let (Some(path), Some(kid)) = (&profile.key_path, &profile.kid) else {
            return Err(Failure::new(
                ErrorKind::Validation,
                "this profile has no key yet: run `keys generate` or `keys import`",
            ));
        };
        // TT02/prod: grants name the kid the portal has for the key (see Profile::portal_kid).
        let kid = match (&profile.portal_kid, profile.environment.kind) {
            (Some(p), EnvKind::Tt02 | EnvKind::Prod) => p,
            _ => kid,
        };
        let mut cache = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = cache.get(path).filter(|k| k.kid() == kid) {
            return Ok(k.clone());
        }
        let key = Arc::new(KeyPair::load(path, kid)?);
        cache.insert(path.clone(), key.clone());
        Ok(key)
    }

    /// Run one local effect; `None` for remote effects, which need a [`Runner`].
    pub async fn run(&self, effect: Effect, profile: &Profile) -> Option<Msg> {
        Some(match effect {
            Effect::GenerateKey { bits, kid } => {
                Msg::KeyReady(self.generate_key(profile, bits, kid).await)
            }
            Effect::ImportKey { source, kid } => {
                Msg::KeyReady(self.import_key(profile, source.expose(), kid).await)
            }
            Effect::OpenBrowser { url } => Msg::BrowserOpened(open_browser(url).await),
            Effect::SaveProfile(p) => Msg::ProfileSaved(self.save(*p).await),
            other => {
                tracing::error!(?other, "a remote effect reached the local runner");
                return None;
            }
        })
    }

    /// Save a profile (atomically, off the async threads).
    pub async fn save(&self, mut profile: Profile) -> Result<(), Failure> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.save(&mut profile))
            .await
            .map_err(|e| Failure::new(ErrorKind::Local, e.to_string()))?
            .map_err(|e| Failure::new(ErrorKind::Local, e.to_string()))
    }

    fn key_path_for(&self, profile: &Profile, kid: &str) -> PathBuf {
        let base = self.store.default_key_path(&profile.name, kid);
        if !base.exists() {
            return base;
        }
        // Never overwrite a key someone may still use.
        (2..)
            .map(|n| {
                base.with_file_name(format!(
                    "{}-{n}.pem",
                    base.file_stem().and_then(|s| s.to_str()).unwrap_or("key")
                ))
            })
            .find(|p| !p.exists())
            .unwrap_or(base)
    }

    async fn store_key(&self, profile: &Profile, key: KeyPair) -> Result<KeyInfo, Failure> {
        let path = self.key_path_for(profile, key.kid());
        let key = Arc::new(key);
        let (k2, p2) = (key.clone(), path.clone());
        tokio::task::spawn_blocking(move || k2.write_private_key(&p2))
            .await
            .map_err(|e| Failure::new(ErrorKind::Local, e.to_string()))??;
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.clone(), key.clone());
        Ok(key_info(&key, path))
    }

    async fn generate_key(
        &self,
        profile: &Profile,
        bits: u32,
        kid: Option<String>,
    ) -> Result<KeyInfo, Failure> {
        let bits = KeyBits::try_from(bits)
            .map_err(|e| Failure::new(ErrorKind::Validation, e.to_string()))?;
        let key = tokio::task::spawn_blocking(move || KeyPair::generate(bits, kid))
            .await
            .map_err(|e| Failure::new(ErrorKind::Local, e.to_string()))??;
        self.store_key(profile, key).await
    }

    async fn import_key(
        &self,
        profile: &Profile,
        source: &str,
        kid: Option<String>,
    ) -> Result<KeyInfo, Failure> {
        let trimmed = source.trim();
        // A file if there is one; otherwise the key itself (PEM, JWK, base64 JWK: standard
        // base64 contains '/', so the shape of the text cannot tell). The text is never
        // echoed: it may be a private key.
        let path = Path::new(trimmed);
        let text = if trimmed.len() < 4096 && !trimmed.contains('\n') && path.is_file() {
            let owned = path.to_path_buf();
            tokio::task::spawn_blocking(move || {
                crate::files::read_to_string_capped(&owned, crate::files::MAX_SMALL_FILE)
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r)
            .map_err(|e| {
                Failure::new(
                    ErrorKind::Local,
                    format!("cannot read key file {}: {e}", path.display()),
                )
            })?
        } else if trimmed.len() <= 255 && !trimmed.contains('\n') && !trimmed.starts_with('{') {
            // Too short to be a key: a path that does not exist.
            return Err(Failure::new(
                ErrorKind::Validation,
                format!(
                    "no key file at {}: give the path of a PEM/JWK file, `-` to read the key from stdin, or paste the key itself",
                    path.display()
                ),
            ));
        } else {
            trimmed.to_string()
        };
        let key = KeyPair::import(&text, kid)?;
        self.store_key(profile, key).await
    }
}

impl Runner {
    pub fn new(
        env: Environment,
        store: Arc<ProfileStore>,
        cache: Arc<TokenCache>,
    ) -> Result<Self, crate::http::ClientError> {
        let http = crate::http::client()?;
        Ok(Runner {
            mp: MaskinportenClient::new(&env, http.clone(), cache),
            altinn: AltinnClient::new(&env, http.clone()),
            env,
            http,
            local: Arc::new(LocalRunner::new(store)),
            server: tokio::sync::OnceCell::new(),
            sandbox_secret: None,
        })
    }

    /// The sandbox's host secret, for client changes this process cannot sign with a key.
    pub fn with_sandbox_secret(mut self, secret: Option<crate::secret::Secret>) -> Self {
        self.sandbox_secret = secret;
        self
    }

    pub fn environment(&self) -> &Environment {
        &self.env
    }

    /// Whether the environment's server has the sandbox's admin API. The default sandbox is
    /// one by construction (this tool started it, or found its `sandbox serve`); TT02 and
    /// production are not; for `custom` the server's own metadata decides
    /// ([`crate::discovery`]).
    pub async fn server_kind(&self) -> Result<ServerKind, Failure> {
        match self.env.kind {
            EnvKind::Sandbox => {
                return Ok(ServerKind::Sandbox {
                    version: String::new(),
                    admin: "/sandbox".into(),
                });
            }
            EnvKind::Tt02 | EnvKind::Prod => return Ok(ServerKind::Other),
            EnvKind::Custom => {}
        }
        self.server
            .get_or_try_init(|| async {
                let kind = discovery::discover(&self.env, &self.http)
                    .await
                    .map_err(|e| Failure::new(ErrorKind::Network, e.to_string()))?;
                tracing::info!(?kind, issuer = %self.env.maskinporten_issuer, "custom environment identified");
                Ok(kind)
            })
            .await
            .cloned()
    }

    pub fn altinn(&self) -> &AltinnClient {
        &self.altinn
    }

    pub fn maskinporten(&self) -> &MaskinportenClient {
        &self.mp
    }

    pub fn store(&self) -> &ProfileStore {
        &self.local.store
    }

    /// The local half (keys, profile store), shared with this runner.
    pub fn local(&self) -> &Arc<LocalRunner> {
        &self.local
    }

    /// Load (once) the profile's private key; see [`LocalRunner::key_for`].
    pub fn key_for(&self, profile: &Profile) -> Result<Arc<KeyPair>, Failure> {
        self.local.key_for(profile)
    }

    /// The reference API the test call goes to when none is given: the sandbox's `whoami`,
    /// or on TT02/production Altinn's token exchange (which accepts a system-user token and
    /// proves Altinn trusts it).
    pub fn default_test_url(&self) -> String {
        match self.env.kind {
            EnvKind::Sandbox | EnvKind::Custom => format!(
                "{}/reference/whoami",
                self.env.altinn_base.as_str().trim_end_matches('/')
            ),
            EnvKind::Tt02 | EnvKind::Prod => self.env.authentication_api("exchange/maskinporten"),
        }
    }

    pub fn credentials(&self, profile: &Profile) -> Result<ClientCredentials, Failure> {
        let Some(client_id) = profile.client_id.clone() else {
            return Err(Failure::new(
                ErrorKind::Validation,
                "this profile has no Maskinporten client id yet: run `client set`",
            ));
        };
        Ok(ClientCredentials {
            client_id,
            key: self.key_for(profile)?,
        })
    }

    /// A vendor token with exactly `scope`.
    pub async fn vendor_token(
        &self,
        profile: &Profile,
        scope: &str,
        fresh: bool,
    ) -> Result<AccessToken, Failure> {
        let creds = self.credentials(profile)?;
        let req = TokenRequest {
            scopes: vec![scope.to_string()],
            ..Default::default()
        };
        Ok(self.mp.token(&creds, &req, fresh).await?)
    }

    /// A system-user token for the profile's current request.
    pub async fn system_user_token(
        &self,
        profile: &Profile,
        scope: Vec<String>,
        customer_org: &str,
        external_ref: Option<String>,
        fresh: bool,
    ) -> Result<AccessToken, Failure> {
        let creds = self.credentials(profile)?;
        if scope.is_empty() {
            return Err(Failure::new(
                ErrorKind::Validation,
                "a system-user token needs at least one scope (set the client's scopes)",
            ));
        }
        let req = TokenRequest {
            scopes: scope,
            resource: Vec::new(),
            system_user: Some(SystemUserTarget {
                customer_org: customer_org.to_string(),
                external_ref,
            }),
        };
        Ok(self.mp.token(&creds, &req, fresh).await?)
    }

    /// Run one effect; `None` for effects that report nothing. Local effects go to the
    /// [`LocalRunner`].
    pub async fn run(&self, effect: Effect, profile: &Profile) -> Option<Msg> {
        if !effect.is_remote() {
            return self.local.run(effect, profile).await;
        }
        Some(match effect {
            Effect::RegisterClient {
                vendor_org,
                scopes,
                client_id,
                previous,
            } => match self.server_kind().await {
                Ok(ServerKind::Sandbox { .. }) => Msg::ClientRegistered(
                    self.register_client(profile, &vendor_org, &scopes, client_id, previous)
                        .await,
                ),
                // Not a sandbox: as in TT02 the client lives in that server's own portal; the
                // id the user typed is recorded and the upload awaits confirmation.
                Ok(ServerKind::Other) => match client_id {
                    Some(client_id) => Msg::ClientAwaitsUpload { client_id },
                    None => Msg::ClientRegistered(Err(Failure::new(
                        ErrorKind::Validation,
                        format!(
                            "{} is not an altinn-onboard sandbox (its Maskinporten metadata does not say so), so this tool cannot create the client there\n  hint: create the client in that server's portal, upload the public JWK (`keys show --jwks`), and enter its id (`client set --client-id <id> --confirm-uploaded`)",
                            self.env.maskinporten_issuer
                        ),
                    ))),
                },
                Err(f) => Msg::ClientRegistered(Err(f)),
            },
            Effect::RegisterSystem { registration } => {
                Msg::SystemRegistered(self.register_system(profile, registration).await)
            }
            Effect::CreateRequest {
                body,
                agent,
                delete_first,
            } => Msg::RequestCreated(
                self.create_request(profile, body, agent, delete_first)
                    .await,
            ),
            Effect::RefreshRequest { request_id, agent } => {
                Msg::RequestRefreshed(self.poll_status(profile, &request_id, agent).await)
            }
            Effect::PollStatus {
                request_id,
                agent,
                after,
                generation,
            } => {
                tokio::time::sleep(after).await;
                Msg::StatusPolled {
                    generation,
                    result: self.poll_status(profile, &request_id, agent).await,
                }
            }
            Effect::TestCall {
                url,
                method,
                body,
                customer_org,
                external_ref,
                scope,
            } => Msg::TestCallDone(
                self.test_call(
                    profile,
                    url,
                    &method,
                    body.as_ref(),
                    &customer_org,
                    external_ref,
                    scope,
                )
                .await,
            ),
            // The wizard's driver runs this itself, to report every page as it is read.
            Effect::LoadCustomers { generation } => Msg::CustomersLoaded {
                generation,
                result: self.load_customers(profile, &mut |_| {}).await,
            },
            Effect::GenerateKey { .. }
            | Effect::ImportKey { .. }
            | Effect::OpenBrowser { .. }
            | Effect::SaveProfile(_) => unreachable!("local effects are run above"),
        })
    }

    /// Every page of the profile's system's requests, agent requests and system users,
    /// `progress` told after each page; the result carries the time it was read.
    pub async fn load_customers(
        &self,
        profile: &Profile,
        progress: &mut (dyn FnMut(crate::customers::LoadProgress) + Send),
    ) -> Result<crate::flow::CustomersLoad, Failure> {
        let listing = crate::customers::load_for_profile(self, profile, progress).await?;
        Ok(crate::flow::CustomersLoad {
            listing,
            at: chrono::Utc::now(),
        })
    }

    async fn register_client(
        &self,
        profile: &Profile,
        vendor_org: &str,
        scopes: &[String],
        client_id: Option<String>,
        previous: Option<String>,
    ) -> Result<String, Failure> {
        let key = self.key_for(profile)?;
        let admin = portal::SandboxPortal::new(&self.env, self.http.clone())
            .with_admin_secret(self.sandbox_secret.clone());
        Ok(admin
            .register_client_replacing(
                client_id.as_deref(),
                vendor_org,
                scopes,
                &key,
                previous.as_deref(),
            )
            .await?)
    }

    async fn register_system(
        &self,
        profile: &Profile,
        registration: crate::altinn::model::SystemRegistration,
    ) -> Result<RegistrationSummary, Failure> {
        let token = self
            .vendor_token(profile, SCOPE_REGISTER_WRITE, false)
            .await?;
        let outcome = self
            .altinn
            .upsert_system(&token.token, &registration)
            .await?;
        Ok(RegistrationSummary {
            system_id: outcome.system_id,
            outcome: match outcome.kind {
                UpsertKind::Created => "created",
                UpsertKind::Updated => "updated",
                UpsertKind::Unchanged => "unchanged",
            }
            .into(),
            changes: outcome
                .changes
                .iter()
                .map(|c| format!("{}: {} -> {}", c.field, c.before, c.after))
                .collect(),
            client_id: registration.client_id.first().cloned().unwrap_or_default(),
            at: Utc::now(),
        })
    }

    async fn create_request(
        &self,
        profile: &Profile,
        body: crate::altinn::model::CreateRequest,
        agent: bool,
        delete_first: Option<String>,
    ) -> Result<RequestRecord, Failure> {
        let token = self
            .vendor_token(profile, SCOPE_REQUEST_WRITE, false)
            .await?;
        if let Some(old) = delete_first {
            match self.altinn.delete_request(&token.token, &old).await {
                Ok(()) => {
                    tracing::info!(request = %old, "deleted the refused request before creating a new one")
                }
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let info = match self.altinn.create_request(&token.token, &body, agent).await {
            Ok(created) => created.request,
            // A system user already exists for this triple: find its (accepted) request.
            Err(e) if e.has_code("AUTH-00004") => {
                let read = self
                    .vendor_token(profile, SCOPE_REQUEST_READ, false)
                    .await?;
                match self
                    .altinn
                    .get_request_by_external_ref(
                        &read.token,
                        &body.system_id,
                        &body.party_org_no,
                        body.external_ref.as_deref(),
                        agent,
                    )
                    .await?
                {
                    Some(r) => r,
                    None => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        Ok(RequestRecord {
            id: info.id.clone(),
            kind: if agent {
                RequestKind::Agent
            } else {
                RequestKind::Standard
            },
            customer_org: body.party_org_no.clone(),
            external_ref: body.external_ref.clone(),
            status: info.effective_status(),
            confirm_url: info.confirm_url.clone(),
            created_at: Utc::now(),
            checked_at: Some(Utc::now()),
        })
    }

    pub async fn poll_status(
        &self,
        profile: &Profile,
        request_id: &str,
        agent: bool,
    ) -> Result<StatusUpdate, Failure> {
        let token = self
            .vendor_token(profile, SCOPE_REQUEST_READ, false)
            .await?;
        let info = self
            .altinn
            .get_request(&token.token, request_id, agent)
            .await?;
        let status = info.effective_status();
        // On a sandbox, a request still waiting may have been refused at approval: ask the
        // sandbox why (the real API does not say). A server without the admin route (custom
        // environment, not a sandbox) or a failing call just means "nothing known".
        let refusal =
            if status.is_pending() && matches!(self.env.kind, EnvKind::Sandbox | EnvKind::Custom) {
                match portal::SandboxPortal::new(&self.env, self.http.clone())
                    .last_refusal(&info.id)
                    .await
                {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!(error = %e, "could not ask the sandbox about refusals");
                        None
                    }
                }
            } else {
                None
            };
        Ok(StatusUpdate {
            request_id: info.id.clone(),
            status,
            confirm_url: info.confirm_url.clone(),
            at: Utc::now(),
            refusal,
        })
    }

    #[allow(clippy::too_many_arguments)] // the fields of Effect::TestCall
    async fn test_call(
        &self,
        profile: &Profile,
        url: Option<String>,
        method: &str,
        body: Option<&serde_json::Value>,
        customer_org: &str,
        external_ref: Option<String>,
        scope: Vec<String>,
    ) -> Result<TestCallSummary, Failure> {
        let token = self
            .system_user_token(profile, scope, customer_org, external_ref, false)
            .await?;
        let method =
            reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
                Failure::new(
                    ErrorKind::Validation,
                    format!("unknown HTTP method `{method}`"),
                )
            })?;
        let url = url.unwrap_or_else(|| self.default_test_url());
        let result = self
            .altinn
            .test_call(method, &url, &token.token, body)
            .await?;
        let claims = token.claims().unwrap_or(serde_json::Value::Null);
        let system_user_id = claims["authorization_details"][0]["systemuser_id"][0]
            .as_str()
            .map(str::to_string);
        let body_excerpt = crate::http::excerpt(&redact_tokens(&result.body), 2000);
        Ok(TestCallSummary {
            record: TestCallRecord {
                url: result.url.clone(),
                method: result.method.clone(),
                status: result.status,
                elapsed_ms: result.elapsed_ms,
                at: Utc::now(),
                system_user_id,
                body_excerpt: Some(body_excerpt),
            },
            token_claims: claims,
            token_expires_in: token.expires_in,
            response_json: result.json.map(redact_json_tokens),
            headers: result.headers,
        })
    }
}

/// Public-key facts for display.
pub fn key_info(key: &KeyPair, path: PathBuf) -> KeyInfo {
    let warning = crate::keys::enclosing_git_work_tree(&path).map(|w| {
        format!(
            "the key file is inside the git work tree {}: add it to .gitignore or move it",
            w.display()
        )
    });
    KeyInfo {
        kid: key.kid().to_string(),
        public_jwk: serde_json::to_value(key.public_jwk()).unwrap_or_default(),
        bits: key.bits(),
        thumbprint: key.thumbprint(),
        path,
        warning,
    }
}

/// A JWT-looking string anywhere in a response body (e.g. the token exchange's answer) is
/// replaced by its redacted form before it is stored or shown.
pub fn redact_tokens(body: &str) -> String {
    body.split_inclusive(|c: char| c == '"' || c.is_whitespace())
        .map(|part| {
            let core = part.trim_end_matches(|c: char| c == '"' || c.is_whitespace());
            if looks_like_jwt(core) {
                part.replacen(core, &Secret::new(core).redacted(), 1)
            } else {
                part.to_string()
            }
        })
        .collect()
}

pub fn redact_json_tokens(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) if looks_like_jwt(&s) => {
            serde_json::Value::String(Secret::new(s).redacted())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(redact_json_tokens).collect())
        }
        serde_json::Value::Object(o) => serde_json::Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, redact_json_tokens(v)))
                .collect(),
        ),
        other => other,
    }
}

pub fn looks_like_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && s.starts_with("eyJ")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// True where a browser cannot be opened for the user: SSH sessions, no display, CI.
pub fn headless_session() -> Option<&'static str> {
    if std::env::var_os("CI").is_some() {
        return Some("running in CI");
    }
    if std::env::var_os("SSH_CONNECTION").is_some() || std::env::var_os("SSH_TTY").is_some() {
        return Some("this is an SSH session");
    }
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        return Some("there is no graphical display");
    }
    None
}

async fn open_browser(url: String) -> Result<(), Failure> {
    if let Some(why) = headless_session() {
        return Err(Failure::new(
            ErrorKind::Local,
            format!("not opening a browser: {why}"),
        ));
    }
    tokio::task::spawn_blocking(move || open::that_detached(&url))
        .await
        .map_err(|e| Failure::new(ErrorKind::Local, e.to_string()))?
        .map_err(|e| Failure::new(ErrorKind::Local, format!("could not open a browser: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_bodies_are_redacted() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let body = format!("\"{jwt}\"");
        let out = redact_tokens(&body);
        assert!(!out.contains("eyJzdWIiOiJ4In0"), "{out}");
        let j = redact_json_tokens(serde_json::json!({"t": jwt, "n": 1}));
        assert!(!j.to_string().contains("c2lnbmF0dXJl"));
        assert!(!looks_like_jwt("a.b"));
    }
}
