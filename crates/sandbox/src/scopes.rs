//! Digdir's public scope catalogue, `GET /api/v1/scopes/all` on the self-service API host
//! (`https://api.test.samarbeid.digdir.no` for TT02, `https://api.samarbeid.digdir.no` for
//! production): every scope the sandbox knows ([`crate::orgs::KNOWN_SCOPES`]) in the real JSON
//! shape, so a readiness check runs offline against the sandbox as it does against Digdir.
//!
//! The shape is the real one: field names, types and order as recorded from production's
//! answer (`tests/fixtures/digdir_scopes_all_prod.json` in altinn-onboard, its source named in
//! `tests/fixtures/SOURCES.md`): `prefix`, `subscope`, `name` (`prefix:subscope`),
//! `description`, `active`, `created`, `last_updated`, `allowed_integration_types`,
//! `owner_orgno`, `token_type`, `visibility`, the `requires_*` flags, `delegation_source`
//! (only when set), `at_max_age`, `authorization_max_lifetime`, `accessible_for_all`,
//! `protected`, `supports_european_businesses`. The field meanings are Digdir's scope model
//! (docs.digdir.no, `oidc_protocol_scope`): `accessible_for_all` true means any organisation
//! may add the scope to a client; false means the owner must grant the organisation access.
//! The endpoint is anonymous: no token.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::orgs::{DIGDIR_ORG, KNOWN_SCOPES, ScopeGrant};
use crate::problem::json_ok;

/// guess: when the sandbox's scopes were made (a fixed date, so answers are stable).
const CREATED: &str = "2024-05-23T13:27:56.597Z";

/// One scope as the catalogue lists it.
fn scope_json(name: &str, grant: ScopeGrant) -> Value {
    let (prefix, subscope) = name.split_once(':').unwrap_or((name, ""));
    let description = match grant {
        ScopeGrant::SystemVendors => {
            "Altinn system-user vendor API (granted by Digdir to registered system vendors)"
        }
        ScopeGrant::AltinnOperator => "Altinn system register administration (Altinn only)",
        ScopeGrant::AllOrgs => "Altinn system-user demo API",
    };
    json!({
        "prefix": prefix,
        "subscope": subscope,
        "description": description,
        "active": true,
        "created": CREATED,
        "last_updated": CREATED,
        "allowed_integration_types": ["maskinporten"],
        // The altinn: prefix belongs to Digdir (as in the recorded answer).
        "owner_orgno": DIGDIR_ORG,
        "token_type": "SELF_CONTAINED",
        "visibility": "PUBLIC",
        "requires_user_consent": false,
        "requires_user_authentication": false,
        "requires_pseudonymous_tokens": false,
        "at_max_age": 3600,
        "authorization_max_lifetime": 3600,
        "accessible_for_all": grant == ScopeGrant::AllOrgs,
        "name": name,
        "protected": false,
        "supports_european_businesses": false,
    })
}

/// mirrors: Digdir self-service API `GET /api/v1/scopes/all` (anonymous; a plain JSON array).
pub async fn all_scopes() -> Response {
    let list: Vec<Value> = KNOWN_SCOPES
        .iter()
        .map(|(name, grant)| scope_json(name, *grant))
        .collect();
    json_ok(StatusCode::OK, &list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_scope_is_listed_with_its_grant() {
        for (name, grant) in KNOWN_SCOPES {
            let v = scope_json(name, *grant);
            assert_eq!(v["name"], *name);
            assert_eq!(
                format!(
                    "{}:{}",
                    v["prefix"].as_str().unwrap(),
                    v["subscope"].as_str().unwrap()
                ),
                *name
            );
            assert_eq!(
                v["accessible_for_all"],
                *grant == ScopeGrant::AllOrgs,
                "{name}"
            );
            assert_eq!(v["active"], true);
        }
    }
}
