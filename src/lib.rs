//! altinn-onboard: take a software vendor from nothing to a working Altinn 3 system user.
//!
//! Domain modules (`env`, `validate`, `keys`, `maskinporten`, `altinn`, `profile`, `flow`,
//! `runner`) know nothing about terminals. `sandbox` is an independent emulator of Maskinporten
//! and the Altinn authentication APIs; the clients never special-case it (`portal` is the one
//! place that talks to its admin API, standing in for Digdir's self-service portal). `cli` and
//! `tui` are thin shells over `flow` + `runner`.

pub mod altinn;
pub mod cli;
pub mod env;
pub mod export;
pub mod flow;
pub mod http;
pub mod keys;
pub mod maskinporten;
pub mod portal;
pub mod profile;
pub mod runner;
pub mod sandbox;
pub mod secret;
pub mod session;
pub mod tokens;
pub mod tui;
pub mod validate;
