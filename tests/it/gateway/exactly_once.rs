//! The network repeats itself: telcos retry slow hops, deliver callbacks twice, send two
//! copies at once, replay old cumulative text, lose the session, and reuse a session id for
//! another phone. Every step still happens once: one control number per dialogue, the same
//! screen for a repeated hop, and no phone ever sees another's dialogue.

use super::control_number;
use crate::support::gateway::{embedded, msisdn, production, production_with, TestGateway};
use mgov::backoffice::store::{transactions_for_session, TransactionOutcome, TransactionRecord};
use mgov::cli::phone::{Phone, Screen};
use mgov::ids::TelcoId;
use mgov::telcos::WireFormat;
use mgov::ussd::request::session_key;
use mgov_simulators::backoffice::{Latency, Settings};
use reqwest::StatusCode;

/// Dials the root code and walks to the water bill: Maji → check bill → account.
async fn at_the_bill(gw: &TestGateway, format: WireFormat, number: &str) -> Phone {
    let mut phone = gw.phone(format, number);
    phone.dial("*152*00#").await.unwrap();
    phone.press("1").await.unwrap();
    phone.press("1").await.unwrap();
    let bill = phone.press("12345678").await.unwrap();
    assert!(bill.text.contains("1. Pata namba ya malipo"), "{bill:?}");
    phone
}

fn key_of(format: WireFormat, phone: &Phone) -> String {
    session_key(
        &TelcoId::parse(format.as_str()).unwrap(),
        phone.session_id(),
    )
}

async fn log_of(gw: &TestGateway, format: WireFormat, phone: &Phone) -> Vec<TransactionRecord> {
    transactions_for_session(&gw.running.gateway.db, &key_of(format, phone))
        .await
        .unwrap()
}

/// The dialogue's log holds one bill lookup and one control number, both answered `ok`, and
/// the control number is the one the citizen saw.
async fn one_control_number(
    gw: &TestGateway,
    format: WireFormat,
    phone: &Phone,
    number: &str,
    shown: &Screen,
) {
    let log = log_of(gw, format, phone).await;
    let steps: Vec<_> = log.iter().map(|t| (t.action.as_str(), t.outcome)).collect();
    assert_eq!(
        steps,
        [
            ("bills.fetch", TransactionOutcome::Ok),
            ("payments.control_number", TransactionOutcome::Ok)
        ]
    );
    let shown = control_number(shown).unwrap_or_else(|| panic!("no control number: {shown:?}"));
    assert_eq!(log[1].reference.as_deref(), Some(shown.as_str()));
    assert!(log.iter().all(|t| t.msisdn.as_str() == number && !t.late));
}

