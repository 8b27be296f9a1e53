//! The demo journeys, walked with realistic back-office answers.

use super::*;
use mgov::menus::Menu;
use serde_json::json;
use std::sync::Arc;

fn bill() -> serde_json::Value {
    json!({
        "account": "12345678",
        "customer_name": "Amina Juma",
        "bills": [{
            "bill_id": "BL12345678", "description": "Water bill", "amount": "45000.00", "currency": "TZS",
            "due_date": "2026-11-24", "payment_option": "FULL", "min_amount": "45000.00"
        }]
    })
}

fn control_number() -> serde_json::Value {
    json!({ "control_number": "991234567890", "bill_id": "BL12345678", "amount": "45000.00", "currency": "TZS",
            "expires_at": "2026-11-30T09:30:00+03:00", "status": "ISSUED" })
}

#[test]
fn maji_control_number_in_four_inputs_after_dial() {
    let set = demo_menus();
    let w = Walker::new(&set, 182);
    let mut s = session();
    assert_eq!(
        screen(w.enter(&mut s)),
        "Huduma za Serikali\n1. Maji (DAWASA)\n2. Vyeti (RITA)\n3. Miadi (NIDA)\n4. Kodi ya majengo (Ilala)\n5. Maoni (Kinondoni)\n6. Tahadhari\n9. English"
    );
    assert_eq!(
        screen(w.input(&mut s, "1")),
        "Maji - DAWASA\n1. Angalia bili\n2. Lipa bili\n0 Rudi  00 Mwanzo"
    );
    assert_eq!(s.service.as_ref().unwrap().as_str(), "maji");
    assert_eq!(
        screen(w.input(&mut s, "1")),
        "Ingiza namba ya akaunti (tarakimu 8):\n0 Rudi  00 Mwanzo"
    );

    let (agency, action, params) = call(w.input(&mut s, "12345678"));
    assert_eq!(
        (agency.as_str(), action.as_str()),
        ("dawasa", "bills.fetch")
    );
    assert_eq!(
        params,
        BTreeMap::from([("account".to_string(), "12345678".to_string())])
    );
    assert_eq!(
        screen(w.resume(&mut s, ok(bill()))),
        "Amina Juma\nBili: TZS 45,000.00\nMwisho: 24/11/2026\n1. Pata namba ya malipo\n0 Rudi  00 Mwanzo"
    );

    let (_, action, params) = call(w.input(&mut s, "1"));
    assert_eq!(action, "payments.control_number");
    assert_eq!(params["bill_id"], "BL12345678");
    assert_eq!(params["amount"], "45000.00");
    let text = end(w.resume(&mut s, ok(control_number())));
    assert_eq!(
        text,
        "Namba ya malipo: 991234567890\nKiasi: TZS 45,000.00\nLipa kwa M-Pesa, Tigo Pesa, Airtel Money au benki kabla ya 30/11/2026 09:30."
    );
    assert!(text.chars().count() <= 160);
}

#[test]
fn maji_in_english() {
    let set = demo_menus();
    let w = Walker::new(&set, 160);
    let mut s = session();
    s.language = Language::ENGLISH;
    assert_eq!(
        screen(walk(&w, &mut s, &["1", "1"])),
        "Enter your account number (8 digits):\n0 Back  00 Home"
    );
    call(w.input(&mut s, "12345678"));
    assert!(screen(w.resume(&mut s, ok(bill())))
        .contains("Bill: TZS 45,000.00\nDue: 24/11/2026\n1. Get control number"));
    call(w.input(&mut s, "1"));
    assert!(end(w.resume(&mut s, ok(control_number())))
        .starts_with("Control number: 991234567890\nAmount: TZS 45,000.00"));
}

