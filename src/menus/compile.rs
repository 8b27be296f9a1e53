//! From the file as written ([`super::raw`]) to a [`Menu`]: the service header, texts and
//! variable names here, each kind of state in [`super::kinds`], the graph in [`super::check`].

use super::error::{MenuError, Source};
use super::model::{Menu, Target, Text};
use super::raw::{RawFile, RawService, RawText};
use super::template::{is_name, Template, BUILTIN_VARS, ITEM_VAR};
use crate::ids::{AgencyId, ServiceId};
use crate::language::Language;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

/// Most options a screen may number: 0, 00 and 98 belong to the engine.
pub const MAX_OPTIONS: usize = 97;
/// Highest root-menu position: services take 1 to 8, and [`LANGUAGE_KEY`] stays the last item.
pub const MAX_POSITION: i64 = 8;
/// The root menu's key for the other language, the same whatever services are loaded, so that
/// "9 for English" stays true when a service is added.
pub const LANGUAGE_KEY: u8 = 9;

pub(super) struct Compiled {
    /// Built whenever the start state is known, even with errors elsewhere, so that the
    /// checks of the whole graph still run.
    pub menu: Option<Menu>,
    /// The menu's id, agency and position are its own, not stand-ins for a `[service]`
    /// that could not be read: the checks across files (file name, agency) can run.
    pub header_read: bool,
    /// Every state name in the file, including those that failed to compile, so that a
    /// broken state is not also reported as missing wherever it is referenced.
    pub declared: BTreeSet<String>,
    /// Declared states that did not compile: where they lead is unknown.
    pub broken: BTreeSet<String>,
    pub errors: Vec<MenuError>,
    pub warnings: Vec<MenuError>,
}

pub(super) fn compile(raw: RawFile, src: &Source, version: String) -> Compiled {
    let mut c = Compiler {
        src,
        errors: Vec::new(),
        warnings: Vec::new(),
        languages: Vec::new(),
    };
    for e in &raw.errors {
        c.errors
            .push(src.error(e.span.clone(), e.state.as_deref(), e.message.clone()));
    }
    let service = raw.service.as_ref().map(Spanned::get_ref);
    let lenient = raw.lenient.as_ref();
    let languages = service.map_or(lenient.and_then(|l| l.languages.as_ref()), |s| {
        s.languages.as_ref()
    });
    c.languages = c.languages(languages);
    let header = service.and_then(|service| c.header(service));
    let header_read = header.is_some();
    let start = service.map_or(lenient.and_then(|l| l.start.as_ref()), |s| Some(&s.start));
    let header = header.or_else(|| start.map(|start| stand_in(start, src)));
    let mut states = BTreeMap::new();
    for (name, state) in &raw.states {
        if let Some(state) = c.state(name, state) {
            states.insert(name.clone(), state);
        }
    }
    let declared = raw.declared();
    let broken = declared
        .iter()
        .filter(|name| !states.contains_key(*name))
        .cloned()
        .collect();
    let menu = header.map(|header| Menu {
        states,
        version,
        languages: c.languages.clone(),
        file: src.file.to_string(),
        source: src.text.to_string(),
        ..header
    });
    Compiled {
        menu,
        header_read,
        declared,
        broken,
        errors: c.errors,
        warnings: c.warnings,
    }
}

/// A menu for checking the states of a file whose `[service]` is broken: its start is
/// known, its id and agency are not (and are never looked at).
fn stand_in(start: &Spanned<String>, src: &Source) -> Menu {
    Menu {
        id: ServiceId::parse("unread").expect("a plain name is an id"),
        id_line: 0,
        agency: AgencyId::parse("unread").expect("a plain name is an id"),
        agency_line: 0,
        title: BTreeMap::new(),
        start: start.get_ref().clone(),
        start_line: src.line_of(start.span().start),
        position: 0,
        position_line: 0,
        languages: Vec::new(),
        version: String::new(),
        file: String::new(),
        source: String::new(),
        states: BTreeMap::new(),
    }
}

/// Collects every error of a file instead of stopping at the first.
pub(super) struct Compiler<'s> {
    pub src: &'s Source<'s>,
    pub errors: Vec<MenuError>,
    pub warnings: Vec<MenuError>,
    pub languages: Vec<Language>,
}

