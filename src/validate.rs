//! Validation of every user input before anything is sent. Each function returns the
//! normalised value or a [`ValidationError`] that says what is wrong and what a valid value
//! looks like.
//!
//! The wizard shows these messages verbatim (and the TUI snapshot tests pin some of them), so
//! change wording deliberately.

use std::fmt;

/// One invalid input: which field, the value as given (shortened, control characters
/// escaped), what is wrong with it and what a valid value looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} `{value}`: {problem}; expected {expected}")]
pub struct ValidationError {
    /// Human name of the field ("organisation number").
    pub field: &'static str,
    pub value: String,
    pub problem: String,
    pub expected: String,
}

/// The value as shown in a message: at most 80 characters, control characters escaped so a
/// pasted newline or escape sequence cannot break the terminal.
fn shown(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == 80 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn err(
    field: &'static str,
    value: &str,
    problem: impl Into<String>,
    expected: impl Into<String>,
) -> ValidationError {
    ValidationError {
        field,
        value: shown(value),
        problem: problem.into(),
        expected: expected.into(),
    }
}

/// Describe the first character of `s` that `allowed` rejects, e.g. "` ` (a space)".
fn first_bad_char(s: &str, allowed: impl Fn(char) -> bool) -> Option<String> {
    s.chars().find(|c| !allowed(*c)).map(|c| match c {
        ' ' => "a space".to_string(),
        c if c.is_whitespace() => "a whitespace character".to_string(),
        c if c.is_control() => format!("the control character {}", c.escape_default()),
        c => format!("`{c}`"),
    })
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

/// A Norwegian organisation number: 9 digits with a valid mod-11 check digit. Surrounding and
/// inner spaces (`974 760 673`), an ISO 6523 `0192:` prefix and the VAT form
/// (`NO 974 760 673 MVA`) are accepted; the bare 9 digits are returned.
pub fn org_number(input: &str) -> Result<String, ValidationError> {
    const F: &str = "organisation number";
    const E: &str = "9 digits with a valid check digit, e.g. 310904473";
    let mut s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(rest) = s.strip_prefix("0192:") {
        s = rest.to_string();
    }
    let upper = s.to_ascii_uppercase();
    if upper.starts_with("NO") && upper.ends_with("MVA") && s.len() >= 5 {
        s = s[2..s.len() - 3].to_string();
    }
    if s.is_empty() {
        return Err(err(F, input, "it is empty", E));
    }
    if let Some(bad) = first_bad_char(&s, |c| c.is_ascii_digit()) {
        return Err(err(
            F,
            input,
            format!("it may only contain digits (found {bad})"),
            E,
        ));
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
            "no organisation number starts with these 8 digits (the mod-11 check digit would be 10); check for a typo",
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

/// A trimmed, non-empty token without whitespace or control characters.
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
    let len = s.chars().count();
    if len > max {
        return Err(err(
            field,
            input,
            format!("it is longer than {max} characters (got {len})"),
            expected,
        ));
    }
    if let Some(bad) = first_bad_char(s, |c| !c.is_whitespace() && !c.is_control()) {
        return Err(err(
            field,
            input,
            format!("it must not contain spaces or control characters (found {bad})"),
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

/// A key id (the JWT header's `kid`).
pub fn kid(input: &str) -> Result<String, ValidationError> {
    plain_token(
        "key id (kid)",
        input,
        128,
        "a short id without spaces, e.g. the kid shown in the self-service portal",
    )
}

/// Space- or comma-separated Maskinporten scopes, each `prefix:name` (prefix `[a-z0-9._-]+`,
/// name `[A-Za-z0-9._/-]+`); deduplicated with the order kept; at least one.
pub fn scopes(input: &str) -> Result<Vec<String>, ValidationError> {
    const F: &str = "scope";
    const E: &str = "space-separated scopes like altinn:authentication/systemregister.write";
    let prefix_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    let name_char = |c: char| c.is_ascii_alphanumeric() || "._/-".contains(c);
    let mut out: Vec<String> = Vec::new();
    for s in input
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
    {
        let Some((prefix, name)) = s.split_once(':') else {
            return Err(err(
                F,
                s,
                "a scope has the form prefix:name (no `:` found)",
                E,
            ));
        };
        if prefix.is_empty() || name.is_empty() {
            return Err(err(
                F,
                s,
                "both the prefix before `:` and the name after it are needed",
                E,
            ));
        }
        if let Some(bad) = first_bad_char(prefix, prefix_char) {
            let hint = if prefix.chars().any(|c| c.is_ascii_uppercase()) {
                format!("; did you mean {}:{name}?", prefix.to_ascii_lowercase())
            } else {
                String::new()
            };
            return Err(err(
                F,
                s,
                format!(
                    "the prefix may contain lower-case letters, digits, . _ and - only (found {bad}){hint}"
                ),
                E,
            ));
        }
        if let Some(bad) = first_bad_char(name, name_char) {
            return Err(err(
                F,
                s,
                format!(
                    "the name after `:` may contain letters, digits, . _ / and - only (found {bad})"
                ),
                E,
            ));
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

/// What `input` would look like as a system name: lower case, Norwegian letters spelled out,
/// anything else as `_`, no repeated or edge underscores, at most 64 characters.
fn suggest_system_name(input: &str) -> String {
    let mut out = String::new();
    for c in input.trim().to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' => out.push(c),
            'æ' => out.push_str("ae"),
            'ø' | 'ö' => out.push('o'),
            'å' | 'ä' => out.push('a'),
            'é' | 'è' | 'ê' => out.push('e'),
            'ü' => out.push('u'),
            _ => {
                if !out.ends_with('_') {
                    out.push('_');
                }
            }
        }
    }
    let trimmed: String = out.trim_matches('_').chars().take(64).collect();
    trimmed.trim_end_matches('_').to_string()
}

/// The short system name: the part after `{vendorOrg}_` in the system id. 1-64 of
/// `[a-z0-9_-]`; the error suggests a fixed version ("SmartCloud App" -> "smartcloud_app").
pub fn system_name(input: &str) -> Result<String, ValidationError> {
    const F: &str = "system name";
    let s = input.trim();
    let suggestion = suggest_system_name(s);
    let expected = if suggestion.is_empty() || suggestion == s {
        "1-64 of a-z, 0-9, _ and -, e.g. smartcloud".to_string()
    } else {
        format!("1-64 of a-z, 0-9, _ and -, e.g. {suggestion}")
    };
    if s.is_empty() {
        return Err(err(F, input, "it is empty", expected));
    }
    let len = s.chars().count();
    if len > 64 {
        return Err(err(
            F,
            input,
            format!("it is longer than 64 characters (got {len})"),
            expected,
        ));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(err(
            F,
            input,
            "the system register's ids use lower-case letters, digits, _ and - only",
            expected,
        ));
    }
    Ok(s.to_string())
}

/// The system register id `{vendorOrg}_{name}`, from an organisation number and a system
/// name, both validated (and normalised) here.
pub fn system_id(vendor_org: &str, name: &str) -> Result<String, ValidationError> {
    Ok(format!(
        "{}_{}",
        org_number(vendor_org)?,
        system_name(name)?
    ))
}

/// An absolute URL: https, or http only for loopback hosts (a local sandbox). No user name or
/// password in it (they would end up in logs and profiles). Returns the trimmed input.
pub fn https_url(input: &str) -> Result<String, ValidationError> {
    const F: &str = "URL";
    const E: &str = "an absolute https URL (http only for 127.0.0.1/localhost)";
    let s = input.trim();
    if s.is_empty() {
        return Err(err(F, input, "it is empty", E));
    }
    if let Some(bad) = first_bad_char(s, |c| !c.is_whitespace() && !c.is_control()) {
        return Err(err(
            F,
            input,
            format!("it must not contain {bad}; percent-encode it"),
            E,
        ));
    }
    let url = url::Url::parse(s).map_err(|e| {
        let problem = match e {
            url::ParseError::RelativeUrlWithoutBase => {
                format!("it is not absolute; did you mean https://{s}?")
            }
            other => other.to_string(),
        };
        err(F, input, problem, E)
    })?;
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
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err(
            F,
            input,
            "it must not contain a user name or password",
            E,
        ));
    }
    Ok(s.to_string())
}

/// A resource id for rights: `urn:altinn:resource:<id>` or the bare id; returns the bare id.
/// 1-255 of `[a-z0-9_-]`. (Altinn's own rule is `^[a-z0-9_-]{4,}$`, `ServiceResourceHelper` in
/// Altinn/altinn-access-management; shorter ids are let through here for emulators and tests,
/// and the register answers AUTH.VLD-00003 for a resource it does not know.)
pub fn resource_id(input: &str) -> Result<String, ValidationError> {
    const F: &str = "resource id";
    const E: &str =
        "a resource id like ske-krav-og-betalinger (or urn:altinn:resource:ske-krav-og-betalinger)";
    let s = input.trim();
    let id = s.strip_prefix("urn:altinn:resource:").unwrap_or(s);
    if id.is_empty() {
        return Err(err(F, input, "it is empty", E));
    }
    if id.starts_with("urn:") {
        return Err(err(
            F,
            input,
            "only urn:altinn:resource:<id> URNs name a resource",
            E,
        ));
    }
    let len = id.chars().count();
    if len > 255 {
        return Err(err(
            F,
            input,
            format!("it must be at most 255 characters (got {len})"),
            E,
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if let Some(bad) = first_bad_char(id, allowed) {
        let lower = id.to_ascii_lowercase();
        let hint = if lower.chars().all(allowed) {
            format!("; did you mean {lower}?")
        } else {
            String::new()
        };
        return Err(err(
            F,
            input,
            format!("it may contain lower-case letters, digits, - and _ only (found {bad}){hint}"),
            E,
        ));
    }
    Ok(id.to_string())
}

/// An access package URN; a bare name gets the `urn:altinn:accesspackage:` prefix.
pub fn access_package(input: &str) -> Result<String, ValidationError> {
    const F: &str = "access package";
    const E: &str = "urn:altinn:accesspackage:<name>, e.g. urn:altinn:accesspackage:skatt-naering";
    let s = input.trim();
    let name = s.strip_prefix("urn:altinn:accesspackage:").unwrap_or(s);
    if name.is_empty() {
        return Err(err(F, input, "the package name is empty", E));
    }
    if name.contains(':') {
        return Err(err(F, input, "it is not an access package URN", E));
    }
    if let Some(bad) = first_bad_char(name, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    }) {
        return Err(err(
            F,
            input,
            format!("package names use lower-case letters, digits and - only (found {bad})"),
            E,
        ));
    }
    Ok(format!("urn:altinn:accesspackage:{name}"))
}

/// An external reference (the vendor's own id for the customer relation). It becomes a URL
/// path segment (`.../byexternalref/{systemId}/{orgNo}/{externalRef}`), so `/`, `?`, `#`, `%`
/// and `\` are refused along with whitespace and control characters.
pub fn external_ref(input: &str) -> Result<String, ValidationError> {
    const F: &str = "external reference";
    const E: &str = "1-255 characters without spaces, / ? # % or \\, e.g. customer-42";
    let s = plain_token(F, input, 255, E)?;
    if let Some(bad) = first_bad_char(&s, |c| !matches!(c, '/' | '?' | '#' | '%' | '\\')) {
        return Err(err(
            F,
            input,
            format!("it is used in URL paths and cannot contain {bad}"),
            E,
        ));
    }
    if s == "." || s == ".." {
        return Err(err(F, input, "it would be read as a relative path", E));
    }
    Ok(s)
}

/// A profile name (it becomes a file name): 1-64 of `[A-Za-z0-9_-]`.
pub fn profile_name(input: &str) -> Result<String, ValidationError> {
    const F: &str = "profile name";
    const E: &str = "1-64 of letters, digits, _ and -, e.g. default or demo";
    let s = input.trim();
    if s.is_empty() {
        return Err(err(F, input, "it is empty", E));
    }
    let len = s.chars().count();
    if len > 64 {
        return Err(err(
            F,
            input,
            format!("it is longer than 64 characters (got {len})"),
            E,
        ));
    }
    if let Some(bad) = first_bad_char(s, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(err(
            F,
            input,
            format!("it becomes a file name and may not contain {bad}"),
            E,
        ));
    }
    Ok(s.to_string())
}

/// A request id (UUID), returned in the canonical lower-case hyphenated form.
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

/// For `Display`-style listing of several errors at once.
pub struct Errors<'a>(pub &'a [ValidationError]);

impl fmt::Display for Errors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Ok(normalised)` or `Err(substring of the message)`.
    type Case = (&'static str, Result<&'static str, &'static str>);

    fn run(name: &str, f: fn(&str) -> Result<String, ValidationError>, cases: &[Case]) {
        for (input, want) in cases {
            match (f(input), want) {
                (Ok(v), Ok(w)) => assert_eq!(&v, w, "{name}: {input:?}"),
                (Err(e), Err(w)) => {
                    let msg = e.to_string();
                    assert!(msg.contains(w), "{name}: {input:?}: {msg}");
                    assert!(msg.contains("; expected "), "{name}: {msg}");
                }
                (got, _) => panic!("{name}: {input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn org_numbers() {
        const CASES: &[Case] = &[
            ("310904473", Ok("310904473")),
            ("991825827", Ok("991825827")),
            ("974760673", Ok("974760673")),
            ("923609016", Ok("923609016")),
            (" 974 760 673 ", Ok("974760673")),
            ("0192:974760673", Ok("974760673")),
            ("0192: 310 904 473", Ok("310904473")),
            ("NO 974 760 673 MVA", Ok("974760673")),
            ("no974760673mva", Ok("974760673")),
            ("974760672", Err("the last digit should be 3")),
            ("310904474", Err("check digit is wrong")),
            ("991825828", Err("should be 7")),
            // 12345678: 3+4+21+24+25+24+21+16 = 138, 138 % 11 = 6, 11 - 6 = 5.
            ("123456785", Ok("123456785")),
            ("123456789", Err("should be 5")),
            // 00000019: 1*3 + 9*2 = 21, 21 % 11 = 10, 11 - 10 = 1.
            ("000000190", Err("should be 1")),
            ("000000191", Ok("000000191")),
            // 10000013: 3 + 1*3 + 3*2 = 12, 12 % 11 = 1: no valid check digit exists.
            ("100000130", Err("would be 10")),
            ("97476067", Err("exactly 9 digits (got 8)")),
            ("9747606731", Err("got 10")),
            ("97476067a", Err("only contain digits (found `a`)")),
            ("974-760-673", Err("found `-`")),
            ("0192:", Err("empty")),
            ("", Err("empty")),
            ("   ", Err("empty")),
        ];
        run("org_number", org_number, CASES);
        // The message has the documented shape.
        assert_eq!(
            org_number("12345678").unwrap_err().to_string(),
            "invalid organisation number `12345678`: it must be exactly 9 digits (got 8); \
             expected 9 digits with a valid check digit, e.g. 310904473"
        );
    }

    #[test]
    fn check_digit_table() {
        // 310904473: 3*3+1*2+0*7+9*6+0*5+4*4+4*3+7*2 = 107, 107 % 11 = 8, 11 - 8 = 3.
        assert_eq!(org_check_digit(&[3, 1, 0, 9, 0, 4, 4, 7]), Some(3));
        assert_eq!(org_check_digit(&[0, 0, 0, 0, 0, 0, 0, 0]), Some(0));
        assert_eq!(org_check_digit(&[1, 0, 0, 0, 0, 0, 1, 3]), None);
    }

    #[test]
    fn client_ids() {
        const CASES: &[Case] = &[
            (
                "0b5a0ab1-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
                Ok("0b5a0ab1-2c3d-4e5f-8a9b-0c1d2e3f4a5b"),
            ),
            ("  my_client  ", Ok("my_client")),
            ("has space", Err("found a space")),
            ("tab\there", Err("whitespace")),
            ("bell\u{7}", Err("control character")),
            ("", Err("empty")),
        ];
        run("client_id", client_id, CASES);
        let long = "a".repeat(129);
        assert!(
            client_id(&long)
                .unwrap_err()
                .to_string()
                .contains("got 129")
        );
        assert!(client_id(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn kids() {
        const CASES: &[Case] = &[
            ("my-key-2026", Ok("my-key-2026")),
            (
                "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
                Ok("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
            ),
            ("two words", Err("spaces")),
            ("", Err("empty")),
        ];
        run("kid", kid, CASES);
    }

    #[test]
    fn scope_lists() {
        let ok: &[(&str, &[&str])] = &[
            (
                "altinn:authentication/systemregister.write",
                &["altinn:authentication/systemregister.write"],
            ),
            ("a:b a:b,c:d", &["a:b", "c:d"]),
            ("  x:y  \n z.z-1:A_b/c ", &["x:y", "z.z-1:A_b/c"]),
        ];
        for (input, want) in ok {
            assert_eq!(scopes(input).unwrap(), *want, "{input:?}");
        }
        let bad: &[(&str, &str)] = &[
            ("noprefix", "no `:` found"),
            (":name", "prefix before"),
            ("prefix:", "name after"),
            ("Altinn:x", "did you mean altinn:x?"),
            ("altinn:a b:c?", "found `?`"),
            ("altinn:x:y", "found `:`"),
            ("  ", "at least one scope"),
            ("", "at least one scope"),
            (",,", "at least one scope"),
        ];
        for (input, needle) in bad {
            let e = scopes(input).unwrap_err().to_string();
            assert!(e.contains(needle), "{input:?}: {e}");
        }
    }

    #[test]
    fn system_names() {
        const CASES: &[Case] = &[
            ("smartcloud", Ok("smartcloud")),
            ("smartcloud_2", Ok("smartcloud_2")),
            ("my-system", Ok("my-system")),
            (" padded ", Ok("padded")),
            ("SmartCloud App", Err("e.g. smartcloud_app")),
            ("Bad Name!", Err("e.g. bad_name")),
            ("Bærum Regnskap", Err("e.g. baerum_regnskap")),
            ("a.b", Err("lower-case letters, digits, _ and - only")),
            ("", Err("empty")),
        ];
        run("system_name", system_name, CASES);
        let long = "a".repeat(65);
        let e = system_name(&long).unwrap_err().to_string();
        assert!(e.contains("longer than 64"), "{e}");
        assert!(system_name(&"a".repeat(64)).is_ok());
        // The suggestion itself is always valid.
        for input in ["SmartCloud App", "!!!x!!!", "ÆØÅ æøå", &"Z".repeat(100)] {
            let s = suggest_system_name(input);
            assert!(s.is_empty() || system_name(&s).is_ok(), "{input}: {s}");
        }
    }

    #[test]
    fn system_ids() {
        assert_eq!(
            system_id("0192:991825827", "smartcloud").unwrap(),
            "991825827_smartcloud"
        );
        assert!(system_id("991825828", "smartcloud").is_err());
        assert!(system_id("991825827", "Smart Cloud").is_err());
    }

    #[test]
    fn urls() {
        const CASES: &[Case] = &[
            ("https://api.example/x", Ok("https://api.example/x")),
            (
                " https://api.example/x?y=1 ",
                Ok("https://api.example/x?y=1"),
            ),
            ("http://127.0.0.1:8080/x", Ok("http://127.0.0.1:8080/x")),
            ("http://127.1.2.3/", Ok("http://127.1.2.3/")),
            ("http://localhost:3000", Ok("http://localhost:3000")),
            ("http://[::1]:3/", Ok("http://[::1]:3/")),
            (
                "http://example.com/",
                Err("plain http is only allowed for loopback hosts"),
            ),
            ("http://localhost.evil.com/", Err("loopback")),
            ("ftp://x/", Err("scheme `ftp`")),
            ("api.example/x", Err("did you mean https://api.example/x?")),
            ("https://user:pw@api.example/", Err("user name or password")),
            ("https://api.example/a b", Err("a space")),
            ("", Err("empty")),
        ];
        run("https_url", https_url, CASES);
    }

    #[test]
    fn resource_ids() {
        const CASES: &[Case] = &[
            ("ske-krav-og-betalinger", Ok("ske-krav-og-betalinger")),
            (
                "urn:altinn:resource:ske-krav-og-betalinger",
                Ok("ske-krav-og-betalinger"),
            ),
            ("app_ttd_my-app", Ok("app_ttd_my-app")),
            ("Ske-Krav", Err("did you mean ske-krav?")),
            ("bad resource", Err("found a space")),
            ("abc", Ok("abc")),
            ("urn:altinn:resource:", Err("empty")),
            (
                "urn:altinn:accesspackage:x",
                Err("only urn:altinn:resource"),
            ),
            ("", Err("empty")),
        ];
        run("resource_id", resource_id, CASES);
        let long = "a".repeat(256);
        let e = resource_id(&long).unwrap_err().to_string();
        assert!(e.contains("at most 255 characters (got 256)"), "{e}");
    }

    #[test]
    fn access_packages() {
        const CASES: &[Case] = &[
            ("skattnaering", Ok("urn:altinn:accesspackage:skattnaering")),
            (
                "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet",
                Ok("urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"),
            ),
            ("urn:altinn:accesspackage:Bad!", Err("found `B`")),
            ("urn:altinn:resource:x", Err("not an access package URN")),
            ("urn:altinn:accesspackage:", Err("empty")),
            ("", Err("empty")),
        ];
        run("access_package", access_package, CASES);
    }

    #[test]
    fn external_refs() {
        const CASES: &[Case] = &[
            ("customer-42", Ok("customer-42")),
            ("310904473", Ok("310904473")),
            ("æøå.Ref_1", Ok("æøå.Ref_1")),
            ("a/b", Err("cannot contain `/`")),
            ("a?b", Err("`?`")),
            ("a#b", Err("`#`")),
            ("50%", Err("`%`")),
            ("a\\b", Err("`\\`")),
            ("..", Err("relative path")),
            ("two words", Err("spaces")),
            ("", Err("empty")),
        ];
        run("external_ref", external_ref, CASES);
        assert!(external_ref(&"r".repeat(255)).is_ok());
        assert!(external_ref(&"r".repeat(256)).is_err());
    }

    #[test]
    fn profile_names() {
        const CASES: &[Case] = &[
            ("default", Ok("default")),
            ("Demo_TT02-2", Ok("Demo_TT02-2")),
            ("../etc", Err("may not contain `.`")),
            ("a/b", Err("`/`")),
            ("with space", Err("a space")),
            ("", Err("empty")),
        ];
        run("profile_name", profile_name, CASES);
        assert!(profile_name(&"p".repeat(65)).is_err());
    }

    #[test]
    fn uuids() {
        const CASES: &[Case] = &[
            (
                "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11",
                Ok("7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11"),
            ),
            (
                " 7D7CBB59-0F43-4E48-9F4B-5D4B2F4A6B11 ",
                Ok("7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11"),
            ),
            ("42", Err("not a UUID")),
            ("", Err("not a UUID")),
        ];
        run("uuid", uuid, CASES);
    }

    #[test]
    fn shown_values_are_short_and_escaped() {
        let e = client_id("a\u{1b}[31mred").unwrap_err();
        assert!(!e.value.contains('\u{1b}'), "{:?}", e.value);
        assert!(e.to_string().contains("\\u{1b}"));
        let e = org_number(&"9".repeat(500)).unwrap_err();
        assert!(e.value.chars().count() <= 81);
        let both = [org_number("1").unwrap_err(), system_name("X").unwrap_err()];
        assert_eq!(Errors(&both).to_string().lines().count(), 2);
    }
}