#[test]
fn maji_outcomes_other_than_ok() {
    let set = demo_menus();
    let w = Walker::new(&set, 182);
    let mut s = session();
    call(walk(&w, &mut s, &["1", "1", "01234567"]));
    // A wrong account asks again, saying why, and Back still leads to the service's menu.
    assert_eq!(
        screen(w.resume(&mut s, ActionOutcome::NotFound)),
        "Hatukupata akaunti 01234567. Hakikisha namba kwenye bili yako.\nIngiza namba ya akaunti (tarakimu 8):\n0 Rudi  00 Mwanzo"
    );
    assert_eq!(call(w.input(&mut s, "12345678")).2["account"], "12345678");
    w.resume(&mut s, ActionOutcome::NotFound);
    assert!(screen(w.input(&mut s, "0")).starts_with("Maji - DAWASA"));
    for outcome in [ActionOutcome::Failed, ActionOutcome::Rejected] {
        let mut s = session();
        call(walk(&w, &mut s, &["1", "1", "12345678"]));
        assert!(
            end(w.resume(&mut s, outcome)).starts_with("Samahani, huduma haipatikani kwa sasa.")
        );
    }
}

#[test]
fn invalid_input_shows_the_retry_text_then_the_prompt_and_stays() {
    let set = demo_menus();
    let w = Walker::new(&set, 182);
    let mut s = session();
    walk(&w, &mut s, &["1", "1"]);
    let before = s.location.clone();
    assert_eq!(
        screen(w.input(&mut s, "1234")),
        "Namba si sahihi. Andika tarakimu 8 za akaunti, mfano 12345678.\nIngiza namba ya akaunti (tarakimu 8):\n0 Rudi  00 Mwanzo"
    );
    assert_eq!(s.location, before);
    assert!(!s.vars.contains_key("account"));
    assert_eq!(call(w.input(&mut s, "87654321")).2["account"], "87654321");
}

#[test]
fn invalid_choice_is_said_above_the_same_screen() {
    let set = demo_menus();
    let w = Walker::new(&set, 182);
    let mut s = session();
    assert_eq!(
        screen(walk(&w, &mut s, &["7"])),
        "Chaguo si sahihi.\nHuduma za Serikali\n1. Maji (DAWASA)\n2. Vyeti (RITA)\n3. Miadi (NIDA)\n4. Kodi ya majengo (Ilala)\n5. Maoni (Kinondoni)\n6. Tahadhari\n9. English"
    );
    assert_eq!(s.location, Location::Root);
    s.language = Language::ENGLISH;
    assert!(screen(walk(&w, &mut s, &["1", "3"]))
        .starts_with("Invalid choice.\nWater - DAWASA\n1. Check bill"));
    assert!(screen(w.input(&mut s, "01")).starts_with("Invalid choice."));
}

#[test]
fn a_choice_is_digits_as_typed() {
    let set = demo_menus();
    let w = Walker::new(&set, 182);
    let mut s = session();
    for typed in ["+1", " 1", "1 ", "01", "-1", "\u{ff11}"] {
        assert!(
            screen(w.input(&mut s, typed)).starts_with("Chaguo si sahihi.\nHuduma za Serikali"),
            "{typed:?}"
        );
        assert_eq!(s.location, Location::Root, "{typed:?}");
    }
    walk(&w, &mut s, &["1"]);
    for typed in ["+1", " 1", "+0", " 00"] {
        assert!(
            screen(w.input(&mut s, typed)).starts_with("Chaguo si sahihi.\nMaji - DAWASA"),
            "{typed:?}"
        );
    }
    // A free-text answer is still read without the spaces around it.
    walk(&w, &mut s, &["1"]);
    assert_eq!(call(w.input(&mut s, " 87654321 ")).2["account"], "87654321");
}

#[test]
fn back_and_home() {
    let set = demo_menus();
    let w = Walker::new(&set, 182);
    let mut s = session();
    call(walk(&w, &mut s, &["1", "1", "12345678"]));
    w.resume(&mut s, ok(bill()));
    // Back skips the action: it returns to the last screen, the account prompt.
    assert!(screen(w.input(&mut s, "0")).starts_with("Ingiza namba ya akaunti"));
    assert!(screen(w.input(&mut s, "0")).starts_with("Maji - DAWASA"));
    assert!(screen(w.input(&mut s, "0")).starts_with("Huduma za Serikali"));
    assert!(screen(w.input(&mut s, "0")).starts_with("Chaguo si sahihi.\nHuduma za Serikali"));

    walk(&w, &mut s, &["1", "1"]);
    assert_eq!(s.history.len(), 2);
    assert!(screen(w.input(&mut s, "00")).starts_with("Huduma za Serikali"));
    assert_eq!((s.location.clone(), s.history.len()), (Location::Root, 0));
    // Entering a service from the root menu starts afresh: one agency's answers are not
    // carried into the next service.
    assert!(!s.vars.contains_key("account"), "{:?}", s.vars);
}

