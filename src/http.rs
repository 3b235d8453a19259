//! The one HTTP client configuration every remote call uses: rustls, timeouts, a user agent,
//! and the server clock read from `Date` headers.

use std::time::{Duration, SystemTime};

pub const USER_AGENT: &str = concat!("altinn-onboard/", env!("CARGO_PKG_VERSION"));

/// Every request has a deadline: a hung server must become an error the user can act on.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        // The Altinn and Maskinporten APIs never redirect an API call; a redirect would most
        // likely be a login page or a misconfigured proxy, which we want to report, not follow.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
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
