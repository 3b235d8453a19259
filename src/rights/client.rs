//! The client of the public metadata APIs, per environment: the Resource Registry under
//! `{altinn base}/resourceregistry/api/v1/` and Access Management's metadata under
//! `{altinn base}/accessmanagement/api/v1/meta/info/accesspackages/` (TT02:
//! `https://platform.tt02.altinn.no`, production `https://platform.altinn.no`, the sandbox and
//! custom servers their own base). No token: both APIs are anonymous.
//!
//! Every answer goes through the [`Cache`]: a fresh entry is used without asking; otherwise
//! the service is asked and the answer stored; when the service cannot be reached (or fails
//! with 5xx) an entry of any age is used and the result says so ([`Source::Cache`] with
//! `offline`). With neither, [`RightsError::Unavailable`] says what could not be reached and
//! that nothing was cached.

use super::cache::{Cache, DEFAULT_TTL, Entry};
use super::{
    RightCandidate, SearchKind, filter_resources, parse_package_resources, parse_package_search,
    resource_keywords,
};
use crate::env::{EnvKind, Environment};
use crate::http::{self, RetryPolicy};
use crate::profile::SystemSpec;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Why metadata could not be had.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RightsError {
    /// Not reachable (network, 5xx, 429 after retries) and nothing cached.
    #[error(
        "could not fetch {url}: {reason}; and there is no cached copy to fall back to\n  hint: check the network (or that the sandbox runs); once one search has succeeded, results are cached for offline use"
    )]
    Unavailable { url: String, reason: String },
    /// The service refused the question (4xx other than 404).
    #[error("{url} answered HTTP {status}: {body}")]
    Rejected {
        url: String,
        status: u16,
        body: String,
    },
    /// An answer that is not the JSON expected.
    #[error("unexpected answer from {url}: {reason}")]
    BadResponse { url: String, reason: String },
}

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "lowercase")]
pub enum Source {
    /// Asked the service now.
    Network,
    /// From the cache: fresh (younger than the lifetime), or `offline` because the service
    /// could not be reached (then possibly stale).
    Cache {
        fetched_at: DateTime<Utc>,
        offline: bool,
    },
}

impl Source {
    /// The note to show with offline results: "offline: results from cache of <time>".
    pub fn note(&self) -> Option<String> {
        match self {
            Source::Cache {
                fetched_at,
                offline: true,
            } => Some(format!(
                "offline: results from cache of {}",
                fetched_at.format("%Y-%m-%d %H:%M UTC")
            )),
            _ => None,
        }
    }

    /// The older / more offline of two sources (for a result built from several answers).
    fn worst(self, other: Source) -> Source {
        match (&self, &other) {
            (Source::Network, _) => other,
            (_, Source::Network) => self,
            (
                Source::Cache {
                    fetched_at: a,
                    offline: oa,
                },
                Source::Cache {
                    fetched_at: b,
                    offline: ob,
                },
            ) => Source::Cache {
                fetched_at: *a.min(b),
                offline: *oa || *ob,
            },
        }
    }
}

/// A search's candidates and where they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchResult {
    pub candidates: Vec<RightCandidate>,
    pub source: Source,
}

/// What a system's rights and packages resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Lookup {
    /// The candidates found (resources by id, packages by urn).
    pub found: Vec<RightCandidate>,
    /// References the service answered 404 for: they do not exist there.
    pub not_found: Vec<String>,
    /// References that could not be checked (no network, no cache), with why.
    pub unchecked: Vec<(String, String)>,
    /// "offline: results from cache of <time>" when any answer came from a stale cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One answer: the body (None for 404), and its source.
struct Answer {
    status: u16,
    body: Value,
    source: Source,
}

/// The metadata client for one environment.
#[derive(Debug, Clone)]
pub struct MetadataClient {
    http: reqwest::Client,
    base: String,
    cache: Option<Cache>,
    retry: RetryPolicy,
}

/// The cache directory's name for an environment: its kind, and for a custom server its
/// host and port (the sandbox's catalogue is the same whatever port it runs on).
pub fn env_label(env: &Environment) -> String {
    match env.kind {
        EnvKind::Custom => format!(
            "custom-{}_{}",
            env.altinn_base.host_str().unwrap_or("host"),
            env.altinn_base.port_or_known_default().unwrap_or(0)
        ),
        k => k.as_str().to_string(),
    }
}

impl MetadataClient {
    /// A client without a cache (every call asks the service).
    pub fn new(env: &Environment, http: reqwest::Client) -> Self {
        MetadataClient {
            http,
            base: env.altinn_base.as_str().trim_end_matches('/').to_string(),
            cache: None,
            retry: RetryPolicy {
                max_attempts: 3,
                ..RetryPolicy::default()
            },
        }
    }

