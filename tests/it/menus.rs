//! Menus: the demo files under `menus/` walked purely, every load-time check, and each
//! demo service walked through the gateway.

mod agencies;
mod checks;
mod journeys;
mod notices;
mod one_run;
mod paging;
mod services;

use mgov::ids::TelcoId;
use mgov::language::Language;
use mgov::menus::{ActionOutcome, MenuSet, Step, Walker};
use mgov::msisdn::Msisdn;
use mgov::sessions::{Location, Session};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The repository's `menus/` directory.
pub fn menus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("menus")
}

pub fn demo_menus() -> MenuSet {
    MenuSet::load_dir(menus_dir()).unwrap_or_else(|errors| {
        panic!(
            "demo menus must load: {}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// A fresh dialogue of `*152*00#`, standing at the root menu, in Swahili.
pub fn session() -> Session {
    Session {
        key: "sim:1".into(),
        telco: TelcoId::parse("sim").unwrap(),
        msisdn: Msisdn::parse("255754123456", "255").unwrap(),
        service_code: "*152*00#".into(),
        network: None,
        language: Language::SWAHILI,
        location: Location::Root,
        home: Location::Root,
        page: 0,
        paged_notice: None,
        history: vec![],
        vars: BTreeMap::new(),
        consumed: String::new(),
        steps: 0,
        last: None,
        hops: 0,
        service: None,
        reached: Vec::new(),
        started_at_ms: 0,
        last_seen_ms: 0,
    }
}

pub fn screen(step: Step) -> String {
    match step {
        Step::Screen(text) => text,
        other => panic!("expected a screen, got {other:?}"),
    }
}

pub fn end(step: Step) -> String {
    match step {
        Step::End(text) => text,
        other => panic!("expected an end screen, got {other:?}"),
    }
}

/// The action and params of a call step.
pub fn call(step: Step) -> (String, String, BTreeMap<String, String>) {
    match step {
        Step::Call {
            agency,
            action,
            params,
        } => (agency.to_string(), action, params),
        other => panic!("expected a back-office call, got {other:?}"),
    }
}

/// Feeds inputs one by one, answering nothing: for walks that need no back office.
pub fn walk(w: &Walker, s: &mut Session, inputs: &[&str]) -> Step {
    let mut step = w.enter(s);
    for input in inputs {
        step = w.input(s, input);
    }
    step
}

pub fn ok(data: serde_json::Value) -> ActionOutcome {
    ActionOutcome::Ok(data)
}
