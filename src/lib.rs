//! altinn-onboard: take a software vendor from nothing to a working Altinn 3 system user.
//!
//! Domain modules (`env`, `validate`, `keys`, `maskinporten`, `altinn`, `profile`, `flow`,
//! `runner`) know nothing about terminals. `sandbox` is an independent emulator of Maskinporten
//! and the Altinn authentication APIs; the clients never special-case it. `cli` and `tui` are
//! thin shells over `flow` + `runner`.

pub mod altinn;
pub mod env;
pub mod flow;
pub mod keys;
pub mod maskinporten;
pub mod profile;
pub mod runner;
pub mod sandbox;
pub mod validate;
