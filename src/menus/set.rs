//! Loading menus: one file into a checked [`Menu`], a directory into a [`MenuSet`] that keeps
//! every version a live session may still be walking.

use super::error::MenuError;
use super::load::check_source;
use super::model::Menu;
use super::registered::{agency_errors, RegisteredAgencies};
use super::DEFAULT_MIN_SCREEN_LIMIT;
use crate::ids::ServiceId;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

impl Menu {
    /// Parses and checks one menu file; `file` is how errors name it (`menus/maji.toml`).
    pub fn parse(source: &str, file: &str) -> Result<Menu, Vec<MenuError>> {
        Self::parse_with_limit(source, file, DEFAULT_MIN_SCREEN_LIMIT)
    }

    /// As [`Menu::parse`], requiring every screen to fit `min_screen_limit` characters (the
    /// smallest limit among the telcos that will show it).
    pub fn parse_with_limit(
        source: &str,
        file: &str,
        min_screen_limit: usize,
    ) -> Result<Menu, Vec<MenuError>> {
        let found = check_source(source, file, min_screen_limit);
        match found.menu {
            Some(menu) if found.errors.is_empty() => Ok(menu),
            _ => Err(found.errors),
        }
    }

    /// An agency that is not registered, or actions the menu calls that its agency does not
    /// offer; run when the agencies are known.
    pub fn check_agencies(&self, agencies: &RegisteredAgencies) -> Vec<MenuError> {
        agency_errors(self, agencies)
    }
}

/// Every loaded menu, by service and version, and the current version of each service.
#[derive(Debug, Default, Clone)]
pub struct MenuSet {
    /// Looked up by `&str` on every hop, so no key is built per lookup.
    versions: HashMap<ServiceId, HashMap<String, Arc<Menu>>>,
    current: BTreeMap<ServiceId, Arc<Menu>>,
}

impl MenuSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every `*.toml` in `dir`, reporting every error of every file at once (agencies
    /// are not checked: see [`MenuSet::check_dir`]).
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<MenuSet, Vec<MenuError>> {
        Self::load_dir_with_limit(dir, DEFAULT_MIN_SCREEN_LIMIT)
    }

    pub fn load_dir_with_limit(
        dir: impl AsRef<Path>,
        min_screen_limit: usize,
    ) -> Result<MenuSet, Vec<MenuError>> {
        Self::check_dir(dir, min_screen_limit, None).into_result()
    }

    /// Adds a menu and makes it its service's current version; earlier versions stay
    /// available to the sessions walking them. Refused when another service holds its
    /// root-menu position.
    pub fn insert(&mut self, menu: Arc<Menu>) -> Result<(), MenuError> {
        let clash = self
            .current
            .values()
            .find(|m| m.position() == menu.position() && m.id() != menu.id());
        if let Some(other) = clash {
            let problem = format!(
                "position {} is already taken by service {:?} ({})",
                menu.position(),
                other.id().as_str(),
                other.file()
            );
            return Err(MenuError {
                line: Some(menu.position_line),
                ..set_error(&menu, problem)
            });
        }
        self.add_version(menu.clone());
        self.current.insert(menu.id().clone(), menu);
        Ok(())
    }

    /// Makes a version walkable without making it current: an older version fetched from
    /// the durable store for a session that started on another node or before a restart.
    pub fn add_version(&mut self, menu: Arc<Menu>) {
        self.versions
            .entry(menu.id().clone())
            .or_default()
            .insert(menu.version().to_string(), menu);
    }

    /// Takes `fresh` (a complete, checked reload) as the current menus, keeping every older
    /// version for the sessions still in them.
    pub fn reload(&mut self, fresh: MenuSet) {
        for (service, versions) in fresh.versions {
            self.versions.entry(service).or_default().extend(versions);
        }
        self.current = fresh.current;
    }

    pub fn current(&self, service: &ServiceId) -> Option<&Arc<Menu>> {
        self.current.get(service)
    }

    pub fn get(&self, service: &ServiceId, version: &str) -> Option<&Arc<Menu>> {
        self.versions.get(service)?.get(version)
    }

    /// Every loaded version of every service, current or not.
    pub fn loaded(&self) -> impl Iterator<Item = &Arc<Menu>> {
        self.versions
            .values()
            .flat_map(|versions| versions.values())
    }

    /// Current menus in root-menu order.
    pub fn services_by_position(&self) -> Vec<&Arc<Menu>> {
        let mut menus: Vec<_> = self.current.values().collect();
        menus.sort_by_key(|m| m.position());
        menus
    }
}

fn set_error(menu: &Menu, problem: String) -> MenuError {
    MenuError {
        file: menu.file().to_string(),
        line: None,
        state: None,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MENU: &str = r#"
[service]
id = "demo"
agency = "dawasa"
title = { sw = "Demo", en = "Demo" }
start = "home"
position = 4

[states.home]
end = "Kwaheri"
"#;

    #[test]
    fn versions_are_content_hashes_and_old_ones_stay() {
        let first = Arc::new(Menu::parse(MENU, "demo.toml").unwrap());
        let second =
            Arc::new(Menu::parse(&MENU.replace("Kwaheri", "Asante"), "demo.toml").unwrap());
        assert_eq!(first.version().len(), 12);
        assert_ne!(first.version(), second.version());
        let mut set = MenuSet::new();
        set.insert(first.clone()).unwrap();
        let mut fresh = MenuSet::new();
        fresh.insert(second.clone()).unwrap();
        set.reload(fresh);
        let id = first.id();
        assert_eq!(set.current(id).unwrap().version(), second.version());
        assert!(set.get(id, first.version()).is_some());
        assert_eq!(set.services_by_position().len(), 1);
    }

    #[test]
    fn a_menu_set_can_be_shared_between_request_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<MenuSet>();
    }

    #[test]
    fn positions_are_unique_across_services() {
        let mut set = MenuSet::new();
        set.insert(Arc::new(Menu::parse(MENU, "demo.toml").unwrap()))
            .unwrap();
        let other = Menu::parse(&MENU.replace("\"demo\"", "\"other\""), "other.toml").unwrap();
        let err = set.insert(Arc::new(other)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "other.toml:7: position 4 is already taken by service \"demo\" (demo.toml)"
        );
    }
}
