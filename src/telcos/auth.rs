//! Who may call a telco's callback URLs: a source network check, HTTP Basic with a
//! gateway-generated secret, or both. A telco with neither is refused, so a misconfigured
//! record never leaves a callback open to the world.

use super::Telco;
use crate::ids::TelcoId;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use subtle::ConstantTimeEq;

/// Why a callback was refused. The caller is told the class of problem (see
/// [`AuthError::public_reason`]), never which half of its credentials was wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("telco {0} has neither credentials nor allowed networks, so every call is refused")]
    NotConfigured(TelcoId),
    #[error("peer {0} is outside the telco's allowed networks")]
    PeerNotAllowed(IpAddr),
    #[error("no Authorization header")]
    MissingHeader,
    #[error("Authorization header is not valid HTTP Basic")]
    Malformed,
    #[error("wrong username")]
    WrongUsername,
    #[error("wrong password")]
    WrongPassword,
}

impl AuthError {
    /// True when the caller's address, not its credentials, is the problem (a 403).
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            AuthError::NotConfigured(_) | AuthError::PeerNotAllowed(_)
        )
    }

    /// What the caller is told: enough to fix its own configuration, nothing about the secret.
    pub fn public_reason(&self, telco: &TelcoId) -> String {
        match self {
            AuthError::NotConfigured(_) => format!(
                "telco {telco} has neither credentials nor allowed networks; an operator must run `mgov telcos update {telco}`"
            ),
            AuthError::PeerNotAllowed(peer) => format!(
                "peer {peer} is outside telco {telco}'s allowed networks (`mgov telcos update {telco} --allow <cidr>`)"
            ),
            AuthError::MissingHeader => {
                format!("telco {telco} authenticates with HTTP Basic; no Authorization header was sent")
            }
            AuthError::Malformed => "the Authorization header is not valid HTTP Basic".to_string(),
            AuthError::WrongUsername | AuthError::WrongPassword => {
                format!("wrong username or password for telco {telco}")
            }
        }
    }
}

pub fn authenticate(telco: &Telco, peer: IpAddr, headers: &HeaderMap) -> Result<(), AuthError> {
    if telco.credentials.is_none() && telco.allowed_networks.is_empty() {
        return Err(AuthError::NotConfigured(telco.id.clone()));
    }
    // A dual-stack listener reports IPv4 peers as `::ffff:a.b.c.d`; compare them as IPv4.
    let peer = peer.to_canonical();
    if !telco.allowed_networks.is_empty()
        && !telco.allowed_networks.iter().any(|n| n.contains(&peer))
    {
        return Err(AuthError::PeerNotAllowed(peer));
    }
    let Some(credentials) = &telco.credentials else {
        return Ok(());
    };
    let (username, password) = basic_credentials(headers)?;
    // Both comparisons always run, so timing does not tell which part was wrong.
    let username_ok = username.as_bytes().ct_eq(credentials.username.as_bytes());
    let password_ok = hash_secret(&password)
        .as_bytes()
        .ct_eq(credentials.secret_sha256.to_ascii_lowercase().as_bytes());
    match (bool::from(username_ok), bool::from(password_ok)) {
        (true, true) => Ok(()),
        (false, _) => Err(AuthError::WrongUsername),
        (true, false) => Err(AuthError::WrongPassword),
    }
}

