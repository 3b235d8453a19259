//! altinn-onboard: take a software vendor from nothing to a working Altinn 3 system user.
//!
//! Domain modules (`env`, `validate`, `keys`, `maskinporten`, `altinn`, `profile`, `flow`,
//! `runner`) know nothing about terminals. `sandbox` is an independent emulator of Maskinporten
//! and the Altinn authentication APIs; the clients never special-case it (`portal` is the one
//! place that talks to its admin API, standing in for Digdir's self-service portal). `cli` and
//! `tui` are thin shells over `flow` + `runner`; what both need (options, context, errors, exit
//! codes) is in `app`, and neither imports the other.

pub mod altinn;
pub mod app;
pub mod cli;
pub mod customers;
pub mod discovery;
pub mod env;
pub mod export;
pub mod flow;
/// Bounded file reads (defined in the sandbox, which every other module may depend on).
pub use sandbox::files;
pub mod http;
pub mod keys;
pub mod maskinporten;
pub mod portal;
pub mod profile;
/// Readiness for TT02/production: scopes, key expiry, the five-key limit (issue 11).
pub mod readiness;
pub mod rights;
pub mod runner;
/// The sandbox lives in its own crate (crates/sandbox); re-exported so `crate::sandbox::...`
/// paths keep working.
pub use altinn_onboard_sandbox as sandbox;
pub mod secret;
pub mod session;
pub mod tokens;
pub mod tui;
pub mod validate;
