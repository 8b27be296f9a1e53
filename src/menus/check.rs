//! Checks over a compiled menu as a whole: where states lead, what can be reached, which
//! variables are set on every path, which actions exist, and whether screens can fit.

use super::error::{MenuError, Source};
use super::model::{Kind, Menu, Target, Text};
use super::phrases;
use super::template::{BUILTIN_VARS, ITEM_VAR};
use crate::backoffice::catalogue;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Every check that needs the whole graph. States in `broken` exist but did not compile:
/// where they lead is unknown, so the graph checks assume the best of them rather than
/// report what only follows from them.
pub(super) fn check_menu(
    menu: &Menu,
    src: &Source,
    declared: &BTreeSet<String>,
    broken: &BTreeSet<String>,
    min_screen_limit: usize,
) -> Vec<MenuError> {
    let mut errors = Vec::new();
    let mut unknown: BTreeSet<&str> = broken.iter().map(String::as_str).collect();
    if !declared.contains(&menu.start) {
        let problem = format!("start state {:?} does not exist", menu.start);
        errors.push(MenuError {
            line: Some(menu.start_line),
            ..src.error(None, None, problem)
        });
    }
    for (name, state) in &menu.states {
        for (target, _) in state.kind.edges() {
            if !declared.contains(&target.state) {
                errors.push(src.at_line(target.line, name, missing_target(target)));
                unknown.insert(&target.state);
            }
        }
    }
    errors.extend(catalogue_errors(menu, src));
    errors.extend(super::follow_up::follow_up_errors(menu, src));
    errors.extend(screen_errors(menu, src, min_screen_limit));
    if declared.contains(&menu.start) {
        errors.extend(graph_errors(menu, src, &unknown));
        errors.extend(variable_errors(menu, src));
    }
    errors
}

fn missing_target(t: &Target) -> String {
    if t.key == "next" {
        format!("next state {:?} does not exist", t.state)
    } else {
        format!(
            "{} leads to state {:?}, which does not exist",
            t.key, t.state
        )
    }
}

fn catalogue_errors(menu: &Menu, src: &Source) -> Vec<MenuError> {
    let mut errors = Vec::new();
    for (name, state) in &menu.states {
        if let Kind::Action {
            action,
            action_line,
            params,
            ..
        } = &state.kind
        {
            let required = if super::GATEWAY_ACTIONS.contains(&action.as_str()) {
                Some(&["topic"][..])
            } else {
                catalogue::required_params(action)
            };
            match required {
                None => errors.push(src.at_line(
                    *action_line,
                    name,
                    format!("action {action:?} is not a standard back-office action"),
                )),
                Some(required) => {
                    for param in required
                        .iter()
                        .filter(|r| !params.iter().any(|p| p.name == **r))
                    {
                        let problem = format!("action {action:?} needs param {param:?}");
                        errors.push(src.at_line(*action_line, name, problem));
                    }
                }
            }
        }
    }
    errors
}

