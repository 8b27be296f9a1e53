//! Sessions in Redis, shared by every gateway node.
//!
//! Layout under the key prefix `P`:
//! - `P` + `s:` + session key: the session as JSON, with a key TTL of the idle timeout plus
//!   the longer of [`TTL_GRACE_MS`] and the tombstone time. The TTL is only a safety net
//!   against sessions nobody reaps; expiry is decided by the caller's clock.
//! - `P` + `deadlines`: a sorted set of session keys scored by `last_seen_ms + idle timeout`,
//!   so that [`SessionStore::take_expired`] finds idle sessions without scanning.
//! - `P` + `l:` + session key: the lease of the hop working on the dialogue (a random token,
//!   expiring by itself).
//! - `P` + `t:` + session key: the tombstone an ended or expired dialogue leaves.
//! - `P` + `n:` + a digest of the number: a sorted set of the number's live dialogues scored
//!   by deadline (a digest, so that full numbers stay out of key names, `MONITOR` and logs).
//!
//! Every operation is one round trip and atomic (MULTI/EXEC or a Lua script), so concurrent
//! nodes never see a session without its deadline, and an expired session is claimed once.
//!
//! # Redis Cluster
//! The hop scripts touch a dialogue's keys, the deadline set and the number's set together,
//! which Cluster allows only within one hash slot. A Cluster deployment would need a hash tag
//! in the prefix (`mgov:{sessions}:`), which puts every session on one shard, or, to spread
//! them, N deadline sets each tagged with a bucket (`mgov:{b7}:deadlines`, session keys
//! tagged with the bucket of their key) and a reaper that walks the buckets; the scripts
//! would also have to pass every key in `KEYS` instead of building them.

mod scripts;

use super::hop::DEFAULT_TOMBSTONE_MS;
use super::{Found, Lease, Millis, Session, SessionError, SessionStore, Tombstone};
use crate::msisdn::Msisdn;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use std::time::Duration;

/// How long a key outlives its idle deadline, so that a reaper a little late still finds it.
pub const TTL_GRACE_MS: i64 = 60_000;
/// Bounds on connecting and on each reply: a dead Redis must fail a hop quickly (the telco
/// is waiting), not hang it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// How much later the reaper looks again at an idle dialogue a hop is working on.
const LEASED_RETRY_MS: i64 = 5_000;

/// Sessions in one Redis server (or a primary with replicas), shared by all nodes.
#[derive(Clone)]
pub struct RedisSessions {
    conn: ConnectionManager,
    /// Every key starts with it.
    prefix: String,
    deadlines_key: String,
    idle_timeout_ms: Millis,
    tombstone_ms: Millis,
    scripts: Scripts,
}

#[derive(Clone)]
struct Scripts {
    begin_hop: Script,
    save_hop: Script,
    end_hop: Script,
    release: Script,
    remove: Script,
    take_expired: Script,
}

