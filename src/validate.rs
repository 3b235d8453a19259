//! Validation of every user input before anything is sent. Each check returns the normalised
//! value or a [`ValidationError`] that says what is wrong and what a valid value looks like.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Human name of the field ("organisation number").
    pub field: &'static str,
    pub value: String,
    pub problem: String,
    pub expected: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} `{}`: {}; expected {}",
            self.field, self.value, self.problem, self.expected
        )
    }
}

impl std::error::Error for ValidationError {}

fn err(
    field: &'static str,
    value: &str,
    problem: impl Into<String>,
    expected: &str,
) -> ValidationError {
    let shown: String = value.chars().take(80).collect();
    ValidationError {
        field,
        value: shown,
        problem: problem.into(),
        expected: expected.to_string(),
    }
}

/// The mod-11 check digit of an organisation number's first eight digits (weights
/// 3,2,7,6,5,4,3,2); `None` when the remainder makes the number invalid.
pub fn org_check_digit(first8: &[u32]) -> Option<u32> {
    const W: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = first8.iter().zip(W).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c),
    }
}

/// A Norwegian organisation number: 9 digits with a valid mod-11 check digit. Spaces and a
/// `0192:` prefix are accepted and removed.
pub fn org_number(input: &str) -> Result<String, ValidationError> {
    const F: &str = "organisation number";
    const E: &str = "9 digits with a valid check digit, e.g. 310904473";
    let mut s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(rest) = s.strip_prefix("0192:") {
        s = rest.to_string();
    }
    if s.is_empty() {
        return Err(err(F, input, "it is empty", E));
    }
    if !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(err(F, input, "it may only contain digits", E));
    }
    if s.len() != 9 {
        return Err(err(
            F,
            input,
            format!("it must be exactly 9 digits (got {})", s.len()),
            E,
        ));
    }
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    match org_check_digit(&digits[..8]) {
        None => Err(err(
            F,
            input,
            "no valid check digit exists for these first 8 digits (mod 11 gives 10)",
            E,
        )),
        Some(c) if c != digits[8] => Err(err(
            F,
            input,
            format!("the check digit is wrong (the last digit should be {c}); check for a typo"),
            E,
        )),
        Some(_) => Ok(s),
    }
}

fn plain_token(
    field: &'static str,
    input: &str,
    max: usize,
    expected: &str,
) -> Result<String, ValidationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(err(field, input, "it is empty", expected));
    }
    if s.chars().count() > max {
        return Err(err(
            field,
            input,
            format!("it is longer than {max} characters"),
            expected,
        ));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err(
            field,
            input,
            "it must not contain spaces or control characters",
            expected,
        ));
    }
    Ok(s.to_string())
}

/// A Maskinporten client id (normally a UUID from the self-service portal).
pub fn client_id(input: &str) -> Result<String, ValidationError> {
    plain_token(
        "client id",
        input,
        128,
        "the client id from the self-service portal, e.g. 0b5a0ab1-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
    )
}

/// A key id.
pub fn kid(input: &str) -> Result<String, ValidationError> {
    plain_token(
        "key id (kid)",
        input,
        128,
        "a short id without spaces, e.g. the kid shown in the portal",
    )
}

