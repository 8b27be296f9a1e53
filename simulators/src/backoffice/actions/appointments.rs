//! `appointments.slots` and `appointments.book`.
//!
//! - An office has 3 to 12 slots a day (the count derived from its name), every 30 minutes
//!   from 08:00 Dar es Salaam time, on the requested `date` (`YYYY-MM-DD`) or else tomorrow.
//! - A slot id, `SL-<office>-<YYYYMMDD>-<HHMM>`, carries everything needed to book it, so
//!   booking needs no memory of listed slots and survives a restart. Slots never fill up,
//!   so a load test may book the same slot again and again.
//! - A booking reference is `BK` and 8 characters (Crockford base 32) from a permuted counter.

use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, TimeDelta};
use serde_json::{json, Map, Value};

use super::{optional_str, rejected, required_str, rfc3339, ActionResult, Context, Outcome};
use crate::backoffice::ids::{crockford, seed};

const FIRST_SLOT: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(time) => time,
    None => panic!("08:00 is a valid time"),
};
const SLOT_MINUTES: i64 = 30;
const MAX_OFFICE_LEN: usize = 64;

pub(super) fn slots(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let office = parse_office(required_str(params, "office")?)?;
    let date = match optional_str(params, "date")? {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| rejected(format!("date {text:?} is not YYYY-MM-DD")))?,
        None => context.today() + Days::new(1),
    };
    let count = 3 + seed(office) % 10;
    let slots: Vec<Value> = (0..count as i64)
        .map(|index| {
            let time = FIRST_SLOT + TimeDelta::minutes(index * SLOT_MINUTES);
            json!({
                "slot_id": format!("SL-{office}-{}-{}", date.format("%Y%m%d"), time.format("%H%M")),
                "starts_at": rfc3339(local_time(date, time)),
                "office": office,
            })
        })
        .collect();
    Ok(Outcome::Ok(json!({
        "office": office,
        "date": date.format("%Y-%m-%d").to_string(),
        "slots": slots,
    })))
}

pub(super) fn book(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let slot_id = required_str(params, "slot_id")?;
    let name = optional_str(params, "name")?;
    let (office, starts_at) =
        parse_slot_id(slot_id).ok_or_else(|| rejected(format!("unknown slot {slot_id:?}")))?;
    let number = context
        .issuer
        .booking_refs
        .next()
        .ok_or_else(|| rejected("booking references exhausted"))?;
    let mut data = json!({
        "booking_ref": format!("BK{}", crockford(number, 8)),
        "slot_id": slot_id,
        "starts_at": rfc3339(starts_at),
        "office": office,
    });
    if let Some(name) = name {
        data["name"] = json!(name);
    }
    Ok(Outcome::Ok(data))
}

/// Office names end up inside slot ids, so keep them printable and short.
fn parse_office(office: &str) -> Result<&str, Outcome> {
    if office.len() > MAX_OFFICE_LEN || office.chars().any(char::is_control) {
        return Err(rejected(format!(
            "office must be at most {MAX_OFFICE_LEN} printable characters"
        )));
    }
    Ok(office)
}

/// `SL-<office>-<YYYYMMDD>-<HHMM>`; the office may itself contain `-`, so split from the right.
fn parse_slot_id(slot_id: &str) -> Option<(&str, DateTime<FixedOffset>)> {
    let mut parts = slot_id.strip_prefix("SL-")?.rsplitn(3, '-');
    let (time, date, office) = (parts.next()?, parts.next()?, parts.next()?);
    if office.is_empty() || date.len() != 8 || time.len() != 4 {
        return None;
    }
    let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
    let time = NaiveTime::parse_from_str(time, "%H%M").ok()?;
    Some((parse_office(office).ok()?, local_time(date, time)))
}

fn local_time(date: NaiveDate, time: NaiveTime) -> DateTime<FixedOffset> {
    date.and_time(time)
        .and_local_timezone(Context::local_offset())
        .single()
        .expect("a fixed offset has no gaps")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::{json, Value};

    use super::super::test_support::{fixed_now, ok_data, run};
    use super::super::{perform, Action, Context, Issuer, Outcome};

    fn slots(params: Value) -> Outcome {
        run(Action::AppointmentsSlots, params, "en")
    }

    #[test]
    fn offices_get_3_to_12_slots_deterministically() {
        let mut counts = HashSet::new();
        for office in (0..200).map(|n| format!("Office {n}")) {
            let data = ok_data(slots(json!({ "office": office })));
            assert_eq!(data, ok_data(slots(json!({ "office": office }))));
            let count = data["slots"].as_array().unwrap().len();
            assert!((3..=12).contains(&count), "{office}: {count}");
            counts.insert(count);
        }
        assert_eq!(counts.len(), 10, "every count from 3 to 12 shows up");
    }

    #[test]
    fn slots_default_to_tomorrow_and_honour_a_given_date() {
        let data = ok_data(slots(json!({ "office": "Kinondoni" })));
        assert_eq!(data["date"], "2025-06-03");
        let first = &data["slots"][0];
        assert_eq!(first["slot_id"], "SL-Kinondoni-20250603-0800");
        assert_eq!(first["starts_at"], "2025-06-03T08:00:00+03:00");
        assert_eq!(first["office"], "Kinondoni");
        assert_eq!(data["slots"][1]["starts_at"], "2025-06-03T08:30:00+03:00");

        let dated = ok_data(slots(json!({ "office": "Ilala", "date": "2025-07-01" })));
        assert_eq!(dated["slots"][0]["slot_id"], "SL-Ilala-20250701-0800");
        assert!(matches!(
            slots(json!({ "office": "Ilala", "date": "01/07/2025" })),
            Outcome::Rejected(_)
        ));
        assert!(matches!(slots(json!({})), Outcome::Rejected(_)));
    }

    #[test]
    fn listed_slots_can_be_booked_with_unique_references() {
        let issuer = Issuer::default();
        let context = Context {
            language: "en",
            now: fixed_now(),
            issuer: &issuer,
        };
        let listed = ok_data(slots(json!({ "office": "Temeke-Mbagala" })));
        let mut refs = HashSet::new();
        for slot in listed["slots"].as_array().unwrap() {
            let params = json!({ "slot_id": slot["slot_id"], "name": "Amina Juma" });
            let booked = ok_data(perform(
                Action::AppointmentsBook,
                params.as_object().unwrap(),
                &context,
            ));
            assert_eq!(booked["starts_at"], slot["starts_at"]);
            assert_eq!(booked["office"], "Temeke-Mbagala");
            assert_eq!(booked["name"], "Amina Juma");
            let booking_ref = booked["booking_ref"].as_str().unwrap().to_owned();
            assert!(booking_ref.starts_with("BK") && booking_ref.len() == 10);
            assert!(refs.insert(booking_ref));
        }
    }

    #[test]
    fn unknown_slot_formats_are_rejected() {
        for slot_id in [
            "slot-1",
            "SL-",
            "SL--20250603-0800",
            "SL-Ilala-20250631-0800",
            "SL-Ilala-20250603-2500",
            "SL-Ilala-2025063-0800",
        ] {
            let outcome = run(
                Action::AppointmentsBook,
                json!({ "slot_id": slot_id }),
                "en",
            );
            assert!(matches!(outcome, Outcome::Rejected(_)), "{slot_id}");
        }
    }
}
