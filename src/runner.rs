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
    ChangeOutcome, Effect, ErrorKind, Failure, KeyInfo, Msg, RegistrationSummary, StatusUpdate,
    TestCallSummary,
};
use crate::flow::{PickerEffect, PickerMsg};
use crate::keys::{KeyBits, KeyError, KeyPair};
use crate::maskinporten::{
    AccessToken, ClientCredentials, MaskinportenClient, MaskinportenError, SystemUserTarget,
    TokenCache, TokenRequest,
};
use crate::portal;
use crate::profile::{
    ChangeRecord, Profile, ProfileStore, RequestKind, RequestRecord, TestCallRecord,
};
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
    /// The public metadata APIs (resource registry, access packages), cached per environment
    /// under `<data dir>/cache/metadata`: the pre-flight's source.
    metadata: crate::rights::MetadataClient,
    /// Whether [`Runner::preflight`] runs before registering and requesting (`--no-preflight`
    /// turns it off).
    preflight_on: std::sync::atomic::AtomicBool,
    /// The last pre-flight's report, for the shells to show its warnings.
    last_preflight: Mutex<Option<crate::rights::Report>>,
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
        let kind = if matches!(e, AltinnError::Invalid(_)) {
            ErrorKind::Validation
        } else if e.is_rejection() {
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
            Effect::Picker(PickerEffect::Wait { seq, after }) => {
                tokio::time::sleep(after).await;
                Msg::Picker(PickerMsg::Due { seq })
            }
            other => {
                tracing::error!(?other, "a remote effect reached the local runner");
                return None;
            }
        })
    }

    /// Save a profile (atomically, off the async threads).
    pub async fn save(&self, mut profile: Profile) -> Result<(), Failure> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            stamp_key_registration(&store, &mut profile, chrono::Utc::now());
            store.save(&mut profile)
        })
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

/// Record when the profile's key was first registered with a client (for the one-year key
/// expiry warning): the date already on disk for the same key, else `now`. The flow has no
/// clock, so the date is set here, on the way to disk.
pub fn stamp_key_registration(
    store: &ProfileStore,
    profile: &mut Profile,
    now: chrono::DateTime<chrono::Utc>,
) {
    if !profile.client_registered || profile.key_registered_at.is_some() {
        return;
    }
    let earlier = store
        .load(&profile.name)
        .ok()
        .flatten()
        .filter(|old| old.key_thumbprint == profile.key_thumbprint)
        .and_then(|old| old.key_registered_at);
    profile.key_registered_at = Some(earlier.unwrap_or(now));
}

