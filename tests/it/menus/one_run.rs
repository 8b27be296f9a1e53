//! Every problem of every menu file in one run, sorted by file and line, whatever layer each
//! belongs to; and warnings, which do not stop a menu.

use mgov::ids::AgencyId;
use mgov::menus::{MenuSet, RegisteredAgencies, DEFAULT_MIN_SCREEN_LIMIT};
use std::path::Path;

/// One problem of each layer: a file name that does not match the id, an agency nobody
/// registered, an input without `retry` (compile), a variable nothing sets (graph), and a
/// text without its English (translations). Each used to hide the ones after it.
pub const LAYERED: &str = r#"[service]
id = "kesi"
agency = "rita"
title = { sw = "Hali ya ombi", en = "Application status" }
start = "case_id"
position = 2

[states.case_id]
prompt = { sw = "Namba ya ombi (tarakimu tu):", en = "Application number (digits only):" }
input = { save_as = "case_id", pattern = "[0-9]{1,12}" }
next = "fetch_status"

[states.fetch_status]
action = "cases.status"
params = { case_id = "{case_id}" }
keep = { status_text = "status_text" }
on = { ok = "show_status", not_found = "no_case", failed = "no_case" }

[states.show_status]
end = { sw = "Ombi {case_id}: {status_txt}", en = "Application {case_id}: {status_txt}" }

[states.no_case]
end = { sw = "Hatukupata ombi namba {case_id}." }
"#;

/// A state that cannot be read (an unknown key) next to a target that does not exist: the
/// first stops only its own state. And an input that accepts anything: a warning.
pub const UNREADABLE_STATE: &str = r#"[service]
id = "maji"
agency = "dawasa"
title = "Maji"
start = "account"
position = 1

[states.account]
prompt = "Namba ya akaunti:"
input = { save_as = "account" }
retry = "Namba si sahihi."
next = "fetch"

[states.fetch]
action = "bills.fetch"
params = { account = "{account}" }
on = { ok = "done", failed = "sory" }

[states.done]
end = "Asante"
colour = "blue"
"#;

/// The 1-based line of the first line of `source` holding `needle`.
pub fn line(source: &str, needle: &str) -> usize {
    source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle}"))
        + 1
}

/// `dawasa`, offering the water-bill actions: the only agency registered.
pub fn only_dawasa() -> RegisteredAgencies {
    let mut agencies = RegisteredAgencies::new();
    agencies.register(
        AgencyId::parse("dawasa").unwrap(),
        ["bills.fetch".to_string()],
    );
    agencies
}

pub fn write(dir: &Path, name: &str, source: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, source).unwrap();
    path.display().to_string()
}

/// The problems of [`LAYERED`] written as `status.toml` at `status`, with `rita` unregistered.
pub fn layered_problems(status: &str) -> Vec<String> {
    let l = |needle| line(LAYERED, needle);
    vec![
        format!(
            "{status}:{}: service \"kesi\" must be in a file named kesi.toml",
            l("id =")
        ),
        format!(
            "{status}:{}: agency \"rita\" is not registered (mgov agencies add rita ...)",
            l("agency =")
        ),
        format!(
            "{status}:{}: state \"case_id\": a state with `input` needs `retry`",
            l("[states.case_id]")
        ),
        format!(
            "{status}:{}: state \"show_status\": variable \"status_txt\" is used before any state sets it on every path here",
            l("{status_txt}")
        ),
        format!(
            "{status}:{}: state \"no_case\": missing translation: end has no \"en\" text",
            l("Hatukupata")
        ),
    ]
}

/// [`LAYERED`] with its problems mended, but for its agency.
pub fn kesi() -> String {
    LAYERED
        .replace(
            "next = \"fetch_status\"",
            "retry = { sw = \"Tarakimu tu.\", en = \"Digits only.\" }\nnext = \"fetch_status\"",
        )
        .replace("{status_txt}", "{status_text}")
        .replace(
            "{case_id}.\" }",
            "{case_id}.\", en = \"No application {case_id}.\" }",
        )
}

