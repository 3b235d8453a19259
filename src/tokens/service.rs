//! Token requests, the per-(scopes, customer, externalRef) cache and the upstream calls.

use crate::altinn::client::AltinnClient;
use crate::env::Environment;
use crate::maskinporten::{
    ClientCredentials, MaskinportenClient, MaskinportenError, SystemUserTarget, TokenCache,
    TokenRequest,
};
use crate::secret::{Secret, jwt_claims_unverified};
use crate::tokens::introspect::Introspector;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Epoch seconds; injectable so tests can move time forward without sleeping.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp())
}

/// What a caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// Deduplicated, in the caller's order (the cache key sorts them).
    pub scopes: Vec<String>,
    pub system_user: Option<SystemUserTarget>,
    /// Exchange the Maskinporten token for an Altinn token.
    pub altinn_exchange: bool,
    /// Fetch a new token even if a cached one is still good (texas' `skip_cache`).
    pub skip_cache: bool,
}

/// A token handed to a caller.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: Secret,
    /// Seconds left when handed out (what the caller should plan with).
    pub expires_in: i64,
    pub expires_at: i64,
    pub cached: bool,
}

/// An error in texas' shape: `{"error", "error_description"}` with 400 or 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub status: u16,
    pub error: String,
    pub description: String,
}

impl ServiceError {
    pub fn invalid_request(description: impl Into<String>) -> Self {
        ServiceError {
            status: 400,
            error: "invalid_request".into(),
            description: description.into(),
        }
    }

    fn server(description: impl Into<String>) -> Self {
        ServiceError {
            status: 500,
            error: "server_error".into(),
            description: description.into(),
        }
    }
}

impl From<MaskinportenError> for ServiceError {
    fn from(e: MaskinportenError) -> Self {
        match e {
            // The request as asked cannot succeed (MP-303, a missing scope, an unknown kid):
            // the caller's to fix, so 400 with Maskinporten's error code and our hint.
            MaskinportenError::Rejected {
                error,
                description,
                hint,
                ..
            } => ServiceError {
                status: 400,
                error,
                description: match description {
                    Some(d) => format!("{d} (hint: {hint})"),
                    None => format!("hint: {hint}"),
                },
            },
            other => ServiceError::server(other.to_string()),
        }
    }
}

/// The cache key: everything that changes what the token is good for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    scopes: Vec<String>,
    customer: Option<String>,
    external_ref: Option<String>,
    altinn_exchange: bool,
}

impl Key {
    fn of(w: &Want) -> Key {
        let mut scopes = w.scopes.clone();
        scopes.sort();
        scopes.dedup();
        Key {
            scopes,
            customer: w.system_user.as_ref().map(|t| t.customer_org.clone()),
            external_ref: w.system_user.as_ref().and_then(|t| t.external_ref.clone()),
            altinn_exchange: w.altinn_exchange,
        }
    }
}

struct Entry {
    token: Secret,
    obtained_at: i64,
    expires_at: i64,
}

impl Entry {
    /// Still worth handing out: more than the renewal margin left.
    fn usable_at(&self, now: i64) -> bool {
        self.expires_at - now > renew_margin(self.expires_at - self.obtained_at)
    }
}

/// How long before expiry a token is renewed: 60 s or 10% of its lifetime, whichever is more,
/// but never more than half its lifetime (a 120 s Maskinporten token is reused for 60 s; a
/// 60 s one for 30 s).
pub fn renew_margin(lifetime: i64) -> i64 {
    (lifetime / 10).max(60).min(lifetime / 2).max(0)
}

/// One cache slot per key. The async mutex is held across the upstream call, so identical
/// concurrent requests wait for the first one's answer instead of each going upstream.
type Slot = Arc<tokio::sync::Mutex<SlotState>>;

#[derive(Default)]
struct SlotState {
    entry: Option<Entry>,
    /// The last upstream failure and when it ended: callers that were already waiting for
    /// that attempt get its answer instead of each trying again in turn.
    failure: Option<(std::time::Instant, ServiceError)>,
}

/// Slots are dropped once their token has expired and the map grows past this.
const PRUNE_ABOVE: usize = 256;

pub struct TokenService {
    mp: MaskinportenClient,
    altinn: AltinnClient,
    creds: ClientCredentials,
    slots: Mutex<HashMap<Key, Slot>>,
    introspector: Introspector,
    clock: Clock,
    upstream_maskinporten: AtomicU64,
    upstream_exchange: AtomicU64,
}

impl TokenService {
    /// A service for the vendor's client `creds` in `env`.
    pub fn new(
        env: &Environment,
        creds: ClientCredentials,
    ) -> Result<Self, crate::http::ClientError> {
        let http = crate::http::client()?;
        Ok(TokenService {
            // The Maskinporten client's own cache is bypassed (every call is `fresh`): this
            // service's cache decides, so that renewal and coalescing are in one place.
            mp: MaskinportenClient::new(env, http.clone(), Arc::new(TokenCache::in_memory())),
            altinn: AltinnClient::new(env, http.clone()),
            creds,
            slots: Mutex::new(HashMap::new()),
            introspector: Introspector::new(env, http),
            clock: system_clock(),
            upstream_maskinporten: AtomicU64::new(0),
            upstream_exchange: AtomicU64::new(0),
        })
    }

