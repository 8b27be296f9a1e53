//! In-process sessions for the single-node embedded gateway.
//!
//! Sessions sit in a [`DashMap`] (sharded locks, so hops on different sessions do not wait
//! for each other). Expiry needs the sessions in deadline order without scanning them all, so
//! a second structure, the deadline index, keeps `(deadline, key)` pairs in sharded
//! `BTreeSet`s. Every change to a key, in the map and in the index, is made under that key's
//! index-shard lock, so the two agree; still, the map is the truth, and `take_expired` drops
//! an entry naming another deadline than the stored session's (a stale entry) when it meets one.

use super::{Millis, Session, SessionError, SessionStore};
use dashmap::DashMap;
use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

/// Shards of the deadline index; enough that concurrent saves rarely meet on one lock.
const INDEX_SHARDS: usize = 16;

/// Sessions held in this process only; never use it when several nodes serve one code.
///
/// Nothing expires by itself: the reaper's calls to [`SessionStore::take_expired`] remove
/// idle sessions, so memory stays bounded only while the reaper runs.
pub struct MemorySessions {
    idle_timeout_ms: Millis,
    sessions: DashMap<String, Session>,
    index: Vec<Mutex<BTreeSet<(Millis, String)>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl MemorySessions {
    /// A session expires `idle_timeout_ms` after its `last_seen_ms`.
    pub fn new(idle_timeout_ms: i64) -> Self {
        Self {
            idle_timeout_ms,
            sessions: DashMap::new(),
            index: (0..INDEX_SHARDS)
                .map(|_| Mutex::new(BTreeSet::new()))
                .collect(),
            hasher: Default::default(),
        }
    }

    fn deadline(&self, session: &Session) -> Millis {
        session.last_seen_ms.saturating_add(self.idle_timeout_ms)
    }

    /// The deadline-index shard of `key`; hold it while changing `key` in the map too, so that
    /// two concurrent saves cannot leave the live deadline out of the index.
    fn shard(&self, key: &str) -> MutexGuard<'_, BTreeSet<(Millis, String)>> {
        let i = (self.hasher.hash_one(key) % INDEX_SHARDS as u64) as usize;
        lock(&self.index[i])
    }
}

/// Every index entry is checked against the map before use, so a lock poisoned by a panic
/// elsewhere is still safe to use.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait::async_trait]
impl SessionStore for MemorySessions {
    async fn load(&self, key: &str, now: Millis) -> Result<Option<Session>, SessionError> {
        Ok(self
            .sessions
            .get(key)
            .filter(|s| self.deadline(s) > now)
            .map(|s| s.clone()))
    }

    async fn save(&self, session: &Session) -> Result<(), SessionError> {
        let mut shard = self.shard(&session.key);
        if let Some(previous) = self.sessions.insert(session.key.clone(), session.clone()) {
            shard.remove(&(self.deadline(&previous), session.key.clone()));
        }
        shard.insert((self.deadline(session), session.key.clone()));
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<Option<Session>, SessionError> {
        let mut shard = self.shard(key);
        // DashMap's remove is atomic per key, so exactly one concurrent caller gets it.
        let removed = self.sessions.remove(key).map(|(_, s)| s);
        if let Some(session) = &removed {
            shard.remove(&(self.deadline(session), key.to_string()));
        }
        Ok(removed)
    }

    async fn take_expired(&self, now: Millis, limit: usize) -> Result<Vec<Session>, SessionError> {
        let mut taken = Vec::new();
        for index in &self.index {
            let mut shard = lock(index);
            while taken.len() < limit {
                let Some((deadline, key)) = shard.first().filter(|(d, _)| *d <= now).cloned()
                else {
                    break;
                };
                shard.pop_first();
                // The map is the truth: an entry naming another deadline than the stored
                // session's is stale (the session was saved again) and is just dropped.
                let removed = self
                    .sessions
                    .remove_if(&key, |_, s| self.deadline(s) == deadline);
                taken.extend(removed.map(|(_, s)| s));
            }
            if taken.len() >= limit {
                break;
            }
        }
        Ok(taken)
    }

    async fn count(&self) -> Result<u64, SessionError> {
        Ok(self.sessions.len() as u64)
    }

    async fn ping(&self) -> Result<(), SessionError> {
        Ok(())
    }
}
