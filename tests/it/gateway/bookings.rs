//! Services where what one number takes, others cannot: an appointment slot at a NIDA office
//! and an answer to Kinondoni's consultation, through both wire formats on the embedded
//! default, with the back-office simulator mounted in-process.

use crate::support::gateway::{embedded, msisdn, TestGateway};
use mgov::backoffice::store::{transactions_for_session, TransactionOutcome};
use mgov::cli::phone::{Phone, Screen};
use mgov::ids::TelcoId;
use mgov::telcos::WireFormat;
use mgov::ussd::request::session_key;
use serde_json::Value;

const SWAHILI_WEEKDAYS: [&str; 7] = [
    "Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi", "Jumapili",
];

/// The back-office calls of `phone`'s current dialogue: (action, outcome, reference).
async fn calls_of(
    gw: &TestGateway,
    format: WireFormat,
    phone: &Phone,
) -> Vec<(String, TransactionOutcome, Option<String>)> {
    let key = session_key(
        &TelcoId::parse(format.as_str()).unwrap(),
        phone.session_id(),
    );
    transactions_for_session(&gw.running.gateway.db, &key)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.action, t.outcome, t.reference))
        .collect()
}

/// The slot labels of a slot list, every page of it (pressing `98`), each page checked for
/// its heading; the phone is left on the last page, where any number can still be chosen.
async fn every_time_listed(phone: &mut Phone, first: Screen, heading: &str) -> Vec<String> {
    let mut page = first;
    let mut times = Vec::new();
    loop {
        assert!(
            !page.ends && page.text.starts_with(heading),
            "every page keeps its heading: {page:?}"
        );
        times.extend(
            page.text
                .lines()
                .filter_map(|line| line.split_once(". "))
                .filter(|(n, _)| n.parse::<u32>().is_ok())
                .map(|(_, time)| time.to_owned()),
        );
        if !page.text.contains("98 Zaidi") {
            return times;
        }
        page = phone.press("98").await.unwrap();
    }
}

/// Two numbers see the same first time at Ilala; the second books it first, so the first is
/// told the time was just taken, gets a fresh list without it, and books another.
async fn a_slot_taken_in_between(format: WireFormat) {
    let gw = embedded().await;
    let heading = "Ofisi ya Ilala. Chagua muda:";
    let mut first = gw.phone(format, &msisdn());
    let root = first.dial("*152*00#").await.unwrap();
    assert!(root.text.contains("3. Miadi (NIDA)"), "{root:?}");
    let offices = first.press("3").await.unwrap();
    assert!(
        offices.text.starts_with("Miadi NIDA. Chagua ofisi:"),
        "{offices:?}"
    );
    let list = first.press("1").await.unwrap();
    let listed = every_time_listed(&mut first, list, heading).await;
    assert!(listed.len() >= 6, "{listed:?}");
    for time in &listed {
        let weekday = time.split(' ').next().unwrap();
        assert!(SWAHILI_WEEKDAYS.contains(&weekday), "{time}");
    }
    let days: std::collections::BTreeSet<_> = listed.iter().map(|t| &t[..t.len() - 6]).collect();
    assert!(days.len() >= 3, "slots across several days: {listed:?}");

    let mut second = gw.phone(format, &msisdn());
    second.dial("*152*00*3*1#").await.unwrap();
    let booked = second.press("1").await.unwrap();
    assert!(
        booked.ends
            && booked
                .text
                .contains(&format!("imethibitishwa: {}, NIDA Ilala", listed[0])),
        "{booked:?}"
    );

    let taken = first.press("1").await.unwrap();
    assert!(
        !taken.ends && taken.text.contains("muda huo umechukuliwa sasa hivi"),
        "{taken:?}"
    );
    assert!(taken.text.contains("1. Chagua muda mwingine"), "{taken:?}");
    let fresh = first.press("1").await.unwrap();
    let offered = every_time_listed(&mut first, fresh, heading).await;
    assert_eq!(offered, listed[1..], "the taken time is offered no more");

    let mine = first.press("1").await.unwrap();
    assert!(
        mine.ends
            && mine
                .text
                .contains(&format!("imethibitishwa: {}, NIDA Ilala", listed[1])),
        "{mine:?}"
    );
    assert!(mine.text.contains("Beba cheti cha kuzaliwa"), "{mine:?}");
    // The telco delivers the last hop again: the same booking, not a second one.
    assert_eq!(first.resend().await.unwrap(), mine);

    let booking_ref = regex::Regex::new(r"BK[0-9A-Z]{8}")
        .unwrap()
        .find(&mine.text)
        .expect("a booking number")
        .as_str()
        .to_owned();
    let calls = calls_of(&gw, format, &first).await;
    let summary: Vec<_> = calls.iter().map(|(a, o, _)| (a.as_str(), *o)).collect();
    assert_eq!(
        summary,
        [
            ("appointments.slots", TransactionOutcome::Ok),
            ("appointments.book", TransactionOutcome::Rejected),
            ("appointments.slots", TransactionOutcome::Ok),
            ("appointments.book", TransactionOutcome::Ok),
        ]
    );
    assert_eq!(calls[3].2.as_deref(), Some(booking_ref.as_str()));
    gw.stop().await;
}