    /// Use another clock (tests of renewal).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn client_id(&self) -> &str {
        &self.creds.client_id
    }

    /// Tokens fetched from Maskinporten so far (cache misses).
    pub fn upstream_maskinporten_calls(&self) -> u64 {
        self.upstream_maskinporten.load(Ordering::Relaxed)
    }

    /// Altinn token exchanges done so far.
    pub fn upstream_exchange_calls(&self) -> u64 {
        self.upstream_exchange.load(Ordering::Relaxed)
    }

    pub fn introspector(&self) -> &Introspector {
        &self.introspector
    }

    fn slot(&self, key: &Key) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() > PRUNE_ABOVE {
            let now = (self.clock)();
            // A slot that is locked is in use; keep it. An unlocked one with an expired (or
            // no) token is worth nothing.
            slots.retain(|_, s| match s.try_lock() {
                Ok(g) => g.entry.as_ref().is_some_and(|e| e.expires_at > now),
                Err(_) => true,
            });
        }
        slots.entry(key.clone()).or_default().clone()
    }

    /// A token for `want`: from the cache while it has more than the renewal margin left,
    /// otherwise a new one (one upstream call however many callers ask at once).
    pub async fn token(&self, want: &Want) -> Result<Issued, ServiceError> {
        if want.scopes.is_empty() {
            return Err(ServiceError::invalid_request(
                "target must name at least one scope",
            ));
        }
        let key = Key::of(want);
        let slot = self.slot(&key);
        let arrived = std::time::Instant::now();
        let mut guard = slot.lock().await;
        if let Some((at, e)) = &guard.failure
            && *at > arrived
        {
            return Err(e.clone());
        }
        let now = (self.clock)();
        if !want.skip_cache
            && let Some(e) = guard.entry.as_ref().filter(|e| e.usable_at(now))
        {
            return Ok(Issued {
                token: e.token.clone(),
                expires_in: e.expires_at - now,
                expires_at: e.expires_at,
                cached: true,
            });
        }
        let fetched = if want.altinn_exchange {
            self.exchange(want).await
        } else {
            self.maskinporten(want).await
        };
        let entry = match fetched {
            Ok(e) => e,
            Err(e) => {
                guard.failure = Some((std::time::Instant::now(), e.clone()));
                return Err(e);
            }
        };
        guard.failure = None;
        let issued = Issued {
            token: entry.token.clone(),
            expires_in: entry.expires_at - now,
            expires_at: entry.expires_at,
            cached: false,
        };
        guard.entry = Some(entry);
        Ok(issued)
    }

    async fn maskinporten(&self, want: &Want) -> Result<Entry, ServiceError> {
        let req = TokenRequest {
            scopes: want.scopes.clone(),
            resource: Vec::new(),
            system_user: want.system_user.clone(),
        };
        self.upstream_maskinporten.fetch_add(1, Ordering::Relaxed);
        let t = self.mp.token(&self.creds, &req, true).await?;
        let now = (self.clock)();
        Ok(Entry {
            token: t.token,
            obtained_at: now,
            expires_at: now + t.expires_in.max(0),
        })
    }

    /// The Maskinporten token (through the cache, so its own renewal applies), exchanged.
    async fn exchange(&self, want: &Want) -> Result<Entry, ServiceError> {
        let mp_want = Want {
            altinn_exchange: false,
            ..want.clone()
        };
        // Boxed: an async fn that (indirectly) calls itself. Lock order is always exchange
        // slot then Maskinporten slot, so the two cannot deadlock.
        let mp = Box::pin(self.token(&mp_want)).await?;
        self.upstream_exchange.fetch_add(1, Ordering::Relaxed);
        let token = self.altinn.exchange(&mp.token).await.map_err(|e| {
            let status = if e.is_rejection() { 400 } else { 500 };
            ServiceError {
                status,
                error: if status == 400 {
                    "invalid_request".into()
                } else {
                    "server_error".into()
                },
                description: format!("Altinn token exchange failed: {e}"),
            }
        })?;
        let now = (self.clock)();
        // The exchanged token carries its own exp; it cannot outlive the Maskinporten token
        // by much, and if it has no readable exp we assume it lives as long as that one.
        let expires_at = jwt_claims_unverified(token.expose())
            .and_then(|c| c["exp"].as_i64())
            .unwrap_or(mp.expires_at);
        Ok(Entry {
            token,
            obtained_at: now,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_margin() {
        assert_eq!(renew_margin(120), 60);
        assert_eq!(renew_margin(60), 30);
        assert_eq!(renew_margin(3600), 360);
        assert_eq!(renew_margin(0), 0);
        let e = Entry {
            token: Secret::new("t"),
            obtained_at: 1000,
            expires_at: 1120,
        };
        assert!(e.usable_at(1059));
        assert!(!e.usable_at(1060));
    }

    #[test]
    fn key_ignores_scope_order_but_not_customer_or_ref() {
        let w = |scopes: &[&str], org: Option<&str>, r: Option<&str>| Want {
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            system_user: org.map(|o| SystemUserTarget {
                customer_org: o.into(),
                external_ref: r.map(str::to_string),
            }),
            altinn_exchange: false,
            skip_cache: false,
        };
        assert_eq!(
            Key::of(&w(&["a:1", "b:2"], None, None)),
            Key::of(&w(&["b:2", "a:1"], None, None))
        );
        assert_ne!(
            Key::of(&w(&["a:1"], Some("1"), None)),
            Key::of(&w(&["a:1"], Some("1"), Some("r")))
        );
        assert_ne!(
            Key::of(&w(&["a:1"], Some("1"), None)),
            Key::of(&w(&["a:1"], Some("2"), None))
        );
    }
}
