//! Screens cut into pages within the telco's limit.

use super::*;
use mgov::menus::Menu;
use serde_json::json;
use std::sync::Arc;

const LIST_MENU: &str = r#"
[service]
id = "orodha"
agency = "demo"
title = { sw = "Orodha", en = "List" }
start = "fetch"
position = 5

[states.fetch]
action = "appointments.slots"
params = { office = "Ilala" }
keep = { slots = "slots" }
on = { ok = "choose", failed = "sorry" }

[states.choose]
text = { sw = "Chagua muda:", en = "Choose a time:" }
list = { items = "slots", label = { sw = "Muda {item.slot_id}", en = "Time {item.slot_id}" }, save_as = "slot", next = "done" }

[states.done]
end = { sw = "Umechagua {slot.slot_id}. {slot.note}", en = "You chose {slot.slot_id}. {slot.note}" }

[states.sorry]
end = { sw = "Samahani", en = "Sorry" }
"#;

fn list_session() -> (MenuSet, Session) {
    session_at_start(LIST_MENU, "orodha.toml")
}

/// The menu `source` loaded alone, and a session at its start state.
fn session_at_start(source: &str, file: &str) -> (MenuSet, Session) {
    let menu = Arc::new(Menu::parse(source, file).unwrap());
    let mut set = MenuSet::new();
    set.insert(menu.clone()).unwrap();
    let mut s = session();
    s.location = Location::Service {
        service: menu.id().clone(),
        version: menu.version().into(),
        state: menu.start().into(),
    };
    s.home = s.location.clone();
    (set, s)
}

#[test]
fn thirty_items_each_appear_once_within_160_characters() {
    let (set, mut s) = list_session();
    let w = Walker::new(&set, 160);
    call(w.enter(&mut s));
    let items: Vec<_> = (1..=30)
        .map(|i| json!({ "slot_id": format!("S{i:02}") }))
        .collect();
    let mut pages = vec![screen(w.resume(&mut s, ok(json!({ "slots": items }))))];
    while pages.last().unwrap().contains("98 Zaidi") {
        pages.push(screen(w.input(&mut s, "98")));
    }
    assert!(pages.len() >= 3, "{pages:#?}");
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.chars().count() <= 160,
            "page {i} is {} chars: {page}",
            page.chars().count()
        );
        assert_eq!(page.contains("0 Rudi"), i > 0, "page {i}: {page}");
        // Every page says what its options are.
        assert!(page.starts_with("Chagua muda:\n"), "page {i}: {page}");
    }
    for i in 1..=30 {
        let line = format!("{i}. Muda S{i:02}");
        assert_eq!(
            pages
                .iter()
                .flat_map(|p| p.lines())
                .filter(|l| *l == line)
                .count(),
            1,
            "{line}"
        );
    }
    // More past the last page is an invalid choice; back walks the pages back to the first.
    assert!(screen(w.input(&mut s, "98")).starts_with("Chaguo si sahihi."));
    for expected in pages.iter().rev().skip(1) {
        assert_eq!(&screen(w.input(&mut s, "0")), expected);
    }
    assert_eq!(s.page, 0);
    // A choice from any page is by its own number.
    w.input(&mut s, "98");
    let text = end(w.input(&mut s, "27"));
    assert_eq!(text, "Umechagua S27. ");
}

