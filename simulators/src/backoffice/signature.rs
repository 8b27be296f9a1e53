//! The `Mgov-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
//!
//! Signing the timestamp together with the body stops both tampering and replays of an old
//! request; the receiver rejects timestamps more than [`TOLERANCE_SECONDS`] away from its clock.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Name of the header that carries the signature.
pub const HEADER: &str = "Mgov-Signature";

/// How far the signed timestamp may be from the receiver's clock, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// Why a request's signature was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    StaleTimestamp,
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "the Mgov-Signature header is missing",
            SignatureError::Malformed => "the Mgov-Signature header is not t=<seconds>,v1=<hex>",
            SignatureError::StaleTimestamp => "the signature timestamp is more than 300 s off",
            SignatureError::Mismatch => "the signature does not match the body",
        })
    }
}

impl std::error::Error for SignatureError {}

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    hex::encode(keyed_mac(secret, timestamp, body).finalize().into_bytes())
}

/// A complete header value: `t=<timestamp>,v1=<signature>`.
pub fn header_value(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Checks a header value (`None` when the header is absent) against the raw body, at `now`
/// (unix seconds). Several `v1=` entries are allowed, so a sender can rotate its secret.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match key {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            "v1" => signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
            // Unknown schemes are ignored, so a future v2 can be added alongside v1.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(SignatureError::StaleTimestamp);
    }
    // `verify_slice` compares in constant time, so the answer leaks nothing about the secret.
    let expected = keyed_mac(secret, timestamp, body);
    if signatures
        .iter()
        .any(|signature| expected.clone().verify_slice(signature).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn keyed_mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"agency-secret";
    const BODY: &[u8] = br#"{"request_id":"tx_1","action":"bills.fetch"}"#;
    const NOW: i64 = 1_750_000_000;

    #[test]
    fn accepts_its_own_signature() {
        let header = header_value(SECRET, NOW, BODY);
        assert_eq!(verify(SECRET, Some(&header), BODY, NOW), Ok(()));
    }

    #[test]
    fn matches_a_vector_computed_with_openssl() {
        // printf '%s' '1700000000.{"action":"bills.fetch"}' | openssl dgst -sha256 -hmac agency-secret
        assert_eq!(
            sign(SECRET, 1_700_000_000, br#"{"action":"bills.fetch"}"#),
            "ff783c798f8a397e4beb773bb31a4509cc9a42cdb112869e535c2a23a65af022"
        );
    }

    #[test]
    fn tolerates_clock_skew_up_to_five_minutes() {
        for skew in [-300, -1, 0, 1, 300] {
            let header = header_value(SECRET, NOW + skew, BODY);
            assert_eq!(verify(SECRET, Some(&header), BODY, NOW), Ok(()), "{skew}");
        }
        for skew in [-301, 301, -86_400] {
            let header = header_value(SECRET, NOW + skew, BODY);
            assert_eq!(
                verify(SECRET, Some(&header), BODY, NOW),
                Err(SignatureError::StaleTimestamp),
                "{skew}"
            );
        }
    }

    #[test]
    fn rejects_tampering_and_wrong_secrets() {
        let header = header_value(SECRET, NOW, BODY);
        let tampered = br#"{"request_id":"tx_2","action":"bills.fetch"}"#;
        assert_eq!(
            verify(SECRET, Some(&header), tampered, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", Some(&header), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed too: moving it breaks the signature.
        let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
        assert_eq!(
            verify(SECRET, Some(&moved), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn reports_missing_and_malformed_headers() {
        assert_eq!(
            verify(SECRET, None, BODY, NOW),
            Err(SignatureError::Missing)
        );
        let good = sign(SECRET, NOW, BODY);
        for header in [
            "".to_owned(),
            "garbage".to_owned(),
            format!("v1={good}"),
            format!("t={NOW}"),
            format!("t=yesterday,v1={good}"),
            format!("t={NOW},v1=not-hex"),
        ] {
            assert_eq!(
                verify(SECRET, Some(&header), BODY, NOW),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn accepts_any_matching_v1_and_ignores_unknown_schemes() {
        let good = sign(SECRET, NOW, BODY);
        let header = format!("t={NOW}, v1={}, v1={good}, v2=abc", sign(b"old", NOW, BODY));
        assert_eq!(verify(SECRET, Some(&header), BODY, NOW), Ok(()));
    }
}