#[tokio::test]
async fn a_slot_taken_in_between_africastalking() {
    a_slot_taken_in_between(WireFormat::AfricasTalking).await;
}

#[tokio::test]
async fn a_slot_taken_in_between_hubtel() {
    a_slot_taken_in_between(WireFormat::Hubtel).await;
}

async fn tally(gw: &TestGateway) -> Value {
    let url = gw.url("/simulators/backoffice/polls/kinondoni-taka-2026/results");
    let response = gw.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.json().await.unwrap()
}

/// Answers the poll in a new dialogue, up to the last question.
async fn at_the_last_question(phone: &mut Phone, service: &str) {
    let root = phone.dial("*152*00#").await.unwrap();
    assert!(root.text.contains("5. Maoni (Kinondoni)"), "{root:?}");
    let first = phone.press("5").await.unwrap();
    assert!(
        first
            .text
            .starts_with("Manispaa ya Kinondoni: maoni kuhusu taka."),
        "{first:?}"
    );
    let last = phone.press(service).await.unwrap();
    assert!(last.text.starts_with("2/2 Taka zizolewe"), "{last:?}");
}

/// One answer per number: a retry, a second dialogue and a race between two dialogues of the
/// same number count it once, and the number is shown what it answered.
async fn one_answer_per_number(format: WireFormat) {
    let gw = embedded().await;
    let number = msisdn();
    let mut phone = gw.phone(format, &number);
    at_the_last_question(&mut phone, "2").await;
    // Meanwhile the same number answers in another dialogue too, and loses the race.
    let mut racer = gw.phone(format, &number);
    at_the_last_question(&mut racer, "4").await;

    let thanks = phone.press("3").await.unwrap();
    assert!(
        thanks.ends
            && thanks
                .text
                .contains("Asante! Manispaa ya Kinondoni imepokea maoni yako"),
        "{thanks:?}"
    );
    assert!(thanks.text.contains("MN000001"), "{thanks:?}");
    assert_eq!(phone.resend().await.unwrap(), thanks, "a telco retry");
    let calls = calls_of(&gw, format, &phone).await;
    assert_eq!(
        calls,
        [
            ("polls.my_answer".into(), TransactionOutcome::NotFound, None),
            (
                "polls.answer".into(),
                TransactionOutcome::Ok,
                Some("MN000001".into())
            ),
        ]
    );

    let earlier = "Huduma ya taka: Ya wastani\nZizolewe: Kila siku";
    let lost = racer.press("1").await.unwrap();
    assert!(
        lost.ends && lost.text.starts_with("Ulishatoa maoni yako tarehe"),
        "{lost:?}"
    );
    assert!(lost.text.contains(earlier), "the counted answer: {lost:?}");
    let mut again = gw.phone(format, &number);
    again.dial("*152*00#").await.unwrap();
    let told = again.press("5").await.unwrap();
    assert_eq!(told.text, lost.text, "{told:?}");

    let mut neighbour = gw.phone(format, &msisdn());
    at_the_last_question(&mut neighbour, "1").await;
    let thanks = neighbour.press("1").await.unwrap();
    assert!(thanks.text.contains("MN000002"), "{thanks:?}");

    let tally = tally(&gw).await;
    assert_eq!(tally["respondents"], 2, "{tally}");
    let counts = |q: usize| -> Vec<u64> {
        let choices = tally["questions"][q]["choices"].as_array().unwrap();
        choices
            .iter()
            .map(|c| c["count"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(counts(0), [1, 1, 0, 0], "good, fair, poor, none: {tally}");
    assert_eq!(counts(1), [1, 0, 1], "weekly, twice, daily: {tally}");
    gw.stop().await;
}

#[tokio::test]
async fn one_answer_per_number_africastalking() {
    one_answer_per_number(WireFormat::AfricasTalking).await;
}

#[tokio::test]
async fn one_answer_per_number_hubtel() {
    one_answer_per_number(WireFormat::Hubtel).await;
}
