//! The agencies registered with the gateway and the actions each offers: what menus are
//! checked against before they are served, and by `mgov menus check` when it can see them.

use super::error::MenuError;
use super::model::{Kind, Menu};
use crate::agencies::Agency;
use crate::ids::AgencyId;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default)]
pub struct RegisteredAgencies {
    actions: BTreeMap<AgencyId, BTreeSet<String>>,
}

impl RegisteredAgencies {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `agency` with the actions it offers, added to any it already has.
    pub fn register(&mut self, agency: AgencyId, actions: impl IntoIterator<Item = String>) {
        self.actions.entry(agency).or_default().extend(actions);
    }

    /// Adds every agency of `other`, with its actions.
    pub fn add_all(&mut self, other: RegisteredAgencies) {
        for (agency, actions) in other.actions {
            self.register(agency, actions);
        }
    }

    /// The agencies, by id.
    pub fn ids(&self) -> impl Iterator<Item = &AgencyId> {
        self.actions.keys()
    }

    pub fn is_registered(&self, agency: &AgencyId) -> bool {
        self.actions.contains_key(agency)
    }

    pub fn offers(&self, agency: &AgencyId, action: &str) -> bool {
        self.actions.get(agency).is_some_and(|a| a.contains(action))
    }
}

impl<'a> FromIterator<&'a Agency> for RegisteredAgencies {
    fn from_iter<I: IntoIterator<Item = &'a Agency>>(agencies: I) -> Self {
        let mut registered = Self::new();
        for agency in agencies {
            registered.register(agency.id.clone(), agency.actions.iter().cloned());
        }
        registered
    }
}

/// Actions the gateway answers itself, for any agency's menu, without its back office:
/// signing the caller up for one of the agency's SMS topics (`params.topic`, its name), or
/// off it. Their params are checked with the catalogue's.
pub const GATEWAY_ACTIONS: &[&str] = &["subscriptions.join", "subscriptions.leave"];

/// The menu's agency is registered and offers every action the menu calls. An agency that is
/// not registered is one problem, at its `agency =` line, not one per action.
pub(super) fn agency_errors(menu: &Menu, agencies: &RegisteredAgencies) -> Vec<MenuError> {
    let agency = menu.agency.as_str();
    if !agencies.is_registered(&menu.agency) {
        return vec![MenuError {
            file: menu.file.clone(),
            line: Some(menu.agency_line),
            state: None,
            problem: format!(
                "agency {agency:?} is not registered (mgov agencies add {agency} ...)"
            ),
        }];
    }
    let mut errors = Vec::new();
    for (name, state) in &menu.states {
        if let Kind::Action {
            action,
            action_line,
            ..
        } = &state.kind
        {
            if !GATEWAY_ACTIONS.contains(&action.as_str()) && !agencies.offers(&menu.agency, action)
            {
                errors.push(MenuError {
                    file: menu.file.clone(),
                    line: Some(*action_line),
                    state: Some(name.clone()),
                    problem: format!("agency {agency:?} does not offer action {action:?}"),
                });
            }
        }
    }
    errors
}
