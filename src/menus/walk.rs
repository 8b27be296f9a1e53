//! Walking a session through the menus, one input at a time. Pure: the caller loads and
//! saves the session, and runs the back-office calls this asks for.

use super::model::{Kind, Menu, State};
use super::phrases::{self, Phrase};
use super::screens::{list_items, scope};
use super::set::MenuSet;
use super::{LANGUAGE_KEY, MAX_OPTIONS};
use crate::ids::AgencyId;
use crate::language::Language;
use crate::sessions::{Location, Session};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the caller does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Show this screen and wait for input.
    Screen(String),
    /// Show this screen and end the dialogue.
    End(String),
    /// Call the agency's back office, then hand the outcome to [`Walker::resume`].
    Call {
        agency: AgencyId,
        action: String,
        params: BTreeMap<String, String>,
    },
}

/// How a back-office call went.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionOutcome {
    /// The answer's `data`.
    Ok(Value),
    NotFound,
    Rejected,
    /// Timed out, unreachable or an error status: retries are the caller's business.
    Failed,
}

/// Screens to return to with `0`; bounded so that a session stays small in Redis.
const MAX_HISTORY: usize = 16;
/// Empty lists may lead to other lists; a loop of them must not loop the walker.
pub(super) const MAX_REDIRECTS: usize = 8;

pub struct Walker<'a> {
    pub(super) menus: &'a MenuSet,
    pub(super) screen_limit: usize,
}

/// Where a session stands, resolved against the loaded menus.
pub(super) enum Here<'a> {
    Root,
    State(&'a Arc<Menu>, &'a State),
    /// The session's menu version or state is no longer loaded.
    Lost,
}

impl<'a> Walker<'a> {
    pub fn new(menus: &'a MenuSet, screen_limit: usize) -> Self {
        Walker {
            menus,
            screen_limit,
        }
    }

    /// Renders where the session stands (after a dial, or to repeat a screen).
    pub fn enter(&self, s: &mut Session) -> Step {
        self.show(s, None, 0)
    }

    /// Applies one input: `00` home, `0` back, `98` more, else the current state's choice
    /// or value. Invalid input leaves the session where it is and says so. Keys and choices
    /// are taken as typed (` 1` is not `1`); only a free-text answer is trimmed.
    pub fn input(&self, s: &mut Session, input: &str) -> Step {
        let here = self.locate(s);
        let at_end = matches!(
            here,
            Here::State(
                _,
                State {
                    kind: Kind::End { .. },
                    ..
                }
            )
        );
        // Only paging keeps a long notice on the screen's other pages.
        if !(input == "98" || (input == "0" && s.page > 0)) {
            s.paged_notice = None;
        }
        match input {
            "00" if !at_end => {
                s.location = s.home.clone();
                s.history.clear();
                s.page = 0;
                return self.show(s, None, 0);
            }
            "0" if s.page > 0 => {
                s.page -= 1;
                return self.show(s, None, 0);
            }
            "0" if !at_end && !s.history.is_empty() => {
                s.location = s.history.pop().expect("not empty");
                s.page = 0;
                return self.show(s, None, 0);
            }
            "98" if self.has_next_page(s) => {
                s.page += 1;
                return self.show(s, None, 0);
            }
            _ => {}
        }
        match here {
            Here::Lost => self.lost(s),
            Here::Root => self.choose_at_root(s, input),
            Here::State(menu, state) => match &state.kind {
                Kind::Options { options, .. } => match choice(input, options.len()) {
                    Some(i) => {
                        for (var, value) in &options[i].set {
                            s.vars.insert(var.clone(), Value::String(value.clone()));
                        }
                        self.go(s, menu, &options[i].next.state, true)
                    }
                    None => self.invalid(s, menu.language_for(s.language)),
                },
                Kind::Input {
                    rule, retry, next, ..
                } => match rule.accept(input) {
                    Some(value) => {
                        s.vars.insert(rule.save_as.clone(), Value::String(value));
                        self.go(s, menu, &next.state, true)
                    }
                    None => {
                        let language = menu.language_for(s.language);
                        let notice = retry
                            .get(language)
                            .map(|t| t.render(&scope(s, language, None)));
                        s.page = 0;
                        self.show(s, notice.as_deref(), 0)
                    }
                },
                Kind::List { list, .. } => {
                    let items = list_items(s, &list.items);
                    match choice(input, items.len().min(MAX_OPTIONS)) {
                        Some(i) => {
                            s.vars.insert(list.save_as.clone(), items[i].clone());
                            self.go(s, menu, &list.next.state, true)
                        }
                        None => self.invalid(s, menu.language_for(s.language)),
                    }
                }
                // Input while a call is pending: ask for the call again.
                Kind::Action { .. } => self.show(s, None, 0),
                Kind::End { .. } => self.invalid(s, menu.language_for(s.language)),
            },
        }
    }

