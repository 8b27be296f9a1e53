//! Faults of the parts around the gateway: a slow or failing back office, a dead Redis,
//! citizens who walk away. The citizen always gets a screen, the telco never a 5xx.

use crate::support::gateway::{embedded, msisdn, production_with, TestGateway};
use mgov::backoffice::store::{transactions_for_session, TransactionOutcome, TransactionRecord};
use mgov::cli::phone::Screen;
use mgov::config::Secret;
use mgov::ids::TelcoId;
use mgov::sessions::now_ms;
use mgov::telcos::WireFormat;
use mgov::ussd::request::session_key;
use mgov::ussd::store::{recent_session_records, EndReason};
use mgov_simulators::backoffice::{Latency, Settings};
use std::time::{Duration, Instant};

struct Lookup {
    screen: Screen,
    took: Duration,
    /// The transaction log when the hop was answered.
    outcomes: Vec<TransactionOutcome>,
    attempts: i32,
    session_id: String,
}

async fn bill_lookup(gw: &TestGateway) -> Lookup {
    let mut phone = gw.phone(WireFormat::AfricasTalking, &msisdn());
    phone.dial("*152*00*1*1#").await.unwrap();
    let started = Instant::now();
    let screen = phone.press("12345678").await.unwrap();
    let took = started.elapsed();
    let key = session_key(
        &TelcoId::parse("africastalking").unwrap(),
        phone.session_id(),
    );
    let log = transactions_for_session(&gw.running.gateway.db, &key)
        .await
        .unwrap();
    Lookup {
        screen,
        took,
        attempts: log.first().map(|t| t.attempts).unwrap_or_default(),
        outcomes: log.into_iter().map(|t| t.outcome).collect(),
        session_id: phone.session_id().to_string(),
    }
}