/// Unreachable states, and states from which no path reaches an end screen. `unknown` are
/// states whose way on is not known (broken, or named but missing): past one of them,
/// reachability cannot be judged, and they are taken as able to end.
fn graph_errors(menu: &Menu, src: &Source, unknown: &BTreeSet<&str>) -> Vec<MenuError> {
    let reachable = reach(&menu.start, |s| {
        menu.states
            .get(s)
            .map(|st| {
                st.kind
                    .edges()
                    .into_iter()
                    .map(|(t, _)| t.state.as_str())
                    .collect()
            })
            .unwrap_or_default()
    });
    let mut incoming: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, state) in &menu.states {
        for (target, _) in state.kind.edges() {
            incoming
                .entry(target.state.as_str())
                .or_default()
                .push(name.as_str());
        }
    }
    let mut can_end = BTreeSet::new();
    let ends = menu
        .states
        .iter()
        .filter(|(_, s)| matches!(s.kind, Kind::End { .. }))
        .map(|(name, _)| name.as_str());
    for end in ends.chain(unknown.iter().copied()) {
        can_end.extend(reach(end, |s| incoming.get(s).cloned().unwrap_or_default()));
    }
    let judge_reach = !unknown.iter().any(|s| reachable.contains(s));
    let mut errors = Vec::new();
    // Actions that lead only into actions, back to themselves, would keep a citizen (and
    // the telco's request) waiting without ever showing a screen.
    let action_successors = |s: &str| -> Vec<&str> {
        match menu.states.get(s) {
            Some(st) if matches!(st.kind, Kind::Action { .. }) => st
                .kind
                .edges()
                .into_iter()
                .map(|(t, _)| t.state.as_str())
                .filter(|t| {
                    matches!(
                        menu.states.get(*t).map(|x| &x.kind),
                        Some(Kind::Action { .. })
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    for (name, state) in &menu.states {
        let loops = action_successors(name)
            .into_iter()
            .any(|next| reach(next, action_successors).contains(name.as_str()));
        if loops {
            errors.push(src.at_line(
                state.line,
                name,
                "actions loop back here without a screen in between",
            ));
        }
    }
    for (name, state) in &menu.states {
        if !reachable.contains(name.as_str()) {
            if !judge_reach {
                continue;
            }
            let problem = format!(
                "unreachable: no path leads here from start state {:?}",
                menu.start
            );
            errors.push(src.at_line(state.line, name, problem));
        } else if !can_end.contains(name.as_str()) {
            errors.push(src.at_line(
                state.line,
                name,
                "no way to end: no path leads from here to an `end` state",
            ));
        }
    }
    errors
}

fn reach<'a>(from: &'a str, next: impl Fn(&str) -> Vec<&'a str>) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(s) = queue.pop_front() {
        for n in next(s) {
            if seen.insert(n) {
                queue.push_back(n);
            }
        }
    }
    seen
}

/// Variables used before some path sets them: a forward "set on every path" analysis. A
/// state's set is the intersection over its incoming edges of what each edge guarantees;
/// `None` stands for "not reached yet" (everything), the identity of intersection.
fn variable_errors(menu: &Menu, src: &Source) -> Vec<MenuError> {
    let mut set_on_entry: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    set_on_entry.insert(menu.start.as_str(), BUILTIN_VARS.iter().copied().collect());
    let mut work = VecDeque::from([menu.start.as_str()]);
    while let Some(name) = work.pop_front() {
        let Some(state) = menu.states.get(name) else {
            continue;
        };
        let entry = set_on_entry[name].clone();
        for (target, sets) in state.kind.edges() {
            let mut out = entry.clone();
            out.extend(sets);
            let changed = match set_on_entry.get_mut(target.state.as_str()) {
                None => {
                    set_on_entry.insert(target.state.as_str(), out);
                    true
                }
                Some(known) => {
                    let meet: BTreeSet<&str> = known.intersection(&out).copied().collect();
                    let changed = meet.len() != known.len();
                    *known = meet;
                    changed
                }
            };
            if changed {
                work.push_back(target.state.as_str());
            }
        }
    }
    let mut errors = Vec::new();
    for (name, state) in &menu.states {
        let Some(set) = set_on_entry.get(name.as_str()) else {
            continue;
        };
        let mut reported = BTreeSet::new();
        for (var, line) in state.kind.uses() {
            if set.contains(var) || !reported.insert(var) {
                continue;
            }
            let problem = if var == ITEM_VAR {
                format!("variable {var:?} exists only inside a list's label")
            } else {
                format!("variable {var:?} is used before any state sets it on every path here")
            };
            errors.push(src.at_line(line, name, problem));
        }
    }
    errors
}

/// A screen must fit even when paginated: its heading (variables counted as empty), the
/// longest single option and the full navigation line on one page.
fn screen_errors(menu: &Menu, src: &Source, limit: usize) -> Vec<MenuError> {
    let mut errors = Vec::new();
    for (name, state) in &menu.states {
        let (heading, labels, numbered): (&Text, Vec<&Text>, usize) = match &state.kind {
            Kind::Options { text, options } => (
                text,
                options.iter().map(|c| &c.label).collect(),
                options.len(),
            ),
            // A list is numbered at run time, up to two digits.
            Kind::List { text, list, .. } => (text, vec![&list.label], 97),
            _ => continue,
        };
        for language in &menu.languages {
            let heading_len = heading.get(*language).map_or(0, |t| t.literal_len());
            let number_len = numbered.max(1).to_string().len() + 2;
            let option_len = labels
                .iter()
                .filter_map(|l| l.get(*language))
                .map(|t| t.literal_len())
                .max()
                .unwrap_or(0)
                + number_len;
            let nav_len = phrases::nav_line(*language, true, true, true)
                .chars()
                .count();
            let total = heading_len + 1 + option_len + 1 + nav_len;
            if total > limit {
                let problem = format!(
                    "screen in {:?} cannot fit {limit} characters even paginated: heading {heading_len} + longest option {option_len} + navigation {nav_len} + 2 line breaks = {total}",
                    language.code()
                );
                errors.push(src.at_line(heading.line, name, problem));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use crate::menus::Menu;

    const HEAD: &str =
        "[service]\nid = \"t\"\nagency = \"a\"\ntitle = \"T\"\nstart = \"home\"\nposition = 1\n";

    fn problems(states: &str) -> Vec<String> {
        match Menu::parse(&format!("{HEAD}{states}"), "t.toml") {
            Ok(_) => vec![],
            Err(errors) => errors.into_iter().map(|e| e.problem).collect(),
        }
    }

    #[test]
    fn a_variable_must_be_set_on_every_incoming_edge() {
        let menu = |second_set: &str| {
            format!(
                "[states.home]\ntext = \"Ofisi\"\noptions = [\n  {{ label = \"A\", set = {{ office = \"A\" }}, next = \"done\" }},\n  {{ label = \"B\", {second_set} next = \"done\" }},\n]\n[states.done]\nend = \"Ofisi {{office}}\"\n"
            )
        };
        assert_eq!(
            problems(&menu("set = { office = \"B\" },")),
            Vec::<String>::new()
        );
        assert_eq!(
            problems(&menu("")),
            ["variable \"office\" is used before any state sets it on every path here"]
        );
    }

    #[test]
    fn a_list_sets_its_variable_only_when_an_item_is_chosen() {
        let states = "[states.home]\ntext = \"Chagua\"\nlist = { items = \"msisdn\", label = \"{item}\", save_as = \"pick\", next = \"done\" }\nempty = \"none\"\n[states.done]\nend = \"{pick}\"\n[states.none]\nend = \"Hakuna {pick}\"\n";
        let p = problems(states);
        assert_eq!(
            p,
            ["variable \"pick\" is used before any state sets it on every path here"]
        );
    }

    #[test]
    fn actions_that_loop_without_a_screen_are_refused() {
        let states = "[states.home]\naction = \"cases.status\"\nparams = { case_id = \"1\" }\non = { ok = \"bye\", failed = \"again\" }\n[states.again]\naction = \"cases.status\"\nparams = { case_id = \"1\" }\non = { ok = \"bye\", failed = \"home\" }\n[states.bye]\nend = \"Kwaheri\"\n";
        let p = problems(states);
        assert_eq!(
            p,
            [
                "actions loop back here without a screen in between",
                "actions loop back here without a screen in between"
            ]
        );
    }

    #[test]
    fn a_broken_state_hides_only_what_depends_on_it() {
        // `middle` cannot be compiled, so whether `after` is reachable cannot be judged; the
        // variable `show` reads is still checked.
        let states = "[states.home]\ntext = \"Menyu\"\noptions = [ { label = \"A\", next = \"middle\" }, { label = \"B\", next = \"show\" } ]\n[states.middle]\nend = \"x\"\nnext = \"after\"\n[states.after]\nend = \"Mwisho\"\n[states.show]\nend = \"{nothing}\"\n";
        assert_eq!(
            problems(states),
            [
                "`next` does not belong in a state with `end` (it takes `end`, `sms`)",
                "variable \"nothing\" is used before any state sets it on every path here"
            ]
        );
    }

    #[test]
    fn a_missing_text_leaves_the_state_in_the_graph() {
        let states = "[states.home]\nprompt = \"Namba:\"\ninput = { save_as = \"n\", max_length = 4 }\nnext = \"done\"\n[states.done]\nend = \"{n} {m}\"\n";
        assert_eq!(
            problems(states),
            [
                "a state with `input` needs `retry`",
                "variable \"m\" is used before any state sets it on every path here"
            ]
        );
    }

    #[test]
    fn loops_are_fine_when_an_end_is_reachable() {
        let states = "[states.home]\ntext = \"Menyu\"\noptions = [ { label = \"Tena\", next = \"home\" }, { label = \"Toka\", next = \"bye\" } ]\n[states.bye]\nend = \"Kwaheri\"\n";
        assert_eq!(problems(states), Vec::<String>::new());
    }
}
