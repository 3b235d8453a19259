//! `export`: what the vendor's own product needs to get the same system-user token: .NET
//! settings for `Altinn.ApiClients.Maskinporten`, Python and Node snippets, a curl script and
//! an env file. Templates are files under `assets/export/`; `{{name}}` placeholders are filled
//! from the profile with values already quoted for the target language.
//!
//! The private key is referenced by its path. Only with `inline_key` does the output contain
//! the key itself (the CLI then writes the file 0600).

use crate::env::{EnvKind, Environment};
use crate::keys::KeyPair;
use crate::profile::Profile;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::collections::BTreeMap;
use std::fmt;
use zeroize::Zeroizing;

const DOTNET: &str = include_str!("../assets/export/dotnet.jsonc");
const PYTHON: &str = include_str!("../assets/export/python.py");
const NODE: &str = include_str!("../assets/export/node.mjs");
const CURL: &str = include_str!("../assets/export/curl.sh");
const ENV: &str = include_str!("../assets/export/env.env");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dotnet,
    Python,
    Node,
    Curl,
    Env,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Dotnet,
        Format::Python,
        Format::Node,
        Format::Curl,
        Format::Env,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Dotnet => "dotnet",
            Format::Python => "python",
            Format::Node => "node",
            Format::Curl => "curl",
            Format::Env => "env",
        }
    }

    /// A file name to suggest.
    pub fn default_file_name(self) -> &'static str {
        match self {
            Format::Dotnet => "appsettings.json",
            Format::Python => "altinn_token.py",
            Format::Node => "altinn-token.mjs",
            Format::Curl => "altinn-token.sh",
            Format::Env => "altinn.env",
        }
    }

    /// Scripts are written executable.
    pub fn is_script(self) -> bool {
        matches!(self, Format::Python | Format::Curl)
    }

    fn template(self) -> &'static str {
        match self {
            Format::Dotnet => DOTNET,
            Format::Python => PYTHON,
            Format::Node => NODE,
            Format::Curl => CURL,
            Format::Env => ENV,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a template may use, taken from a profile.
pub struct ExportContext {
    pub profile: String,
    pub env_kind: EnvKind,
    pub token_endpoint: String,
    pub audience: String,
    pub altinn_base: String,
    pub exchange_url: String,
    /// The API the snippets call with the token.
    pub api_url: String,
    pub client_id: String,
    pub kid: String,
    pub scope: String,
    pub customer_org: String,
    pub external_ref: Option<String>,
    pub key_path: String,
    /// The private key, only when asked for with `--inline-key`.
    pub inline_key: Option<InlineKey>,
}

pub struct InlineKey {
    pub pkcs8_pem: Zeroizing<String>,
    /// base64 of the private JWK JSON, as `MaskinportenSettings.EncodedJwk` takes it.
    pub encoded_jwk: Zeroizing<String>,
}

impl InlineKey {
    pub fn from_key(key: &KeyPair) -> Result<InlineKey, String> {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::traits::{PrivateKeyParts, PublicKeyParts};
        let pem = key.private_pkcs8_pem();
        let rsa = rsa::RsaPrivateKey::from_pkcs8_pem(&pem)
            .map_err(|e| format!("cannot read the private key: {e}"))?;
        let b = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
        let primes = rsa.primes();
        let (Some(dp), Some(dq), Some(qi), [p, q]) = (rsa.dp(), rsa.dq(), rsa.qinv(), primes)
        else {
            return Err("the key is not a two-prime RSA key with CRT values".into());
        };
        let (_, qi_bytes) = qi.to_bytes_be();
        let jwk = Zeroizing::new(
            serde_json::json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": key.kid(),
                "n": b(rsa.n()), "e": b(rsa.e()), "d": b(rsa.d()),
                "p": b(p), "q": b(q), "dp": b(dp), "dq": b(dq),
                "qi": URL_SAFE_NO_PAD.encode(qi_bytes),
            })
            .to_string(),
        );
        Ok(InlineKey {
            pkcs8_pem: pem,
            encoded_jwk: Zeroizing::new(STANDARD.encode(jwk.as_bytes())),
        })
    }
}

/// The API snippets call: the profile's test URL, else the environment's reference API (the
/// sandbox's whoami; on TT02/production Altinn's token exchange, which accepts a system-user
/// token). The same choice `Runner::default_test_url` makes.
fn api_url(profile: &Profile, env: &Environment) -> String {
    if let Some(u) = &profile.test_url {
        return u.clone();
    }
    match env.kind {
        EnvKind::Sandbox | EnvKind::Custom => format!(
            "{}/reference/whoami",
            env.altinn_base.as_str().trim_end_matches('/')
        ),
        EnvKind::Tt02 | EnvKind::Prod => env.authentication_api("exchange/maskinporten"),
    }
}

