//! Client for the Altinn authentication API (system register, system-user requests).

pub mod model;
