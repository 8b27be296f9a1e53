//! The real gateway behind the aggregator simulator, over real HTTP: handsets dial through the
//! platform, which speaks Africa's Talking or Hubtel to the gateway and tells it (or not)
//! when dialogues end.

use super::control_number;
use crate::support::gateway::{embedded, msisdn, production, TestGateway};
use mgov::cli::phone::Screen;
use mgov::ids::TelcoId;
use mgov::sessions::now_ms;
use mgov::ussd::request::session_key;
use mgov::ussd::store::{recent_session_records, EndReason, SessionRecord};
use mgov_simulators::aggregator::{self, Settings};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

/// Short enough for tests to see idle cut-offs; no test asserts how long anything took.
const IDLE: Duration = Duration::from_millis(300);

struct Aggregator {
    url: String,
    http: reqwest::Client,
    telco: &'static str,
}

impl Aggregator {
    /// A platform for `telco` (`africastalking` or `hubtel`) with the gateway's credentials.
    async fn start(
        gw: &TestGateway,
        telco: &'static str,
        adjust: impl FnOnce(&mut Settings),
    ) -> Aggregator {
        let (username, secret) = gw.credentials.get(telco).cloned().unzip();
        let mut settings = Settings {
            gateway_url: gw.url(&format!("/ussd/{telco}")),
            format: telco.parse().unwrap(),
            username,
            secret,
            ..Settings::default()
        };
        adjust(&mut settings);
        let (address, _server) = aggregator::spawn(settings).await.unwrap();
        Aggregator {
            url: format!("http://{address}"),
            http: reqwest::Client::new(),
            telco,
        }
    }