/// What the profile must have for an export, or what is missing.
pub fn context(
    profile: &Profile,
    env: &Environment,
    inline_key: Option<InlineKey>,
) -> Result<ExportContext, String> {
    let client_id = profile
        .client_id
        .clone()
        .ok_or("this profile has no Maskinporten client yet: run `client set` first")?;
    let (Some(kid), Some(key_path)) = (&profile.kid, &profile.key_path) else {
        return Err("this profile has no key yet: run `keys generate` or `keys import`".into());
    };
    let (customer_org, external_ref) = match profile.current_request() {
        Some(r) => (r.customer_org.clone(), r.external_ref.clone()),
        None => (
            profile.customer_org.clone().ok_or(
                "this profile has no customer yet: create a system user request (`request create`) first",
            )?,
            None,
        ),
    };
    let scope = profile
        .system_user_scope
        .clone()
        .unwrap_or_else(|| profile.scopes.join(" "));
    if scope.trim().is_empty() {
        return Err("this profile has no scopes: set them with `client set --scope`".into());
    }
    Ok(ExportContext {
        profile: profile.name.clone(),
        env_kind: env.kind,
        token_endpoint: env.token_endpoint.to_string(),
        audience: env.audience().to_string(),
        altinn_base: env.altinn_base.as_str().trim_end_matches('/').to_string(),
        exchange_url: env.authentication_api("exchange/maskinporten"),
        api_url: api_url(profile, env),
        client_id,
        kid: kid.clone(),
        scope,
        customer_org,
        external_ref,
        key_path: key_path.display().to_string(),
        inline_key,
    })
}

/// A JSON string literal; also a valid Python and JavaScript string literal.
fn lit(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A single-quoted shell word.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn values(c: &ExportContext) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    let env_name = match c.env_kind {
        EnvKind::Sandbox => "the altinn-onboard sandbox",
        EnvKind::Tt02 => "TT02 / Maskinporten test",
        EnvKind::Prod => "production",
        EnvKind::Custom => "a custom environment",
    };
    put(&mut v, "profile", c.profile.clone());
    put(&mut v, "env_name", env_name);
    for (name, value) in [
        ("token_endpoint", &c.token_endpoint),
        ("audience", &c.audience),
        ("altinn_base", &c.altinn_base),
        ("exchange_url", &c.exchange_url),
        ("api_url", &c.api_url),
        ("client_id", &c.client_id),
        ("kid", &c.kid),
        ("scope", &c.scope),
        ("customer_org", &c.customer_org),
    ] {
        put(&mut v, &format!("{name}_lit"), lit(value));
        put(&mut v, &format!("{name}_sh"), sh(value));
    }
    let ext = c.external_ref.as_deref();
    put(
        &mut v,
        "external_ref_py",
        ext.map(lit).unwrap_or("None".into()),
    );
    put(
        &mut v,
        "external_ref_js",
        ext.map(lit).unwrap_or("null".into()),
    );
    put(&mut v, "external_ref_sh", sh(ext.unwrap_or("")));

    const SECRET_NOTE: &str = "The private key itself (written with --inline-key): keep this file secret and out of source control.";
    match &c.inline_key {
        None => {
            put(
                &mut v,
                "key_py",
                format!(
                    "PRIVATE_KEY_FILE = {}  # PKCS#8 PEM; keep it 0600\nwith open(PRIVATE_KEY_FILE, \"rb\") as f:\n    PRIVATE_KEY_PEM = f.read()\n",
                    lit(&c.key_path)
                ),
            );
            put(
                &mut v,
                "key_node_import",
                "import { readFileSync } from \"node:fs\";\n",
            );
            put(
                &mut v,
                "key_node",
                format!(
                    "const PRIVATE_KEY_FILE = {}; // PKCS#8 PEM; keep it 0600\nconst PRIVATE_KEY_PEM = readFileSync(PRIVATE_KEY_FILE, \"utf8\");",
                    lit(&c.key_path)
                ),
            );
            put(
                &mut v,
                "key_sh",
                format!(
                    "PRIVATE_KEY_FILE={} # PKCS#8 PEM; keep it 0600",
                    sh(&c.key_path)
                ),
            );
            put(
                &mut v,
                "key_env",
                format!(
                    "# PKCS#8 PEM; keep it 0600\nMASKINPORTEN_PRIVATE_KEY_FILE={}",
                    sh(&c.key_path)
                ),
            );
            put(&mut v, "dotnet_encoded_jwk_lit", lit(""));
            put(
                &mut v,
                "dotnet_key_note",
                format!(
                    "EncodedJwk is left empty on purpose: this profile's key is the PEM file {}. Supply the encoded JWK from your secret store\n// (environment variable MaskinportenSettings__EncodedJwk), or have `altinn-onboard export --format dotnet --inline-key --out FILE` write it (0600).",
                    c.key_path
                ),
            );
        }
        Some(k) => {
            let pem = k.pkcs8_pem.trim_end();
            put(
                &mut v,
                "key_py",
                format!("# {SECRET_NOTE}\nPRIVATE_KEY_PEM = \"\"\"{pem}\n\"\"\"\n"),
            );
            put(&mut v, "key_node_import", String::new());
            put(
                &mut v,
                "key_node",
                format!("// {SECRET_NOTE}\nconst PRIVATE_KEY_PEM = {};", lit(pem)),
            );
            put(
                &mut v,
                "key_sh",
                format!(
                    "# {SECRET_NOTE}\nPRIVATE_KEY_FILE=$(mktemp) # created 0600\ntrap 'rm -f \"$PRIVATE_KEY_FILE\"' EXIT\ncat > \"$PRIVATE_KEY_FILE\" <<'PEM'\n{pem}\nPEM"
                ),
            );
            put(
                &mut v,
                "key_env",
                format!(
                    "# {SECRET_NOTE}\nMASKINPORTEN_PRIVATE_KEY_PEM_BASE64={}",
                    STANDARD.encode(pem.as_bytes())
                ),
            );
            put(&mut v, "dotnet_encoded_jwk_lit", lit(&k.encoded_jwk));
            put(&mut v, "dotnet_key_note", SECRET_NOTE);
        }
    }
    let (dotnet_env, note) = match c.env_kind {
        EnvKind::Tt02 => ("test", "Environment \"test\" is Maskinporten's test environment (test.maskinporten.no), the one TT02 trusts.".to_string()),
        EnvKind::Prod => ("prod", "Environment \"prod\" is Maskinporten's production (maskinporten.no).".to_string()),
        EnvKind::Sandbox | EnvKind::Custom => ("test", format!(
            "This profile is on {env_name}, whose Maskinporten is {} and not one the library's Environment can name;\n// \"test\" is what the same settings need in TT02. Against the sandbox, get tokens from `altinn-onboard tokens serve`.",
            c.token_endpoint
        )),
    };
    put(&mut v, "dotnet_environment_lit", lit(dotnet_env));
    put(&mut v, "dotnet_env_note", note);
    v
}

