//! Results by SMS over HTTP, on both backend pairs: a control number whose back-office call
//! outlives the hop ends the dialogue with "the result will follow by SMS" in the citizen's
//! language, and then reaches the telco simulator by SMS, once, although the telco repeats
//! the hop and the reconciler also finishes the call; an end screen marked `sms = true` is
//! sent once however often its hop is delivered. A gateway killed before the answer came
//! leaves the result to the reconciler of another node, which sends it.

use super::world::{sms_world, Backends, SmsWorld};
use crate::support::gateway::{phone_at, production_world};
use crate::support::process::GatewayProcess;
use mgov::backoffice::follow_up_store::send_once;
use mgov::backoffice::reconcile::reconcile_due;
use mgov::backoffice::store::{
    get_transaction, transactions_for_session, TransactionOutcome, TransactionRecord,
};
use mgov::cli::phone::{Phone, Screen};
use mgov::db::Db;
use mgov::ids::{AgencyId, TelcoId};
use mgov::msisdn::Msisdn;
use mgov::sms::store::accept::NewMessage;
use mgov::telcos::{SmsLink, WireFormat};
use mgov::ussd::request::session_key;
use mgov_simulators::telco::{self as simulator, Credentials};
use serde_json::{json, Value};
use std::time::Duration;

const BY_SMS_SW: &str =
    "Ombi lako limepokelewa na bado linashughulikiwa. Utapokea jibu kwa SMS hivi punde.";
const BY_SMS_EN: &str = "Your request has been received and is still being processed. The result will follow by SMS shortly.";

/// A fresh number outside the prefixes the `kannel` telco claims: its SMS go through
/// Africa's Talking, the telco that carried its dialogue.
fn number() -> String {
    format!("25571{:07}", rand::random::<u32>() % 10_000_000)
}

/// A hop budget of one second; the slowed back office answers in three.
async fn world(backends: Backends) -> SmsWorld {
    sms_world(backends, Default::default(), |c| c.hop_budget_ms = 1_000).await
}

/// Slows Ilala's back office (the simulator) to `latency`, or restores it.
async fn set_latency(world: &SmsWorld, latency: Option<&str>) {
    let ilala = AgencyId::parse("ilala").unwrap();
    let agency = world.gw.running.gateway.agencies.get(&ilala).unwrap();
    set_latency_at(&agency.backoffice_url, latency).await;
}

async fn set_latency_at(backoffice_url: &str, latency: Option<&str>) {
    let url = format!("{}/admin/latency", backoffice_url.trim_end_matches('/'));
    let http = reqwest::Client::new();
    let sent = match latency {
        Some(latency) => http.post(url).json(&json!({ "latency": latency })),
        None => http.delete(url),
    };
    let response = sent.send().await.unwrap();
    assert!(response.status().is_success(), "{response:?}");
}

/// Dials Kodi from `number` (switching to English first when `english`) and types a parcel:
/// its dues are on the screen, the first one chosen by pressing 1.
async fn at_the_dues(world: &SmsWorld, number: &str, english: bool) -> Phone {
    let phone = world.gw.phone(WireFormat::AfricasTalking, number);
    to_the_dues(phone, english).await
}

async fn to_the_dues(mut phone: Phone, english: bool) -> Phone {
    phone.dial("*152*00#").await.unwrap();
    if english {
        phone.press("9").await.unwrap();
    }
    phone.press("4").await.unwrap();
    let dues = phone.press("20250415").await.unwrap();
    assert!(!dues.ends && dues.text.contains("\n1. "), "{dues:?}");
    phone
}

/// The texts the telco simulator received for `number`, oldest first.
async fn received(world: &SmsWorld, number: &str) -> Vec<String> {
    received_at(&world.simulator, number).await
}

