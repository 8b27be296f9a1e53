//! Every load-time check, each on a small broken menu: the error names the file, the line,
//! the state and the problem.

use mgov::ids::AgencyId;
use mgov::menus::{Menu, MenuSet, RegisteredAgencies};

const FILE: &str = "menus/demo.toml";

const BASE: &str = r#"[service]
id = "demo"
agency = "dawasa"
title = { sw = "Demo", en = "Demo" }
start = "home"
position = 8

[states.home]
text = { sw = "Karibu", en = "Welcome" }
options = [ { label = { sw = "Bili", en = "Bill" }, next = "account" } ]

[states.account]
prompt = { sw = "Akaunti:", en = "Account:" }
input = { save_as = "account", pattern = "[0-9]{8}" }
retry = { sw = "Tarakimu 8.", en = "8 digits." }
next = "fetch"

[states.fetch]
action = "bills.fetch"
params = { account = "{account}" }
keep = { amount = "bills[0].amount" }
on = { ok = "done", failed = "sorry" }

[states.done]
end = { sw = "Kiasi {amount|money}", en = "Amount {amount|money}" }

[states.sorry]
end = { sw = "Samahani", en = "Sorry" }
"#;

/// The base menu with `from` replaced by `to` (which must change it).
fn broken(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

fn errors(source: &str) -> Vec<String> {
    match Menu::parse(source, FILE) {
        Ok(_) => panic!("expected errors in:\n{source}"),
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
    }
}

/// The 1-based line holding `needle`.
fn line(source: &str, needle: &str) -> usize {
    source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle}"))
        + 1
}

fn assert_one(source: &str, expected: String) {
    assert_eq!(errors(source), [expected]);
}

#[test]
fn the_base_menu_is_valid() {
    Menu::parse(BASE, FILE).unwrap();
}

#[test]
fn toml_syntax() {
    let src = broken("[states.done]", "[states.done");
    assert_one(
        &src,
        format!(
            "{FILE}:{}: state \"done\": unclosed table, expected `]`",
            line(&src, "[states.done")
        ),
    );
}

#[test]
fn unknown_key() {
    let src = broken("next = \"fetch\"", "nxt = \"fetch\"");
    let e = errors(&src);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(&format!(
            "{FILE}:{}: state \"account\": unknown field `nxt`",
            line(&src, "nxt")
        )),
        "{e:?}"
    );
}

#[test]
fn missing_key() {
    let src = broken("start = \"home\"\n", "");
    assert_one(&src, format!("{FILE}:1: missing field `start`"));
    let src = broken("retry = { sw = \"Tarakimu 8.\", en = \"8 digits.\" }\n", "");
    assert_one(
        &src,
        format!(
            "{FILE}:{}: state \"account\": a state with `input` needs `retry`",
            line(&src, "[states.account]")
        ),
    );
}

#[test]
fn a_state_is_exactly_one_kind() {
    let src = broken(
        "end = { sw = \"Samahani\", en = \"Sorry\" }",
        "end = \"x\"\nnext = \"home\"",
    );
    assert_one(&src, format!("{FILE}:{}: state \"sorry\": `next` does not belong in a state with `end` (it takes `end`, `sms`)", line(&src, "next = \"home\"")));
    let src = broken(
        "[states.sorry]\n",
        "[states.sorry]\ntext = \"x\"\noptions = []\n",
    );
    assert_one(&src, format!("{FILE}:{}: state \"sorry\": a state is exactly one kind, but this one has `options` and `end`", line(&src, "[states.sorry]")));
}

#[test]
fn next_pointing_nowhere() {
    let src = broken("next = \"fetch\"", "next = \"fech\"");
    assert_one(
        &src,
        format!(
            "{FILE}:{}: state \"account\": next state \"fech\" does not exist",
            line(&src, "next = \"fech\"")
        ),
    );
}

#[test]
fn on_pointing_nowhere() {
    let src = broken("failed = \"sorry\"", "failed = \"sory\"");
    assert_one(
        &src,
        format!(
            "{FILE}:{}: state \"fetch\": on.failed leads to state \"sory\", which does not exist",
            line(&src, "sory")
        ),
    );
}

#[test]
fn empty_pointing_nowhere() {
    let list = "[states.home]\ntext = \"Chagua\"\nlist = { items = \"msisdn\", label = \"{item.x}\", save_as = \"pick\", next = \"account\" }\nempty = \"nothing\"\n\n[states.old_home]";
    let src = broken("[states.home]", list);
    let e = errors(&src);
    assert!(
        e.contains(&format!(
            "{FILE}:{}: state \"home\": empty leads to state \"nothing\", which does not exist",
            line(&src, "empty =")
        )),
        "{e:?}"
    );
}

#[test]
fn start_missing() {
    let src = broken("start = \"home\"", "start = \"hom\"");
    assert_one(
        &src,
        format!(
            "{FILE}:{}: start state \"hom\" does not exist",
            line(&src, "start =")
        ),
    );
}

