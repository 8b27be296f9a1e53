//! Telcos and aggregators: their records, how their callbacks are authenticated, and one
//! adapter per wire format. Nothing outside this folder knows which format a telco speaks.

use crate::ids::TelcoId;
use serde::{Deserialize, Serialize};

/// The wire formats the gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireFormat {
    /// Africa's Talking: form-encoded, cumulative `text`, `CON`/`END` replies.
    AfricasTalking,
    /// Hubtel-style JSON: latest input only, `Initiation`/`Response`/`Release`/`Timeout`.
    Hubtel,
}

impl WireFormat {
    pub fn as_str(&self) -> &'static str {
        match self {
            WireFormat::AfricasTalking => "africastalking",
            WireFormat::Hubtel => "hubtel",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "africastalking" => Some(WireFormat::AfricasTalking),
            "hubtel" => Some(WireFormat::Hubtel),
            _ => None,
        }
    }
}

/// Callback credentials: HTTP Basic with a gateway-generated secret, stored as its
/// SHA-256 (the secret is 32 random bytes, so a slow hash adds nothing but latency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelcoCredentials {
    pub username: String,
    pub secret_sha256: String,
}

/// One telco or aggregator connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telco {
    pub id: TelcoId,
    pub wire_format: WireFormat,
    /// `None` only for the embedded default's loopback demo telcos.
    pub credentials: Option<TelcoCredentials>,
    /// Source networks allowed to call; empty means any.
    pub allowed_networks: Vec<ipnet::IpNet>,
    /// Characters one screen can hold on this telco (182 by default, some 160).
    pub screen_limit: usize,
}
