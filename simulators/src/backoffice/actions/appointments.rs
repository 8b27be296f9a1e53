//! `appointments.slots` and `appointments.book`.
//!
//! - An office opens Monday to Friday and has 2 to 4 slots a day (the count derived from its
//!   name), every 90 minutes from 08:00 Dar es Salaam time. Without a `date` (`YYYY-MM-DD`),
//!   the slots of the next 3 working days after today are listed; with one, that day's.
//! - A slot id, `SL-<office>-<YYYYMMDD>-<HHMM>`, carries everything needed to book it.
//! - A booked slot is taken: it is no longer listed, and booking it from another number is
//!   `rejected`. The number that holds it gets its own booking back if it asks again (a second
//!   dialogue after a lost screen), and a repeated `request_id` is answered from the
//!   idempotency memory as for every action.
//! - A booking reference is `BK` and 8 characters (Crockford base 32) from a permuted counter.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Weekday};
use serde_json::{json, Map, Value};

use super::{optional_str, rejected, required_str, rfc3339, ActionResult, Context, Outcome};
use crate::backoffice::ids::{crockford, seed};

const FIRST_SLOT: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(time) => time,
    None => panic!("08:00 is a valid time"),
};
const SLOT_MINUTES: i64 = 90;
const MAX_OFFICE_LEN: usize = 64;
/// Working days listed when no `date` is given.
const DAYS_LISTED: usize = 3;
/// Bookings of slots more than a day past are forgotten once this many are held, so that a
/// simulator under load keeps a bounded memory.
const PRUNE_FROM: usize = 10_000;

/// Booked slots by slot id: who holds each and the answer they were given.
#[derive(Debug, Default)]
pub(crate) struct Bookings {
    taken: Mutex<HashMap<String, Booking>>,
}

#[derive(Debug)]
struct Booking {
    msisdn: String,
    starts_at: DateTime<FixedOffset>,
    answer: Value,
}

pub(super) fn slots(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let office = parse_office(required_str(params, "office")?)?;
    let days: Vec<NaiveDate> = match optional_str(params, "date")? {
        Some(text) => vec![NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| rejected(format!("date {text:?} is not YYYY-MM-DD")))?],
        None => working_days_after(context.today())
            .take(DAYS_LISTED)
            .collect(),
    };
    let per_day = 2 + seed(office) % 3;
    let taken = context
        .records
        .bookings
        .taken
        .lock()
        .expect("bookings lock");
    let slots: Vec<Value> = days
        .iter()
        .filter(|day| is_working_day(**day))
        .flat_map(|day| {
            (0..per_day as i64).map(move |index| {
                let time = FIRST_SLOT + TimeDelta::minutes(index * SLOT_MINUTES);
                let slot_id = format!(
                    "SL-{office}-{}-{}",
                    day.format("%Y%m%d"),
                    time.format("%H%M")
                );
                (slot_id, local_time(*day, time))
            })
        })
        .filter(|(slot_id, _)| !taken.contains_key(slot_id))
        .map(|(slot_id, starts_at)| {
            json!({ "slot_id": slot_id, "starts_at": rfc3339(starts_at), "office": office })
        })
        .collect();
    let dates: Vec<String> = days
        .iter()
        .map(|day| day.format("%Y-%m-%d").to_string())
        .collect();
    Ok(Outcome::Ok(json!({
        "office": office,
        "dates": dates,
        "slots": slots,
    })))
}

pub(super) fn book(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let slot_id = required_str(params, "slot_id")?;
    let name = optional_str(params, "name")?;
    let (office, starts_at) =
        parse_slot_id(slot_id).ok_or_else(|| rejected(format!("unknown slot {slot_id:?}")))?;
    // Checking and taking the slot under one lock: two numbers racing for it get one booking.
    let mut taken = context
        .records
        .bookings
        .taken
        .lock()
        .expect("bookings lock");
    if let Some(booking) = taken.get(slot_id) {
        return if booking.msisdn == context.msisdn {
            Ok(Outcome::Ok(booking.answer.clone()))
        } else {
            Err(rejected(format!(
                "slot {slot_id} was just booked by someone else"
            )))
        };
    }
    let number = context
        .issuer
        .booking_refs
        .next()
        .ok_or_else(|| rejected("booking references exhausted"))?;
    let mut answer = json!({
        "booking_ref": format!("BK{}", crockford(number, 8)),
        "slot_id": slot_id,
        "starts_at": rfc3339(starts_at),
        "office": office,
    });
    if let Some(name) = name {
        answer["name"] = json!(name);
    }
    if taken.len() >= PRUNE_FROM {
        let horizon = context.now - TimeDelta::days(1);
        taken.retain(|_, booking| booking.starts_at > horizon);
    }
    taken.insert(
        slot_id.to_owned(),
        Booking {
            msisdn: context.msisdn.to_owned(),
            starts_at,
            answer: answer.clone(),
        },
    );
    Ok(Outcome::Ok(answer))
}

fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Monday to Friday, from the day after `today`.
fn working_days_after(today: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    (1..)
        .filter_map(move |n| today.checked_add_days(Days::new(n)))
        .filter(|day| is_working_day(*day))
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
#[path = "appointments_tests.rs"]
mod tests;
