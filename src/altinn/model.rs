//! Wire models of the Altinn authentication API, as the real service (Altinn/altinn-authentication,
//! `src/Core/Models`) serialises them: camelCase, nulls left out, enums as PascalCase strings.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `RequestStatus.cs` plus `NoChangeNeeded` from `ChangeRequestStatus.cs`. Unknown values are
/// kept verbatim so a newer server never breaks an older client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    New,
    Accepted,
    Rejected,
    Denied,
    Timedout,
    NoChangeNeeded,
    Other(String),
}

impl RequestStatus {
    pub fn as_str(&self) -> &str {
        match self {
            RequestStatus::New => "New",
            RequestStatus::Accepted => "Accepted",
            RequestStatus::Rejected => "Rejected",
            RequestStatus::Denied => "Denied",
            RequestStatus::Timedout => "Timedout",
            RequestStatus::NoChangeNeeded => "NoChangeNeeded",
            RequestStatus::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        // The service writes PascalCase; docs have shown lower case and "TimedOut". Accept all.
        match s.to_ascii_lowercase().as_str() {
            "new" => RequestStatus::New,
            "accepted" => RequestStatus::Accepted,
            "rejected" => RequestStatus::Rejected,
            "denied" => RequestStatus::Denied,
            "timedout" => RequestStatus::Timedout,
            "nochangeneeded" => RequestStatus::NoChangeNeeded,
            _ => RequestStatus::Other(s.to_string()),
        }
    }

    /// Still waiting for the customer.
    pub fn is_pending(&self) -> bool {
        matches!(self, RequestStatus::New)
    }

    /// The customer said no (or the request can never be approved).
    pub fn is_refused(&self) -> bool {
        matches!(self, RequestStatus::Rejected | RequestStatus::Denied | RequestStatus::Timedout)
    }

    pub fn is_accepted(&self) -> bool {
        matches!(self, RequestStatus::Accepted | RequestStatus::NoChangeNeeded)
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RequestStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RequestStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(RequestStatus::parse(&s))
    }
}
