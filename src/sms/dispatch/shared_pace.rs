//! A telco's parts-per-second limit shared by every node through Redis: the telco counts
//! what the whole gateway sends, not what each node sends.
//!
//! The limit is a generic cell rate algorithm in one script: the key holds the time at which
//! the telco would next be idle if every granted part went out at the limit; a grant moves
//! it on by one interval per part, and is refused while it would run more than a small burst
//! ahead of now. Redis's own clock is the clock, so nodes need not agree on the time.
//! Each node takes parts in small grants, so Redis sees tens of calls a second per telco,
//! not one per message; a grant not used soon is dropped, so that parts granted long ago
//! cannot go out on top of other nodes' sends.

use crate::ids::TelcoId;
use redis::aio::ConnectionManager;
use redis::Script;
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Takes `ARGV[3]` parts if they fit. `ARGV[1]`: microseconds per part; `ARGV[2]`: how far
/// ahead of now (microseconds) the idle time may run; `ARGV[4]` (tests only): now, in
/// microseconds, instead of Redis's clock. Returns `{granted (0|1), wait_microseconds}`.
const GRANT: &str = r#"
local now
if ARGV[4] then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local idle_at = tonumber(redis.call('GET', KEYS[1]) or '0')
if idle_at < now then idle_at = now end
local next_idle = idle_at + tonumber(ARGV[3]) * interval
local ahead = next_idle - now
if ahead > burst then
  return {0, ahead - burst}
end
redis.call('SET', KEYS[1], next_idle, 'PX', math.floor(ahead / 1000) + 1000)
return {1, 0}
"#;

/// Parts a node takes at a time: a twentieth of a second's worth (at least what it needs).
const GRANTS_PER_SECOND: u32 = 20;

/// The shared limits of every telco, in one Redis.
#[derive(Clone)]
pub struct SharedLimits {
    conn: ConnectionManager,
    prefix: String,
    script: Script,
}

/// What a grant request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Granted,
    /// Refused: ask again after this long.
    Wait(Duration),
}

impl SharedLimits {
    /// Limits kept under `{key_prefix}sms:pace:{telco}`.
    pub fn new(conn: ConnectionManager, key_prefix: &str) -> Self {
        Self {
            conn,
            prefix: format!("{key_prefix}sms:pace:"),
            script: Script::new(GRANT),
        }
    }

    /// Asks for `parts` parts of `telco`'s `parts_per_second`; `now_us` replaces Redis's
    /// clock (tests).
    pub async fn grant(
        &self,
        telco: &TelcoId,
        parts_per_second: NonZeroU32,
        parts: u32,
        now_us: Option<i64>,
    ) -> Result<Grant, redis::RedisError> {
        // Rounded up: the gateway stays under the limit, never over it.
        let rate = i64::from(parts_per_second.get());
        let interval_us = (1_000_000 + rate - 1) / rate;
        let mut invocation = self.script.key(format!("{}{telco}", self.prefix));
        invocation
            .arg(interval_us)
            .arg(burst_us(parts_per_second, interval_us))
            .arg(parts);
        if let Some(now) = now_us {
            invocation.arg(now);
        }
        let (granted, wait_us): (i64, i64) =
            invocation.invoke_async(&mut self.conn.clone()).await?;
        Ok(if granted == 1 {
            Grant::Granted
        } else {
            Grant::Wait(Duration::from_micros(wait_us.max(1) as u64))
        })
    }
}

/// How far ahead the shared schedule may run: a tenth of a second's parts, and at least one
/// whole ten-part message, so that a one-second count at the telco stays near the limit.
fn burst_us(parts_per_second: NonZeroU32, interval_us: i64) -> i64 {
    let parts = (parts_per_second.get() / 10).max(10);
    i64::from(parts) * interval_us
}

/// One node's share of one telco's shared limit: parts granted and not yet used.
pub struct SharedPace {
    limits: SharedLimits,
    telco: TelcoId,
    rate: NonZeroU32,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    parts: u32,
    use_by: Option<Instant>,
}

impl SharedPace {
    pub fn new(limits: SharedLimits, telco: TelcoId, rate: NonZeroU32) -> Self {
        Self {
            limits,
            telco,
            rate,
            held: Mutex::new(Held::default()),
        }
    }

    /// Waits until the gateway as a whole may send `parts` more parts. When Redis cannot be
    /// asked, the node's own limit is all that holds (logged): SMS keeps flowing.
    pub async fn ready_for(&self, parts: u32) {
        let mut held = self.held.lock().await;
        let now = Instant::now();
        if held.use_by.is_some_and(|by| by > now) && held.parts >= parts {
            held.parts -= parts;
            return;
        }
        let chunk = (self.rate.get() / GRANTS_PER_SECOND).max(parts);
        loop {
            match self.limits.grant(&self.telco, self.rate, chunk, None).await {
                Ok(Grant::Granted) => break,
                Ok(Grant::Wait(wait)) => tokio::time::sleep(wait).await,
                Err(e) => {
                    tracing::warn!(telco = %self.telco, error = %e,
                        "shared send limit unavailable; this node's own limit applies");
                    *held = Held::default();
                    return;
                }
            }
        }
        // A grant is the schedule's next `chunk` intervals: use it within them or drop it.
        let lasts = Duration::from_secs(1) * chunk / self.rate.get();
        *held = Held {
            parts: chunk - parts,
            use_by: Some(Instant::now() + lasts),
        };
    }
}
