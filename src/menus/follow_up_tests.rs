use super::*;
use crate::ids::TelcoId;
use crate::menus::MenuSet;
use crate::msisdn::Msisdn;
use serde_json::json;
use std::sync::Arc;

const MENU: &str = r#"[service]
id = "kodi"
agency = "ilala"
title = { sw = "Kodi", en = "Tax" }
start = "parcel"
position = 4

[states.parcel]
prompt = { sw = "Kiwanja:", en = "Parcel:" }
input = { save_as = "parcel", pattern = "[0-9]{8}" }
retry = { sw = "Tarakimu 8.", en = "8 digits." }
next = "issue"

[states.issue]
action = "payments.control_number"
params = { bill_id = "{parcel}", amount = "100" }
keep = { control_number = "control_number" }
on = { ok = "pay_now", not_found = "nothing_due", failed = "try_later" }
notice = { not_found = { sw = "Hakuna deni la {parcel}.", en = "Nothing owed on {parcel}." } }
follow_by_sms = true

[states.pay_now]
end = { sw = "Kiwanja {parcel}. Namba ya malipo: {control_number}", en = "Parcel {parcel}. Control number: {control_number}" }
sms = true

[states.nothing_due]
end = { sw = "Asante.", en = "Thank you." }

[states.try_later]
end = { sw = "Jaribu baadaye.", en = "Try later." }
"#;

fn menus() -> MenuSet {
    let mut menus = MenuSet::new();
    let menu = Menu::parse(MENU, "menus/kodi.toml").unwrap();
    menus.insert(Arc::new(menu)).unwrap();
    menus
}

fn session_at(menus: &MenuSet, state: &str, language: Language) -> Session {
    let menu = menus.current(&ServiceId::parse("kodi").unwrap()).unwrap();
    Session {
        key: "at:1".into(),
        telco: TelcoId::parse("at").unwrap(),
        msisdn: Msisdn::parse("255754000001", "255").unwrap(),
        service_code: "*152*00#".into(),
        network: None,
        language,
        location: Location::Service {
            service: menu.id().clone(),
            version: menu.version().to_string(),
            state: state.into(),
        },
        home: Location::Root,
        page: 0,
        paged_notice: None,
        history: Vec::new(),
        vars: BTreeMap::from([
            ("parcel".to_string(), json!("20250415")),
            ("dues".to_string(), json!([{ "amount": "1" }])),
        ]),
        consumed: String::new(),
        steps: 3,
        last: None,
        hops: 2,
        service: Some(menu.id().clone()),
        reached: Vec::new(),
        started_at_ms: 0,
        last_seen_ms: 0,
    }
}

#[test]
fn a_follow_up_keeps_only_what_the_outcomes_screens_read() {
    let menus = menus();
    let walker = Walker::new(&menus, 182);
    let s = session_at(&menus, "issue", Language::ENGLISH);
    let follow_up = walker.follow_up(&s).unwrap();
    assert_eq!(follow_up.state, "issue");
    assert_eq!(follow_up.language, Language::ENGLISH);
    assert_eq!(
        follow_up.vars.keys().collect::<Vec<_>>(),
        ["parcel"],
        "the list of dues is not needed"
    );
    // It survives the store as JSON.
    let stored = serde_json::to_string(&follow_up).unwrap();
    assert_eq!(
        serde_json::from_str::<FollowUp>(&stored).unwrap(),
        follow_up
    );
    // Only an action that asks for it has one.
    assert!(walker
        .follow_up(&session_at(&menus, "parcel", Language::ENGLISH))
        .is_none());
}

