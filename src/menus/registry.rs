//! The menus a node serves: every version it has loaded, swapped copy-on-write on a reload so
//! that dialogues in flight finish on the version they started with, and versions another
//! node published read from the store when a dialogue needs one.

use super::{store, Menu, MenuSet};
use crate::db::Db;
use crate::ids::ServiceId;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long a hop waits for a menu version another node published.
const MENU_LOOKUP_WAIT: Duration = Duration::from_secs(1);

/// The loaded menus, shared by every handler that reads them; clones share one registry.
#[derive(Clone)]
pub struct MenuRegistry {
    loaded: Arc<RwLock<Arc<MenuSet>>>,
    /// Where published versions are read from.
    db: Db,
    /// Every menu must fit screens this small (`min_screen_limit`).
    min_screen_limit: usize,
}

impl MenuRegistry {
    pub fn new(menus: MenuSet, db: Db, min_screen_limit: usize) -> Self {
        Self {
            loaded: Arc::new(RwLock::new(Arc::new(menus))),
            db,
            min_screen_limit,
        }
    }

    /// The menus as loaded now; a dialogue keeps walking the version it started with.
    pub fn current(&self) -> Arc<MenuSet> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Swaps in newly loaded menus, keeping every version already loaded so that dialogues
    /// in flight finish on the version they started with.
    pub fn install(&self, fresh: MenuSet) {
        self.update(|menus| menus.reload(fresh));
    }

    /// Changes the menus copy-on-write: hops holding the old set keep walking it.
    fn update(&self, change: impl FnOnce(&mut MenuSet)) -> Arc<MenuSet> {
        let mut current = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        let mut next = MenuSet::clone(&current);
        change(&mut next);
        *current = Arc::new(next);
        current.clone()
    }

    /// The menus, including `version` of `service`: a version this node has not loaded
    /// (published by another node, or replaced here by a reload) is read from the store.
    /// Without it (unknown, unreadable in time, or not parsing) the menus are as they are,
    /// and the walker ends the dialogue kindly.
    pub async fn with_version(&self, service: &ServiceId, version: &str) -> Arc<MenuSet> {
        let menus = self.current();
        if menus.get(service, version).is_some() {
            return menus;
        }
        let lookup = store::get_menu_source(&self.db, service, version);
        // The hop holds its dialogue's lease: a slow database must not hold it past its budget.
        let source = match tokio::time::timeout(MENU_LOOKUP_WAIT, lookup).await {
            Ok(Ok(Some(source))) => source,
            Ok(Ok(None)) => return menus,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, %service, version, "could not read a menu version");
                return menus;
            }
            Err(_) => {
                tracing::warn!(%service, version, "menu version not read in time");
                return menus;
            }
        };
        let file = format!("{service}.toml");
        match Menu::parse_with_limit(&source, &file, self.min_screen_limit) {
            Ok(menu) => self.update(|menus| menus.add_version(Arc::new(menu))),
            Err(errors) => {
                tracing::error!(%service, version, problems = ?errors, "a published menu version does not parse");
                menus
            }
        }
    }
}