/// The transaction log of the dialogue once it holds `count` settled records (a call that
/// outlived its hop is pending until it finishes in the background).
async fn eventually_recorded(
    gw: &TestGateway,
    session_id: &str,
    count: usize,
) -> Vec<TransactionRecord> {
    let key = session_key(&TelcoId::parse("africastalking").unwrap(), session_id);
    for _ in 0..100 {
        let log = transactions_for_session(&gw.running.gateway.db, &key)
            .await
            .unwrap();
        let settled = log
            .iter()
            .filter(|t| t.outcome != TransactionOutcome::Pending)
            .count();
        if settled >= count {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no transaction recorded for {key} within 10 s");
}

fn outcomes(log: &[TransactionRecord]) -> Vec<TransactionOutcome> {
    log.iter().map(|t| t.outcome).collect()
}

#[tokio::test]
async fn a_slow_back_office_ends_the_hop_in_budget_and_its_answer_is_still_recorded() {
    let slow = Settings {
        latency: Latency::Fixed(Duration::from_millis(1_500)),
        ..Default::default()
    };
    let gw = production_with(slow, |c| c.hop_budget_ms = 400).await;
    let lookup = bill_lookup(&gw).await;
    let screen = &lookup.screen;
    assert!(
        screen.ends && screen.text.contains("huduma haipatikani"),
        "{screen:?}"
    );
    assert!(
        lookup.took < Duration::from_millis(1_200),
        "answered after {:?}",
        lookup.took
    );
    assert_eq!(
        lookup.outcomes,
        [TransactionOutcome::Pending],
        "the call is committed before it is made, and still running"
    );
    let log = eventually_recorded(&gw, &lookup.session_id, 1).await;
    assert_eq!(outcomes(&log), [TransactionOutcome::Ok]);
    assert!(
        log[0].late,
        "the citizen was answered before the agency was"
    );
    gw.stop().await;
}

/// A call that times out is in doubt (the agency may have done it): its row stays pending,
/// with the reason, and the reconciler asks again with the same id; while the agency stays
/// silent it stays pending, asked again later.
#[tokio::test]
async fn a_back_office_that_never_answers_leaves_its_call_in_doubt() {
    let silent = Settings {
        latency: Latency::Fixed(Duration::from_secs(20)),
        ..Default::default()
    };
    let gw = production_with(silent, |c| {
        c.hop_budget_ms = 300;
        c.background_call_secs = 1;
    })
    .await;
    let lookup = bill_lookup(&gw).await;
    assert!(lookup.screen.ends, "{:?}", lookup.screen);
    let key = session_key(
        &TelcoId::parse("africastalking").unwrap(),
        &lookup.session_id,
    );
    let db = gw.running.gateway.db.clone();
    let mut in_doubt = None;
    for _ in 0..100 {
        let log = transactions_for_session(&db, &key).await.unwrap();
        if log.first().is_some_and(|t| t.attempts > 0) {
            in_doubt = log.into_iter().next();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let in_doubt = in_doubt.expect("the timed-out call is recorded within 10 s");
    assert_eq!(in_doubt.outcome, TransactionOutcome::Pending);
    assert!(
        in_doubt.error.is_some() && in_doubt.reconcile_at.is_some(),
        "{in_doubt:?}"
    );
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    mgov::backoffice::reconcile::reconcile_due(&gw.running.gateway, later).await;
    let asked = transactions_for_session(&db, &key).await.unwrap().remove(0);
    assert_eq!(
        asked.outcome,
        TransactionOutcome::Pending,
        "still silent: still in doubt"
    );
    assert!(asked.attempts > in_doubt.attempts, "{asked:?}");
    assert_eq!(asked.id, in_doubt.id);
    gw.stop().await;
}

#[tokio::test]
async fn a_failing_back_office_is_retried_then_the_citizen_is_told() {
    let failing = Settings {
        failure_rate: 1.0,
        ..Default::default()
    };
    let gw = production_with(failing, |_| {}).await;
    let lookup = bill_lookup(&gw).await;
    let screen = &lookup.screen;
    assert!(
        screen.ends && screen.text.contains("jaribu tena baadaye"),
        "{screen:?}"
    );
    assert_eq!(lookup.outcomes, [TransactionOutcome::Failed]);
    assert_eq!(
        lookup.attempts, 3,
        "a 5xx is retried with the same request id"
    );
    gw.stop().await;
}

#[tokio::test]
async fn idle_dialogues_are_recorded_as_abandoned_once() {
    let gw = embedded().await;
    let mut phone = gw.phone(WireFormat::Hubtel, &msisdn());
    phone.dial("*152*00#").await.unwrap();
    phone.press("1").await.unwrap();
    let gateway = &gw.running.gateway;
    assert_eq!(
        gateway.dialogues.reap_expired_at(now_ms()).await,
        0,
        "not idle yet"
    );
    let later = now_ms() + 181_000;
    assert_eq!(gateway.dialogues.reap_expired_at(later).await, 1);
    assert_eq!(
        gateway.dialogues.reap_expired_at(later).await,
        0,
        "recorded once"
    );
    let records = recent_session_records(&gateway.db, 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].end_reason, EndReason::Abandoned);
    assert_eq!(records[0].hops, 2);
    gw.stop().await;
}

/// A Redis of this test's own, so that it can be stopped without touching other tests.
struct PrivateRedis {
    child: std::process::Child,
    url: String,
}

impl PrivateRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test (bash .ci/run installs it)");
        let url = format!("redis://127.0.0.1:{port}");
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self { child, url };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        panic!("the private redis-server did not start on port {port}");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn when_redis_dies_hops_end_kindly_and_readyz_says_not_ready() {
    let redis = PrivateRedis::start().await;
    let url = redis.url.clone();
    let gw = production_with(Settings::default(), move |c| {
        c.redis_url = Some(Secret::new(url))
    })
    .await;
    let mut phone = gw.phone(WireFormat::AfricasTalking, &msisdn());
    assert!(!phone.dial("*152*00#").await.unwrap().ends);
    let ready = gw.http.get(gw.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), reqwest::StatusCode::OK);

    drop(redis);
    let started = Instant::now();
    let screen = phone
        .press("1")
        .await
        .expect("a 200 with a screen, not a 5xx");
    assert!(
        screen.ends && screen.text.contains("huduma haipatikani"),
        "{screen:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let mut fresh = gw.phone(WireFormat::Hubtel, &msisdn());
    assert!(fresh.dial("*152*00#").await.unwrap().ends);
    let ready = gw.http.get(gw.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["database"], "ok");
    gw.stop().await;
}