    /// Cache answers under `root/<environment>` (`root` is `<data dir>/cache/metadata`).
    pub fn with_cache(mut self, root: &Path, env: &Environment, ttl: Duration) -> Self {
        self.cache = Some(Cache::new(root, &env_label(env), ttl));
        self
    }

    /// [`Self::with_cache`] with the default lifetime (one hour).
    pub fn with_default_cache(self, root: &Path, env: &Environment) -> Self {
        self.with_cache(root, env, DEFAULT_TTL)
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }

    /// Search resources (the registry's whole list, filtered locally: it has no free-text
    /// search) or access packages (Access Management's `search?term=`).
    pub async fn search(&self, term: &str, kind: SearchKind) -> Result<SearchResult, RightsError> {
        match kind {
            SearchKind::Resources => {
                let a = self.get("/resourceregistry/api/v1/resource/search").await?;
                let list: Vec<(RightCandidate, Vec<String>)> = a
                    .body
                    .as_array()
                    .map(|arr| {
                        arr.iter()
                            .filter_map(|v| {
                                RightCandidate::from_service_resource(v)
                                    .map(|c| (c, resource_keywords(v)))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(SearchResult {
                    candidates: filter_resources(&list, term),
                    source: a.source,
                })
            }
            SearchKind::Packages => {
                let path = format!(
                    "/accessmanagement/api/v1/meta/info/accesspackages/search?term={}",
                    url::form_urlencoded::byte_serialize(term.trim().as_bytes())
                        .collect::<String>()
                );
                let a = self.get(&path).await?;
                Ok(SearchResult {
                    candidates: parse_package_search(&a.body),
                    source: a.source,
                })
            }
        }
    }

    /// One resource by id (`resource/{id}`); `None` when the registry does not know it.
    pub async fn resource(
        &self,
        id: &str,
    ) -> Result<(Option<RightCandidate>, Source), RightsError> {
        let id = id.trim();
        let id = id.strip_prefix(super::RESOURCE_URN_PREFIX).unwrap_or(id);
        let path = format!("/resourceregistry/api/v1/resource/{}", segment(id));
        let a = self.get(&path).await?;
        let c = (a.status == 200)
            .then(|| RightCandidate::from_service_resource(&a.body))
            .flatten();
        Ok((c, a.source))
    }

    /// One package by urn, code or `:code` (`package/urn/{urn}`); `None` when unknown.
    pub async fn package(
        &self,
        urn: &str,
    ) -> Result<(Option<RightCandidate>, Source), RightsError> {
        let path = format!(
            "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/{}",
            segment(urn.trim())
        );
        let a = self.get(&path).await?;
        let c = (a.status == 200)
            .then(|| RightCandidate::from_package_dto(&a.body))
            .flatten();
        Ok((c, a.source))
    }

    /// The resources a package gives (`package/{id}/resources`; its AM id, see
    /// [`RightCandidate::package_id`]). Empty for a 204 or an unknown package.
    pub async fn package_resources(
        &self,
        package_id: &str,
    ) -> Result<(Vec<RightCandidate>, Source), RightsError> {
        let path = format!(
            "/accessmanagement/api/v1/meta/info/accesspackages/package/{}/resources",
            segment(package_id.trim())
        );
        let a = self.get(&path).await?;
        Ok((parse_package_resources(&a.body), a.source))
    }

    /// Look up every right and package of a system: what exists, what does not, and what
    /// could not be checked.
    pub async fn resolve(&self, spec: &SystemSpec) -> Lookup {
        let mut out = Lookup::default();
        let mut source = Source::Network;
        for id in &spec.rights {
            match self.resource(id).await {
                Ok((Some(c), s)) => {
                    out.found.push(c);
                    source = source.worst(s);
                }
                Ok((None, s)) => {
                    out.not_found.push(id.clone());
                    source = source.worst(s);
                }
                Err(e) => out.unchecked.push((id.clone(), e.to_string())),
            }
        }
        for urn in &spec.access_packages {
            match self.package(urn).await {
                Ok((Some(c), s)) => {
                    out.found.push(c);
                    source = source.worst(s);
                }
                Ok((None, s)) => {
                    out.not_found.push(urn.clone());
                    source = source.worst(s);
                }
                Err(e) => out.unchecked.push((urn.clone(), e.to_string())),
            }
        }
        out.note = source.note();
        out
    }

    /// GET `path` through the cache.
    async fn get(&self, path: &str) -> Result<Answer, RightsError> {
        let now = Utc::now();
        let cached: Option<Entry> = self.cache.as_ref().and_then(|c| c.get(path));
        if let (Some(cache), Some(e)) = (&self.cache, &cached)
            && cache.is_fresh(e, now)
        {
            return Ok(Answer {
                status: e.status,
                body: e.body.clone(),
                source: Source::Cache {
                    fetched_at: e.fetched_at,
                    offline: false,
                },
            });
        }
        match self.fetch(path).await {
            Ok((status, body)) => {
                if let Some(c) = &self.cache {
                    c.put(path, status, &body);
                }
                Ok(Answer {
                    status,
                    body,
                    source: Source::Network,
                })
            }
            Err(Fetch::Unreachable(url, reason)) => match cached {
                Some(e) => {
                    tracing::info!(%url, %reason, "metadata service unreachable: using the cache");
                    Ok(Answer {
                        status: e.status,
                        body: e.body,
                        source: Source::Cache {
                            fetched_at: e.fetched_at,
                            offline: true,
                        },
                    })
                }
                None => Err(RightsError::Unavailable { url, reason }),
            },
            Err(Fetch::Error(e)) => Err(e),
        }
    }

    /// One GET with retries of throttling, gateway errors and failed connections. 204 and the
    /// services' 404 ProblemDetails are answers (`null` bodies), not errors.
    async fn fetch(&self, path: &str) -> Result<(u16, Value), Fetch> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            let sent = self
                .http
                .get(&url)
                .header(reqwest::header::ACCEPT, "application/json")
                .header(reqwest::header::ACCEPT_LANGUAGE, "nb")
                .send()
                .await;
            let (retry_after, reason) = match sent {
                Err(e) => (None, crate::maskinporten::describe_reqwest(&e)),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let after = http::retry_after(resp.headers());
                    match status {
                        204 => return Ok((status, Value::Null)),
                        // The controllers' `NotFound()` in an `[ApiController]` writes an RFC 9110
                        // ProblemDetails (ResourceController.Get, PackagesController.GetPackageByUrn);
                        // a bare 404 is a server without this API (a route it does not have), which
                        // says nothing about the resource: not checked, not "does not exist".
                        404 => {
                            let body = resp.text().await.unwrap_or_default();
                            let problem =
                                serde_json::from_str::<Value>(&body).ok().is_some_and(|v| {
                                    v.get("status").and_then(Value::as_u64) == Some(404)
                                });
                            if problem {
                                return Ok((404, Value::Null));
                            }
                            return Err(Fetch::Unreachable(
                                url,
                                "HTTP 404 without a ProblemDetails: this server has no such metadata API".into(),
                            ));
                        }
                        200 => {
                            let text = resp.text().await.map_err(|e| {
                                Fetch::Unreachable(
                                    url.clone(),
                                    crate::maskinporten::describe_reqwest(&e),
                                )
                            })?;
                            return serde_json::from_str(&text).map(|v| (200, v)).map_err(|e| {
                                Fetch::Error(RightsError::BadResponse {
                                    url: url.clone(),
                                    reason: format!(
                                        "not JSON ({e}): {}",
                                        http::excerpt(&text, 200)
                                    ),
                                })
                            });
                        }
                        s if http::is_retryable_status(s) || s >= 500 => {
                            let body = resp.text().await.unwrap_or_default();
                            let reason = format!("HTTP {s}: {}", http::excerpt(&body, 200));
                            if !http::is_retryable_status(s) {
                                return Err(Fetch::Unreachable(url, reason));
                            }
                            (after, reason)
                        }
                        s => {
                            let body = resp.text().await.unwrap_or_default();
                            return Err(Fetch::Error(RightsError::Rejected {
                                url,
                                status: s,
                                body: http::excerpt(&body, 300),
                            }));
                        }
                    }
                }
            };
            match self.retry.wait(attempt, retry_after) {
                Some(d) => {
                    tokio::time::sleep(d).await;
                    attempt += 1;
                }
                None => return Err(Fetch::Unreachable(url, reason)),
            }
        }
    }
}

enum Fetch {
    /// Worth falling back to the cache: no answer, or a server failure.
    Unreachable(String, String),
    Error(RightsError),
}

/// A path segment, percent-encoded (ids and urns may carry anything a user typed): all but
/// RFC 3986 unreserved characters and `:` (urns keep their colons, as AM's own clients send
/// them).
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_but_urns_stay_readable() {
        assert_eq!(
            segment("urn:altinn:accesspackage:skatt-naering"),
            "urn:altinn:accesspackage:skatt-naering"
        );
        assert_eq!(segment("a/b c?"), "a%2Fb%20c%3F");
        assert_eq!(segment("ø"), "%C3%B8");
    }

    #[test]
    fn env_labels() {
        assert_eq!(env_label(&Environment::tt02()), "tt02");
        let c =
            Environment::from_parts(EnvKind::Custom, "http://127.0.0.1:9/", "http://127.0.0.1:9")
                .unwrap();
        assert_eq!(env_label(&c), "custom-127.0.0.1_9");
    }

    #[test]
    fn offline_note_names_the_time() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let s = Source::Cache {
            fetched_at: t,
            offline: true,
        };
        assert_eq!(
            s.note().as_deref(),
            Some("offline: results from cache of 2026-01-02 03:04 UTC")
        );
        assert_eq!(Source::Network.note(), None);
    }
}