#[test]
fn every_problem_of_every_file_is_reported_in_one_run_by_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let status = write(dir.path(), "status.toml", LAYERED);
    let maji = write(dir.path(), "maji.toml", UNREADABLE_STATE);
    let check = MenuSet::check_dir(dir.path(), DEFAULT_MIN_SCREEN_LIMIT, Some(&only_dawasa()));
    let errors: Vec<String> = check.errors.iter().map(|e| e.to_string()).collect();
    let l = |source, needle| line(source, needle);
    assert_eq!(
        errors,
        [
            format!(
                "{maji}:{}: state \"fetch\": on.failed leads to state \"sory\", which does not exist",
                l(UNREADABLE_STATE, "sory")
            ),
            format!(
                "{maji}:{}: state \"done\": unknown field `colour`, expected one of `text`, `options`, `prompt`, `input`, `retry`, `next`, `action`, `params`, `keep`, `on`, `notice`, `list`, `empty`, `end`, `follow_by_sms`, `sms`",
                l(UNREADABLE_STATE, "colour")
            ),
        ]
        .into_iter()
        .chain(layered_problems(&status))
        .collect::<Vec<_>>()
    );
    assert_eq!(check.files_with_errors(), 2);
    let warnings: Vec<String> = check
        .warnings
        .iter()
        .map(|w| w.as_warning().to_string())
        .collect();
    assert_eq!(
        warnings,
        [format!(
            "{maji}:{}: warning: state \"account\": input accepts any text of any length: give it a `pattern` (such as \"[0-9]{{8}}\") or a `max_length`",
            l(UNREADABLE_STATE, "input =")
        )]
    );
}

#[test]
fn without_agencies_the_other_problems_are_still_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "status.toml", LAYERED);
    let errors = MenuSet::load_dir(dir.path()).unwrap_err();
    let problems: Vec<&str> = errors.iter().map(|e| e.problem.as_str()).collect();
    assert_eq!(
        problems,
        [
            "service \"kesi\" must be in a file named kesi.toml",
            "a state with `input` needs `retry`",
            "variable \"status_txt\" is used before any state sets it on every path here",
            "missing translation: end has no \"en\" text",
        ]
    );
}

#[test]
fn a_service_table_that_cannot_be_read_still_lets_the_states_be_checked() {
    let dir = tempfile::tempdir().unwrap();
    let source = UNREADABLE_STATE.replace("position = 1", "position = 1\nowner = \"x\"");
    let maji = write(dir.path(), "maji.toml", &source);
    let errors: Vec<String> = MenuSet::load_dir(dir.path())
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].starts_with(&format!(
            "{maji}:{}: unknown field `owner`",
            line(&source, "owner")
        )),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("on.failed leads to state \"sory\""),
        "{errors:?}"
    );
    assert!(errors[2].contains("unknown field `colour`"), "{errors:?}");
}

#[test]
fn the_mended_layered_menu_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kesi.toml", &kesi());
    MenuSet::load_dir(dir.path()).unwrap();
}

#[test]
fn a_warning_does_not_stop_a_menu() {
    let dir = tempfile::tempdir().unwrap();
    let fixed = UNREADABLE_STATE
        .replace("failed = \"sory\"", "failed = \"done\"")
        .replace("colour = \"blue\"\n", "");
    write(dir.path(), "maji.toml", &fixed);
    let check = MenuSet::check_dir(dir.path(), DEFAULT_MIN_SCREEN_LIMIT, Some(&only_dawasa()));
    assert_eq!(check.warnings.len(), 1, "{:?}", check.warnings);
    let menus = check.into_result().expect("a warning is not an error");
    assert_eq!(menus.services_by_position().len(), 1);
    // A pattern, a maximum length, or a bounded number each bound what is accepted.
    for bound in [
        "pattern = \"[0-9]{8}\"",
        "max_length = 8",
        "numeric = { max = 99999999 }",
    ] {
        let bounded = fixed.replace(
            "input = { save_as = \"account\" }",
            &format!("input = {{ save_as = \"account\", {bound} }}"),
        );
        write(dir.path(), "maji.toml", &bounded);
        let check = MenuSet::check_dir(dir.path(), DEFAULT_MIN_SCREEN_LIMIT, None);
        assert!(check.errors.is_empty(), "{bound}: {:?}", check.errors);
        assert!(check.warnings.is_empty(), "{bound}: {:?}", check.warnings);
    }
}

#[test]
fn the_demo_menus_have_no_warning() {
    let check = MenuSet::check_dir(super::menus_dir(), DEFAULT_MIN_SCREEN_LIMIT, None);
    assert!(check.errors.is_empty(), "{:?}", check.errors);
    assert!(check.warnings.is_empty(), "{:?}", check.warnings);
}
