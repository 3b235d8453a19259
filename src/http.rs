//! The one HTTP client configuration every remote call uses: rustls, timeouts, a user agent,
//! and the server clock read from `Date` headers.

use std::time::{Duration, SystemTime};

pub const USER_AGENT: &str = concat!("altinn-onboard/", env!("CARGO_PKG_VERSION"));

/// The HTTP client could not be set up (in practice: the TLS roots could not be loaded, e.g.
/// `SSL_CERT_FILE` names a file with no valid certificate).
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot set up the HTTP client: {detail}\n  hint: check SSL_CERT_FILE / SSL_CERT_DIR (they replace the system's CA store) and the proxy variables"
)]
pub struct ClientError {
    detail: String,
}

/// Every request has a deadline: a hung server must become an error the user can act on.
/// A builder failure is an error, never a silent fallback to a client without timeouts and
/// redirect policy.
pub fn client() -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        // The Altinn and Maskinporten APIs never redirect an API call; a redirect would most
        // likely be a login page or a misconfigured proxy, which we want to report, not follow.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ClientError {
            // reqwest's Display says only "builder error"; the cause says what went wrong.
            detail: std::error::Error::source(&e)
                .map(|s| s.to_string().trim().to_string())
                .unwrap_or_else(|| e.to_string()),
        })
}

/// Seconds the server's clock is ahead of ours (negative: behind), from its `Date` header.
pub fn clock_offset_secs(headers: &reqwest::header::HeaderMap) -> Option<i64> {
    let date = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    let server = httpdate::parse_http_date(date).ok()?;
    let now = SystemTime::now();
    Some(match server.duration_since(now) {
        Ok(ahead) => ahead.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    })
}

/// At most `max` characters of a response body, for error messages.
pub fn excerpt(body: &str, max: usize) -> String {
    let trimmed = body.trim();
    if trimmed.chars().count() <= max {
        trimmed.to_string()
    } else {
        let mut s: String = trimmed.chars().take(max).collect();
        s.push('…');
        s
    }
}

/// When and how long to wait before trying a call again: capped exponential backoff with
/// jitter, and the server's `Retry-After` when it gives one (429/503).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// A `Retry-After` longer than this is not waited for: the error is reported instead.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `attempt + 1` (0-based `attempt` just failed): "full jitter"
    /// between half and all of `min(cap, base * 2^attempt)`, so a room of clients that failed
    /// together do not come back together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        use rand::Rng;
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX));
        let ceiling = exp.min(self.cap);
        let factor = rand::thread_rng().gen_range(0.5..=1.0);
        ceiling.mul_f64(factor)
    }

    /// How long to wait after a retryable answer, or `None` to give up now.
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempt + 1 >= self.max_attempts {
            return None;
        }
        match retry_after {
            Some(d) if d > self.max_retry_after => None,
            Some(d) => Some(d),
            None => Some(self.backoff(attempt)),
        }
    }
}

/// Statuses worth another try: throttling and the gateway/unavailable family. A plain 500 is
/// usually a bug on the server that repeats, so it is reported at once.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        for attempt in 0..10 {
            let d = p.backoff(attempt);
            let ceiling = p.base.saturating_mul(1 << attempt.min(16)).min(p.cap);
            assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d:?}");
        }
        assert_eq!(
            p.wait(p.max_attempts - 1, None),
            None,
            "no wait after the last attempt"
        );
        assert_eq!(
            p.wait(0, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            p.wait(0, Some(Duration::from_secs(3600))),
            None,
            "an absurd Retry-After is not waited for"
        );
        assert_eq!(RetryPolicy::none().wait(0, None), None);
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(10));
        h.insert(reqwest::header::RETRY_AFTER, later.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d <= Duration::from_secs(10) && d >= Duration::from_secs(8),
            "{d:?}"
        );
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        assert!(
            is_retryable_status(429)
                && is_retryable_status(503)
                && !is_retryable_status(500)
                && !is_retryable_status(404)
        );
    }
}
