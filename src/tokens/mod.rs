//! The local token service (`tokens serve`, issue 13): the vendor's own code asks it for
//! Maskinporten (system-user) tokens over loopback HTTP, in the request shape of NAV's token
//! sidecar texas, and never sees the private key.
//!
//! - `service`: what a token request means (scopes, customer, externalRef, Altinn exchange) and
//!   the cache that renews tokens before expiry and coalesces identical concurrent requests;
//!   upstream calls go through [`crate::maskinporten::MaskinportenClient`] (grant signing is
//!   not re-implemented here) and [`crate::altinn::client::AltinnClient::exchange`].
//! - `introspect`: verifies a token against its issuer's JWKS (signature, `exp`, `iss`).
//! - `server`: the axum routes, the per-run caller secret and the loopback rule.
//!
//! No terminal code: the CLI wiring lives in `cli::tokens`.

pub mod introspect;
pub mod server;
pub mod service;

pub use server::{ServerHandle, bind_allowed, generate_secret, read_secret_file, start};
pub use service::{ServiceError, TokenService, Want};
