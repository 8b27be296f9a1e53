//! A compiled menu: what the walker reads on every hop. Built only by [`Menu::parse`], so a
//! `Menu` in hand has passed every check.

use super::input::InputRule;
use super::template::{Path, Template};
use super::walk::ActionOutcome;
use crate::ids::{AgencyId, ServiceId};
use crate::language::Language;
use serde_json::Value;
use std::collections::BTreeMap;

/// One version of one service's menu.
#[derive(Debug)]
pub struct Menu {
    pub(super) id: ServiceId,
    pub(super) id_line: usize,
    pub(super) agency: AgencyId,
    pub(super) agency_line: usize,
    pub(super) title: BTreeMap<Language, String>,
    pub(super) start: String,
    pub(super) start_line: usize,
    pub(super) position: u8,
    pub(super) position_line: usize,
    pub(super) languages: Vec<Language>,
    pub(super) version: String,
    pub(super) file: String,
    /// The file as loaded, published so that other nodes can walk this version too.
    pub(super) source: String,
    pub(super) states: BTreeMap<String, State>,
}

impl Menu {
    pub fn id(&self) -> &ServiceId {
        &self.id
    }

    pub fn agency(&self) -> &AgencyId {
        &self.agency
    }

    /// The menu file's text as it was loaded.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// First 12 hex characters of the SHA-256 of the file: the same file always gets the
    /// same version on every node.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The service's number in the shared root menu.
    pub fn position(&self) -> u8 {
        self.position
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn start(&self) -> &str {
        &self.start
    }

    /// Languages offered, the default first.
    pub fn languages(&self) -> &[Language] {
        &self.languages
    }

    /// The language to serve a citizen who prefers `preferred`.
    pub fn language_for(&self, preferred: Language) -> Language {
        if self.languages.contains(&preferred) {
            preferred
        } else {
            self.languages[0]
        }
    }

    pub fn title(&self, language: Language) -> &str {
        let language = self.language_for(language);
        self.title
            .get(&language)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// Names of the back-office actions the menu calls.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.states.values().filter_map(|s| match &s.kind {
            Kind::Action { action, .. } => Some(action.as_str()),
            _ => None,
        })
    }

    pub(crate) fn state(&self, name: &str) -> Option<&State> {
        self.states.get(name)
    }
}

#[derive(Debug)]
pub(crate) struct State {
    /// Line of the `[states.NAME]` header.
    pub line: usize,
    pub kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Options {
        text: Text,
        options: Vec<Choice>,
    },
    Input {
        prompt: Text,
        rule: InputRule,
        retry: Text,
        next: Target,
    },
    Action {
        action: String,
        action_line: usize,
        params: Vec<Param>,
        keep: Vec<Keep>,
        on: Outcomes,
        /// The line of `follow_by_sms = true`, when the result may follow by SMS.
        follow_by_sms: Option<usize>,
    },
    List {
        text: Text,
        list: ListSpec,
        empty: Option<Target>,
    },
    End {
        text: Text,
        /// Also sent by SMS when the dialogue reaches it.
        sms: bool,
    },
}

/// A text in each of the service's languages, each compiled once.
#[derive(Debug)]
pub(crate) struct Text {
    pub by_language: BTreeMap<Language, Template>,
    pub line: usize,
}

impl Text {
    /// The template for `language`, or any there is (a checked menu has every language).
    pub fn get(&self, language: Language) -> Option<&Template> {
        self.by_language
            .get(&language)
            .or_else(|| self.by_language.values().next())
    }
}

/// A reference to another state, with where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub state: String,
    pub line: usize,
    /// The key it was written under (`next`, `on.ok`, `empty`), for error messages.
    pub key: &'static str,
}

