//! `notice`: a line an action's outcome shows above the state it leads to, so that a wrong
//! number can lead back to its input and say why.

use super::*;
use mgov::menus::Menu;
use std::sync::Arc;

const MENU: &str = r#"[service]
id = "demo"
agency = "dawasa"
title = "Demo"
start = "home"
position = 1

[states.home]
text = "Karibu"
options = [ { label = "Bili", next = "account" } ]

[states.account]
prompt = "Akaunti:"
input = { save_as = "account", pattern = "[0-9]{8}" }
retry = "Tarakimu 8."
next = "fetch"

[states.fetch]
action = "bills.fetch"
params = { account = "{account}" }
on = { ok = "done", not_found = "account", failed = "sorry" }
notice = { not_found = "Hakuna akaunti {account}.", failed = "Jaribu baadaye." }

[states.done]
end = "Sawa"

[states.sorry]
end = "Samahani"
"#;

fn walker_over(source: &str) -> MenuSet {
    let mut set = MenuSet::new();
    set.insert(Arc::new(Menu::parse(source, "demo.toml").unwrap()))
        .unwrap();
    set
}

#[test]
fn an_outcome_leads_back_to_the_input_saying_why() {
    let set = walker_over(MENU);
    let w = Walker::new(&set, 160);
    let mut s = session();
    call(walk(&w, &mut s, &["1", "1", "01234567"]));
    assert_eq!(
        screen(w.resume(&mut s, ActionOutcome::NotFound)),
        "Hakuna akaunti 01234567.\nAkaunti:\n0 Rudi  00 Mwanzo"
    );
    // The input is not on the history twice: Back leads to the screen before it.
    assert_eq!(
        screen(w.input(&mut s, "0")),
        "Karibu\n1. Bili\n0 Rudi  00 Mwanzo"
    );
    // A notice is shown once, not when the screen is shown again.
    walk(&w, &mut s, &["1", "01234567"]);
    w.resume(&mut s, ActionOutcome::NotFound);
    assert_eq!(
        screen(w.input(&mut s, "x")),
        "Tarakimu 8.\nAkaunti:\n0 Rudi  00 Mwanzo"
    );
    // An outcome without its own target takes `failed`, and its notice.
    let mut s = session();
    call(walk(&w, &mut s, &["1", "1", "12345678"]));
    assert_eq!(
        end(w.resume(&mut s, ActionOutcome::Rejected)),
        "Jaribu baadaye.\nSamahani"
    );
}

fn problems(source: &str) -> Vec<String> {
    Menu::parse(source, "demo.toml")
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn a_notice_names_an_outcome_that_leads_somewhere() {
    let line = MENU.lines().position(|l| l.starts_with("notice")).unwrap() + 1;
    let not_an_outcome = MENU.replace("failed = \"Jaribu", "timeout = \"Jaribu");
    assert_eq!(
        problems(&not_an_outcome),
        [format!("demo.toml:{line}: state \"fetch\": notice.timeout: not an outcome (they are ok, not_found, rejected, failed)")]
    );
    let no_target = MENU.replace("failed = \"Jaribu", "rejected = \"Jaribu");
    assert_eq!(
        problems(&no_target),
        [format!("demo.toml:{line}: state \"fetch\": notice.rejected needs `on.rejected`: the notice is shown on the state it leads to")]
    );
    let unknown_variable = MENU.replace("Hakuna akaunti {account}", "Hakuna {customer}");
    assert_eq!(
        problems(&unknown_variable),
        [format!("demo.toml:{line}: state \"fetch\": variable \"customer\" is used before any state sets it on every path here")]
    );
    let in_a_screen = MENU.replace("end = \"Sawa\"", "end = \"Sawa\"\nnotice = { ok = \"x\" }");
    assert_eq!(
        problems(&in_a_screen).len(),
        1,
        "{:?}",
        problems(&in_a_screen)
    );
}