impl RedisSessions {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379/0`) and fails with
    /// [`SessionError::Unavailable`] within about two seconds if Redis does not answer, so
    /// that a wrong URL is reported at start-up. Every key starts with `key_prefix`.
    pub async fn connect(
        url: &str,
        key_prefix: &str,
        idle_timeout_ms: i64,
    ) -> Result<Self, SessionError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        // One quick retry smooths over a blip; more would hold a citizen's hop past the
        // telco's own timeout. A failed reconnect is retried on the next command.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(unavailable)?;
        Ok(Self {
            conn,
            prefix: key_prefix.to_string(),
            deadlines_key: format!("{key_prefix}deadlines"),
            idle_timeout_ms,
            tombstone_ms: DEFAULT_TOMBSTONE_MS,
            scripts: Scripts {
                begin_hop: Script::new(scripts::BEGIN_HOP),
                save_hop: Script::new(scripts::SAVE_HOP),
                end_hop: Script::new(scripts::END_HOP),
                release: Script::new(scripts::RELEASE),
                remove: Script::new(scripts::REMOVE),
                take_expired: Script::new(scripts::TAKE_EXPIRED),
            },
        })
    }

    /// The connection, for other shared state kept in the same Redis (send limits).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// How long an ended dialogue's tombstone lasts.
    pub fn with_tombstone_ms(mut self, tombstone_ms: Millis) -> Self {
        self.tombstone_ms = tombstone_ms;
        self
    }

    fn session_key(&self, key: &str) -> String {
        format!("{}s:{key}", self.prefix)
    }

    fn lease_key(&self, key: &str) -> String {
        format!("{}l:{key}", self.prefix)
    }

    fn tombstone_key(&self, key: &str) -> String {
        format!("{}t:{key}", self.prefix)
    }

    fn number_key(&self, msisdn: &Msisdn) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(msisdn.as_str().as_bytes());
        format!("{}n:{}", self.prefix, hex::encode(&digest[..12]))
    }

    /// A key outlives its idle deadline by the tombstone time too, so that a reaper that was
    /// down for a while still finds the session and records it.
    fn ttl_ms(&self) -> Millis {
        self.idle_timeout_ms
            .saturating_add(TTL_GRACE_MS.max(self.tombstone_ms))
            .max(1)
    }

    /// `ConnectionManager` is a cheap handle to one multiplexed connection; commands need
    /// `&mut`, so each call works on its own clone.
    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

fn unavailable(err: redis::RedisError) -> SessionError {
    SessionError::Unavailable(err.to_string())
}

fn decode(json: &str) -> Result<Session, SessionError> {
    serde_json::from_str(json).map_err(|e| SessionError::Corrupt(e.to_string()))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, SessionError> {
    serde_json::to_string(value).map_err(|e| SessionError::Corrupt(e.to_string()))
}

#[async_trait::async_trait]
impl SessionStore for RedisSessions {
    async fn load(&self, key: &str, now: Millis) -> Result<Option<Session>, SessionError> {
        let json: Option<String> = redis::cmd("GET")
            .arg(self.session_key(key))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let Some(json) = json else { return Ok(None) };
        let session = decode(&json)?;
        let live = session.last_seen_ms.saturating_add(self.idle_timeout_ms) > now;
        Ok(live.then_some(session))
    }

    async fn save(&self, session: &Session) -> Result<(), SessionError> {
        let deadline = session.last_seen_ms.saturating_add(self.idle_timeout_ms);
        let number_key = self.number_key(&session.msisdn);
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.session_key(&session.key))
            .arg(encode(session)?)
            .arg("PX")
            .arg(self.ttl_ms())
            .ignore()
            .cmd("ZADD")
            .arg(&self.deadlines_key)
            .arg(deadline)
            .arg(&session.key)
            .ignore()
            .cmd("ZADD")
            .arg(&number_key)
            .arg(deadline)
            .arg(&session.key)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&number_key)
            .arg(self.ttl_ms())
            .ignore()
            .exec_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn begin_hop(
        &self,
        key: &str,
        msisdn: Option<&Msisdn>,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<(Lease, Found)>, SessionError> {
        let lease = Lease::new(key);
        let (code, value): (i64, String) = self
            .scripts
            .begin_hop
            .key(self.lease_key(key))
            .key(self.session_key(key))
            .key(self.tombstone_key(key))
            // Without a number, an empty set: counts 0.
            .key(msisdn.map_or_else(|| format!("{}n:", self.prefix), |m| self.number_key(m)))
            .arg(&lease.token)
            .arg(lease_ms.max(1))
            .arg(now)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let found = match code {
            0 => return Ok(None),
            1 => {
                let session = decode(&value)?;
                if session.last_seen_ms.saturating_add(self.idle_timeout_ms) > now {
                    Found::Live(Box::new(session))
                } else {
                    Found::Over(Tombstone::of(&session, true))
                }
            }
            2 => Found::Over(
                serde_json::from_str(&value).map_err(|e| SessionError::Corrupt(e.to_string()))?,
            ),
            _ => Found::Unknown {
                live_for_number: value.parse().unwrap_or(0),
            },
        };
        Ok(Some((lease, found)))
    }

    async fn save_hop(&self, lease: Lease, session: &Session) -> Result<(), SessionError> {
        let deadline = session.last_seen_ms.saturating_add(self.idle_timeout_ms);
        let saved: i64 = self
            .scripts
            .save_hop
            .key(self.lease_key(&lease.key))
            .key(self.session_key(&session.key))
            .key(&self.deadlines_key)
            .key(self.number_key(&session.msisdn))
            .arg(&lease.token)
            .arg(encode(session)?)
            .arg(self.ttl_ms())
            .arg(deadline)
            .arg(&session.key)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if saved == 1 {
            Ok(())
        } else {
            Err(SessionError::LeaseLost)
        }
    }

    async fn end_hop(
        &self,
        lease: Lease,
        tombstone: &Tombstone,
        _now: Millis,
    ) -> Result<(), SessionError> {
        let ended: i64 = self
            .scripts
            .end_hop
            .key(self.lease_key(&lease.key))
            .key(self.session_key(&lease.key))
            .key(&self.deadlines_key)
            .key(self.number_key(&tombstone.msisdn))
            .key(self.tombstone_key(&lease.key))
            .arg(&lease.token)
            .arg(&lease.key)
            .arg(encode(tombstone)?)
            .arg(self.tombstone_ms.max(1))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if ended == 1 {
            Ok(())
        } else {
            Err(SessionError::LeaseLost)
        }
    }

    async fn release(&self, lease: Lease) -> Result<(), SessionError> {
        let _: i64 = self
            .scripts
            .release
            .key(self.lease_key(&lease.key))
            .arg(&lease.token)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<Option<Session>, SessionError> {
        let json: Option<String> = self
            .scripts
            .remove
            .key(self.session_key(key))
            .key(&self.deadlines_key)
            .arg(key)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        json.as_deref().map(decode).transpose()
    }

    async fn take_expired(&self, now: Millis, limit: usize) -> Result<Vec<Session>, SessionError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let taken: Vec<String> = self
            .scripts
            .take_expired
            .key(&self.deadlines_key)
            .arg(now)
            .arg(limit)
            .arg(&self.prefix)
            .arg(self.tombstone_ms.max(1))
            .arg(LEASED_RETRY_MS)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        // The keys are already gone: failing the whole batch for one unreadable session
        // would lose the others, so it is logged and skipped.
        Ok(taken
            .iter()
            .filter_map(|json| {
                decode(json)
                    .inspect_err(
                        |e| tracing::warn!(error = %e, "dropping unreadable expired session"),
                    )
                    .ok()
            })
            .collect())
    }

    async fn count(&self) -> Result<u64, SessionError> {
        redis::cmd("ZCARD")
            .arg(&self.deadlines_key)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn ping(&self) -> Result<(), SessionError> {
        redis::cmd("PING")
            .exec_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }
}