#[test]
fn language_switch_from_the_root_menu() {
    let set = demo_menus();
    let w = Walker::new(&set, 182);
    let mut s = session();
    assert_eq!(
        screen(walk(&w, &mut s, &["9"])),
        "Government services\n1. Water (DAWASA)\n2. Certificates (RITA)\n3. Appointments (NIDA)\n4. Property tax (Ilala)\n5. Consultation (Kinondoni)\n6. Alerts\n9. Kiswahili"
    );
    assert_eq!(s.language, Language::ENGLISH);
    assert!(screen(w.input(&mut s, "2")).starts_with("RITA - Birth and death certificates"));
    let mut s = session();
    assert!(screen(walk(&w, &mut s, &["9", "9"])).starts_with("Huduma za Serikali"));
    assert_eq!(s.language, Language::SWAHILI);
}

#[test]
fn a_service_dialled_by_its_own_code_is_home() {
    let set = demo_menus();
    let w = Walker::new(&set, 182);
    let maji = set
        .current(&"maji".to_string().try_into().unwrap())
        .unwrap();
    let mut s = session();
    s.home = Location::Service {
        service: maji.id().clone(),
        version: maji.version().into(),
        state: maji.start().into(),
    };
    s.location = s.home.clone();
    assert_eq!(
        screen(w.enter(&mut s)),
        "Maji - DAWASA\n1. Angalia bili\n2. Lipa bili"
    );
    assert_eq!(
        screen(w.input(&mut s, "1")),
        "Ingiza namba ya akaunti (tarakimu 8):\n0 Rudi  00 Mwanzo"
    );
    assert!(screen(w.input(&mut s, "00")).starts_with("Maji - DAWASA"));
}

#[test]
fn kesi_shows_the_case_status_with_one_number_format() {
    let set = demo_menus();
    let w = Walker::new(&set, 182);
    let mut s = session();
    let prompt = "Ingiza namba ya ombi (tarakimu 9, iko kwenye risiti):\n0 Rudi  00 Mwanzo";
    assert_eq!(screen(walk(&w, &mut s, &["2", "2"])), prompt);
    assert_eq!(
        screen(w.input(&mut s, "CS123")),
        format!("Namba si sahihi. Namba ya ombi ina tarakimu 9, mfano 250417615.\n{prompt}")
    );
    let (agency, action, params) = call(w.input(&mut s, "250417623"));
    assert_eq!(
        (agency.as_str(), action.as_str(), params["case_id"].as_str()),
        ("rita", "cases.status", "250417623")
    );
    let data = json!({ "case_id": "250417623", "status": "IN_REVIEW", "decision": null,
                       "status_text": "Linashughulikiwa na afisa.", "updated_at": "2026-11-20T10:15:00+03:00" });
    assert_eq!(
        end(w.resume(&mut s, ok(data))),
        "RITA, ombi 250417623:\nLinashughulikiwa na afisa.\nLimesasishwa 20/11/2026 10:15."
    );
}

fn slots(count: usize) -> serde_json::Value {
    let slots: Vec<_> = (0..count)
        .map(|i| {
            let time = format!("{:02}{:02}", 8 + i / 2, (i % 2) * 30);
            json!({ "slot_id": format!("SL-Ilala-20261124-{time}"), "office": "Ilala",
                    "starts_at": format!("2026-11-24T{}:{}:00+03:00", &time[..2], &time[2..]) })
        })
        .collect();
    json!({ "office": "Ilala", "date": "2026-11-24", "slots": slots })
}

