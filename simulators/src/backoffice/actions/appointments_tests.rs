use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::super::test_support::{fixed_now, ok_data};
use super::super::{perform, Action, Context, Issuer, Outcome, Records};

/// One back office (its sequences and bookings) at a given time, asked by several numbers.
struct Office {
    issuer: Issuer,
    records: Records,
    now: DateTime<Utc>,
}

impl Office {
    fn new() -> Self {
        Office {
            issuer: Issuer::default(),
            records: Records::default(),
            now: fixed_now(),
        }
    }

    fn ask(&self, msisdn: &str, action: Action, params: Value) -> Outcome {
        let context = Context {
            language: "en",
            msisdn,
            now: self.now,
            issuer: &self.issuer,
            records: &self.records,
        };
        perform(action, params.as_object().expect("params object"), &context)
    }

    fn slots(&self, params: Value) -> Value {
        ok_data(self.ask("255754000001", Action::AppointmentsSlots, params))
    }

    fn slot_ids(&self, office: &str) -> Vec<String> {
        self.slots(json!({ "office": office }))["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|slot| slot["slot_id"].as_str().unwrap().to_owned())
            .collect()
    }

    fn book(&self, msisdn: &str, slot_id: &str) -> Outcome {
        self.ask(
            msisdn,
            Action::AppointmentsBook,
            json!({ "slot_id": slot_id }),
        )
    }
}

#[test]
fn offices_get_2_to_4_slots_a_day_over_the_next_3_working_days() {
    let office = Office::new();
    let mut per_day = HashSet::new();
    for name in (0..100).map(|n| format!("Office {n}")) {
        let data = office.slots(json!({ "office": name }));
        assert_eq!(
            data,
            office.slots(json!({ "office": name })),
            "deterministic"
        );
        // fixed_now is Monday 2 June 2025.
        assert_eq!(
            data["dates"],
            json!(["2025-06-03", "2025-06-04", "2025-06-05"])
        );
        let slots = data["slots"].as_array().unwrap();
        assert_eq!(slots.len() % 3, 0, "{name}: the same count every day");
        let count = slots.len() / 3;
        assert!((2..=4).contains(&count), "{name}: {count}");
        per_day.insert(count);
    }
    assert_eq!(per_day.len(), 3, "every count from 2 to 4 shows up");
}

#[test]
fn slots_skip_weekends_and_honour_a_given_date() {
    let mut office = Office::new();
    let data = office.slots(json!({ "office": "Kinondoni" }));
    let first = &data["slots"][0];
    assert_eq!(first["slot_id"], "SL-Kinondoni-20250603-0800");
    assert_eq!(first["starts_at"], "2025-06-03T08:00:00+03:00");
    assert_eq!(first["office"], "Kinondoni");
    assert_eq!(data["slots"][1]["starts_at"], "2025-06-03T09:30:00+03:00");

    // From Thursday 5 June: Friday, then Monday and Tuesday.
    office.now = DateTime::parse_from_rfc3339("2025-06-05T07:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(
        office.slots(json!({ "office": "Ilala" }))["dates"],
        json!(["2025-06-06", "2025-06-09", "2025-06-10"])
    );
    let saturday = office.slots(json!({ "office": "Ilala", "date": "2025-06-07" }));
    assert_eq!(saturday["slots"], json!([]), "closed on Saturdays");

    let dated = office.slots(json!({ "office": "Ilala", "date": "2025-07-01" }));
    assert_eq!(dated["dates"], json!(["2025-07-01"]));
    assert_eq!(dated["slots"][0]["slot_id"], "SL-Ilala-20250701-0800");
    for params in [
        json!({ "office": "Ilala", "date": "01/07/2025" }),
        json!({}),
    ] {
        let outcome = office.ask("255754000001", Action::AppointmentsSlots, params.clone());
        assert!(matches!(outcome, Outcome::Rejected(_)), "{params}");
    }
}

#[test]
fn a_booked_slot_is_taken_from_everyone_else() {
    let office = Office::new();
    let listed = office.slot_ids("Ilala");
    let wanted = &listed[1];

    let first = ok_data(office.book("255754000001", wanted));
    let Outcome::Rejected(message) = office.book("255754000002", wanted) else {
        panic!("a second number must not book a taken slot");
    };
    assert!(message.contains("just booked"), "{message}");
    assert!(
        !office.slot_ids("Ilala").contains(wanted),
        "no longer offered"
    );
    assert_eq!(office.slot_ids("Ilala").len(), listed.len() - 1);
    // The holder asking again (a new dialogue after a lost screen) gets the same booking.
    assert_eq!(ok_data(office.book("255754000001", wanted)), first);
    // Other offices and other slots are untouched.
    assert!(ok_data(office.book("255754000002", &listed[0]))["booking_ref"].is_string());
}

#[test]
fn listed_slots_can_be_booked_with_unique_references() {
    let office = Office::new();
    let listed = office.slots(json!({ "office": "Temeke-Mbagala" }));
    let mut refs = HashSet::new();
    for slot in listed["slots"].as_array().unwrap() {
        let params = json!({ "slot_id": slot["slot_id"], "name": "Amina Juma" });
        let booked = ok_data(office.ask("255754000001", Action::AppointmentsBook, params));
        assert_eq!(booked["starts_at"], slot["starts_at"]);
        assert_eq!(booked["office"], "Temeke-Mbagala");
        assert_eq!(booked["name"], "Amina Juma");
        let booking_ref = booked["booking_ref"].as_str().unwrap().to_owned();
        assert!(booking_ref.starts_with("BK") && booking_ref.len() == 10);
        assert!(refs.insert(booking_ref));
    }
    assert_eq!(office.slot_ids("Temeke-Mbagala"), Vec::<String>::new());
}

#[test]
fn unknown_slot_formats_are_rejected() {
    let office = Office::new();
    for slot_id in [
        "slot-1",
        "SL-",
        "SL--20250603-0800",
        "SL-Ilala-20250631-0800",
        "SL-Ilala-20250603-2500",
        "SL-Ilala-2025063-0800",
    ] {
        let outcome = office.book("255754000001", slot_id);
        assert!(matches!(outcome, Outcome::Rejected(_)), "{slot_id}");
    }
}