#[derive(Debug)]
pub(crate) struct Choice {
    pub label: Text,
    pub next: Target,
    pub set: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Param {
    pub name: String,
    pub value: Template,
    pub line: usize,
}

#[derive(Debug)]
pub(crate) struct Keep {
    pub var: String,
    pub path: Path,
}

#[derive(Debug)]
pub(crate) struct Outcomes {
    pub ok: Target,
    pub not_found: Option<Target>,
    pub rejected: Option<Target>,
    pub failed: Target,
    /// Lines to show above the next screen, by outcome key (`not_found`).
    pub notices: BTreeMap<&'static str, Text>,
}

impl Outcomes {
    /// Outcome keys as written under `on`.
    pub const KEYS: [&'static str; 4] = ["ok", "not_found", "rejected", "failed"];

    /// Where `outcome` leads, with its key (`not_found` without `on.not_found` is `failed`);
    /// on `ok`, the answer's fields named in `keep` are set in `vars`.
    pub fn follow(
        &self,
        keep: &[Keep],
        outcome: ActionOutcome,
        vars: &mut BTreeMap<String, Value>,
    ) -> (&Target, &'static str) {
        match outcome {
            ActionOutcome::Ok(data) => {
                for k in keep {
                    let kept = k.path.find_in(&data).cloned().unwrap_or(Value::Null);
                    vars.insert(k.var.clone(), kept);
                }
                (&self.ok, "ok")
            }
            ActionOutcome::NotFound => match &self.not_found {
                Some(target) => (target, "not_found"),
                None => (&self.failed, "failed"),
            },
            ActionOutcome::Rejected => match &self.rejected {
                Some(target) => (target, "rejected"),
                None => (&self.failed, "failed"),
            },
            ActionOutcome::Failed => (&self.failed, "failed"),
        }
    }

    /// Every state an outcome may lead to, with the key it is written under.
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        [
            Some(&self.ok),
            self.not_found.as_ref(),
            self.rejected.as_ref(),
            Some(&self.failed),
        ]
        .into_iter()
        .flatten()
    }
}

#[derive(Debug)]
pub(crate) struct ListSpec {
    pub items: Path,
    pub items_line: usize,
    pub label: Text,
    pub save_as: String,
    pub next: Target,
}

impl Kind {
    /// Every way out of the state, with the variables set on the way: the graph that
    /// reachability and the variable check walk.
    pub fn edges(&self) -> Vec<(&Target, Vec<&str>)> {
        match self {
            Kind::Options { options, .. } => options
                .iter()
                .map(|c| (&c.next, c.set.iter().map(|(k, _)| k.as_str()).collect()))
                .collect(),
            Kind::Input { rule, next, .. } => vec![(next, vec![rule.save_as.as_str()])],
            Kind::Action { keep, on, .. } => {
                let mut edges = vec![(&on.ok, keep.iter().map(|k| k.var.as_str()).collect())];
                edges.extend(
                    on.not_found
                        .iter()
                        .chain(&on.rejected)
                        .chain([&on.failed])
                        .map(|t| (t, vec![])),
                );
                edges
            }
            Kind::List { list, empty, .. } => {
                let mut edges = vec![(&list.next, vec![list.save_as.as_str()])];
                edges.extend(empty.iter().map(|t| (t, vec![])));
                edges
            }
            Kind::End { .. } => vec![],
        }
    }

    /// The variables the state reads when it is shown or run, with the line of each use.
    pub fn uses(&self) -> Vec<(&str, usize)> {
        fn text_uses(text: &Text) -> impl Iterator<Item = (&str, usize)> {
            text.by_language
                .values()
                .flat_map(move |t| t.vars().map(move |v| (v, text.line)))
        }
        match self {
            Kind::Options { text, options } => text_uses(text)
                .chain(options.iter().flat_map(|c| text_uses(&c.label)))
                .collect(),
            Kind::Input { prompt, retry, .. } => {
                text_uses(prompt).chain(text_uses(retry)).collect()
            }
            // A notice is shown after the call, but only `ok` keeps fields, so every notice
            // may use only what was set before the call.
            Kind::Action { params, on, .. } => params
                .iter()
                .flat_map(|p| p.value.vars().map(move |v| (v, p.line)))
                .chain(on.notices.values().flat_map(text_uses))
                .collect(),
            Kind::List { text, list, .. } => text_uses(text)
                .chain([(list.items.root(), list.items_line)])
                .chain(text_uses(&list.label).filter(|(v, _)| *v != super::template::ITEM_VAR))
                .collect(),
            Kind::End { text, .. } => text_uses(text).collect(),
        }
    }
}