impl Runner {
    pub fn new(
        env: Environment,
        store: Arc<ProfileStore>,
        cache: Arc<TokenCache>,
    ) -> Result<Self, crate::http::ClientError> {
        let http = crate::http::client()?;
        let metadata = crate::rights::MetadataClient::new(&env, http.clone())
            .with_default_cache(&store.data_dir().join("cache").join("metadata"), &env);
        Ok(Runner {
            mp: MaskinportenClient::new(&env, http.clone(), cache),
            altinn: AltinnClient::new(&env, http.clone()),
            metadata,
            preflight_on: std::sync::atomic::AtomicBool::new(true),
            last_preflight: Mutex::new(None),
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

    /// The public metadata client (resource registry, access packages) of this environment.
    pub fn metadata(&self) -> &crate::rights::MetadataClient {
        &self.metadata
    }

    /// Turn the pre-flight before `system register` and `request create` on or off.
    pub fn set_preflight(&self, on: bool) {
        self.preflight_on
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// The report of the last pre-flight this runner made (taken: a second call gives None).
    pub fn take_preflight(&self) -> Option<crate::rights::Report> {
        self.last_preflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Look up a system's rights and packages in the public metadata. A sandbox may run with
    /// `--any-resource`, so there a resource missing from its catalogue is left to the
    /// sandbox to judge (not checked) rather than refused.
    pub async fn lookup_rights(&self, spec: &crate::profile::SystemSpec) -> crate::rights::Lookup {
        let mut lookup = self.metadata.resolve(spec).await;
        if !lookup.not_found.is_empty()
            && matches!(self.server_kind().await, Ok(ServerKind::Sandbox { .. }))
        {
            let (resources, packages): (Vec<String>, Vec<String>) = lookup
                .not_found
                .drain(..)
                .partition(|r| spec.rights.contains(r));
            lookup.not_found = packages;
            lookup.unchecked.extend(resources.into_iter().map(|r| {
                (
                    r,
                    "not in the sandbox's resource catalogue (a sandbox started with --any-resource accepts it; otherwise the register answers AUTH.VLD-00003)".to_string(),
                )
            }));
        }
        lookup
    }

    /// The pre-flight before sending `spec`'s rights for `purpose`: look the rights up in the
    /// public metadata (cache, offline fallback) and refuse, as a validation failure naming
    /// the code the service would answer, what it or the approval would refuse. Metadata that
    /// cannot be had is reported as not checked and does not stop the command.
    pub async fn preflight(
        &self,
        spec: &crate::profile::SystemSpec,
        purpose: crate::rights::Purpose,
    ) -> Result<Option<crate::rights::Report>, Failure> {
        if !self.preflight_on.load(std::sync::atomic::Ordering::Relaxed)
            || (spec.rights.is_empty() && spec.access_packages.is_empty())
        {
            return Ok(None);
        }
        let lookup = self.lookup_rights(spec).await;
        let report = crate::rights::preflight_lookup(spec, purpose, &lookup);
        for n in report.notes() {
            tracing::info!("{n}");
        }
        *self
            .last_preflight
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(report.clone());
        if report.is_refused() {
            return Err(
                Failure::new(ErrorKind::Validation, report.refusal_message())
                    .with_upstream(report.first_code().map(str::to_string), None),
            );
        }
        Ok(Some(report))
    }

    /// The one HTTP client (for calls no typed client covers, e.g. the reference API).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
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

    /// The readiness check for this environment ([`crate::readiness::check`]); on a sandbox
    /// its admin API tells the client's scopes and keys.
    pub async fn readiness(&self, profile: &Profile) -> crate::readiness::ReadinessReport {
        let mut known = crate::readiness::Known {
            key_file_date: crate::readiness::key_file_date(profile),
            ..Default::default()
        };
        if let Some(cid) = &profile.client_id
            && matches!(self.server_kind().await, Ok(ServerKind::Sandbox { .. }))
            && let Ok(Some(c)) = portal::SandboxPortal::new(&self.env, self.http.clone())
                .client(cid)
                .await
        {
            known.granted = c.scopes.clone();
            known.client_keys = Some(c.kids().len());
        }
        crate::readiness::check(&self.http, &self.env, profile, &known, chrono::Utc::now()).await
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
            Effect::Picker(e) => Msg::Picker(self.run_picker(e).await),
            Effect::CreateRequest {
                body,
                agent,
                delete_first,
            } => Msg::RequestCreated(
                self.create_request(profile, body, agent, delete_first)
                    .await,
            ),
            Effect::CheckReadiness => Msg::ReadinessChecked(self.readiness(profile).await),
            Effect::CreateChangeRequest {
                system_id,
                customer_org,
                external_ref,
                add_rights,
                add_access_packages,
            } => Msg::ChangeRequested(
                self.create_change_request(
                    profile,
                    &system_id,
                    &customer_org,
                    external_ref,
                    add_rights,
                    add_access_packages,
                )
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
        let mut spec = crate::profile::SystemSpec::simple("", "", "");
        spec.rights = registration
            .rights
            .iter()
            .filter_map(|r| r.resource_id().map(str::to_string))
            .collect();
        spec.access_packages = registration
            .access_packages
            .iter()
            .map(|p| p.urn.clone())
            .collect();
        spec.is_visible = registration.is_visible;
        self.preflight(&spec, crate::rights::Purpose::Register)
            .await?;
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

    /// The pre-flight of a request body (its rights and packages, for a standard or an agent
    /// request): what `create_request` runs before sending, and the bulk create runs once.
    pub async fn preflight_request(
        &self,
        profile: &Profile,
        body: &crate::altinn::model::CreateRequest,
        agent: bool,
    ) -> Result<Option<crate::rights::Report>, Failure> {
        let mut spec = crate::profile::SystemSpec::simple("", "", "");
        spec.rights = body
            .rights
            .iter()
            .flatten()
            .filter_map(|r| r.resource_id().map(str::to_string))
            .collect();
        spec.access_packages = body
            .access_packages
            .iter()
            .flatten()
            .map(|p| p.urn.clone())
            .collect();
        spec.is_visible = profile.system.as_ref().is_none_or(|s| s.is_visible);
        let kind = if agent {
            RequestKind::Agent
        } else {
            RequestKind::Standard
        };
        self.preflight(&spec, crate::rights::Purpose::Request(kind))
            .await
    }

    async fn create_request(
        &self,
        profile: &Profile,
        body: crate::altinn::model::CreateRequest,
        agent: bool,
        delete_first: Option<String>,
    ) -> Result<RequestRecord, Failure> {
        self.preflight_request(profile, &body, agent).await?;
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
            change: None,
        })
    }

    /// The change request for `customer_org`'s system user: find the system user
    /// (`byquery`), work out what it has (the request that made it, whose id is the system
    /// user's, plus the accepted change requests since), and ask for the rest under a fresh
    /// correlation id. When nothing is left, the request goes out with four empty sets, which
    /// Altinn answers `NoChangeNeeded` (ChangeRequestSystemUserController.cs:125-146): its
    /// word, not ours, that the system user already has them.
    async fn create_change_request(
        &self,
        profile: &Profile,
        system_id: &str,
        customer_org: &str,
        external_ref: Option<String>,
        add_rights: Vec<String>,
        add_access_packages: Vec<String>,
    ) -> Result<ChangeOutcome, Failure> {
        use crate::altinn::model::{AccessPackage, ChangeRequestBody, Right};
        let write = self
            .vendor_token(profile, SCOPE_REQUEST_WRITE, false)
            .await?;
        let su = self
            .altinn
            .system_user_by_query(&write.token, system_id, customer_org, external_ref.as_deref())
            .await?
            .ok_or_else(|| {
                let r = external_ref
                    .as_deref()
                    .map(|r| format!(" (external ref {r})"))
                    .unwrap_or_default();
                Failure::new(
                    ErrorKind::Validation,
                    format!(
                        "{customer_org}{r} has no system user of {system_id}: a change request changes an existing system user\n  hint: `request create --customer-org {customer_org}` and have the customer approve it first"
                    ),
                )
            })?;
        if su
            .user_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("agent"))
        {
            return Err(Failure::new(
                ErrorKind::Validation,
                format!(
                    "the system user {} for {customer_org} is an agent system user: Altinn does not take change requests for those yet (ChangeRequestSystemUserService.cs:60-64 answers AUTH-00015)",
                    su.id
                ),
            ));
        }
        let read = self
            .vendor_token(profile, SCOPE_REQUEST_READ, false)
            .await?;
        let (have_rights, have_packages) = self
            .system_user_rights(profile, &read.token, system_id, &su.id)
            .await?;
        let (already_rights, ask_rights): (Vec<String>, Vec<String>) = add_rights
            .into_iter()
            .partition(|r| have_rights.contains(r));
        let (already_access_packages, ask_packages): (Vec<String>, Vec<String>) =
            add_access_packages
                .into_iter()
                .partition(|p| have_packages.contains(p));
        let body = ChangeRequestBody {
            required_rights: ask_rights.iter().map(|r| Right::resource(r)).collect(),
            required_access_packages: ask_packages
                .iter()
                .map(|u| AccessPackage { urn: u.clone() })
                .collect(),
            ..ChangeRequestBody::default()
        };
        // A fresh UUID, never the system user's id (= the id of the request that made it).
        let correlation_id = loop {
            let id = uuid::Uuid::new_v4().to_string();
            if !id.eq_ignore_ascii_case(&su.id) {
                break id;
            }
        };
        let (info, _) = self
            .altinn
            .create_change_request(&write.token, &su.id, &correlation_id, &body)
            .await?;
        Ok(ChangeOutcome {
            record: RequestRecord {
                id: info.id.clone(),
                kind: RequestKind::Change,
                customer_org: customer_org.to_string(),
                external_ref: su.external_ref.clone().filter(|r| r != customer_org),
                status: info.effective_status(),
                confirm_url: info.confirm_url().map(str::to_string),
                created_at: Utc::now(),
                checked_at: Some(Utc::now()),
                change: Some(ChangeRecord {
                    system_user_id: su.id.clone(),
                    add_rights: ask_rights,
                    add_access_packages: ask_packages,
                }),
            },
            already_rights,
            already_access_packages,
        })
    }

    /// The resource ids and package urns a system user has, as its vendor can know them: the
    /// request that made it (its id is the system user's, SystemUserService.cs:509), then the
    /// accepted change requests for it in order. The vendor API has no call that lists a
    /// system user's rights (SystemUserExternalDTO.cs has none).
    ///
    /// Altinn's change-request list shows only its first page (it ignores its continuation
    /// token, see [`AltinnClient::list_change_requests`]), so a system with more change
    /// requests than a page would hide accepted ones. The change requests this profile made
    /// for the system user and the list did not show are therefore fetched by id: what was
    /// asked for from here is known whatever the list's size. Change requests made elsewhere
    /// past the first page stay unknown; asking again for a right the system user has is
    /// harmless (approving it changes nothing).
    async fn system_user_rights(
        &self,
        profile: &Profile,
        token: &Secret,
        system_id: &str,
        system_user_id: &str,
    ) -> Result<(Vec<String>, Vec<String>), Failure> {
        let (mut rights, mut packages) =
            match self.altinn.get_request(token, system_user_id, false).await {
                Ok(r) => (
                    r.rights
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|r| r.resource_id().map(str::to_string))
                        .collect::<Vec<_>>(),
                    r.access_packages
                        .unwrap_or_default()
                        .into_iter()
                        .map(|p| p.urn)
                        .collect::<Vec<_>>(),
                ),
                // The request may be gone (deleted by the vendor): nothing known, so everything
                // asked for is asked for; approving what it has already changes nothing.
                Err(e) if e.status() == Some(404) => (Vec::new(), Vec::new()),
                Err(e) => return Err(e.into()),
            };
        let mut listed = self.altinn.list_change_requests(token, system_id).await?;
        let known = profile.requests.iter().filter(|r| {
            r.kind == RequestKind::Change
                && r.change
                    .as_ref()
                    .is_some_and(|c| c.system_user_id.eq_ignore_ascii_case(system_user_id))
        });
        for r in known {
            if listed.iter().any(|c| c.id.eq_ignore_ascii_case(&r.id)) {
                continue;
            }
            match self.altinn.get_change_request(token, &r.id).await {
                Ok(c) => listed.push(c),
                // Deleted (or timed out and removed) since: it adds nothing.
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut changes: Vec<_> = listed
            .into_iter()
            .filter(|c| {
                c.system_user_id.as_deref() == Some(system_user_id)
                    && c.status == crate::altinn::model::RequestStatus::Accepted
            })
            .collect();
        changes.sort_by(|a, b| a.created.cmp(&b.created));
        for c in changes {
            let ids = |rs: &[crate::altinn::model::Right]| -> Vec<String> {
                rs.iter()
                    .filter_map(|r| r.resource_id().map(str::to_string))
                    .collect()
            };
            let unwanted = ids(&c.unwanted_rights);
            rights.retain(|r| !unwanted.contains(r));
            for r in ids(&c.required_rights) {
                if !rights.contains(&r) {
                    rights.push(r);
                }
            }
            packages.retain(|p| !c.unwanted_access_packages.iter().any(|u| &u.urn == p));
            for p in c.required_access_packages {
                if !packages.contains(&p.urn) {
                    packages.push(p.urn);
                }
            }
        }
        Ok((rights, packages))
    }

    /// A change request's status (`GET systemuser/changerequest/vendor/{id}`).
    async fn change_status(
        &self,
        token: &Secret,
        request_id: &str,
    ) -> Result<crate::altinn::model::ChangeRequestInfo, AltinnError> {
        self.altinn.get_change_request(token, request_id).await
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
        let known = profile.requests.iter().find(|r| r.id == request_id);
        let is_change = known.is_some_and(|r| r.kind == RequestKind::Change);
        let (id, status, confirm_url) = if is_change {
            let c = self.change_status(&token.token, request_id).await?;
            (
                c.id.clone(),
                c.effective_status(),
                c.confirm_url().map(str::to_string),
            )
        } else {
            match self
                .altinn
                .get_request(&token.token, request_id, agent)
                .await
            {
                Ok(info) => (
                    info.id.clone(),
                    info.effective_status(),
                    info.confirm_url.clone(),
                ),
                // An id the profile does not know (`request status --id`) may be a change
                // request's: they live under another path.
                Err(e) if known.is_none() && e.status() == Some(404) => {
                    match self.change_status(&token.token, request_id).await {
                        Ok(c) => (
                            c.id.clone(),
                            c.effective_status(),
                            c.confirm_url().map(str::to_string),
                        ),
                        Err(_) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        };
        // On a sandbox, a request still waiting may have been refused at approval: ask the
        // sandbox why (the real API does not say). A server without the admin route (custom
        // environment, not a sandbox) or a failing call just means "nothing known".
        let refusal =
            if status.is_pending() && matches!(self.env.kind, EnvKind::Sandbox | EnvKind::Custom) {
                match portal::SandboxPortal::new(&self.env, self.http.clone())
                    .last_refusal(&id)
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
            request_id: id,
            status,
            confirm_url,
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
/// The wizard's rights picker: searches and look-ups in the environment's public metadata
/// (Resource Registry, Access Management), through the metadata cache in the data directory.
impl Runner {
    /// The metadata client of this environment, caching under `<data dir>/cache/metadata`.
    fn picker_metadata(&self) -> crate::rights::MetadataClient {
        let root = self.store().data_dir().join("cache").join("metadata");
        crate::rights::MetadataClient::new(&self.env, self.http.clone())
            .with_default_cache(&root, &self.env)
    }

    async fn run_picker(&self, effect: PickerEffect) -> PickerMsg {
        let client = self.picker_metadata();
        match effect {
            PickerEffect::Wait { seq, after } => {
                tokio::time::sleep(after).await;
                PickerMsg::Due { seq }
            }
            PickerEffect::Search { seq, term, kind } => {
                let mut result = client.search(&term, kind).await;
                // Access Management's search matches names and descriptions, not urns or
                // codes: a package typed by its urn or code is looked up directly.
                if kind == crate::rights::SearchKind::Packages
                    && let Ok(r) = &mut result
                    && (term.starts_with("urn:") || term.contains('-'))
                    && let Ok(urn) = crate::validate::access_package(&term)
                    && !r.candidates.iter().any(|c| c.matches(&urn))
                    && let Ok((Some(c), _)) = client.package(&urn).await
                {
                    r.candidates.insert(0, c);
                }
                PickerMsg::Found {
                    seq,
                    result: result.map_err(rights_failure),
                }
            }
            PickerEffect::Resolve {
                seq,
                rights,
                packages,
            } => {
                let mut spec = crate::profile::SystemSpec::simple("picker", "picker", "picker");
                spec.rights = rights;
                spec.access_packages = packages;
                PickerMsg::Resolved {
                    seq,
                    lookup: client.resolve(&spec).await,
                }
            }
        }
    }
}

fn rights_failure(e: crate::rights::RightsError) -> Failure {
    use crate::rights::RightsError;
    let (kind, status) = match &e {
        RightsError::Unavailable { .. } => (ErrorKind::Network, None),
        RightsError::Rejected { status, .. } => (ErrorKind::Rejected, Some(*status)),
        RightsError::BadResponse { .. } => (ErrorKind::Network, None),
    };
    Failure::new(kind, e.to_string()).with_upstream(None, status)
}

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