async fn metric(gw: &TestGateway, line_start: &str) -> f64 {
    let body = gw
        .http
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    body.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The final hop sent three times at once: one runs, the others wait for it and get its
/// screen; one control number is issued.
async fn concurrent_copies_of_the_final_hop(gw: TestGateway, format: WireFormat) {
    let number = msisdn();
    let phone = at_the_bill(&gw, format, &number).await;
    let copies = (0..3).map(|_| {
        let mut copy = phone.clone();
        tokio::spawn(async move { copy.press("1").await.unwrap() })
    });
    let mut screens = Vec::new();
    for copy in copies.collect::<Vec<_>>() {
        screens.push(copy.await.unwrap());
    }
    assert!(screens[0].ends, "{:?}", screens[0]);
    assert!(screens.iter().all(|s| *s == screens[0]), "{screens:?}");
    one_control_number(&gw, format, &phone, &number, &screens[0]).await;
    gw.stop().await;
}

/// The final hop retried after its answer: the same end screen, nothing run again; an older
/// hop of the finished dialogue is told it is over, never replayed from the start.
async fn retries_after_the_answer(gw: TestGateway, format: WireFormat) {
    let number = msisdn();
    let mut phone = at_the_bill(&gw, format, &number).await;
    let done = phone.press("1").await.unwrap();
    for _ in 0..2 {
        assert_eq!(phone.resend().await.unwrap(), done);
    }
    let late = phone.send_hop(2).await.unwrap();
    assert!(
        late.ends && late.text.contains("Kipindi hiki kimekwisha"),
        "{late:?}"
    );
    one_control_number(&gw, format, &phone, &number, &done).await;
    gw.stop().await;
}

/// Mid-dialogue, a duplicate gets the same screen and an older hop the current one; neither
/// is applied (a duplicate `1` on the root menu would otherwise skip a screen).
async fn duplicates_and_late_hops_mid_dialogue(gw: TestGateway, format: WireFormat) {
    let number = msisdn();
    let mut phone = gw.phone(format, &number);
    phone.dial("*152*00#").await.unwrap();
    let maji = phone.press("1").await.unwrap();
    assert_eq!(phone.resend().await.unwrap(), maji);
    let prompt = phone.press("1").await.unwrap();
    assert!(prompt.text.contains("tarakimu 8"), "{prompt:?}");
    let bill = phone.press("12345678").await.unwrap();
    assert_eq!(
        phone.resend().await.unwrap(),
        bill,
        "the same bill, not looked up again"
    );
    for older in [0, 1, 2] {
        assert_eq!(phone.send_hop(older).await.unwrap(), bill, "hop {older}");
    }
    assert_eq!(
        log_of(&gw, format, &phone).await.len(),
        1,
        "one bill lookup"
    );
    let done = phone.press("1").await.unwrap();
    one_control_number(&gw, format, &phone, &number, &done).await;
    gw.stop().await;
}

/// Another phone arrives with this dialogue's session id: it is refused and counted, and the
/// dialogue goes on for its own phone. An end notice naming another number ends nothing.
async fn a_session_id_reused_by_another_phone(gw: TestGateway, format: WireFormat) {
    let number = msisdn();
    let phone = at_the_bill(&gw, format, &number).await;
    let before = metric(&gw, "mgov_ussd_session_conflicts_total{kind=\"hop\"}").await;
    let mut intruder = phone.as_number(&msisdn());
    let refused = intruder.press("1").await.unwrap();
    assert!(
        refused.ends && refused.text.contains("hakiwezi kuendelea"),
        "{refused:?}"
    );
    assert!(!refused.text.contains("TZS"), "{refused:?}");
    let after = metric(&gw, "mgov_ussd_session_conflicts_total{kind=\"hop\"}").await;
    // Process-wide: the same case on other backends and formats may count at the same time.
    assert!(after - before >= 1.0, "counted: {before} -> {after}");

    let (user, secret) = gw.credentials.get(format.as_str()).cloned().unzip();
    let mut notice = gw.http.post(gw.url(&format!("/ussd/{}", format.as_str())));
    if let (Some(user), Some(secret)) = (user, secret) {
        notice = notice.basic_auth(user, Some(secret));
    }
    let notice = match format {
        WireFormat::AfricasTalking => notice.form(&[
            ("sessionId", phone.session_id()),
            ("serviceCode", "*152*00#"),
            ("phoneNumber", "+255754000999"),
            ("networkCode", "63902"),
            ("status", "Incomplete"),
        ]),
        WireFormat::Hubtel => notice.json(&serde_json::json!({
            "Type": "Release", "Mobile": "255754000999", "SessionId": phone.session_id(),
            "ServiceCode": "*152*00#", "Message": "", "Operator": "vodacom", "Sequence": 9,
        })),
        WireFormat::Kannel => unreachable!("Kannel carries no USSD"),
    };
    assert_eq!(notice.send().await.unwrap().status(), StatusCode::OK);

    let mut phone = phone;
    let done = phone.press("1").await.unwrap();
    one_control_number(&gw, format, &phone, &number, &done).await;
    gw.stop().await;
}

/// The session vanishes from the store (Redis flushed or failed over) and Africa's Talking
/// sends its next cumulative text: the dialogue is replayed from the dial, and every step
/// reaches the agency with the id it had, so the log still holds one call per step.
async fn a_lost_session_replays_with_the_same_request_ids(gw: TestGateway) {
    let format = WireFormat::AfricasTalking;
    let number = msisdn();
    let mut phone = at_the_bill(&gw, format, &number).await;
    let lookup = log_of(&gw, format, &phone).await;
    let lost = gw
        .running
        .gateway
        .dialogues
        .sessions
        .remove(&key_of(format, &phone))
        .await
        .unwrap();
    assert!(lost.is_some());
    let done = phone.press("1").await.unwrap();
    assert!(done.ends, "{done:?}");
    one_control_number(&gw, format, &phone, &number, &done).await;
    assert_eq!(log_of(&gw, format, &phone).await[0].id, lookup[0].id);
    gw.stop().await;
}

/// A number may hold `max_dialogues_per_number` live dialogues; one more is refused with a
/// clear screen until one of them ends.
async fn a_number_holds_a_few_dialogues_at_most(gw: TestGateway, format: WireFormat) {
    let number = msisdn();
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut phone = gw.phone(format, &number);
        assert!(!phone.dial("*152*00#").await.unwrap().ends);
        open.push(phone);
    }
    let mut fourth = gw.phone(format, &number);
    let refused = fourth.dial("*152*00#").await.unwrap();
    assert!(
        refused.ends && refused.text.contains("vipindi vingi"),
        "{refused:?}"
    );
    let other = gw.phone(format, &msisdn()).dial("*152*00#").await.unwrap();
    assert!(!other.ends, "another number is not affected: {other:?}");
    // Ending one (a control number already paid ends the dialogue) frees a place.
    let mut first = open.remove(0);
    for key in ["1", "2", "2"] {
        first.press(key).await.unwrap();
    }
    assert!(first.press("996282742831").await.unwrap().ends);
    assert!(!fourth.dial("*152*00#").await.unwrap().ends);
    gw.stop().await;
}