/// A new callback secret: the value to show the operator once, and the SHA-256 hex to store.
/// 32 random bytes, base64url without padding, so it never contains Basic's `:` separator.
pub fn generate_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// The stored form of a secret: SHA-256 of its text, lower-case hex.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), AuthError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::MissingHeader)?;
    let value = value.to_str().map_err(|_| AuthError::Malformed)?.trim();
    let (scheme, encoded) = value.split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(AuthError::Malformed);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| AuthError::Malformed)?;
    let decoded = String::from_utf8(decoded).map_err(|_| AuthError::Malformed)?;
    let (username, password) = decoded.split_once(':').ok_or(AuthError::Malformed)?;
    Ok((username.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telcos::{TelcoCredentials, WireFormat};

    fn telco(credentials: Option<(&str, &str)>, networks: &[&str]) -> Telco {
        Telco {
            id: TelcoId::parse("vodacom-tz").unwrap(),
            wire_format: WireFormat::AfricasTalking,
            credentials: credentials.map(|(username, secret)| TelcoCredentials {
                username: username.into(),
                secret_sha256: hash_secret(secret),
            }),
            allowed_networks: networks.iter().map(|n| n.parse().unwrap()).collect(),
            screen_limit: 182,
            max_hops_per_second: crate::telcos::DEFAULT_MAX_HOPS_PER_SECOND,
            sms: None,
        }
    }

    fn basic(user_and_password: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(user_and_password));
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    fn raw_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn callers_are_checked() {
        let secured = telco(Some(("vodacom", "s3cret:with:colons")), &[]);
        let fenced = telco(Some(("vodacom", "s3cret")), &["196.201.0.0/16"]);
        let loopback_demo = telco(None, &["127.0.0.0/8", "::1/128"]);
        let open = telco(None, &[]);
        let outside: IpAddr = "203.0.113.9".parse().unwrap();
        let inside: IpAddr = "196.201.4.5".parse().unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped_local: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let good = raw_authorization(&format!(
            "basic {}",
            STANDARD.encode("vodacom:s3cret:with:colons")
        ));
        type Case<'a> = (&'a str, &'a Telco, IpAddr, HeaderMap, Result<(), AuthError>);
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("right secret", &secured, outside, basic("vodacom:s3cret:with:colons"), Ok(())),
            ("lower-case scheme", &secured, outside, good, Ok(())),
            ("wrong password", &secured, outside, basic("vodacom:guess"), Err(AuthError::WrongPassword)),
            ("wrong username", &secured, outside, basic("tigo:s3cret:with:colons"), Err(AuthError::WrongUsername)),
            ("missing header", &secured, outside, HeaderMap::new(), Err(AuthError::MissingHeader)),
            ("bearer", &secured, outside, raw_authorization("Bearer abc"), Err(AuthError::Malformed)),
            ("not base64", &secured, outside, raw_authorization("Basic !!!"), Err(AuthError::Malformed)),
            ("no colon", &secured, outside, basic("vodacom"), Err(AuthError::Malformed)),
            ("inside network", &fenced, inside, basic("vodacom:s3cret"), Ok(())),
            ("inside network, no header", &fenced, inside, HeaderMap::new(), Err(AuthError::MissingHeader)),
            ("outside network", &fenced, outside, basic("vodacom:s3cret"), Err(AuthError::PeerNotAllowed(outside))),
            ("loopback demo", &loopback_demo, local, HeaderMap::new(), Ok(())),
            ("loopback demo, mapped v6", &loopback_demo, mapped_local, HeaderMap::new(), Ok(())),
            ("loopback demo, v6", &loopback_demo, "::1".parse().unwrap(), HeaderMap::new(), Ok(())),
            ("loopback demo from afar", &loopback_demo, outside, HeaderMap::new(), Err(AuthError::PeerNotAllowed(outside))),
            ("nothing configured", &open, local, basic("vodacom:s3cret"), Err(AuthError::NotConfigured(open.id.clone()))),
        ];
        for (name, telco, peer, headers, want) in cases {
            assert_eq!(authenticate(telco, peer, &headers), want, "{name}");
        }
    }

    #[test]
    fn stored_hash_is_compared_case_insensitively() {
        let mut t = telco(Some(("vodacom", "s3cret")), &[]);
        let creds = t.credentials.as_mut().unwrap();
        creds.secret_sha256 = creds.secret_sha256.to_ascii_uppercase();
        assert_eq!(
            authenticate(&t, "10.0.0.1".parse().unwrap(), &basic("vodacom:s3cret")),
            Ok(())
        );
    }

    #[test]
    fn generated_secrets_are_fresh_and_hashed() {
        let (secret, hash) = generate_secret();
        let (other, _) = generate_secret();
        assert_ne!(secret, other);
        assert_eq!(secret.len(), 43, "32 bytes in unpadded base64url");
        assert!(secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(hash, hash_secret(&secret));
        assert_eq!(hash.len(), 64);
        let t = telco(None, &[]);
        let t = Telco {
            credentials: Some(TelcoCredentials {
                username: "u".into(),
                secret_sha256: hash,
            }),
            ..t
        };
        let headers = basic(&format!("u:{secret}"));
        assert_eq!(
            authenticate(&t, "10.0.0.1".parse().unwrap(), &headers),
            Ok(())
        );
    }
}