#[test]
fn miadi_books_a_slot_from_a_paginated_list() {
    let set = demo_menus();
    let w = Walker::new(&set, 160);
    let mut s = session();
    assert!(screen(walk(&w, &mut s, &["3"]))
        .starts_with("Miadi NIDA. Chagua ofisi:\n1. Ilala\n2. Kinondoni"));
    let (agency, action, params) = call(w.input(&mut s, "1"));
    assert_eq!(
        (agency.as_str(), action.as_str(), params["office"].as_str()),
        ("nida", "appointments.slots", "Ilala")
    );
    let first = screen(w.resume(&mut s, ok(slots(12))));
    assert!(
        first.starts_with(
            "Ofisi ya Ilala. Chagua muda:\n1. Jumanne 24/11 08:00\n2. Jumanne 24/11 08:30"
        ),
        "{first}"
    );
    assert!(first.ends_with("98 Zaidi  0 Rudi  00 Mwanzo"), "{first}");
    let mut pages = vec![first];
    while pages.last().unwrap().contains("98 Zaidi") {
        pages.push(screen(w.input(&mut s, "98")));
    }
    assert!(
        pages.last().unwrap().contains("12. Jumanne 24/11 13:30"),
        "{pages:#?}"
    );
    assert!(
        pages
            .iter()
            .all(|p| p.starts_with("Ofisi ya Ilala. Chagua muda:\n")),
        "every page says what the times are for: {pages:#?}"
    );
    assert!(pages.iter().all(|p| p.chars().count() <= 160));
    let (_, action, params) = call(w.input(&mut s, "12"));
    assert_eq!(
        (action.as_str(), params["slot_id"].as_str()),
        ("appointments.book", "SL-Ilala-20261124-1330")
    );
    let data = json!({ "booking_ref": "BK7Q2M4XKD", "slot_id": "SL-Ilala-20261124-1330", "starts_at": "2026-11-24T13:30:00+03:00", "office": "Ilala" });
    assert_eq!(
        end(w.resume(&mut s, ok(data))),
        "Miadi imethibitishwa: Jumanne 24/11 13:30, NIDA Ilala.\nNamba ya miadi: BK7Q2M4XKD\nBeba cheti cha kuzaliwa na barua ya utambulisho ya Serikali ya Mtaa."
    );
}

#[test]
fn an_invalid_choice_on_a_full_page_keeps_its_options_and_keys() {
    let set = demo_menus();
    // Room for the five times on one page, not for the notice above them as well.
    let w = Walker::new(&set, 170);
    let mut s = session();
    call(walk(&w, &mut s, &["3", "1"]));
    let list = screen(w.resume(&mut s, ok(slots(5))));
    assert!(
        list.starts_with("Ofisi ya Ilala. Chagua muda:\n1. Jumanne 24/11 08:00")
            && !list.contains("98"),
        "{list}"
    );
    let again = screen(w.input(&mut s, "98"));
    assert_eq!(
        again,
        list.replace("Ofisi ya Ilala. Chagua muda:", "Chaguo si sahihi."),
        "the notice takes the heading's place; no page 2 is promised that 98 cannot show"
    );
    assert!(again.contains("5. Jumanne 24/11 10:00"), "{again}");
}

#[test]
fn miadi_with_no_free_slots_goes_to_its_empty_state() {
    let set = demo_menus();
    let w = Walker::new(&set, 160);
    let mut s = session();
    call(walk(&w, &mut s, &["3", "2"]));
    assert_eq!(
        end(w.resume(&mut s, ok(slots(0)))),
        "Hakuna nafasi katika ofisi ya Kinondoni kwa sasa. Tafadhali jaribu tena kesho."
    );
}

#[test]
fn a_session_keeps_its_menu_version_across_a_reload() {
    let mut set = demo_menus();
    let mut s = session();
    walk(&Walker::new(&set, 182), &mut s, &["1", "1"]);
    let source = std::fs::read_to_string(menus_dir().join("maji.toml")).unwrap();
    let newer = Menu::parse(
        &source.replace("Maji - DAWASA", "Maji safi - DAWASA"),
        "menus/maji.toml",
    )
    .unwrap();
    let mut fresh = MenuSet::new();
    fresh.insert(Arc::new(newer)).unwrap();
    set.reload(fresh);

    let w = Walker::new(&set, 182);
    assert!(
        screen(w.input(&mut s, "0")).starts_with("Maji - DAWASA"),
        "the old version still walks"
    );
    let mut new_session = session();
    assert!(screen(walk(&w, &mut new_session, &["1"])).starts_with("Maji safi - DAWASA"));

    let mut lost = session();
    lost.location = Location::Service {
        service: "maji".to_string().try_into().unwrap(),
        version: "000000000000".into(),
        state: "home".into(),
    };
    assert_eq!(
        end(w.enter(&mut lost)),
        "Huduma hii haipatikani kwa sasa. Tafadhali piga tena."
    );
}