/// The telco gives up on a slow hop (closes the connection) and sends it again: the first
/// copy still runs to its end, and the retry gets its screen; the bill is looked up once.
async fn a_hop_cut_off_by_the_telco_still_finishes(gw: TestGateway) {
    let format = WireFormat::AfricasTalking;
    let number = msisdn();
    let mut phone = gw.phone(format, &number);
    phone.dial("*152*00#").await.unwrap();
    phone.press("1").await.unwrap();
    phone.press("1").await.unwrap();
    let mut first = phone.clone();
    let cut_off = tokio::spawn(async move { first.press("12345678").await });
    let key = key_of(format, &phone);
    let db = gw.running.gateway.db.clone();
    // The lookup has started once its intent is in the log; then the telco hangs up.
    for _ in 0..600 {
        if !transactions_for_session(&db, &key)
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    cut_off.abort();
    assert!(cut_off.await.unwrap_err().is_cancelled());
    let retry = phone.press("12345678").await.unwrap();
    assert!(retry.text.contains("TZS 53,000.00"), "{retry:?}");
    let log = log_of(&gw, format, &phone).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].outcome, TransactionOutcome::Ok);
    gw.stop().await;
}

macro_rules! on_both_pairs {
    ($($case:ident),* $(,)?) => {
        mod on_redis_and_postgres {
            use super::*;
            $(
                mod $case {
                    use super::*;
                    #[tokio::test]
                    async fn africastalking() {
                        super::super::$case(production().await, WireFormat::AfricasTalking).await;
                    }
                    #[tokio::test]
                    async fn hubtel() {
                        super::super::$case(production().await, WireFormat::Hubtel).await;
                    }
                }
            )*
        }
        mod on_the_embedded_default {
            use super::*;
            $(
                mod $case {
                    use super::*;
                    #[tokio::test]
                    async fn africastalking() {
                        super::super::$case(embedded().await, WireFormat::AfricasTalking).await;
                    }
                    #[tokio::test]
                    async fn hubtel() {
                        super::super::$case(embedded().await, WireFormat::Hubtel).await;
                    }
                }
            )*
        }
    };
}

on_both_pairs!(
    concurrent_copies_of_the_final_hop,
    retries_after_the_answer,
    duplicates_and_late_hops_mid_dialogue,
    a_session_id_reused_by_another_phone,
    a_number_holds_a_few_dialogues_at_most,
);

#[tokio::test]
async fn a_hop_cut_off_by_the_telco_still_finishes_on_redis_and_postgres() {
    let slow = Settings {
        latency: Latency::Fixed(std::time::Duration::from_millis(800)),
        ..Default::default()
    };
    a_hop_cut_off_by_the_telco_still_finishes(production_with(slow, |_| {}).await).await;
}

#[tokio::test]
async fn a_lost_session_replays_with_the_same_request_ids_on_redis_and_postgres() {
    a_lost_session_replays_with_the_same_request_ids(production().await).await;
}

#[tokio::test]
async fn a_lost_session_replays_with_the_same_request_ids_on_the_embedded_default() {
    a_lost_session_replays_with_the_same_request_ids(embedded().await).await;
}
