//! What a location shows: the root menu, each kind of state as a [`Screen`], and the page
//! of it that the session stands on.

use super::model::{Kind, Menu, Text};
use super::phrases::{self, Phrase};
use super::render::{paginate, Screen};
use super::template::{Path, Scope};
use super::walk::{Here, Step, Walker, MAX_REDIRECTS};
use super::{LANGUAGE_KEY, MAX_OPTIONS};
use crate::language::Language;
use crate::sessions::Session;
use serde_json::Value;
use std::sync::Arc;

/// What the current location shows, before pagination.
pub(super) enum View<'a> {
    Screen(Screen, Language),
    Call(Step),
    /// An empty list with an `empty` state: go there instead.
    Redirect(&'a Arc<Menu>, &'a str),
    Lost,
}

impl<'a> Walker<'a> {
    pub(super) fn show(&self, s: &mut Session, notice: Option<&str>, redirects: usize) -> Step {
        let (screen, language) = match self.view(s) {
            View::Screen(screen, language) => (screen, language),
            View::Call(step) => return step,
            View::Redirect(menu, state) if redirects < MAX_REDIRECTS => {
                return self.go_from(s, menu, state, false, redirects + 1, None)
            }
            View::Redirect(..) | View::Lost => return self.lost(s),
        };
        if notice.is_some() {
            s.paged_notice = None;
        }
        let screen = with_paged_notice(screen, s);
        let mut pages = paginate(&screen, language, self.screen_limit);
        s.page = s.page.min(pages.len().saturating_sub(1) as u16);
        let mut text = pages[s.page as usize].clone();
        if let Some(notice) = notice {
            let fits =
                |body: &str| notice.chars().count() + 1 + body.chars().count() <= self.screen_limit;
            // A page of options that repeats its heading can give the heading's place to the
            // notice: the same options and keys stay on the same page.
            let below_heading = text
                .strip_prefix(screen.heading.as_str())
                .and_then(|rest| rest.strip_prefix('\n'))
                .filter(|rest| {
                    !screen.options.is_empty() && !screen.heading.is_empty() && fits(rest)
                });
            if fits(&text) {
                text = format!("{notice}\n{text}");
            } else if let Some(rest) = below_heading {
                text = format!("{notice}\n{rest}");
            } else {
                // No room above this page: start the screen again with the notice on top,
                // and keep it there while the citizen pages, so that `98` follows these pages.
                let heading = format!("{notice}\n{}", screen.heading);
                s.paged_notice = Some(notice.to_string());
                pages = paginate(
                    &Screen {
                        heading,
                        ..screen.clone()
                    },
                    language,
                    self.screen_limit,
                );
                s.page = 0;
                text = pages[0].clone();
            }
        }
        if screen.terminal && s.page as usize + 1 == pages.len() {
            Step::End(text)
        } else {
            Step::Screen(text)
        }
    }

    fn view(&self, s: &Session) -> View<'a> {
        let home = s.location != s.home;
        let back = !s.history.is_empty();
        let (menu, state) = match self.locate(s) {
            Here::Lost => return View::Lost,
            Here::Root => return View::Screen(self.root_screen(s, back, home), s.language),
            Here::State(menu, state) => (menu, state),
        };
        let language = menu.language_for(s.language);
        let base = scope(s, language, None);
        let render = |text: &Text| {
            text.get(language)
                .map(|t| t.render(&base))
                .unwrap_or_default()
        };
        let screen = |heading: String, options: Vec<String>| Screen {
            heading,
            options,
            back,
            home,
            terminal: false,
        };
        let screen = match &state.kind {
            Kind::Options { text, options } => {
                let lines = options
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{}. {}", i + 1, render(&c.label)))
                    .collect();
                screen(render(text), lines)
            }
            Kind::Input { prompt, .. } => screen(render(prompt), vec![]),
            Kind::List { text, list, empty } => {
                let items = list_items(s, &list.items);
                if let (true, Some(empty)) = (items.is_empty(), empty) {
                    return View::Redirect(menu, &empty.state);
                }
                let mut heading = render(text);
                if items.is_empty() {
                    heading = format!(
                        "{heading}\n{}",
                        phrases::text(language, Phrase::NothingToChoose)
                    );
                }
                let lines = items
                    .iter()
                    .take(MAX_OPTIONS)
                    .enumerate()
                    .map(|(i, item)| {
                        let label = list
                            .label
                            .get(language)
                            .map(|t| t.render(&scope(s, language, Some(item))))
                            .unwrap_or_default();
                        format!("{}. {label}", i + 1)
                    })
                    .collect();
                screen(heading, lines)
            }
            Kind::End { text, .. } => Screen {
                heading: render(text),
                options: vec![],
                back: false,
                home: false,
                terminal: true,
            },
            Kind::Action { action, params, .. } => {
                let params = params
                    .iter()
                    .map(|p| (p.name.clone(), p.value.render(&base)))
                    .collect();
                return View::Call(Step::Call {
                    agency: menu.agency().clone(),
                    action: action.clone(),
                    params,
                });
            }
        };
        View::Screen(screen, language)
    }

    /// The shared root menu: every service at its position, then the other language, always last.
    fn root_screen(&self, s: &Session, back: bool, home: bool) -> Screen {
        let services = self.menus.services_by_position();
        let mut options: Vec<String> = services
            .iter()
            .map(|m| format!("{}. {}", m.position(), m.title(s.language)))
            .collect();
        options.push(format!(
            "{LANGUAGE_KEY}. {}",
            phrases::text(s.language, Phrase::OtherLanguage)
        ));
        let heading = phrases::text(s.language, Phrase::RootHeading).to_string();
        Screen {
            heading,
            options,
            back,
            home,
            terminal: false,
        }
    }

    pub(super) fn has_next_page(&self, s: &Session) -> bool {
        match self.view(s) {
            View::Screen(screen, language) => {
                let screen = with_paged_notice(screen, s);
                (s.page as usize) + 1 < paginate(&screen, language, self.screen_limit).len()
            }
            _ => false,
        }
    }
}

/// `screen` with the session's paged notice, if any, on top of its heading.
fn with_paged_notice(screen: Screen, s: &Session) -> Screen {
    match &s.paged_notice {
        Some(notice) => Screen {
            heading: format!("{notice}\n{}", screen.heading),
            ..screen
        },
        None => screen,
    }
}

pub(super) fn list_items(s: &Session, items: &Path) -> Vec<Value> {
    match scope(s, Language::ENGLISH, None).lookup(items).as_deref() {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![],
    }
}

pub(super) fn scope<'s>(s: &'s Session, language: Language, item: Option<&'s Value>) -> Scope<'s> {
    Scope {
        vars: &s.vars,
        msisdn: s.msisdn.as_str(),
        language,
        item,
    }
}
