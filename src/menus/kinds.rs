//! Compiling each kind of state: which keys make which kind, what each kind requires, and
//! the rules of inputs, actions and lists.

use super::compile::{Compiler, MAX_OPTIONS};
use super::input::InputRule;
use super::model::*;
use super::raw::{RawInput, RawList, RawOn, RawOption, RawState, RawText};
use super::template::{Path, Template};
use regex::Regex;
use std::collections::BTreeMap;
use toml::Spanned;

impl Compiler<'_> {
    pub(super) fn state(&mut self, name: &str, raw: &Spanned<RawState>) -> Option<State> {
        let line = self.line(raw);
        let r = raw.get_ref();
        let kinds = [
            ("options", r.options.is_some()),
            ("input", r.input.is_some()),
            ("action", r.action.is_some()),
            ("list", r.list.is_some()),
            ("end", r.end.is_some()),
        ];
        let present: Vec<&str> = kinds.iter().filter(|(_, p)| *p).map(|(k, _)| *k).collect();
        let kind = match present[..] {
            [kind] => kind,
            [] => {
                let problem = "a state needs one of `options`, `input`, `action`, `list` or `end`";
                self.errors.push(self.src.at_line(line, name, problem));
                return None;
            }
            _ => {
                let problem = format!(
                    "a state is exactly one kind, but this one has `{}`",
                    present.join("` and `")
                );
                self.errors.push(self.src.at_line(line, name, problem));
                return None;
            }
        };
        let allowed: &[&str] = match kind {
            "options" => &["text", "options"],
            "input" => &["prompt", "input", "retry", "next"],
            "action" => &["action", "params", "keep", "on", "notice", "follow_by_sms"],
            "list" => &["text", "list", "empty"],
            _ => &["end", "sms"],
        };
        let keys = [
            ("text", r.text.as_ref().map(Spanned::span)),
            ("prompt", r.prompt.as_ref().map(Spanned::span)),
            ("retry", r.retry.as_ref().map(Spanned::span)),
            ("next", r.next.as_ref().map(Spanned::span)),
            ("params", r.params.as_ref().map(Spanned::span)),
            ("keep", r.keep.as_ref().map(Spanned::span)),
            ("on", r.on.as_ref().map(Spanned::span)),
            ("notice", r.notice.as_ref().map(Spanned::span)),
            ("empty", r.empty.as_ref().map(Spanned::span)),
            ("follow_by_sms", r.follow_by_sms.as_ref().map(Spanned::span)),
            ("sms", r.sms.as_ref().map(Spanned::span)),
        ];
        let mut misplaced = false;
        for (key, span) in keys {
            if let (Some(span), false) = (span, allowed.contains(&key)) {
                let takes = allowed.join("`, `");
                self.err(
                    span,
                    Some(name),
                    format!(
                        "`{key}` does not belong in a state with `{kind}` (it takes `{takes}`)"
                    ),
                );
                misplaced = true;
            }
        }
        // A missing text is reported and the state kept, since where it leads is still known;
        // a missing way on (`next`, `on`) leaves the state out of the graph.
        let missing = |c: &mut Self, key: &str| {
            let problem = format!("a state with `{kind}` needs `{key}`");
            c.errors.push(c.src.at_line(line, name, problem));
        };
        let text = |c: &mut Self, raw: Option<&Spanned<RawText>>, key: &str| match raw {
            Some(raw) => c.text(raw, name, key),
            None => {
                missing(c, key);
                Text {
                    by_language: BTreeMap::new(),
                    line,
                }
            }
        };
        let kind = match kind {
            "options" => {
                let text = text(self, r.text.as_ref(), "text");
                self.options(name, text, r.options.as_ref()?)
            }
            "input" => {
                let prompt = text(self, r.prompt.as_ref(), "prompt");
                let rule = self.input(name, r.input.as_ref()?);
                let retry = text(self, r.retry.as_ref(), "retry");
                let Some(next) = &r.next else {
                    missing(self, "next");
                    return None;
                };
                Kind::Input {
                    prompt,
                    rule,
                    retry,
                    next: self.target(next, "next"),
                }
            }
            "action" => {
                let action = r.action.as_ref()?;
                let mut kind = self.action(
                    name,
                    action,
                    r.params.as_ref(),
                    r.keep.as_ref(),
                    r.on.as_ref(),
                );
                if kind.is_none() {
                    missing(self, "on");
                }
                if let (Some(Kind::Action { on, .. }), Some(notice)) = (&mut kind, &r.notice) {
                    on.notices = self.notices(name, notice, on);
                }
                if let (Some(Kind::Action { follow_by_sms, .. }), Some(wanted)) =
                    (&mut kind, &r.follow_by_sms)
                {
                    *follow_by_sms = wanted.get_ref().then(|| self.line(wanted));
                }
                kind?
            }
            "list" => {
                let text = text(self, r.text.as_ref(), "text");
                let list = self.list(name, r.list.as_ref()?);
                Kind::List {
                    text,
                    list,
                    empty: r.empty.as_ref().map(|e| self.target(e, "empty")),
                }
            }
            _ => Kind::End {
                text: self.text(r.end.as_ref()?, name, "end"),
                sms: r.sms.as_ref().is_some_and(|s| *s.get_ref()),
            },
        };
        (!misplaced).then_some(State { line, kind })
    }

    fn options(&mut self, name: &str, text: Text, options: &Spanned<Vec<RawOption>>) -> Kind {
        if options.get_ref().is_empty() || options.get_ref().len() > MAX_OPTIONS {
            let n = options.get_ref().len();
            self.err(options.span(), Some(name), format!("{n} options: a screen takes 1 to {MAX_OPTIONS} (0, 00 and 98 are the engine's)"));
        }
        let mut choices = Vec::new();
        for (i, o) in options.get_ref().iter().enumerate() {
            let label = self.text(&o.label, name, &format!("label of option {}", i + 1));
            let set = o
                .set
                .iter()
                .map(|(k, v)| (self.var_name(k, v.span(), name), v.get_ref().clone()))
                .collect();
            choices.push(Choice {
                label,
                next: self.target(&o.next, "next"),
                set,
            });
        }
        Kind::Options {
            text,
            options: choices,
        }
    }

    fn input(&mut self, name: &str, raw: &Spanned<RawInput>) -> InputRule {
        let i = raw.get_ref();
        let bad = |c: &mut Self, problem: String| c.err(raw.span(), Some(name), problem);
        let pattern = i
            .pattern
            .as_ref()
            .and_then(|p| match Regex::new(p.get_ref()) {
                Ok(_) => Regex::new(&format!("^(?:{})$", p.get_ref())).ok(),
                Err(e) => {
                    let why = e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim_start_matches("error: ")
                        .to_string();
                    self.err(
                        p.span(),
                        Some(name),
                        format!("pattern {:?} does not compile: {why}", p.get_ref()),
                    );
                    None
                }
            });
        if let (Some(min), Some(max)) = (i.min_length, i.max_length) {
            if min > max {
                bad(
                    self,
                    format!("min_length {min} is more than max_length {max}"),
                );
            }
        }
        let numeric = i
            .numeric
            .as_ref()
            .map(|r| (r.get_ref().min, r.get_ref().max));
        let money = i.money.as_ref().map(|r| (r.get_ref().min, r.get_ref().max));
        if numeric.is_some() && money.is_some() {
            bad(
                self,
                "an input is either `numeric` or `money`, not both".into(),
            );
        }
        if let Some((Some(min), Some(max))) = numeric {
            if min > max {
                bad(self, format!("numeric min {min} is more than max {max}"));
            }
        }
        if let Some((Some(min), Some(max))) = money {
            if min > max {
                bad(self, format!("money min {min} is more than max {max}"));
            }
        }
        let bounded = i.pattern.is_some()
            || i.max_length.is_some()
            || matches!(numeric, Some((_, Some(_))))
            || matches!(money, Some((_, Some(_))));
        if !bounded {
            let problem = "input accepts any text of any length: give it a `pattern` (such as \"[0-9]{8}\") or a `max_length`";
            self.warnings
                .push(self.src.error(Some(raw.span()), Some(name), problem));
        }
        let save_as = self.var_name(i.save_as.get_ref(), i.save_as.span(), name);
        InputRule {
            save_as,
            pattern,
            min_length: i.min_length,
            max_length: i.max_length,
            numeric,
            money,
        }
    }

    fn action(
        &mut self,
        name: &str,
        action: &Spanned<String>,
        params: Option<&Spanned<BTreeMap<String, Spanned<String>>>>,
        keep: Option<&Spanned<BTreeMap<String, Spanned<String>>>>,
        on: Option<&Spanned<RawOn>>,
    ) -> Option<Kind> {
        let mut compiled_params = Vec::new();
        for (key, value) in params.map(|p| p.get_ref().iter()).into_iter().flatten() {
            match Template::compile(value.get_ref()) {
                Ok(t) => compiled_params.push(Param {
                    name: key.clone(),
                    value: t,
                    line: self.line(value),
                }),
                Err(e) => self.err(value.span(), Some(name), format!("param {key:?}: {e}")),
            }
        }
        let mut compiled_keep = Vec::new();
        for (var, path) in keep.map(|k| k.get_ref().iter()).into_iter().flatten() {
            let var = self.var_name(var, path.span(), name);
            let path = Path::parse(path.get_ref()).unwrap_or_else(|e| {
                self.err(path.span(), Some(name), format!("keep {var:?}: {e}"));
                // Kept, so that the states reading the variable are not also reported.
                Path::parse("invalid").expect("a plain name is a path")
            });
            compiled_keep.push(Keep { var, path });
        }
        let o = on?.get_ref();
        let on = Outcomes {
            ok: self.target(&o.ok, "on.ok"),
            not_found: o.not_found.as_ref().map(|t| self.target(t, "on.not_found")),
            rejected: o.rejected.as_ref().map(|t| self.target(t, "on.rejected")),
            failed: self.target(&o.failed, "on.failed"),
            notices: BTreeMap::new(),
        };
        let action_line = self.line(action);
        Some(Kind::Action {
            action: action.get_ref().clone(),
            action_line,
            params: compiled_params,
            keep: compiled_keep,
            on,
            follow_by_sms: None,
        })
    }

    /// `notice = { not_found = {...} }`: each key an outcome that `on` leads somewhere.
    fn notices(
        &mut self,
        name: &str,
        raw: &Spanned<BTreeMap<String, Spanned<RawText>>>,
        on: &Outcomes,
    ) -> BTreeMap<&'static str, Text> {
        let mut notices = BTreeMap::new();
        for (key, text) in raw.get_ref() {
            let written = match key.as_str() {
                "not_found" => on.not_found.is_some(),
                "rejected" => on.rejected.is_some(),
                _ => true,
            };
            match Outcomes::KEYS.iter().find(|k| **k == key) {
                Some(outcome) if written => {
                    let text = self.text(text, name, &format!("notice.{key}"));
                    notices.insert(*outcome, text);
                }
                Some(_) => self.err(
                    text.span(),
                    Some(name),
                    format!("notice.{key} needs `on.{key}`: the notice is shown on the state it leads to"),
                ),
                None => self.err(
                    text.span(),
                    Some(name),
                    format!("notice.{key}: not an outcome (they are {})", Outcomes::KEYS.join(", ")),
                ),
            }
        }
        notices
    }

    fn list(&mut self, name: &str, raw: &Spanned<RawList>) -> ListSpec {
        let l = raw.get_ref();
        let items = Path::parse(l.items.get_ref()).unwrap_or_else(|e| {
            self.err(l.items.span(), Some(name), format!("items: {e}"));
            Path::parse("invalid").expect("a plain name is a path")
        });
        ListSpec {
            items,
            items_line: self.line(&l.items),
            label: self.text(&l.label, name, "label"),
            save_as: self.var_name(l.save_as.get_ref(), l.save_as.span(), name),
            next: self.target(&l.next, "next"),
        }
    }
}
