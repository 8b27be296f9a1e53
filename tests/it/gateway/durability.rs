//! No record dropped, no call left without an outcome: a database that is locked during a
//! hop, a gateway stopped with SIGTERM under load, a gateway killed with a call in flight.

use super::control_number;
use crate::support::gateway::{
    embedded_with, msisdn, phone_at, production_with, production_world, TestGateway,
};
use crate::support::process::GatewayProcess;
use mgov::backoffice::client::ActionCall;
use mgov::backoffice::pending::count_pending;
use mgov::backoffice::reconcile::reconcile_due;
use mgov::backoffice::store::{
    get_transaction, transactions_for_session, write_intents, TransactionOutcome, TransactionRecord,
};
use mgov::db::Db;
use mgov::ids::{AgencyId, TelcoId, TransactionId};
use mgov::language::Language;
use mgov::msisdn::Msisdn;
use mgov::telcos::WireFormat;
use mgov::ussd::request::session_key;
use mgov::ussd::store::{recent_session_records, EndReason};
use mgov_simulators::backoffice::{Latency, Settings};
use sqlx::{Connection, Executor};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Polls `check` until it returns `Some`, failing after a generous minute: the event it waits
/// for (a write after a lock is released, a reconciler round) has no other signal.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within a minute");
}

/// A lock held on the durable store from another connection: writes wait behind it.
enum Lock {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl Lock {
    async fn take(gw: &TestGateway) -> Lock {
        match gw.database_url() {
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                conn.execute("BEGIN").await.unwrap();
                conn.execute("LOCK TABLE transactions, ussd_sessions IN EXCLUSIVE MODE")
                    .await
                    .unwrap();
                Lock::Postgres(conn)
            }
            None => {
                let path = gw.running.gateway.config.sqlite_path.display().to_string();
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{path}"))
                    .await
                    .unwrap();
                conn.execute("BEGIN IMMEDIATE").await.unwrap();
                Lock::Sqlite(conn)
            }
        }
    }

    async fn release(self) {
        match self {
            Lock::Postgres(mut conn) => conn.execute("ROLLBACK").await.map(drop).unwrap(),
            Lock::Sqlite(mut conn) => conn.execute("ROLLBACK").await.map(drop).unwrap(),
        }
    }
}

/// With the database locked, a hop that needs a back-office call cannot commit its intent
/// in time: the agency is not called, the citizen is told the service is unavailable, and
/// once the lock goes both the settled call and the dialogue's end are written.
async fn a_locked_database_during_a_hop(gw: TestGateway) {
    let number = msisdn();
    let mut phone = gw.phone(WireFormat::AfricasTalking, &number);
    phone.dial("*152*00#").await.unwrap();
    phone.press("1").await.unwrap();
    phone.press("1").await.unwrap();
    let lock = Lock::take(&gw).await;
    let screen = phone.press("12345678").await.unwrap();
    assert!(
        screen.ends && screen.text.contains("huduma haipatikani"),
        "{screen:?}"
    );
    lock.release().await;

    let key = session_key(
        &TelcoId::parse("africastalking").unwrap(),
        phone.session_id(),
    );
    let db = gw.running.gateway.db.clone();
    let call = eventually("the settled call is written", || {
        let (db, key) = (db.clone(), key.clone());
        async move {
            let log = transactions_for_session(&db, &key).await.unwrap();
            log.into_iter()
                .find(|t| t.outcome != TransactionOutcome::Pending)
        }
    })
    .await;
    assert_eq!(call.action, "bills.fetch");
    assert_eq!(call.outcome, TransactionOutcome::Failed);
    assert_eq!(call.attempts, 0, "the agency was not called");
    assert!(
        call.error
            .as_deref()
            .unwrap_or("")
            .starts_with("not called"),
        "{call:?}"
    );
    let ended = eventually("the dialogue's end is written", || {
        let (db, key) = (db.clone(), key.clone());
        async move {
            let records = recent_session_records(&db, 50).await.unwrap();
            records.into_iter().find(|r| r.session_key == key)
        }
    })
    .await;
    assert_eq!(ended.end_reason, EndReason::Unavailable);
    assert_eq!(count_pending(&db).await.unwrap(), 0);
    gw.stop().await;
}