#[test]
fn unreachable_state() {
    let src = format!("{BASE}\n[states.orphan]\nend = \"x\"\n");
    assert_one(&src, format!("{FILE}:{}: state \"orphan\": unreachable: no path leads here from start state \"home\"", line(&src, "[states.orphan]")));
}

#[test]
fn no_way_to_end() {
    let src = broken(
        "on = { ok = \"done\", failed = \"sorry\" }",
        "on = { ok = \"home\", failed = \"home\" }",
    );
    let e = errors(&src);
    assert!(
        e.contains(&format!(
            "{FILE}:{}: state \"home\": no way to end: no path leads from here to an `end` state",
            line(&src, "[states.home]")
        )),
        "{e:?}"
    );
}

#[test]
fn action_not_in_the_catalogue() {
    let src = broken("action = \"bills.fetch\"", "action = \"bills.fecth\"");
    assert_one(&src, format!("{FILE}:{}: state \"fetch\": action \"bills.fecth\" is not a standard back-office action", line(&src, "bills.fecth")));
}

#[test]
fn a_subscription_action_names_its_topic() {
    let src = broken(
        "action = \"bills.fetch\"\nparams = { account = \"{account}\" }",
        "action = \"subscriptions.join\"\nparams = { topik = \"MAFURIKO\" }",
    );
    assert_one(
        &src,
        format!(
            "{FILE}:{}: state \"fetch\": action \"subscriptions.join\" needs param \"topic\"",
            line(&src, "subscriptions.join")
        ),
    );
}

#[test]
fn required_param_missing() {
    let src = broken(
        "params = { account = \"{account}\" }",
        "params = { acount = \"{account}\" }",
    );
    assert_one(
        &src,
        format!(
            "{FILE}:{}: state \"fetch\": action \"bills.fetch\" needs param \"account\"",
            line(&src, "action =")
        ),
    );
}

#[test]
fn agency_not_registered_or_not_offering_the_action() {
    let menu = Menu::parse(BASE, FILE).unwrap();
    let dawasa = || AgencyId::parse("dawasa").unwrap();
    let mut agencies = RegisteredAgencies::new();
    agencies.register(dawasa(), ["bills.fetch".to_string()]);
    assert!(menu.check_agencies(&agencies).is_empty());
    let problems = |agencies: &RegisteredAgencies| -> Vec<String> {
        let errors = menu.check_agencies(agencies);
        errors.iter().map(|e| e.to_string()).collect()
    };
    // Not registered at all: one problem at the `agency =` line, not one per action.
    assert_eq!(
        problems(&RegisteredAgencies::new()),
        [format!(
            "{FILE}:{}: agency \"dawasa\" is not registered (mgov agencies add dawasa ...)",
            line(BASE, "agency =")
        )]
    );
    let mut without_the_action = RegisteredAgencies::new();
    without_the_action.register(dawasa(), ["payments.control_number".to_string()]);
    assert_eq!(
        problems(&without_the_action),
        [format!(
            "{FILE}:{}: state \"fetch\": agency \"dawasa\" does not offer action \"bills.fetch\"",
            line(BASE, "action =")
        )]
    );
}

#[test]
fn variable_used_before_it_is_set_on_every_path() {
    // `amount` is kept only on the ok edge, and the failed path reads it.
    let src = broken(
        "end = { sw = \"Samahani\", en = \"Sorry\" }",
        "end = { sw = \"Samahani {amount}\", en = \"Sorry {amount}\" }",
    );
    assert_one(&src, format!("{FILE}:{}: state \"sorry\": variable \"amount\" is used before any state sets it on every path here", line(&src, "Samahani {amount}")));
    let src = broken(
        "text = { sw = \"Karibu\", en = \"Welcome\" }",
        "text = { sw = \"Karibu {item}\", en = \"Welcome\" }",
    );
    assert_one(
        &src,
        format!(
            "{FILE}:{}: state \"home\": variable \"item\" exists only inside a list's label",
            line(&src, "Karibu {item}")
        ),
    );
}

#[test]
fn missing_translation() {
    let src = broken(
        "retry = { sw = \"Tarakimu 8.\", en = \"8 digits.\" }",
        "retry = { sw = \"Tarakimu 8.\" }",
    );
    assert_one(
        &src,
        format!(
            "{FILE}:{}: state \"account\": missing translation: retry has no \"en\" text",
            line(&src, "retry =")
        ),
    );
    let src = broken(
        "label = { sw = \"Bili\", en = \"Bill\" }",
        "label = { sw = \"Bili\", en = \"Bill\", fr = \"Facture\" }",
    );
    assert_one(&src, format!("{FILE}:{}: state \"home\": label of option 1 in \"fr\", which the service does not offer (sw, en)", line(&src, "Facture")));
}