    async fn post(&self, path: &str, body: Value, want: StatusCode) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), want, "{path} {body}");
        response.json().await.unwrap()
    }

    async fn dial(&self, number: &str, code: &str) -> Value {
        let path = format!("/handsets/{number}/dial");
        self.post(&path, json!({ "code": code }), StatusCode::OK)
            .await
    }

    async fn press(&self, number: &str, key: &str) -> Value {
        let path = format!("/handsets/{number}/press");
        self.post(&path, json!({ "key": key }), StatusCode::OK)
            .await
    }

    async fn hangup(&self, number: &str) -> Value {
        let path = format!("/handsets/{number}/hangup");
        self.post(&path, json!({}), StatusCode::OK).await
    }

    async fn stats(&self) -> Value {
        let response = self
            .http
            .get(format!("{}/stats", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// The gateway's session key for a session id this platform made up.
    fn key(&self, answer: &Value) -> String {
        let id = answer["session_id"].as_str().expect("a session id");
        session_key(&TelcoId::parse(self.telco).unwrap(), id)
    }
}

/// The gateway's record of the dialogue under `key`, if it has one.
async fn record(gw: &TestGateway, key: &str) -> Option<SessionRecord> {
    let records = recent_session_records(&gw.running.gateway.db, 10)
        .await
        .unwrap();
    records.into_iter().find(|r| r.session_key == key)
}

/// Waits (boundedly) until `done` holds: for things a background task does, never timed.
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut done: impl FnMut() -> F,
) {
    for _ in 0..200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

/// dial *152*00# → 1 (Maji) → 1 (check bill) → account → 1 (payment number).
async fn water_bill_through_the_platform(telco: &'static str) {
    let gw = production().await;
    let platform = Aggregator::start(&gw, telco, |_| {}).await;
    let number = msisdn();
    let root = platform.dial(&number, "*152*00#").await;
    assert_eq!(root["ends"], false, "{root}");
    assert!(
        root["screen"].as_str().unwrap().contains("1. Maji"),
        "{root}"
    );
    let maji = platform.press(&number, "1").await;
    assert!(
        maji["screen"].as_str().unwrap().contains("1. Angalia bili"),
        "{maji}"
    );
    platform.press(&number, "1").await;
    let bill = platform.press(&number, "12345678").await;
    assert!(
        bill["screen"].as_str().unwrap().contains("TZS 53,000.00"),
        "{bill}"
    );
    let done = platform.press(&number, "1").await;
    assert_eq!(done["ends"], true, "{done}");
    let screen = Screen {
        text: done["screen"].as_str().unwrap().to_owned(),
        ends: true,
    };
    let issued = control_number(&screen).unwrap_or_else(|| panic!("no control number: {done}"));
    assert_eq!(issued.len(), 12);

    let record = record(&gw, &platform.key(&root)).await.expect("a record");
    assert_eq!(record.end_reason, EndReason::Completed);
    assert_eq!(record.hops, 5);
    let stats = platform.stats().await;
    assert_eq!(stats["hops"], 5);
    assert_eq!(stats["ended"]["gateway"], 1);
    assert_eq!(stats["callback_errors"], json!({}));
    assert_eq!(
        gw.running.gateway.dialogues.sessions.count().await.unwrap(),
        0
    );
    gw.stop().await;
}

#[tokio::test]
async fn water_bill_through_an_africastalking_platform() {
    water_bill_through_the_platform("africastalking").await;
}

#[tokio::test]
async fn water_bill_through_a_hubtel_platform() {
    water_bill_through_the_platform("hubtel").await;
}

#[tokio::test]
async fn hanging_up_is_recorded_per_the_platforms_signal() {
    let gw = production().await;
    // Hubtel says Release (the citizen cancelled); Africa's Talking only says Incomplete.
    for (telco, want) in [
        ("hubtel", EndReason::UserCancelled),
        ("africastalking", EndReason::TelcoTimeout),
    ] {
        let platform = Aggregator::start(&gw, telco, |_| {}).await;
        let number = msisdn();
        let root = platform.dial(&number, "*152*00#").await;
        platform.press(&number, "1").await;
        let hangup = platform.hangup(&number).await;
        assert_eq!(hangup["session_id"], root["session_id"]);
        // The hang-up returns once the gateway has answered the notice.
        let record = record(&gw, &platform.key(&root)).await.expect("a record");
        assert_eq!(record.end_reason, want, "{telco}");
        assert_eq!(record.hops, 2, "{telco}");
        assert_eq!(platform.stats().await["notices_sent"], 1, "{telco}");
    }
    assert_eq!(
        gw.running.gateway.dialogues.sessions.count().await.unwrap(),
        0
    );
    gw.stop().await;
}

#[tokio::test]
async fn idle_handsets_are_cut_off_and_the_gateway_told() {
    let gw = production().await;
    for telco in ["africastalking", "hubtel"] {
        let platform = Aggregator::start(&gw, telco, |s| s.idle_timeout = IDLE).await;
        let number = msisdn();
        let root = platform.dial(&number, "*152*00*1#").await;
        assert_eq!(root["ends"], false, "{root}");
        let key = platform.key(&root);
        eventually("the idle dialogue is recorded", || async {
            record(&gw, &key).await.is_some()
        })
        .await;
        let record = record(&gw, &key).await.unwrap();
        assert_eq!(record.end_reason, EndReason::TelcoTimeout, "{telco}");
        let stats = platform.stats().await;
        assert_eq!(stats["ended"]["idle_timeout"], 1, "{telco}");
        assert_eq!(stats["active"], 0, "{telco}");
        let body = json!({ "key": "1" });
        let path = format!("/handsets/{number}/press");
        platform.post(&path, body, StatusCode::CONFLICT).await;
    }
    gw.stop().await;
}

#[tokio::test]
async fn without_end_notices_the_gateway_expires_the_session_itself() {
    let gw = embedded().await;
    let platform = Aggregator::start(&gw, "africastalking", |s| {
        s.idle_timeout = IDLE;
        s.end_notices = false;
    })
    .await;
    let number = msisdn();
    let root = platform.dial(&number, "*152*00#").await;
    platform.press(&number, "1").await;
    eventually("the handset is cut off", || async {
        platform.stats().await["ended"]["idle_timeout"] == 1
    })
    .await;
    assert_eq!(platform.stats().await["notices_sent"], 0);
    let gateway = &gw.running.gateway;
    assert_eq!(
        gateway.dialogues.sessions.count().await.unwrap(),
        1,
        "still held"
    );
    let key = platform.key(&root);
    assert!(record(&gw, &key).await.is_none());
    // Its own expiry records it as abandoned.
    assert_eq!(
        gateway.dialogues.reap_expired_at(now_ms() + 181_000).await,
        1
    );
    let record = record(&gw, &key).await.expect("a record");
    assert_eq!(record.end_reason, EndReason::Abandoned);
    gw.stop().await;
}

#[tokio::test]
async fn refused_and_lost_hops_end_the_handsets_dialogue() {
    let gw = production().await;
    // No credentials: the gateway refuses the callback, and the handset is told why.
    let anonymous = Aggregator::start(&gw, "africastalking", |s| {
        s.username = None;
        s.secret = None;
    })
    .await;
    let refused = anonymous.dial(&msisdn(), "*152*00#").await;
    assert_eq!(refused["ends"], true);
    assert_eq!(refused["error"]["kind"], "gateway_status");
    assert_eq!(refused["error"]["status"], 401);
    let stats = anonymous.stats().await;
    assert_eq!(stats["callback_errors"], json!({ "401": 1 }));
    assert_eq!(stats["ended"]["gateway_error"], 1);

    // Every reply lost: the hop reached the gateway, then the platform reports Failed.
    let lossy = Aggregator::start(&gw, "africastalking", |s| {
        s.drop_rate = 1.0;
        s.reply_timeout = Duration::from_secs(2);
    })
    .await;
    let lost = lossy.dial(&msisdn(), "*152*00#").await;
    assert_eq!(lost["ends"], true);
    assert_eq!(lost["error"]["kind"], "dropped");
    let record = record(&gw, &lossy.key(&lost)).await.expect("a record");
    assert_eq!(record.end_reason, EndReason::Failed);
    assert_eq!(record.hops, 1);
    gw.stop().await;
}
