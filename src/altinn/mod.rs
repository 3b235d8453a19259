//! Client for the Altinn authentication API (system register, system-user requests), with its
//! wire models and error parsing.

pub mod client;
pub mod model;
pub mod problem;

pub use client::{
    AltinnClient, AltinnError, CreatedRequest, FieldChange, TestCallResult, UpsertKind,
    UpsertOutcome,
};
