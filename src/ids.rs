//! Identifiers as types, so that a telco id cannot be passed where an agency id is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Lower-case letters, digits, `-` and `_`, 1 to 40 characters.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                let ok = !raw.is_empty()
                    && raw.len() <= 40
                    && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
                if ok {
                    Ok(Self(raw.to_string()))
                } else {
                    Err(IdError { kind: stringify!($name), value: raw.chars().take(60).collect() })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(raw: String) -> Result<Self, IdError> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{kind} {value:?} must be 1 to 40 lower-case letters, digits, '-' or '_'")]
pub struct IdError {
    kind: &'static str,
    value: String,
}

slug_id!(
    /// A telco or aggregator connection, e.g. `africastalking`, `vodacom-tz`.
    TelcoId
);
slug_id!(
    /// A public institution, e.g. `dawasa`.
    AgencyId
);
slug_id!(
    /// A service (one menu file), e.g. `maji`.
    ServiceId
);

/// A back-office transaction id; also the idempotency key sent to the agency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TransactionId(String);

impl TransactionId {
    pub fn generate() -> Self {
        Self(format!("tx_{}", ulid::Ulid::new()))
    }

    /// The id of the `call`-th back-office call (from 0) made while applying the `step`-th
    /// input (from 1; 0 is the dial) of the dialogue `session_key` (`telco:telco-session-id`).
    /// The same step asked again (a telco's retry, a duplicate callback, a replay, another
    /// node) gets the same id, so the agency answers it once.
    pub fn for_step(session_key: &str, step: u32, call: u32, action: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(session_key.as_bytes())
            .chain_update([0])
            .chain_update(step.to_be_bytes())
            .chain_update(call.to_be_bytes())
            .chain_update(action.as_bytes())
            .finalize();
        // 128 bits: collisions between different steps are out of reach.
        Self(format!("tx_{}", hex::encode(&digest[..16])))
    }

    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_checked() {
        assert!(TelcoId::parse("africastalking").is_ok());
        assert!(AgencyId::parse("dawasa-2").is_ok());
        assert!(ServiceId::parse("").is_err());
        assert!(ServiceId::parse("Maji").is_err());
        assert!(ServiceId::parse("a b").is_err());
        assert!(TelcoId::parse(&"x".repeat(41)).is_err());
    }

    #[test]
    fn transaction_ids_are_unique_and_prefixed() {
        let a = TransactionId::generate();
        let b = TransactionId::generate();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("tx_"));
    }

    #[test]
    fn step_ids_depend_on_every_part_of_the_step() {
        let id = |key, step, call, action| TransactionId::for_step(key, step, call, action);
        let base = id("africastalking:ATUid_1", 4, 0, "payments.control_number");
        assert_eq!(
            base,
            id("africastalking:ATUid_1", 4, 0, "payments.control_number")
        );
        assert!(base.as_str().starts_with("tx_") && base.as_str().len() == 35);
        for other in [
            id("africastalking:ATUid_2", 4, 0, "payments.control_number"),
            id("hubtel:ATUid_1", 4, 0, "payments.control_number"),
            id("africastalking:ATUid_1", 5, 0, "payments.control_number"),
            id("africastalking:ATUid_1", 4, 1, "payments.control_number"),
            id("africastalking:ATUid_1", 4, 0, "bills.fetch"),
        ] {
            assert_ne!(base, other);
        }
    }
}
