//! Small read-mostly tables (telcos, agencies) kept in memory so that a hop does not query
//! the database for them; reloaded from the database when changed and periodically, so
//! that every node sees another node's changes within the refresh interval.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

pub struct Directory<K, V> {
    entries: RwLock<Arc<HashMap<K, Arc<V>>>>,
}

impl<K: Eq + Hash, V> Default for Directory<K, V> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(Arc::new(HashMap::new())),
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
    }
}