#[test]
fn pattern_that_does_not_compile() {
    let src = broken("pattern = \"[0-9]{8}\"", "pattern = \"[0-9{8}\"");
    let e = errors(&src);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(&format!(
            "{FILE}:{}: state \"account\": pattern \"[0-9{{8}}\" does not compile: ",
            line(&src, "pattern")
        )),
        "{e:?}"
    );
}

#[test]
fn bad_template() {
    let src = broken("\"Amount {amount|money}\"", "\"Amount {amount|euro}\"");
    assert_one(&src, format!("{FILE}:{}: state \"done\": end in \"en\": unknown filter \"euro\" in {{amount|euro}} (known: money, date, day)", line(&src, "euro")));
}

#[test]
fn screen_that_cannot_fit_even_paginated() {
    let long = "Karibu sana ".repeat(12);
    let src = broken(
        "text = { sw = \"Karibu\"",
        &format!("text = {{ sw = \"{long}\""),
    );
    assert_one(&src, format!("{FILE}:{}: state \"home\": screen in \"sw\" cannot fit 160 characters even paginated: heading 144 + longest option 7 + navigation 27 + 2 line breaks = 180", line(&src, "Karibu sana")));
    // The same menu fits a larger minimum.
    Menu::parse_with_limit(&src, FILE, 182).unwrap();
}

#[test]
fn too_many_options() {
    let options: Vec<String> = (0..98)
        .map(|i| format!("{{ label = \"O{i}\", next = \"account\" }}"))
        .collect();
    let src = broken(
        "options = [ { label = { sw = \"Bili\", en = \"Bill\" }, next = \"account\" } ]",
        &format!("options = [ {} ]", options.join(", ")),
    );
    assert_one(&src, format!("{FILE}:{}: state \"home\": 98 options: a screen takes 1 to 97 (0, 00 and 98 are the engine's)", line(&src, "options =")));
}

#[test]
fn position_zero_and_builtin_names() {
    let src = broken("position = 8", "position = 0");
    assert_one(
        &src,
        format!(
            "{FILE}:{}: position 0 is not allowed: 0 is the Back key, positions start at 1",
            line(&src, "position")
        ),
    );
    let src = broken("position = 8", "position = 9");
    assert_one(
        &src,
        format!(
            "{FILE}:{}: position 9 is not allowed: 9 is the root menu's language choice, positions run from 1 to 8",
            line(&src, "position")
        ),
    );
    let src = broken("save_as = \"account\"", "save_as = \"msisdn\"");
    let e = errors(&src);
    assert!(e.contains(&format!("{FILE}:{}: state \"account\": variable \"msisdn\" is provided by the engine; choose another name", line(&src, "save_as"))), "{e:?}");
}

#[test]
fn duplicate_positions_across_services() {
    let dir = std::env::temp_dir().join(format!("mgov-menus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("demo.toml"), BASE).unwrap();
    std::fs::write(
        dir.join("other.toml"),
        BASE.replace("id = \"demo\"", "id = \"other\""),
    )
    .unwrap();
    std::fs::write(
        dir.join("wrong.toml"),
        BASE.replace("id = \"demo\"", "id = \"right\"")
            .replace("position = 8", "position = 7"),
    )
    .unwrap();
    let e: Vec<String> = MenuSet::load_dir(&dir)
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    let file = |name: &str| dir.join(name).display().to_string();
    assert_eq!(
        e,
        [
            format!(
                "{}:{}: position 8 is already taken by service \"demo\" ({})",
                file("other.toml"),
                line(BASE, "position"),
                file("demo.toml")
            ),
            format!(
                "{}:{}: service \"right\" must be in a file named right.toml",
                file("wrong.toml"),
                line(BASE, "id =")
            ),
        ]
    );
}

#[test]
fn results_by_sms_need_end_screens() {
    // A result sent by SMS is the end screen its outcome leads to: a prompt is none.
    let src = broken(
        "on = { ok = \"done\", failed = \"sorry\" }",
        "on = { ok = \"done\", failed = \"account\" }\nfollow_by_sms = true",
    );
    let found = errors(&src);
    let expected = format!("{FILE}:{}: state \"fetch\": follow_by_sms sends the end screen each outcome leads to, but on.failed leads to state \"account\", which is not an `end` state", line(&src, "follow_by_sms"));
    assert!(found.contains(&expected), "{found:?}");
    // `sms` is for end screens only.
    let src = broken("next = \"fetch\"", "next = \"fetch\"\nsms = true");
    assert_one(&src, format!("{FILE}:{}: state \"account\": `sms` does not belong in a state with `input` (it takes `prompt`, `input`, `retry`, `next`)", line(&src, "sms = true")));
    // Both keys where they belong load.
    let src = broken(
        "on = { ok = \"done\", failed = \"sorry\" }",
        "on = { ok = \"done\", failed = \"sorry\" }\nfollow_by_sms = true",
    )
    .replace("[states.done]\n", "[states.done]\nsms = true\n");
    Menu::parse(&src, FILE).unwrap();
}
