//! Sessions in Redis, shared by every gateway node.
//!
//! Layout under the key prefix `P`:
//! - `P` + `s:` + session key: the session as JSON, with a key TTL of the idle timeout plus
//!   [`TTL_GRACE_MS`]. The TTL is only a safety net against sessions nobody reaps; expiry is
//!   decided by the caller's clock.
//! - `P` + `deadlines`: a sorted set of session keys scored by `last_seen_ms + idle timeout`,
//!   so that [`SessionStore::take_expired`] finds idle sessions without scanning.
//!
//! Every operation is one round trip and atomic (MULTI/EXEC or a Lua script), so concurrent
//! nodes never see a session without its deadline, and an expired session is claimed once.
//!
//! # Redis Cluster
//! `save`, `remove` and the expiry script touch a session key and the deadline set together,
//! which Cluster allows only within one hash slot. A Cluster deployment would need a hash tag
//! in the prefix (`mgov:{sessions}:`), which puts every session on one shard, or, to spread
//! them, N deadline sets each tagged with a bucket (`mgov:{b7}:deadlines`, session keys
//! tagged with the bucket of their key) and a reaper that walks the buckets; the expiry
//! script would also have to pass the session keys in `KEYS` instead of building them.

use super::{Millis, Session, SessionError, SessionStore};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// How long a key outlives its idle deadline, so that a reaper a little late still finds it.
pub const TTL_GRACE_MS: i64 = 60_000;
/// Bounds on connecting and on each reply: a dead Redis must fail a hop quickly (the telco
/// is waiting), not hang it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Claims up to `ARGV[2]` members of the deadline set `KEYS[1]` scored at or below
/// `ARGV[1]`, removing each member and its session key (`ARGV[3]` + member), and returns
/// the sessions' JSON. A member whose key has vanished (TTL safety net) is dropped and does
/// not count against the limit. Running as a script makes the claim atomic across nodes.
const TAKE_EXPIRED: &str = r#"
local taken = {}
local limit = tonumber(ARGV[2])
while #taken < limit do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, limit - #taken)
  if #due == 0 then break end
  for _, member in ipairs(due) do
    redis.call('ZREM', KEYS[1], member)
    local key = ARGV[3] .. member
    local json = redis.call('GET', key)
    if json then
      redis.call('DEL', key)
      taken[#taken + 1] = json
    end
  end
end
return taken
"#;

/// Sessions in one Redis server (or a primary with replicas), shared by all nodes.
#[derive(Clone)]
pub struct RedisSessions {
    conn: ConnectionManager,
    /// Prefix of session keys: `<key_prefix>s:`.
    session_prefix: String,
    deadlines_key: String,
    idle_timeout_ms: Millis,
    take_expired: redis::Script,
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
            session_prefix: format!("{key_prefix}s:"),
            deadlines_key: format!("{key_prefix}deadlines"),
            idle_timeout_ms,
            take_expired: redis::Script::new(TAKE_EXPIRED),
        })
    }

    fn session_key(&self, key: &str) -> String {
        format!("{}{key}", self.session_prefix)
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
        let json =
            serde_json::to_string(session).map_err(|e| SessionError::Corrupt(e.to_string()))?;
        let deadline = session.last_seen_ms.saturating_add(self.idle_timeout_ms);
        let ttl_ms = self.idle_timeout_ms.saturating_add(TTL_GRACE_MS).max(1);
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.session_key(&session.key))
            .arg(json)
            .arg("PX")
            .arg(ttl_ms)
            .ignore()
            .cmd("ZADD")
            .arg(&self.deadlines_key)
            .arg(deadline)
            .arg(&session.key)
            .ignore()
            .exec_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn remove(&self, key: &str) -> Result<Option<Session>, SessionError> {
        let (json, _removed): (Option<String>, i64) = redis::pipe()
            .atomic()
            .cmd("GETDEL")
            .arg(self.session_key(key))
            .cmd("ZREM")
            .arg(&self.deadlines_key)
            .arg(key)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        json.as_deref().map(decode).transpose()
    }

    async fn take_expired(&self, now: Millis, limit: usize) -> Result<Vec<Session>, SessionError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let taken: Vec<String> = self
            .take_expired
            .key(&self.deadlines_key)
            .arg(now)
            .arg(limit)
            .arg(&self.session_prefix)
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