fn put(v: &mut BTreeMap<String, String>, name: &str, value: impl Into<String>) {
    v.insert(name.to_string(), value.into());
}

/// Fill a template; every `{{name}}` must have a value.
fn fill(template: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 512);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or("unterminated placeholder in an export template")?;
        let name = &after[..end];
        let value = values
            .get(name)
            .ok_or_else(|| format!("export template uses unknown value `{name}`"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The export in `format` for `ctx`.
pub fn render(format: Format, ctx: &ExportContext) -> Result<String, String> {
    fill(format.template(), &values(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(ext: Option<&str>) -> ExportContext {
        ExportContext {
            profile: "p".into(),
            env_kind: EnvKind::Tt02,
            token_endpoint: "https://test.maskinporten.no/token".into(),
            audience: "https://test.maskinporten.no/".into(),
            altinn_base: "https://platform.tt02.altinn.no".into(),
            exchange_url: "x".into(),
            api_url: "y".into(),
            client_id: "c'id".into(),
            kid: "k".into(),
            scope: "a:b".into(),
            customer_org: "312345676".into(),
            external_ref: ext.map(str::to_string),
            key_path: "/k/it's.pem".into(),
            inline_key: None,
        }
    }

    #[test]
    fn every_template_fills_completely() {
        for f in Format::ALL {
            for ext in [None, Some("r")] {
                let out = render(f, &ctx(ext)).unwrap();
                assert!(!out.contains("{{"), "{f}: {out}");
            }
        }
    }

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh("it's"), r"'it'\''s'");
        assert_eq!(lit("a\"b"), r#""a\"b""#);
        let out = render(Format::Curl, &ctx(None)).unwrap();
        assert!(out.contains(r"CLIENT_ID='c'\''id'"));
        assert!(out.contains("EXTERNAL_REF=''"));
    }

    #[test]
    fn without_inline_key_no_key_material() {
        for f in Format::ALL {
            let out = render(f, &ctx(Some("r"))).unwrap();
            assert!(!out.contains("PRIVATE KEY-----"), "{f}");
        }
    }
}