    /// Continues after the back-office call that [`Step::Call`] asked for: keeps the
    /// answer's fields on `ok` and follows the state's `on`.
    pub fn resume(&self, s: &mut Session, outcome: ActionOutcome) -> Step {
        let Here::State(
            menu,
            State {
                kind: Kind::Action { keep, on, .. },
                ..
            },
        ) = self.locate(s)
        else {
            return self.show(s, None, 0);
        };
        let (target, key) = on.follow(keep, outcome, &mut s.vars);
        let language = menu.language_for(s.language);
        let notice = on
            .notices
            .get(key)
            .and_then(|text| text.get(language))
            .map(|t| t.render(&scope(s, language, None)));
        // Back to the screen the call came from (an input asking again): it is already on
        // the history, and `0` must not show it twice.
        if let Some(Location::Service { state, .. }) = s.history.last() {
            if *state == target.state {
                s.history.pop();
            }
        }
        // An action is never a screen to come back to, so it is not pushed on the history.
        self.go_from(s, menu, &target.state, false, 0, notice.as_deref())
    }

    pub(super) fn locate(&self, s: &Session) -> Here<'a> {
        match &s.location {
            Location::Root => Here::Root,
            Location::Service {
                service,
                version,
                state,
            } => self
                .menus
                .get(service, version)
                .and_then(|menu| Some(Here::State(menu, menu.state(state)?)))
                .unwrap_or(Here::Lost),
        }
    }

    fn go(&self, s: &mut Session, menu: &Menu, state: &str, remember: bool) -> Step {
        self.go_from(s, menu, state, remember, 0, None)
    }

    pub(super) fn go_from(
        &self,
        s: &mut Session,
        menu: &Menu,
        state: &str,
        remember: bool,
        redirects: usize,
        notice: Option<&str>,
    ) -> Step {
        if remember {
            if s.history.len() >= MAX_HISTORY {
                s.history.remove(0);
            }
            s.history.push(s.location.clone());
        }
        s.location = Location::Service {
            service: menu.id().clone(),
            version: menu.version().to_string(),
            state: state.to_string(),
        };
        s.note_reached(menu.id(), state);
        s.page = 0;
        self.show(s, notice, redirects)
    }

    fn choose_at_root(&self, s: &mut Session, input: &str) -> Step {
        let Some(n) = chosen_number(input).and_then(|n| u8::try_from(n).ok()) else {
            return self.invalid(s, s.language);
        };
        if n == LANGUAGE_KEY {
            s.language = if s.language == Language::SWAHILI {
                Language::ENGLISH
            } else {
                Language::SWAHILI
            };
            s.page = 0;
            return self.show(s, None, 0);
        }
        let Some(menu) = self
            .menus
            .services_by_position()
            .into_iter()
            .find(|m| m.position() == n)
        else {
            return self.invalid(s, s.language);
        };
        s.service.get_or_insert_with(|| menu.id().clone());
        // What one agency's back office answered is no business of the next service's.
        s.vars.clear();
        self.go(s, menu, menu.start(), true)
    }

    fn invalid(&self, s: &mut Session, language: Language) -> Step {
        self.show(s, Some(phrases::text(language, Phrase::InvalidChoice)), 0)
    }

    pub(super) fn lost(&self, s: &Session) -> Step {
        Step::End(phrases::text(s.language, Phrase::Unavailable).to_string())
    }
}

/// The number a choice names: ASCII digits as a keypad sends them, without a leading zero.
/// `+1`, ` 1`, `01` and `１` (full-width) name nothing, whatever `str::parse` would say.
fn chosen_number(input: &str) -> Option<usize> {
    let digits = !input.is_empty() && input.len() <= 3 && input.bytes().all(|b| b.is_ascii_digit());
    (digits && !input.starts_with('0'))
        .then(|| input.parse().ok())
        .flatten()
}

/// `"3"` with 5 options → index 2; anything else (`03`, `9`, `x`, `+3`) → none.
fn choice(input: &str, count: usize) -> Option<usize> {
    let n = chosen_number(input)?;
    (1..=count).contains(&n).then(|| n - 1)
}

#[cfg(test)]
mod tests {
    use super::choice;

    #[test]
    fn choices_are_plain_numbers_in_range() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<usize>)] = &[
            ("1", Some(0)), ("3", Some(2)), ("4", None), ("0", None), ("01", None),
            ("x", None), ("", None), ("+1", None), (" 1", None), ("1 ", None), ("\t1", None),
            ("-1", None), ("1.0", None), ("１", None), ("1#", None), ("0001", None),
        ];
        for (input, want) in cases {
            assert_eq!(choice(input, 3), *want, "{input:?}");
        }
        assert_eq!(choice("12", 12), Some(11));
        assert_eq!(choice("99999999999999999999999", usize::MAX), None);
    }
}
