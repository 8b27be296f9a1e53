//! Citizens' phone numbers, always held in E.164 digits without `+` (`255754123456`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A phone number in E.164 digits. Its `Debug` and `Display` are masked
/// (`2557****3456`) so that a number logged by accident does not leak; use
/// [`Msisdn::as_str`] where the full number is needed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Msisdn(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MsisdnError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number may contain only digits after an optional leading '+'")]
    NotDigits,
    #[error("phone number must have 8 to 15 digits in international form, got {0}")]
    BadLength(usize),
}

impl Msisdn {
    /// Accepts `+255754123456`, `255754123456`, `00255754123456` and the national
    /// form `0754123456`, which takes `default_country` (digits, e.g. `255`).
    pub fn parse(raw: &str, default_country: &str) -> Result<Self, MsisdnError> {
        let trimmed: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if trimmed.is_empty() {
            return Err(MsisdnError::Empty);
        }
        let (plus, digits) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed.as_str()),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MsisdnError::NotDigits);
        }
        let international = if plus {
            digits.to_string()
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else if let Some(rest) = digits.strip_prefix('0') {
            format!("{default_country}{rest}")
        } else {
            digits.to_string()
        };
        if !(8..=15).contains(&international.len()) {
            return Err(MsisdnError::BadLength(international.len()));
        }
        Ok(Self(international))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used in logs: first four and last four digits.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        if n <= 8 {
            return "*".repeat(n);
        }
        format!("{}****{}", &self.0[..4], &self.0[n - 4..])
    }
}

impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Msisdn({})", self.masked())
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_common_form() {
        for raw in [
            "+255754123456",
            "255754123456",
            "0754123456",
            "00255754123456",
            "+255 754 123 456",
        ] {
            assert_eq!(
                Msisdn::parse(raw, "255").unwrap().as_str(),
                "255754123456",
                "{raw}"
            );
        }
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(Msisdn::parse("", "255"), Err(MsisdnError::Empty));
        assert_eq!(
            Msisdn::parse("07541234x6", "255"),
            Err(MsisdnError::NotDigits)
        );
        assert_eq!(Msisdn::parse("+12", "255"), Err(MsisdnError::BadLength(2)));
        assert_eq!(
            Msisdn::parse("+1234567890123456", "255"),
            Err(MsisdnError::BadLength(16))
        );
    }

    #[test]
    fn logs_see_only_a_mask() {
        let m = Msisdn::parse("255754123456", "255").unwrap();
        assert_eq!(m.to_string(), "2557****3456");
        assert_eq!(format!("{m:?}"), "Msisdn(2557****3456)");
    }
}