#[test]
fn the_result_is_the_end_screen_its_outcome_leads_to() {
    let menus = menus();
    let walker = Walker::new(&menus, 182);
    let menu = menus.current(&ServiceId::parse("kodi").unwrap()).unwrap();
    let sw = walker
        .follow_up(&session_at(&menus, "issue", Language::SWAHILI))
        .unwrap();
    let ok = ActionOutcome::Ok(json!({ "control_number": "991234567890" }));
    assert_eq!(
        menu.follow_up_text(&sw, "255754000001", ok.clone())
            .as_deref(),
        Some("Kiwanja 20250415. Namba ya malipo: 991234567890")
    );
    let en = FollowUp {
        language: Language::ENGLISH,
        ..sw.clone()
    };
    assert_eq!(
        menu.follow_up_text(&en, "255754000001", ok).as_deref(),
        Some("Parcel 20250415. Control number: 991234567890")
    );
    assert_eq!(
        menu.follow_up_text(&en, "255754000001", ActionOutcome::NotFound)
            .as_deref(),
        Some("Nothing owed on 20250415.\nThank you."),
        "with the outcome's notice"
    );
    // No `on.rejected`: a refusal leads where a failure does.
    assert_eq!(
        menu.follow_up_text(&sw, "255754000001", ActionOutcome::Rejected)
            .as_deref(),
        Some("Jaribu baadaye.")
    );
    let gone = FollowUp {
        state: "pay_now".into(),
        ..sw
    };
    assert_eq!(
        menu.follow_up_text(&gone, "255754000001", ActionOutcome::Failed),
        None
    );
}

#[test]
fn an_end_screen_marked_sms_is_its_own_text() {
    let menus = menus();
    let walker = Walker::new(&menus, 182);
    let mut s = session_at(&menus, "pay_now", Language::ENGLISH);
    s.vars
        .insert("control_number".into(), json!("991234567890"));
    let (agency, text) = walker.end_by_sms(&s).unwrap();
    assert_eq!(agency.as_str(), "ilala");
    assert_eq!(text, "Parcel 20250415. Control number: 991234567890");
    let s = session_at(&menus, "nothing_due", Language::ENGLISH);
    assert_eq!(walker.end_by_sms(&s), None);
}

fn problems(source: &str) -> Vec<(Option<usize>, String)> {
    Menu::parse(source, "menus/kodi.toml")
        .unwrap_err()
        .into_iter()
        .map(|e| (e.line, e.problem))
        .collect()
}

#[test]
fn follow_by_sms_needs_every_outcome_to_end() {
    // A failure back to the prompt (`try_later` is then unreachable, reported on its own).
    let source = MENU.replace(r#"failed = "try_later" }"#, r#"failed = "parcel" }"#);
    let found = problems(&source);
    let expected = (
        Some(20),
        "follow_by_sms sends the end screen each outcome leads to, but on.failed leads to state \"parcel\", which is not an `end` state".to_string(),
    );
    assert!(found.contains(&expected), "{found:?}");
    // Turned off, the same graph has no such problem.
    let off = source.replace("follow_by_sms = true", "follow_by_sms = false");
    let found = problems(&off);
    assert!(
        !found.iter().any(|(_, p)| p.starts_with("follow_by_sms")),
        "{found:?}"
    );
}

#[test]
fn sms_and_follow_by_sms_belong_to_their_own_kinds() {
    let source = MENU
        .replace("\nsms = true\n", "\n")
        .replace("next = \"issue\"\n", "next = \"issue\"\nsms = true\n")
        .replace(
            "[states.try_later]\n",
            "[states.try_later]\nfollow_by_sms = true\n",
        );
    let found = problems(&source);
    assert!(
        found.iter().any(|(line, p)| *line == Some(13)
            && p.starts_with("`sms` does not belong in a state with `input`")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(_, p)| p.starts_with(
            "`follow_by_sms` does not belong in a state with `end` (it takes `end`, `sms`)"
        )),
        "{found:?}"
    );
    let typed = MENU.replace("\nsms = true", "\nsms = \"yes\"");
    let found = problems(&typed);
    assert!(
        found.iter().any(|(_, p)| p.contains("expected a boolean")),
        "{found:?}"
    );
}
