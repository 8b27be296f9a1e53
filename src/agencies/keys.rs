//! Agency API keys: `mgk_` and 43 random characters, shown once when issued; the store keeps
//! the first [`PREFIX_LEN`] characters (to find the row) and the SHA-256 of the whole key.
//! A key is 256 random bits, so a fast hash is as safe as a slow one and costs nothing per
//! request. Checked keys are remembered for a second, so that a revocation reaches every
//! node within a second without a database read per request.

use super::store::{find_api_key, insert_api_key};
use crate::db::{Db, DbError};
use crate::ids::AgencyId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dashmap::DashMap;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

const KEY_MARK: &str = "mgk_";
/// Characters of a key stored in clear to find its row: the mark and 8 random characters.
pub const PREFIX_LEN: usize = 12;
/// How long a checked key (or an unknown prefix) is remembered.
const REMEMBER: Duration = Duration::from_secs(1);
/// Remembered prefixes past which the memory is cleared (a flood of made-up keys).
const MAX_REMEMBERED: usize = 10_000;

/// Issues a key for `agency`: returns the key to show once, and its prefix.
pub async fn issue(db: &Db, agency: &AgencyId) -> Result<(String, String), DbError> {
    loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key = format!("{KEY_MARK}{}", URL_SAFE_NO_PAD.encode(bytes));
        let prefix = key[..PREFIX_LEN].to_string();
        match insert_api_key(db, agency, &prefix, &hash(&key)).await {
            Ok(_) => return Ok((key, prefix)),
            // Two keys sharing 48 random bits: draw again.
            Err(e) if e.is_unique_violation() => continue,
            Err(e) => return Err(e),
        }
    }
}

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Why a key was not accepted (the caller answers 401 with this).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("send the agency's API key as `Authorization: Bearer mgk_...`")]
    Missing,
    #[error("the API key is unknown or revoked")]
    Unknown,
}

/// Checks keys against the store, remembering each answer for a second.
#[derive(Default)]
pub struct KeyChecker {
    remembered: DashMap<String, (Instant, Option<(AgencyId, String)>)>,
}

impl KeyChecker {
    /// The agency whose key `presented` is.
    pub async fn check(
        &self,
        db: &Db,
        presented: &str,
    ) -> Result<Result<AgencyId, KeyError>, DbError> {
        let presented = presented.trim();
        if !presented.starts_with(KEY_MARK) || presented.len() <= PREFIX_LEN {
            return Ok(Err(KeyError::Unknown));
        }
        let prefix = &presented[..PREFIX_LEN];
        let fresh = self
            .remembered
            .get(prefix)
            .filter(|entry| entry.0.elapsed() < REMEMBER)
            .map(|entry| entry.1.clone());
        let found = match fresh {
            Some(found) => found,
            None => {
                let found = find_api_key(db, prefix).await?;
                if self.remembered.len() >= MAX_REMEMBERED {
                    self.remembered.clear();
                }
                self.remembered
                    .insert(prefix.to_string(), (Instant::now(), found.clone()));
                found
            }
        };
        let Some((agency, stored_hash)) = found else {
            return Ok(Err(KeyError::Unknown));
        };
        if bool::from(hash(presented).as_bytes().ct_eq(stored_hash.as_bytes())) {
            Ok(Ok(agency))
        } else {
            Ok(Err(KeyError::Unknown))
        }
    }
}

/// The key in an `Authorization: Bearer <key>` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, KeyError> {
    let value = header.ok_or(KeyError::Missing)?.trim();
    let (scheme, key) = value.split_once(' ').ok_or(KeyError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
        return Err(KeyError::Missing);
    }
    Ok(key.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer(Some("Bearer mgk_abc")), Ok("mgk_abc"));
        assert_eq!(bearer(Some("bearer  mgk_abc ")), Ok("mgk_abc"));
        assert_eq!(bearer(None), Err(KeyError::Missing));
        assert_eq!(bearer(Some("Basic dXNlcjpwYXNz")), Err(KeyError::Missing));
        assert_eq!(bearer(Some("Bearer")), Err(KeyError::Missing));
        assert_eq!(bearer(Some("Bearer ")), Err(KeyError::Missing));
    }

    #[tokio::test]
    async fn issued_keys_check_until_revoked_and_only_their_hash_is_stored() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        db.migrate().await.unwrap();
        let agency = AgencyId::parse("dawasa").unwrap();
        let record = crate::agencies::Agency {
            id: agency.clone(),
            name: "DAWASA".into(),
            backoffice_url: "http://127.0.0.1:9".into(),
            signing_secret: "s".into(),
            actions: vec![],
            callback_url: None,
            sender_ids: vec![],
            webhook_every_status: false,
        };
        crate::agencies::store::upsert_agency(&db, &record)
            .await
            .unwrap();
        let (key, prefix) = issue(&db, &agency).await.unwrap();
        assert!(key.starts_with("mgk_") && key.len() == 47, "{key}");
        let (_, stored) = find_api_key(&db, &prefix).await.unwrap().unwrap();
        assert_eq!(stored, hash(&key));
        assert!(!stored.contains(&key[PREFIX_LEN..]));

        let checker = KeyChecker::default();
        assert_eq!(checker.check(&db, &key).await.unwrap(), Ok(agency.clone()));
        let mut wrong = key.clone();
        wrong.replace_range(40.., "AAAAAAA");
        assert_eq!(
            checker.check(&db, &wrong).await.unwrap(),
            Err(KeyError::Unknown)
        );
        assert_eq!(
            checker.check(&db, "mgk_short").await.unwrap(),
            Err(KeyError::Unknown)
        );

        assert!(crate::agencies::store::revoke_api_key(&db, &prefix)
            .await
            .unwrap());
        let fresh = KeyChecker::default();
        assert_eq!(
            fresh.check(&db, &key).await.unwrap(),
            Err(KeyError::Unknown)
        );
    }
}
