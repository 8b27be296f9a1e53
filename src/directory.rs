//! Small read-mostly tables (telcos, agencies) kept in memory so that a hop does not query
//! the database for them; re-read when any node announces a change (`db::changes`), and
//! periodically in case an announcement was missed.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

pub struct Directory<K, V> {
    entries: RwLock<Arc<HashMap<K, Arc<V>>>>,
    /// Counts reloads, so that a waiter learns when a change has been taken in.
    reloads: tokio::sync::watch::Sender<u64>,
}

impl<K: Eq + Hash, V> Default for Directory<K, V> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(Arc::new(HashMap::new())),
            reloads: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl<K: Eq + Hash, V> Directory<K, V> {
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.snapshot().get(key).cloned()
    }

    /// The whole table as it is now; holding it does not block a reload.
    pub fn snapshot(&self) -> Arc<HashMap<K, Arc<V>>> {
        self.entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Swaps in a freshly loaded table.
    pub fn replace(&self, entries: impl IntoIterator<Item = (K, V)>) {
        let map = entries.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        *self.entries.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(map);
        self.reloads.send_modify(|n| *n += 1);
    }

    /// Changes each time the table is reloaded.
    pub fn reloads(&self) -> tokio::sync::watch::Receiver<u64> {
        self.reloads.subscribe()
    }
}