#[tokio::test]
async fn a_locked_database_during_a_hop_on_redis_and_postgres() {
    let gw = production_with(Settings::default(), |c| c.record_wait_ms = 200).await;
    a_locked_database_during_a_hop(gw).await;
}

#[tokio::test]
async fn a_locked_database_during_a_hop_on_the_embedded_default() {
    a_locked_database_during_a_hop(embedded_with(|c| c.record_wait_ms = 200).await).await;
}

/// Two pending calls as a stopped node leaves them: one is asked again with its own request
/// id and recorded with the real answer, marked late; the other's agency is gone, so it is
/// settled as never called. Nothing stays pending.
async fn pending_calls_are_reconciled(gw: TestGateway) {
    let gateway = &gw.running.gateway;
    let dawasa = gateway
        .agencies
        .get(&AgencyId::parse("dawasa").unwrap())
        .unwrap();
    let gone = Arc::new(mgov::agencies::Agency {
        id: AgencyId::parse("gone").unwrap(),
        ..(*dawasa).clone()
    });
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let intents: Vec<TransactionRecord> = [dawasa, gone]
        .into_iter()
        .enumerate()
        .map(|(i, agency)| {
            let params = BTreeMap::from([("account".to_string(), "12345678".to_string())]);
            let key = format!("africastalking:crashed-{i}");
            let call = ActionCall {
                agency,
                transaction: TransactionId::for_step(
                    &key,
                    "255754123456",
                    3,
                    0,
                    "bills.fetch",
                    &params,
                ),
                action: "bills.fetch".into(),
                msisdn: Msisdn::parse("255754123456", "255").unwrap(),
                language: Language::SWAHILI,
                params,
            };
            TransactionRecord::intent(&call, None, None, past)
        })
        .collect();
    assert_eq!(write_intents(&gateway.db, &intents).await.unwrap(), 2);
    // The node's own reconciler may get there first; either way each row is asked once.
    reconcile_due(gateway, chrono::Utc::now()).await;
    let settled = |id: TransactionId| {
        let db = gateway.db.clone();
        async move {
            get_transaction(&db, &id)
                .await
                .unwrap()
                .filter(|t| t.outcome != TransactionOutcome::Pending)
        }
    };
    let answered = eventually("the call is asked again", || settled(intents[0].id.clone())).await;
    assert_eq!(answered.outcome, TransactionOutcome::Ok);
    assert!(answered.late && answered.attempts >= 1, "{answered:?}");
    assert_eq!(
        answered.amount.map(|a| a.to_string()).as_deref(),
        Some("53000.00")
    );
    let dropped = eventually("the orphan is settled", || settled(intents[1].id.clone())).await;
    assert_eq!(dropped.outcome, TransactionOutcome::Failed);
    assert_eq!(
        dropped.error.as_deref(),
        Some("not called: agency gone is not registered")
    );
    assert_eq!(count_pending(&gateway.db).await.unwrap(), 0);
    gw.stop().await;
}

#[tokio::test]
async fn pending_calls_are_reconciled_on_redis_and_postgres() {
    pending_calls_are_reconciled(production_with(Settings::default(), |_| {}).await).await;
}

#[tokio::test]
async fn pending_calls_are_reconciled_on_the_embedded_default() {
    pending_calls_are_reconciled(embedded_with(|_| {}).await).await;
}

/// Journeys that ended on a phone's screen, as the phone saw them.
struct Finished {
    key: String,
    control_number: Option<String>,
}

