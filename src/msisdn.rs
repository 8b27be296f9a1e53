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
    #[error("phone number does not start with an assigned country code")]
    UnknownCountry,
    #[error("phone number has only zeros after its country code")]
    ZeroSubscriber,
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
        let country = country_code_of(&international).ok_or(MsisdnError::UnknownCountry)?;
        if international[country.len()..].bytes().all(|b| b == b'0') {
            return Err(MsisdnError::ZeroSubscriber);
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

/// The country code `digits` (international, without `+`) starts with, if any. Codes are a
/// prefix code, so at most one matches.
pub fn country_code_of(digits: &str) -> Option<&str> {
    (1..=3)
        .filter_map(|n| digits.get(..n))
        .find(|prefix| is_country_code(prefix))
}

/// True for a country code ITU-T has assigned (`255`), false for spare ones (`259`, `0`).
pub fn is_country_code(code: &str) -> bool {
    COUNTRY_CODES.binary_search(&code).is_ok()
}

/// E.164 country codes assigned to a country or area, plus the global networks a handset
/// can be on (Inmarsat 870, satellite 881, international networks 882 and 883). Freephone,
/// shared-cost and premium codes (800, 808, 979) are left out: no caller has such a number.
/// Sorted, so that it can be searched; one line per world zone.
#[rustfmt::skip]
const COUNTRY_CODES: &[&str] = &[
    "1",
    "20", "211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226",
    "227", "228", "229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239",
    "240", "241", "242", "243", "244", "245", "246", "247", "248", "249", "250", "251", "252",
    "253", "254", "255", "256", "257", "258", "260", "261", "262", "263", "264", "265", "266",
    "267", "268", "269", "27", "290", "291", "297", "298", "299",
    "30", "31", "32", "33", "34", "350", "351", "352", "353", "354", "355", "356", "357", "358",
    "359", "36", "370", "371", "372", "373", "374", "375", "376", "377", "378", "379", "380",
    "381", "382", "383", "385", "386", "387", "389", "39",
    "40", "41", "420", "421", "423", "43", "44", "45", "46", "47", "48", "49",
    "500", "501", "502", "503", "504", "505", "506", "507", "508", "509", "51", "52", "53",
    "54", "55", "56", "57", "58", "590", "591", "592", "593", "594", "595", "596", "597", "598",
    "599",
    "60", "61", "62", "63", "64", "65", "66", "670", "672", "673", "674", "675", "676", "677",
    "678", "679", "680", "681", "682", "683", "685", "686", "687", "688", "689", "690", "691",
    "692",
    "7",
    "81", "82", "84", "850", "852", "853", "855", "856", "86", "870", "880", "881", "882",
    "883", "886",
    "90", "91", "92", "93", "94", "95", "960", "961", "962", "963", "964", "965", "966", "967",
    "968", "970", "971", "972", "973", "974", "975", "976", "977", "98", "992", "993", "994",
    "995", "996", "997", "998",
];

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
    fn refuses_numbers_that_cannot_exist() {
        #[rustfmt::skip]
        let cases: &[(&str, Result<&str, MsisdnError>)] = &[
            ("+0754123456", Err(MsisdnError::UnknownCountry)),
            ("000754123456", Err(MsisdnError::UnknownCountry)),
            ("+000000000000", Err(MsisdnError::UnknownCountry)),
            ("0000000000", Err(MsisdnError::UnknownCountry)),
            ("+255000000000", Err(MsisdnError::ZeroSubscriber)),
            ("+259754123456", Err(MsisdnError::UnknownCountry)),
            ("+28754123456", Err(MsisdnError::UnknownCountry)),
            ("+800123456789", Err(MsisdnError::UnknownCountry)),
            ("+12025550123", Ok("12025550123")),
            ("+74951234567", Ok("74951234567")),
            ("+447700900123", Ok("447700900123")),
            ("+254712345678", Ok("254712345678")),
            ("+8816123456789", Ok("8816123456789")),
        ];
        for (raw, want) in cases {
            let got = Msisdn::parse(raw, "255");
            assert_eq!(
                got.as_ref().map(Msisdn::as_str),
                want.as_ref().copied(),
                "{raw}"
            );
        }
    }

    #[test]
    fn the_country_code_table_is_sorted_and_a_prefix_code() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        for code in COUNTRY_CODES {
            assert!(!code.starts_with('0') && code.len() <= 3, "{code}");
            for shorter in 1..code.len() {
                assert!(
                    !is_country_code(&code[..shorter]),
                    "{code} under {}",
                    &code[..shorter]
                );
            }
        }
        assert_eq!(country_code_of("255754123456"), Some("255"));
        assert_eq!(country_code_of("12025550123"), Some("1"));
        assert_eq!(country_code_of("2597"), None);
    }

    #[test]
    fn logs_see_only_a_mask() {
        let m = Msisdn::parse("255754123456", "255").unwrap();
        assert_eq!(m.to_string(), "2557****3456");
        assert_eq!(format!("{m:?}"), "Msisdn(2557****3456)");
    }
}