#[test]
fn a_long_end_text_is_paged_by_words_and_ends_on_the_last_page() {
    let (set, mut s) = list_session();
    let w = Walker::new(&set, 160);
    call(w.enter(&mut s));
    let note = "Tafadhali fika dakika kumi na tano kabla ya muda wako ukiwa na kitambulisho na nakala ya cheti cha kuzaliwa. ".repeat(3);
    w.resume(
        &mut s,
        ok(json!({ "slots": [{ "slot_id": "S01", "note": note }] })),
    );
    let first = screen(w.input(&mut s, "1"));
    assert!(first.ends_with("\n98 Zaidi"), "{first}");
    let mut all = first.trim_end_matches("98 Zaidi").to_string();
    loop {
        match w.input(&mut s, "98") {
            Step::Screen(page) => {
                assert!(
                    page.chars().count() <= 160 && page.ends_with("98 Zaidi  0 Rudi"),
                    "{page}"
                );
                all.push_str(page.trim_end_matches("98 Zaidi  0 Rudi"));
            }
            Step::End(page) => {
                assert!(
                    page.chars().count() <= 160 && !page.contains("98 Zaidi"),
                    "{page}"
                );
                all.push_str(&page);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(&all), words(&format!("Umechagua S01. {note}")));
}

#[test]
fn the_root_menu_pages_when_screens_are_small() {
    let set = demo_menus();
    let w = Walker::new(&set, 40);
    let mut s = session();
    let first = screen(w.enter(&mut s));
    assert!(
        first.chars().count() <= 40 && first.ends_with("98 Zaidi"),
        "{first}"
    );
    let second = screen(w.input(&mut s, "98"));
    assert!(
        second.chars().count() <= 40 && second.contains("0 Rudi"),
        "{second}"
    );
    // Choosing a service listed on another page still works by its number.
    assert!(screen(w.input(&mut s, "1")).starts_with("Maji"));
}

const REBOOK_MENU: &str = r#"
[service]
id = "rebook"
agency = "demo"
title = { sw = "Miadi", en = "Bookings" }
start = "fetch"
position = 5

[states.fetch]
action = "appointments.slots"
params = { office = "Ilala" }
keep = { slots = "slots" }
on = { ok = "choose", failed = "sorry" }

[states.choose]
text = { sw = "Chagua muda:", en = "Choose a time:" }
list = { items = "slots", label = { sw = "Muda {item.slot_id}", en = "Time {item.slot_id}" }, save_as = "slot", next = "book" }

[states.book]
action = "appointments.book"
params = { slot_id = "{slot.slot_id}" }
on = { ok = "done", rejected = "choose", failed = "sorry" }
notice = { rejected = { sw = "Samahani, muda huo umechukuliwa na mtu mwingine sasa hivi.", en = "Sorry, someone else has just taken that time." } }

[states.done]
end = { sw = "Umechagua {slot.slot_id}.", en = "You chose {slot.slot_id}." }

[states.sorry]
end = { sw = "Samahani", en = "Sorry" }
"#;

/// A notice with no room on a full page re-pages the screen with the notice on top; `98`
/// then follows those pages, so no option is skipped between the first page and the next.
#[test]
fn a_long_notice_on_a_full_page_is_paged_with_the_screen() {
    let (set, mut s) = session_at_start(REBOOK_MENU, "rebook.toml");
    let w = Walker::new(&set, 160);
    let items: Vec<_> = (1..=30)
        .map(|i| json!({ "slot_id": format!("S{i:02}") }))
        .collect();
    call(w.enter(&mut s));
    screen(w.resume(&mut s, ok(json!({ "slots": items }))));
    call(w.input(&mut s, "1"));
    let first = screen(w.resume(&mut s, ActionOutcome::Rejected));
    assert!(
        first.starts_with("Samahani, muda huo umechukuliwa"),
        "{first}"
    );
    assert!(
        s.paged_notice.is_some(),
        "the notice fitted on the page; this test needs one that does not: {first}"
    );
    let mut pages = vec![first];
    while pages.last().unwrap().contains("98 Zaidi") {
        pages.push(screen(w.input(&mut s, "98")));
    }
    for i in 1..=30 {
        let line = format!("{i}. Muda S{i:02}");
        let shown = pages
            .iter()
            .flat_map(|p| p.lines())
            .filter(|l| *l == line)
            .count();
        assert_eq!(shown, 1, "{line} in {pages:#?}");
    }
    // Back a page keeps the notice's paging; a choice clears it.
    let back = screen(w.input(&mut s, "0"));
    assert_eq!(back, pages[pages.len() - 2]);
    assert!(s.paged_notice.is_some());
    call(w.input(&mut s, "2"));
    assert!(s.paged_notice.is_none());
}