/// Space- or comma-separated scopes, each `prefix:name`; deduplicated, order kept.
pub fn scopes(input: &str) -> Result<Vec<String>, ValidationError> {
    const F: &str = "scope";
    const E: &str = "space-separated scopes like altinn:authentication/systemregister.write";
    let mut out: Vec<String> = Vec::new();
    for s in input
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
    {
        let Some((prefix, name)) = s.split_once(':') else {
            return Err(err(F, s, "a scope has the form prefix:name", E));
        };
        let prefix_ok = !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/-:".contains(c));
        if !prefix_ok || !name_ok {
            return Err(err(F, s, "it has characters a scope cannot have", E));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        return Err(err(F, input, "at least one scope is needed", E));
    }
    Ok(out)
}

/// The short system name: the part after `{vendorOrg}_` in the system id.
pub fn system_name(input: &str) -> Result<String, ValidationError> {
    const F: &str = "system name";
    let s = input.trim();
    let suggestion: String = s
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_matches('_')
        .to_string();
    let expected = if suggestion.is_empty() || suggestion == s {
        "1-64 of a-z, 0-9, _ and -, e.g. smartcloud".to_string()
    } else {
        format!("1-64 of a-z, 0-9, _ and -, e.g. {suggestion}")
    };
    if s.is_empty() {
        return Err(err(F, input, "it is empty", &expected));
    }
    if s.chars().count() > 64 {
        return Err(err(F, input, "it is longer than 64 characters", &expected));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(err(
            F,
            input,
            "the system register's ids use lower-case letters, digits, _ and - only",
            &expected,
        ));
    }
    Ok(s.to_string())
}

/// `{vendorOrg}_{name}`.
pub fn system_id(vendor_org: &str, name: &str) -> Result<String, ValidationError> {
    Ok(format!(
        "{}_{}",
        org_number(vendor_org)?,
        system_name(name)?
    ))
}

/// An absolute URL: https, or http only for loopback hosts (a local sandbox).
pub fn https_url(input: &str) -> Result<String, ValidationError> {
    const F: &str = "URL";
    const E: &str = "an absolute https URL (http only for 127.0.0.1/localhost)";
    let s = input.trim();
    let url = url::Url::parse(s).map_err(|e| err(F, input, e.to_string(), E))?;
    match url.scheme() {
        "https" => {}
        "http" if crate::env::is_loopback(&url) => {}
        "http" => {
            return Err(err(
                F,
                input,
                "plain http is only allowed for loopback hosts",
                E,
            ));
        }
        other => {
            return Err(err(
                F,
                input,
                format!("scheme `{other}` is not supported"),
                E,
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(err(F, input, "it has no host", E));
    }
    Ok(s.to_string())
}

/// A resource id for rights: `urn:altinn:resource:<id>` or the bare id; returns the bare id.
pub fn resource_id(input: &str) -> Result<String, ValidationError> {
    const F: &str = "resource id";
    const E: &str =
        "a resource id like ske-krav-og-betalinger (or urn:altinn:resource:ske-krav-og-betalinger)";
    let s = input.trim();
    let id = s.strip_prefix("urn:altinn:resource:").unwrap_or(s);
    if id.is_empty() || id.len() > 100 {
        return Err(err(F, input, "it must be 1-100 characters", E));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err(
            F,
            input,
            "it may contain letters, digits, - and _ only",
            E,
        ));
    }
    Ok(id.to_string())
}

/// An access package URN; a bare name gets the `urn:altinn:accesspackage:` prefix.
pub fn access_package(input: &str) -> Result<String, ValidationError> {
    const F: &str = "access package";
    const E: &str = "urn:altinn:accesspackage:<name>, e.g. urn:altinn:accesspackage:skattnaering";
    let s = input.trim();
    let name = s.strip_prefix("urn:altinn:accesspackage:").unwrap_or(s);
    if name.is_empty() || name.contains(':') {
        return Err(err(F, input, "not an access package URN", E));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(err(
            F,
            input,
            "package names use lower-case letters, digits and - only",
            E,
        ));
    }
    Ok(format!("urn:altinn:accesspackage:{name}"))
}

/// An external reference; it becomes a URL path segment, so `/`, `?` and `#` are refused.
pub fn external_ref(input: &str) -> Result<String, ValidationError> {
    const E: &str = "1-255 characters without spaces, / ? or #";
    let s = plain_token("external reference", input, 255, E)?;
    if s.contains(['/', '?', '#', '%']) {
        return Err(err(
            "external reference",
            input,
            "it is used in URL paths and cannot contain / ? # or %",
            E,
        ));
    }
    Ok(s)
}

/// A profile name (it becomes a file name).
pub fn profile_name(input: &str) -> Result<String, ValidationError> {
    const E: &str = "1-64 of letters, digits, _ and -, e.g. default or demo";
    let s = input.trim();
    if s.is_empty()
        || s.len() > 64
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err("profile name", input, "it is not a simple name", E));
    }
    Ok(s.to_string())
}

/// A request id (UUID).
pub fn uuid(input: &str) -> Result<String, ValidationError> {
    uuid::Uuid::parse_str(input.trim())
        .map(|u| u.to_string())
        .map_err(|_| {
            err(
                "request id",
                input,
                "it is not a UUID",
                "e.g. 7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_numbers() {
        const CASES: &[(&str, Result<&str, &str>)] = &[
            ("310904473", Ok("310904473")),
            ("991825827", Ok("991825827")),
            ("974760673", Ok("974760673")),
            ("974 760 673", Ok("974760673")),
            ("0192:974760673", Ok("974760673")),
            ("974760672", Err("should be 3")),
            ("97476067", Err("got 8")),
            ("9747606731", Err("got 10")),
            ("97476067a", Err("only contain digits")),
            ("", Err("empty")),
        ];
        for (input, want) in CASES {
            match (org_number(input), want) {
                (Ok(v), Ok(w)) => assert_eq!(&v, w),
                (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{input}: {e}"),
                (got, _) => panic!("{input}: {got:?}"),
            }
        }
    }

    #[test]
    fn the_rest() {
        type Check = fn(&str) -> bool;
        let cases: &[(&str, Check, &str, bool)] = &[
            (
                "client",
                |s| client_id(s).is_ok(),
                "0b5a0ab1-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
                true,
            ),
            ("client", |s| client_id(s).is_ok(), "has space", false),
            ("client", |s| client_id(s).is_ok(), "", false),
            ("kid", |s| kid(s).is_ok(), "my-key-2026", true),
            (
                "scopes",
                |s| scopes(s).is_ok(),
                "altinn:authentication/systemregister.write altinn:x",
                true,
            ),
            ("scopes", |s| scopes(s).is_ok(), "noprefix", false),
            ("scopes", |s| scopes(s).is_ok(), "  ", false),
            ("name", |s| system_name(s).is_ok(), "smartcloud_2", true),
            ("name", |s| system_name(s).is_ok(), "SmartCloud App", false),
            (
                "url",
                |s| https_url(s).is_ok(),
                "https://api.example/x",
                true,
            ),
            (
                "url",
                |s| https_url(s).is_ok(),
                "http://127.0.0.1:8080/x",
                true,
            ),
            (
                "url",
                |s| https_url(s).is_ok(),
                "http://example.com/",
                false,
            ),
            ("url", |s| https_url(s).is_ok(), "ftp://x/", false),
            (
                "resource",
                |s| resource_id(s).is_ok(),
                "urn:altinn:resource:ske-krav-og-betalinger",
                true,
            ),
            (
                "resource",
                |s| resource_id(s).is_ok(),
                "bad resource",
                false,
            ),
            (
                "package",
                |s| access_package(s).is_ok(),
                "skattnaering",
                true,
            ),
            (
                "package",
                |s| access_package(s).is_ok(),
                "urn:altinn:accesspackage:Bad!",
                false,
            ),
            ("ref", |s| external_ref(s).is_ok(), "customer-42", true),
            ("ref", |s| external_ref(s).is_ok(), "a/b", false),
            ("profile", |s| profile_name(s).is_ok(), "demo", true),
            ("profile", |s| profile_name(s).is_ok(), "../etc", false),
            (
                "uuid",
                |s| uuid(s).is_ok(),
                "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11",
                true,
            ),
            ("uuid", |s| uuid(s).is_ok(), "42", false),
        ];
        for (what, check, input, ok) in cases {
            assert_eq!(check(input), *ok, "{what}: {input}");
        }
        assert_eq!(scopes("a:b a:b,c:d").unwrap(), ["a:b", "c:d"]);
        assert_eq!(
            access_package("skattnaering").unwrap(),
            "urn:altinn:accesspackage:skattnaering"
        );
        assert_eq!(resource_id("urn:altinn:resource:x1").unwrap(), "x1");
        assert!(
            system_name("SmartCloud App")
                .unwrap_err()
                .to_string()
                .contains("smartcloud_app")
        );
    }
}
