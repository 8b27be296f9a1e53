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
    /// input (from 1; 0 is the dial) of the dialogue `session_key` (`telco:telco-session-id`)
    /// for `msisdn`, asking `action` with `params`. The same step asked again (a telco's
    /// retry, a duplicate callback, a replay after a lost session, another node) gets the same
    /// id, so the agency answers it once; another phone, or other params, under a session id
    /// the telco has reused can never get it.
    pub fn for_step(
        session_key: &str,
        msisdn: &str,
        step: u32,
        call: u32,
        action: &str,
        params: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        // Each part ends with a separator no part contains, so parts cannot run together.
        for part in [session_key, msisdn, action] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hash.update(step.to_be_bytes());
        hash.update(call.to_be_bytes());
        for (name, value) in params {
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update(value.as_bytes());
            hash.update([0]);
        }
        // 128 bits: collisions between different steps are out of reach.
        Self(format!("tx_{}", hex::encode(&hash.finalize()[..16])))
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
        let params = |account: &str| {
            std::collections::BTreeMap::from([("account".to_string(), account.to_string())])
        };
        let id = |key, msisdn, step, call, action, account| {
            TransactionId::for_step(key, msisdn, step, call, action, &params(account))
        };
        let (key, number, action) = ("africastalking:ATUid_1", "255754123456", "bills.fetch");
        let base = id(key, number, 4, 0, action, "12345678");
        assert_eq!(base, id(key, number, 4, 0, action, "12345678"));
        assert!(base.as_str().starts_with("tx_") && base.as_str().len() == 35);
        for other in [
            id("africastalking:ATUid_2", number, 4, 0, action, "12345678"),
            id("hubtel:ATUid_1", number, 4, 0, action, "12345678"),
            id(key, "255754999999", 4, 0, action, "12345678"),
            id(key, number, 5, 0, action, "12345678"),
            id(key, number, 4, 1, action, "12345678"),
            id(key, number, 4, 0, "cases.status", "12345678"),
            id(key, number, 4, 0, action, "12345679"),
        ] {
            assert_ne!(base, other);
        }
    }
}
