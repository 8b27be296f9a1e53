//! In-process sessions for the single-node embedded gateway.
//!
//! Sessions sit in a [`DashMap`] (sharded locks, so hops on different sessions do not wait
//! for each other). Expiry needs the sessions in deadline order without scanning them all, so
//! a second structure, the deadline index, keeps `(deadline, key)` pairs in sharded
//! `BTreeSet`s. Every change to a key, in the map and in the index, is made under that key's
//! index-shard lock, so the two agree; still, the map is the truth, and `take_expired` drops
//! an entry naming another deadline than the stored session's (a stale entry) when it meets one.
//! Leases, tombstones and each number's live dialogues sit in maps of their own, expired by
//! the caller's clock.

use super::hop::DEFAULT_TOMBSTONE_MS;
use super::{Found, Lease, Millis, Session, SessionError, SessionStore, Tombstone};
use crate::msisdn::Msisdn;
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

/// Shards of the deadline index; enough that concurrent saves rarely meet on one lock.
const INDEX_SHARDS: usize = 16;

/// Sessions held in this process only; never use it when several nodes serve one code.
///
/// Nothing expires by itself: the reaper's calls to [`SessionStore::take_expired`] remove
/// idle sessions and old tombstones, so memory stays bounded only while the reaper runs.
pub struct MemorySessions {
    idle_timeout_ms: Millis,
    tombstone_ms: Millis,
    sessions: DashMap<String, Session>,
    index: Vec<Mutex<BTreeSet<(Millis, String)>>>,
    hasher: std::collections::hash_map::RandomState,
    /// Key → (token, the caller's clock when it runs out).
    leases: DashMap<String, (String, Millis)>,
    /// Key → (tombstone, the caller's clock when it is forgotten).
    tombstones: DashMap<String, (Tombstone, Millis)>,
    /// Number → its live dialogues and their deadlines.
    by_number: DashMap<Msisdn, BTreeMap<String, Millis>>,
}

impl MemorySessions {
    /// A session expires `idle_timeout_ms` after its `last_seen_ms`.
    pub fn new(idle_timeout_ms: i64) -> Self {
        Self {
            idle_timeout_ms,
            tombstone_ms: DEFAULT_TOMBSTONE_MS,
            sessions: DashMap::new(),
            index: (0..INDEX_SHARDS)
                .map(|_| Mutex::new(BTreeSet::new()))
                .collect(),
            hasher: Default::default(),
            leases: DashMap::new(),
            tombstones: DashMap::new(),
            by_number: DashMap::new(),
        }
    }

    /// How long an ended dialogue's tombstone lasts.
    pub fn with_tombstone_ms(mut self, tombstone_ms: Millis) -> Self {
        self.tombstone_ms = tombstone_ms;
        self
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

    fn forget_number(&self, session: &Session) {
        if let Entry::Occupied(mut live) = self.by_number.entry(session.msisdn.clone()) {
            live.get_mut().remove(&session.key);
            if live.get().is_empty() {
                live.remove();
            }
        }
    }

    fn holds(&self, lease: &Lease) -> bool {
        self.leases
            .get(&lease.key)
            .is_some_and(|held| held.0 == lease.token)
    }

    fn leased(&self, key: &str, now: Millis) -> bool {
        self.leases.get(key).is_some_and(|held| held.1 > now)
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
        self.by_number
            .entry(session.msisdn.clone())
            .or_default()
            .insert(session.key.clone(), self.deadline(session));
        Ok(())
    }

    async fn begin_hop(
        &self,
        key: &str,
        msisdn: Option<&Msisdn>,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<(Lease, Found)>, SessionError> {
        let lease = Lease::new(key);
        match self.leases.entry(key.to_string()) {
            Entry::Occupied(held) if held.get().1 > now => return Ok(None),
            Entry::Occupied(mut held) => {
                held.insert((lease.token.clone(), now.saturating_add(lease_ms)));
            }
            Entry::Vacant(free) => {
                free.insert((lease.token.clone(), now.saturating_add(lease_ms)));
            }
        }
        if let Some(session) = self.sessions.get(key).map(|s| s.clone()) {
            let found = if self.deadline(&session) > now {
                Found::Live(Box::new(session))
            } else {
                Found::Over(Tombstone::of(&session, true))
            };
            return Ok(Some((lease, found)));
        }
        if let Some(tombstone) = self
            .tombstones
            .get(key)
            .filter(|t| t.1 > now)
            .map(|t| t.0.clone())
        {
            return Ok(Some((lease, Found::Over(tombstone))));
        }
        let live_for_number = msisdn
            .and_then(|m| self.by_number.get(m))
            .map_or(0, |live| {
                live.values().filter(|deadline| **deadline > now).count() as u32
            });
        Ok(Some((lease, Found::Unknown { live_for_number })))
    }

    async fn save_hop(&self, lease: Lease, session: &Session) -> Result<(), SessionError> {
        if !self.holds(&lease) {
            return Err(SessionError::LeaseLost);
        }
        self.save(session).await?;
        self.release(lease).await
    }

    async fn end_hop(
        &self,
        lease: Lease,
        tombstone: &Tombstone,
        now: Millis,
    ) -> Result<(), SessionError> {
        if !self.holds(&lease) {
            return Err(SessionError::LeaseLost);
        }
        self.remove(&lease.key).await?;
        let forget_at = now.saturating_add(self.tombstone_ms);
        self.tombstones
            .insert(lease.key.clone(), (tombstone.clone(), forget_at));
        self.release(lease).await
    }

    async fn release(&self, lease: Lease) -> Result<(), SessionError> {
        self.leases
            .remove_if(&lease.key, |_, held| held.0 == lease.token);
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<Option<Session>, SessionError> {
        let mut shard = self.shard(key);
        // DashMap's remove is atomic per key, so exactly one concurrent caller gets it.
        let removed = self.sessions.remove(key).map(|(_, s)| s);
        if let Some(session) = &removed {
            shard.remove(&(self.deadline(session), key.to_string()));
            self.forget_number(session);
        }
        Ok(removed)
    }

    async fn take_expired(&self, now: Millis, limit: usize) -> Result<Vec<Session>, SessionError> {
        self.tombstones.retain(|_, t| t.1 > now);
        self.leases.retain(|_, held| held.1 > now);
        let mut taken = Vec::new();
        for index in &self.index {
            let mut shard = lock(index);
            let mut held = Vec::new();
            while taken.len() < limit {
                let Some((deadline, key)) = shard.first().filter(|(d, _)| *d <= now).cloned()
                else {
                    break;
                };
                shard.pop_first();
                if self.leased(&key, now) {
                    // A hop is working on it: it decides, or a later round does.
                    held.push((deadline, key));
                    continue;
                }
                // The map is the truth: an entry naming another deadline than the stored
                // session's is stale (the session was saved again) and is just dropped.
                let removed = self
                    .sessions
                    .remove_if(&key, |_, s| self.deadline(s) == deadline);
                if let Some((_, session)) = removed {
                    self.forget_number(&session);
                    let forget_at = now.saturating_add(self.tombstone_ms);
                    self.tombstones
                        .insert(key, (Tombstone::of(&session, true), forget_at));
                    taken.push(session);
                }
            }
            shard.extend(held);
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
