//! The demo journeys end to end, as a citizen walks them.

use super::control_number;
use crate::support::gateway::{embedded, msisdn, production, TestGateway};
use mgov::backoffice::store::{transactions_for_session, TransactionOutcome};
use mgov::telcos::WireFormat;
use mgov::ussd::request::session_key;
use mgov::ussd::store::{recent_session_records, EndReason};
use std::str::FromStr;

/// dial *152*00# → 1 (Maji) → 1 (check bill) → account → 1 (payment number) → control number.
async fn water_bill_and_control_number(gw: TestGateway, format: WireFormat) {
    let number = msisdn();
    let mut phone = gw.phone(format, &number);
    let root = phone.dial("*152*00#").await.unwrap();
    assert!(!root.ends && root.text.contains("1. Maji"), "{root:?}");
    let maji = phone.press("1").await.unwrap();
    assert!(maji.text.contains("1. Angalia bili"), "{maji:?}");
    let prompt = phone.press("1").await.unwrap();
    assert!(prompt.text.contains("tarakimu 8"), "{prompt:?}");
    let bill = phone.press("12345678").await.unwrap();
    assert!(
        !bill.ends && bill.text.contains("TZS 53,000.00"),
        "{bill:?}"
    );
    assert!(bill.text.contains("1. Pata namba ya malipo"), "{bill:?}");
    let done = phone.press("1").await.unwrap();
    assert!(done.ends, "{done:?}");
    let issued = control_number(&done).unwrap_or_else(|| panic!("no control number on {done:?}"));

    // Both back-office calls are in the transaction log, the second with the number shown.
    let db = &gw.running.gateway.db;
    let key = session_key(
        &mgov::ids::TelcoId::parse(format.as_str()).unwrap(),
        phone.session_id(),
    );
    let log = transactions_for_session(db, &key).await.unwrap();
    let actions: Vec<_> = log.iter().map(|t| (t.action.as_str(), t.outcome)).collect();
    assert_eq!(
        actions,
        [
            ("bills.fetch", TransactionOutcome::Ok),
            ("payments.control_number", TransactionOutcome::Ok)
        ]
    );
    assert_eq!(log[1].reference.as_deref(), Some(issued.as_str()));
    assert_eq!(
        log[1].amount,
        Some(rust_decimal::Decimal::from_str("53000.00").unwrap())
    );
    assert_eq!(log[1].msisdn.as_str(), number);

    // The dialogue's outcome is recorded with a masked number, and no session is left behind.
    let records = recent_session_records(db, 10).await.unwrap();
    let record = records
        .iter()
        .find(|r| r.session_key == key)
        .expect("a session record");
    assert_eq!(record.end_reason, EndReason::Completed);
    assert_eq!(record.hops, 5);
    assert_eq!(record.service.as_ref().map(|s| s.as_str()), Some("maji"));
    assert!(record.msisdn_masked.contains("****") && !record.msisdn_masked.contains(&number[4..]));
    assert_eq!(
        gw.running.gateway.dialogues.sessions.count().await.unwrap(),
        0
    );
    gw.stop().await;
}

#[tokio::test]
async fn water_bill_africastalking_on_redis_and_postgres() {
    water_bill_and_control_number(production().await, WireFormat::AfricasTalking).await;
}

#[tokio::test]
async fn water_bill_hubtel_on_redis_and_postgres() {
    water_bill_and_control_number(production().await, WireFormat::Hubtel).await;
}

#[tokio::test]
async fn water_bill_africastalking_on_the_embedded_default() {
    water_bill_and_control_number(embedded().await, WireFormat::AfricasTalking).await;
}

#[tokio::test]
async fn water_bill_hubtel_on_the_embedded_default() {
    water_bill_and_control_number(embedded().await, WireFormat::Hubtel).await;
}

#[tokio::test]
async fn a_direct_dial_string_lands_where_pressing_the_keys_would() {
    let gw = production().await;
    for format in [WireFormat::AfricasTalking, WireFormat::Hubtel] {
        let mut by_keys = gw.phone(format, &msisdn());
        by_keys.dial("*152*00#").await.unwrap();
        by_keys.press("1").await.unwrap();
        let pressed = by_keys.press("1").await.unwrap();
        let mut direct = gw.phone(format, &msisdn());
        let shortcut = direct.dial("*152*00*1*1#").await.unwrap();
        assert_eq!(shortcut, pressed, "{format:?}");
        let bill = direct.press("12345678").await.unwrap();
        assert!(bill.text.contains("53,000.00"), "{bill:?}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn an_unknown_account_is_asked_again_not_an_error() {
    let gw = embedded().await;
    let mut phone = gw.phone(WireFormat::AfricasTalking, &msisdn());
    phone.dial("*152*00*1*1#").await.unwrap();
    let screen = phone.press("01234567").await.unwrap();
    assert!(
        !screen.ends
            && screen.text.starts_with("Hatukupata akaunti 01234567.")
            && screen.text.contains("Ingiza namba ya akaunti"),
        "{screen:?}"
    );
    let bill = phone.press("12345678").await.unwrap();
    assert!(bill.text.contains("53,000.00"), "{bill:?}");
    gw.stop().await;
}

#[tokio::test]
async fn invalid_input_gets_the_retry_screen_and_the_dialogue_goes_on() {
    let gw = production().await;
    let mut phone = gw.phone(WireFormat::AfricasTalking, &msisdn());
    phone.dial("*152*00*1*1#").await.unwrap();
    let retry = phone.press("12*34").await.unwrap();
    assert!(
        !retry.ends && retry.text.contains("Namba si sahihi"),
        "{retry:?}"
    );
    let bill = phone.press("12345678").await.unwrap();
    assert!(bill.text.contains("53,000.00"), "{bill:?}");
    let wrong_option = phone.press("7").await.unwrap();
    assert!(
        !wrong_option.ends && wrong_option.text.contains("1. Pata namba ya malipo"),
        "{wrong_option:?}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_chosen_language_is_remembered_for_the_number() {
    let gw = production().await;
    let number = msisdn();
    let mut phone = gw.phone(WireFormat::Hubtel, &number);
    let root = phone.dial("*152*00#").await.unwrap();
    assert!(root.text.contains("English"), "{root:?}");
    let english = phone.press("9").await.unwrap();
    assert!(
        english.text.contains("Government services") && english.text.contains("Kiswahili"),
        "{english:?}"
    );
    let mut later = gw.phone(WireFormat::AfricasTalking, &number);
    let again = later.dial("*152*00#").await.unwrap();
    assert!(
        again.text.contains("1. Water"),
        "a new dialogue keeps English: {again:?}"
    );
    let mut someone_else = gw.phone(WireFormat::AfricasTalking, &msisdn());
    assert!(someone_else
        .dial("*152*00#")
        .await
        .unwrap()
        .text
        .contains("1. Maji"));
    gw.stop().await;
}

#[tokio::test]
async fn case_status_from_the_root_menu() {
    let gw = production().await;
    let mut phone = gw.phone(WireFormat::AfricasTalking, &msisdn());
    phone.dial("*152*00#").await.unwrap();
    phone.press("2").await.unwrap();
    let prompt = phone.press("2").await.unwrap();
    assert!(!prompt.ends, "{prompt:?}");
    let status = phone.press("250417615").await.unwrap();
    assert!(
        status.ends && status.text.contains("RITA, ombi 250417615:"),
        "{status:?}"
    );
    gw.stop().await;
}