/// Phones walk the water-bill journey in a loop until the gateway stops answering.
async fn keep_dialling(
    url: String,
    credentials: std::collections::HashMap<String, (String, String)>,
) -> Vec<Finished> {
    let mut finished = Vec::new();
    loop {
        let mut phone = phone_at(&url, &credentials, WireFormat::AfricasTalking, &msisdn());
        let walk = async {
            phone.dial("*152*00#").await?;
            phone.press("1").await?;
            phone.press("1").await?;
            phone.press("12345678").await?;
            phone.press("1").await
        };
        match walk.await {
            Ok(done) if done.ends => finished.push(Finished {
                key: session_key(
                    &TelcoId::parse("africastalking").unwrap(),
                    phone.session_id(),
                ),
                control_number: control_number(&done),
            }),
            _ => return finished,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_nothing() {
    let world = production_world(Settings {
        latency: Latency::Fixed(Duration::from_millis(20)),
        ..Default::default()
    })
    .await;
    let gateway = GatewayProcess::start(&world, &[]);
    let phones: Vec<_> = (0..16)
        .map(|_| {
            tokio::spawn(keep_dialling(
                gateway.base_url.clone(),
                world.credentials.clone(),
            ))
        })
        .collect();
    let db = Db::connect(&world.database_url).await.unwrap();
    eventually("forty journeys finish", || {
        let db = db.clone();
        async move {
            let done = recent_session_records(&db, 40).await.unwrap();
            (done.len() >= 40).then_some(())
        }
    })
    .await;
    let exited_cleanly = tokio::task::spawn_blocking(move || gateway.terminate())
        .await
        .unwrap();
    assert!(exited_cleanly, "mgov serve exits 0 on SIGTERM");
    let mut finished = Vec::new();
    for phone in phones {
        finished.extend(phone.await.unwrap());
    }
    assert!(finished.len() >= 40, "{} journeys", finished.len());
    let ended = recent_session_records(&db, 100_000).await.unwrap();
    for journey in &finished {
        let log = transactions_for_session(&db, &journey.key).await.unwrap();
        let issued = log
            .iter()
            .find(|t| t.action == "payments.control_number")
            .unwrap_or_else(|| panic!("no control number recorded for {}", journey.key));
        assert_eq!(issued.outcome, TransactionOutcome::Ok);
        assert_eq!(issued.reference, journey.control_number);
        assert!(
            ended.iter().any(|r| r.session_key == journey.key),
            "{} not recorded",
            journey.key
        );
    }
    assert_eq!(count_pending(&db).await.unwrap(), 0);
    db.close().await;
    world.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_when_the_gateway_is_killed_is_finished_by_the_reconciler() {
    let world = production_world(Settings {
        latency: Latency::Fixed(Duration::from_secs(3)),
        ..Default::default()
    })
    .await;
    let gateway = GatewayProcess::start(&world, &[]);
    let mut phone = phone_at(
        &gateway.base_url,
        &world.credentials,
        WireFormat::AfricasTalking,
        &msisdn(),
    );
    phone.dial("*152*00#").await.unwrap();
    phone.press("1").await.unwrap();
    phone.press("1").await.unwrap();
    let key = session_key(
        &TelcoId::parse("africastalking").unwrap(),
        phone.session_id(),
    );
    let lookup = tokio::spawn(async move { phone.press("12345678").await });
    let db = Db::connect(&world.database_url).await.unwrap();
    let intent = eventually("the intent is committed", || {
        let (db, key) = (db.clone(), key.clone());
        async move { transactions_for_session(&db, &key).await.unwrap().pop() }
    })
    .await;
    assert_eq!(intent.outcome, TransactionOutcome::Pending);
    tokio::task::spawn_blocking(move || gateway.kill_hard())
        .await
        .unwrap();
    assert!(
        lookup.await.unwrap().is_err(),
        "the killed gateway never answered"
    );
    assert_eq!(
        count_pending(&db).await.unwrap(),
        1,
        "left pending by the crash"
    );

    // Another node starts; once the row is due its reconciler asks the agency again.
    let survivor = mgov::app::spawn(world.config()).await.unwrap();
    let due = chrono::Utc::now() + chrono::Duration::hours(1);
    reconcile_due(&survivor.gateway, due).await;
    let settled = get_transaction(&db, &intent.id).await.unwrap().unwrap();
    assert_eq!(settled.outcome, TransactionOutcome::Ok);
    assert!(settled.late, "the citizen never saw it");
    assert_eq!(count_pending(&db).await.unwrap(), 0);
    survivor.stop().await.unwrap();
    db.close().await;
    world.clean_up().await;
}
