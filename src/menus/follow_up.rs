//! Results by SMS, the menu's part: what an action's late result needs to be rendered later
//! (kept durably with the call's intent), the result rendered as the end screen the citizen
//! would have seen, and the end screens a menu also sends by SMS. Pure, like the walker.

use super::error::{MenuError, Source};
use super::model::{Kind, Menu, State};
use super::screens::scope;
use super::template::Scope;
use super::walk::{ActionOutcome, Here, Walker};
use crate::ids::{AgencyId, ServiceId};
use crate::language::Language;
use crate::sessions::{Location, Session};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An action whose result follows by SMS, as the dialogue stood when it was called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub service: ServiceId,
    /// The menu version the dialogue walked: the screens are that version's.
    pub version: String,
    /// The action state whose outcome is sent.
    pub state: String,
    pub language: Language,
    /// The variables the outcomes' screens read, as set before the call (kept small: not
    /// every list the dialogue has seen).
    pub vars: BTreeMap<String, Value>,
}

impl Walker<'_> {
    /// The follow-up of the action the session stands on, when its menu lets the result
    /// follow by SMS.
    pub fn follow_up(&self, s: &Session) -> Option<FollowUp> {
        let Here::State(menu, state) = self.locate(s) else {
            return None;
        };
        let Kind::Action {
            on,
            follow_by_sms: Some(_),
            ..
        } = &state.kind
        else {
            return None;
        };
        let Location::Service { state, .. } = &s.location else {
            return None;
        };
        let read: BTreeSet<&str> = on
            .targets()
            .filter_map(|t| menu.state(&t.state))
            .flat_map(|st| st.kind.uses())
            .map(|(var, _)| var)
            .chain(
                on.notices
                    .values()
                    .flat_map(|text| text.by_language.values().flat_map(|t| t.vars())),
            )
            .collect();
        let vars = s
            .vars
            .iter()
            .filter(|(name, _)| read.contains(name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Some(FollowUp {
            service: menu.id().clone(),
            version: menu.version().to_string(),
            state: state.clone(),
            language: menu.language_for(s.language),
            vars,
        })
    }

    /// The end screen the session stands on, with the agency that sends it, when its menu
    /// also sends it by SMS.
    pub fn end_by_sms(&self, s: &Session) -> Option<(AgencyId, String)> {
        let Here::State(
            menu,
            State {
                kind: Kind::End { text, sms: true },
                ..
            },
        ) = self.locate(s)
        else {
            return None;
        };
        let language = menu.language_for(s.language);
        let text = text.get(language)?.render(&scope(s, language, None));
        Some((menu.agency().clone(), text))
    }
}

impl Menu {
    /// The end screen `outcome` leads to from the follow-up's action, with the outcome's
    /// notice above it: what the citizen would have seen had the answer come in time. `None`
    /// when this version has no such action or the outcome does not lead to an end screen.
    pub fn follow_up_text(
        &self,
        follow_up: &FollowUp,
        msisdn: &str,
        outcome: ActionOutcome,
    ) -> Option<String> {
        let Kind::Action { keep, on, .. } = &self.state(&follow_up.state)?.kind else {
            return None;
        };
        let mut vars = follow_up.vars.clone();
        let (target, key) = on.follow(keep, outcome, &mut vars);
        let Kind::End { text, .. } = &self.state(&target.state)?.kind else {
            return None;
        };
        let language = self.language_for(follow_up.language);
        let scope = Scope {
            vars: &vars,
            msisdn,
            language,
            item: None,
        };
        let screen = text.get(language)?.render(&scope);
        let notice = on.notices.get(key).and_then(|n| n.get(language));
        Some(match notice {
            Some(notice) => format!("{}\n{screen}", notice.render(&scope)),
            None => screen,
        })
    }
}

/// `follow_by_sms` sends the screen the outcome leads to, so every outcome must lead to an
/// end screen: a screen that waits for input means nothing in an SMS.
pub(super) fn follow_up_errors(menu: &Menu, src: &Source) -> Vec<MenuError> {
    let mut errors = Vec::new();
    for (name, state) in &menu.states {
        let Kind::Action {
            on,
            follow_by_sms: Some(line),
            ..
        } = &state.kind
        else {
            continue;
        };
        for target in on.targets() {
            let is_end = match menu.states.get(&target.state) {
                Some(st) => matches!(st.kind, Kind::End { .. }),
                // A missing or broken state is reported on its own.
                None => true,
            };
            if !is_end {
                let problem = format!(
                    "follow_by_sms sends the end screen each outcome leads to, but {} leads to state {:?}, which is not an `end` state",
                    target.key, target.state
                );
                errors.push(src.at_line(*line, name, problem));
            }
        }
    }
    errors
}

#[cfg(test)]
#[path = "follow_up_tests.rs"]
mod tests;