async fn received_at(simulator: &str, number: &str) -> Vec<String> {
    let url = format!("{simulator}/messages?to={number}");
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits until the simulator has received something for `number` (bounded: a hang fails).
async fn first_received(world: &SmsWorld, number: &str) -> Vec<String> {
    first_received_at(&world.simulator, number).await
}

async fn first_received_at(simulator: &str, number: &str) -> Vec<String> {
    for _ in 0..600 {
        let texts = received_at(simulator, number).await;
        if !texts.is_empty() {
            return texts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing reached {number} within a minute");
}

/// Messages in the outbox for `number`, whatever their status.
async fn queued_for(db: &Db, number: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM messages WHERE recipient = $1";
    match db {
        Db::Postgres(pool) => sqlx::query_scalar(sql).bind(number).fetch_one(pool).await,
        Db::Sqlite(pool) => sqlx::query_scalar(sql).bind(number).fetch_one(pool).await,
    }
    .unwrap()
}

fn key_of(phone: &Phone) -> String {
    session_key(
        &TelcoId::parse("africastalking").unwrap(),
        phone.session_id(),
    )
}

/// The dialogue's control-number call, still waiting for its answer.
async fn pending_control_number(db: &Db, phone: &Phone) -> TransactionRecord {
    let log = transactions_for_session(db, &key_of(phone)).await.unwrap();
    let issued = log
        .into_iter()
        .find(|t| t.action == "payments.control_number")
        .expect("a control number asked");
    assert_eq!(issued.outcome, TransactionOutcome::Pending);
    issued
}

async fn a_slow_control_number_follows_by_sms(backends: Backends, english: bool) {
    let world = world(backends).await;
    let gateway = &world.gw.running.gateway;
    let number = number();
    let mut phone = at_the_dues(&world, &number, english).await;
    set_latency(&world, Some("3s")).await;
    let screen = phone.press("1").await.unwrap();
    let expected = if english { BY_SMS_EN } else { BY_SMS_SW };
    assert_eq!(
        screen,
        Screen {
            text: expected.into(),
            ends: true
        }
    );
    // The telco repeats the hop: the same screen again, nothing asked or sent again.
    assert_eq!(phone.resend().await.unwrap(), screen);
    // The reconciler, as after a crash, also asks while the first call is still running.
    let issued = pending_control_number(&gateway.db, &phone).await;
    let due = chrono::Utc::now() + chrono::Duration::hours(1);
    assert_eq!(
        reconcile_due(gateway, due).await,
        1,
        "claimed while in flight"
    );
    set_latency(&world, None).await;

    let texts = first_received(&world, &number).await;
    let settled = get_transaction(&gateway.db, &issued.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settled.outcome, TransactionOutcome::Ok);
    assert!(settled.late, "the citizen did not see it on screen");
    let control_number = settled.reference.expect("a control number");
    let line = if english {
        format!("Control number: {control_number}\n")
    } else {
        format!("Namba ya malipo: {control_number}\n")
    };
    assert!(texts[0].contains(&line), "{texts:?}");
    let amount = if english {
        "Amount: TZS 152,000.00"
    } else {
        "Kiasi: TZS 152,000.00"
    };
    assert!(texts[0].contains(amount), "{texts:?}");
    // Both finished the call; one result was queued, and it was sent once.
    assert_eq!(queued_for(&gateway.db, &number).await, 1);
    assert_eq!(received(&world, &number).await.len(), 1);
    world.stop().await;
}

async fn an_end_screen_marked_sms_is_sent_once(backends: Backends) {
    let world = world(backends).await;
    let gateway = &world.gw.running.gateway;
    let number = number();
    let phone = at_the_dues(&world, &number, false).await;
    // The final hop delivered twice at once, then once more after its answer.
    let (mut first, second) = (phone.clone(), phone.clone());
    let (a, b) = tokio::join!(first.press("1"), async {
        let mut second = second;
        second.press("1").await
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.ends && a.text.contains("Namba ya malipo: 99"), "{a:?}");
    assert_eq!(a, b);
    assert_eq!(first.resend().await.unwrap(), a);
    let texts = first_received(&world, &number).await;
    assert_eq!(texts, [a.text.as_str()], "the screen as shown");
    assert_eq!(queued_for(&gateway.db, &number).await, 1);
    assert_eq!(received(&world, &number).await.len(), 1);
    // A step walked again (a session lost and replayed) finds its key taken.
    let ilala = AgencyId::parse("ilala").unwrap();
    let to = Msisdn::parse(&number, "255").unwrap();
    let sms = NewMessage::reply(to, "x".into(), i64::MAX);
    assert!(send_once(&gateway.db, "end_test", &ilala, &sms)
        .await
        .unwrap());
    let again = NewMessage::reply(sms.recipient.clone(), "x".into(), i64::MAX);
    assert!(!send_once(&gateway.db, "end_test", &ilala, &again)
        .await
        .unwrap());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_promised_before_a_crash_is_sent_by_another_nodes_reconciler() {
    let world = production_world(Default::default()).await;
    let (addr, _simulator) = simulator::spawn(simulator::Settings {
        at_credentials: Some(Credentials::new("mgov", "send-secret")),
        ..Default::default()
    })
    .await
    .unwrap();
    let telco_simulator = format!("http://{addr}");
    let db = Db::connect(&world.database_url).await.unwrap();
    let mut at = mgov::telcos::store::get_telco(&db, &TelcoId::parse("africastalking").unwrap())
        .await
        .unwrap()
        .unwrap();
    at.sms = Some(SmsLink {
        url: format!("{telco_simulator}/version1/messaging"),
        username: "mgov".into(),
        secret: "send-secret".into(),
        parts_per_second: std::num::NonZeroU32::new(100).unwrap(),
        prefixes: vec![],
        default_route: true,
    });
    mgov::telcos::store::upsert_telco(&db, &at).await.unwrap();
    let ilala = mgov::agencies::store::get_agency(&db, &AgencyId::parse("ilala").unwrap())
        .await
        .unwrap()
        .unwrap();
    let gateway = GatewayProcess::start(&world, &[("MGOV_HOP_BUDGET_MS", "1000")]);
    let number = number();
    let format = WireFormat::AfricasTalking;
    let phone = phone_at(&gateway.base_url, &world.credentials, format, &number);
    let mut phone = to_the_dues(phone, false).await;
    set_latency_at(&ilala.backoffice_url, Some("3s")).await;
    let screen = phone.press("1").await.unwrap();
    assert_eq!(screen.text, BY_SMS_SW);
    // Killed with the call still waiting for the back office.
    tokio::task::spawn_blocking(move || gateway.kill_hard())
        .await
        .unwrap();
    set_latency_at(&ilala.backoffice_url, None).await;
    let issued = pending_control_number(&db, &phone).await;

    let survivor = mgov::app::spawn(world.config()).await.unwrap();
    let due = chrono::Utc::now() + chrono::Duration::hours(1);
    assert_eq!(reconcile_due(&survivor.gateway, due).await, 1);
    let settled = get_transaction(&db, &issued.id).await.unwrap().unwrap();
    assert_eq!(settled.outcome, TransactionOutcome::Ok);
    let control_number = settled.reference.expect("a control number");
    let texts = first_received_at(&telco_simulator, &number).await;
    let line = format!("Namba ya malipo: {control_number}\n");
    assert!(texts.len() == 1 && texts[0].contains(&line), "{texts:?}");
    // Asked again (nothing is pending now), nothing more is queued.
    assert_eq!(reconcile_due(&survivor.gateway, due).await, 0);
    assert_eq!(queued_for(&db, &number).await, 1);
    survivor.stop().await.unwrap();
    db.close().await;
    world.clean_up().await;
}

#[tokio::test]
async fn a_slow_control_number_follows_by_sms_in_swahili_on_redis_and_postgres() {
    a_slow_control_number_follows_by_sms(Backends::Production, false).await;
}

#[tokio::test]
async fn a_slow_control_number_follows_by_sms_in_english_on_redis_and_postgres() {
    a_slow_control_number_follows_by_sms(Backends::Production, true).await;
}

#[tokio::test]
async fn a_slow_control_number_follows_by_sms_in_swahili_on_the_embedded_default() {
    a_slow_control_number_follows_by_sms(Backends::Embedded, false).await;
}

#[tokio::test]
async fn a_slow_control_number_follows_by_sms_in_english_on_the_embedded_default() {
    a_slow_control_number_follows_by_sms(Backends::Embedded, true).await;
}

#[tokio::test]
async fn an_end_screen_marked_sms_is_sent_once_on_redis_and_postgres() {
    an_end_screen_marked_sms_is_sent_once(Backends::Production).await;
}

#[tokio::test]
async fn an_end_screen_marked_sms_is_sent_once_on_the_embedded_default() {
    an_end_screen_marked_sms_is_sent_once(Backends::Embedded).await;
}