impl Compiler<'_> {
    pub(super) fn err(
        &mut self,
        span: std::ops::Range<usize>,
        state: Option<&str>,
        problem: impl Into<String>,
    ) {
        self.errors.push(self.src.error(Some(span), state, problem));
    }

    pub(super) fn line<T>(&self, s: &Spanned<T>) -> usize {
        self.src.line_of(s.span().start)
    }

    fn id<T, E: std::fmt::Display>(
        &mut self,
        raw: &Spanned<String>,
        parse: fn(&str) -> Result<T, E>,
    ) -> Option<T> {
        parse(raw.get_ref())
            .map_err(|e| self.err(raw.span(), None, e.to_string()))
            .ok()
    }

    /// The service's id, agency, title and position; `None` when the id or the agency is not
    /// valid (the states are still compiled and checked).
    fn header(&mut self, service: &RawService) -> Option<Menu> {
        let id = self.id(&service.id, ServiceId::parse);
        let agency = self.id(&service.agency, AgencyId::parse);
        let title = self.translations(&service.title, None, "title");
        let position = *service.position.get_ref();
        if !(1..=MAX_POSITION).contains(&position) {
            let why = match position {
                0 => "0 is the Back key, positions start at 1".to_string(),
                9 => format!("{LANGUAGE_KEY} is the root menu's language choice, positions run from 1 to {MAX_POSITION}"),
                _ => format!("positions run from 1 to {MAX_POSITION} ({LANGUAGE_KEY} is the language choice)"),
            };
            self.err(
                service.position.span(),
                None,
                format!("position {position} is not allowed: {why}"),
            );
        }
        Some(Menu {
            id: id?,
            id_line: self.line(&service.id),
            agency: agency?,
            agency_line: self.line(&service.agency),
            title: title.into_iter().collect(),
            start: service.start.get_ref().clone(),
            start_line: self.line(&service.start),
            position: position.clamp(0, MAX_POSITION) as u8,
            position_line: self.line(&service.position),
            languages: Vec::new(),
            version: String::new(),
            file: String::new(),
            source: String::new(),
            states: BTreeMap::new(),
        })
    }

    fn languages(&mut self, raw: Option<&Spanned<Vec<String>>>) -> Vec<Language> {
        let Some(raw) = raw else {
            return vec![Language::SWAHILI, Language::ENGLISH];
        };
        let mut out = Vec::new();
        for code in raw.get_ref() {
            match Language::parse(code) {
                Ok(l) if out.contains(&l) => self.err(
                    raw.span(),
                    None,
                    format!("language {code:?} is listed twice"),
                ),
                Ok(l) => out.push(l),
                Err(e) => self.err(raw.span(), None, e.to_string()),
            }
        }
        if out.is_empty() {
            self.err(
                raw.span(),
                None,
                "languages must name at least one language",
            );
            out.push(Language::SWAHILI);
        }
        out
    }

    /// A text in every language of the service: a missing or unoffered language is an error.
    fn translations(
        &mut self,
        raw: &Spanned<RawText>,
        state: Option<&str>,
        what: &str,
    ) -> Vec<(Language, String)> {
        match raw.get_ref() {
            RawText::Same(text) => self.languages.iter().map(|l| (*l, text.clone())).collect(),
            RawText::ByLanguage(texts) => {
                let mut out = Vec::new();
                for (code, text) in texts {
                    match Language::parse(code) {
                        Ok(l) if self.languages.contains(&l) => out.push((l, text.clone())),
                        Ok(_) => {
                            let offered = self
                                .languages
                                .iter()
                                .map(|l| l.code())
                                .collect::<Vec<_>>()
                                .join(", ");
                            self.err(raw.span(), state, format!("{what} in {code:?}, which the service does not offer ({offered})"))
                        }
                        Err(e) => self.err(raw.span(), state, e.to_string()),
                    }
                }
                for l in self.languages.clone() {
                    if !texts.contains_key(l.code()) {
                        self.err(
                            raw.span(),
                            state,
                            format!("missing translation: {what} has no {:?} text", l.code()),
                        );
                    }
                }
                out
            }
        }
    }

    pub(super) fn text(&mut self, raw: &Spanned<RawText>, state: &str, what: &str) -> Text {
        let mut by_language = BTreeMap::new();
        for (language, source) in self.translations(raw, Some(state), what) {
            match Template::compile(&source) {
                Ok(t) => {
                    by_language.insert(language, t);
                }
                Err(e) => self.err(
                    raw.span(),
                    Some(state),
                    format!("{what} in {:?}: {e}", language.code()),
                ),
            }
        }
        Text {
            by_language,
            line: self.line(raw),
        }
    }

    pub(super) fn target(&self, raw: &Spanned<String>, key: &'static str) -> Target {
        Target {
            state: raw.get_ref().clone(),
            line: self.line(raw),
            key,
        }
    }

    /// A variable a state introduces: a plain name, not one the engine provides.
    pub(super) fn var_name(
        &mut self,
        name: &str,
        span: std::ops::Range<usize>,
        state: &str,
    ) -> String {
        if BUILTIN_VARS.contains(&name) || name == ITEM_VAR {
            self.err(
                span,
                Some(state),
                format!("variable {name:?} is provided by the engine; choose another name"),
            );
        } else if !is_name(name) {
            self.err(
                span,
                Some(state),
                format!("variable {name:?} must be lower-case letters, digits and _"),
            );
        }
        name.to_string()
    }
}
