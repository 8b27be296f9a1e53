//! The aggregator simulator over real HTTP against a recording stand-in for the gateway: the
//! exact requests each format sends, end notices, and every way a hop can fail.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json, Router};
use mgov_simulators::aggregator::{self, Format, Settings};
use serde_json::{json, Value};

/// What the stand-in gateway received: the Authorization header and the decoded body.
#[derive(Debug, Clone)]
struct Received {
    authorization: Option<String>,
    body: Value,
}

/// A canned reply: status, body, and how long to wait before giving it.
type Reply = (u16, &'static str, Duration);

/// Replies given in order (status, body, delay); when none is left, `200` with an empty body.
#[derive(Default)]
struct Gateway {
    received: Mutex<Vec<Received>>,
    replies: Mutex<VecDeque<Reply>>,
}

async fn callback(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap().to_owned());
    let is_json = request.headers()[header::CONTENT_TYPE] == "application/json";
    let body = if is_json {
        Json::<Value>::from_request(request, &()).await.unwrap().0
    } else {
        let Form(fields) = Form::<HashMap<String, String>>::from_request(request, &())
            .await
            .unwrap();
        json!(fields)
    };
    let reply = gateway.replies.lock().unwrap().pop_front();
    gateway.received.lock().unwrap().push(Received {
        authorization,
        body,
    });
    let (status, body, delay) = reply.unwrap_or((200, "", Duration::ZERO));
    tokio::time::sleep(delay).await;
    (StatusCode::from_u16(status).unwrap(), body).into_response()
}

struct Rig {
    gateway: Arc<Gateway>,
    url: String,
    http: reqwest::Client,
}

impl Rig {
    async fn start(format: Format, replies: &[Reply], adjust: impl FnOnce(&mut Settings)) -> Rig {
        let gateway = Arc::new(Gateway::default());
        gateway
            .replies
            .lock()
            .unwrap()
            .extend(replies.iter().copied());
        let app = Router::new()
            .route("/ussd/telco", axum::routing::post(callback))
            .with_state(Arc::clone(&gateway));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway_url = format!("http://{}/ussd/telco", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let mut settings = Settings {
            gateway_url,
            format,
            ..Settings::default()
        };
        adjust(&mut settings);
        let (address, _) = aggregator::spawn(settings).await.unwrap();
        Rig {
            gateway,
            url: format!("http://{address}"),
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, path: &str, body: Value, want: StatusCode) -> Value {
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

    async fn dial(&self, code: &str) -> Value {
        let body = json!({ "code": code });
        self.call("/handsets/255754123456/dial", body, StatusCode::OK)
            .await
    }

    async fn press(&self, key: &str) -> Value {
        let body = json!({ "key": key });
        self.call("/handsets/255754123456/press", body, StatusCode::OK)
            .await
    }

    async fn stats(&self) -> Value {
        let response = self.http.get(format!("{}/stats", self.url)).send().await;
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    fn received(&self) -> Vec<Received> {
        self.gateway.received.lock().unwrap().clone()
    }
}

const NOW: Duration = Duration::ZERO;

#[tokio::test]
async fn africastalking_sends_cumulative_text_and_a_success_notice() {
    let replies = [(200, "CON Karibu"), (200, "CON Weka"), (200, "END Asante")]
        .map(|(status, body)| (status, body, NOW));
    let rig = Rig::start(Format::AfricasTalking, &replies, |s| {
        s.username = Some("africastalking".into());
        s.secret = Some("s3cr3t".into());
    })
    .await;
    let first = rig.dial("*152*00*1#").await;
    assert_eq!(first["screen"], "Karibu");
    assert_eq!(first["ends"], false);
    assert_eq!(rig.press("12345678").await["screen"], "Weka");
    let last = rig.press("1").await;
    assert_eq!(
        (&last["screen"], &last["ends"]),
        (&json!("Asante"), &json!(true))
    );
    assert_eq!(last.get("error"), None);

    let received = rig.received();
    let texts: Vec<&Value> = received.iter().map(|r| &r.body["text"]).collect();
    assert_eq!(
        texts,
        [
            &json!("1"),
            &json!("1*12345678"),
            &json!("1*12345678*1"),
            &Value::Null
        ]
    );
    let hop = &received[0].body;
    assert_eq!(hop["sessionId"], first["session_id"]);
    assert_eq!(hop["serviceCode"], "*152*00#");
    assert_eq!(hop["phoneNumber"], "+255754123456");
    assert_eq!(hop["networkCode"], "64004");
    // "africastalking:s3cr3t" in base64, on every request.
    let basic = "Basic YWZyaWNhc3RhbGtpbmc6czNjcjN0";
    assert!(received
        .iter()
        .all(|r| r.authorization.as_deref() == Some(basic)));
    let notice = &received[3].body;
    assert_eq!(notice["status"], "Success");
    assert_eq!(notice["hopsCount"], "3");
    assert_eq!(notice["input"], "1*12345678*1");
    assert_eq!(notice["lastAppResponse"], "END Asante");
    let stats = rig.stats().await;
    assert_eq!(
        (stats["hops"].clone(), stats["sessions"].clone()),
        (json!(3), json!(1))
    );
    assert_eq!(stats["ended"]["gateway"], 1);
    assert_eq!(stats["notices_sent"], 1);
}

#[tokio::test]
async fn hubtel_sends_the_latest_input_and_releases_on_hangup() {
    let replies = [
        (
            200,
            r#"{"Type":"Response","Message":"Karibu","ClientState":"root"}"#,
            NOW,
        ),
        (
            200,
            r#"{"Type":"Response","Message":"Maji","ClientState":"maji"}"#,
            NOW,
        ),
    ];
    let rig = Rig::start(Format::Hubtel, &replies, |_| {}).await;
    let first = rig.dial("*152*00#").await;
    assert_eq!(first["screen"], "Karibu");
    assert_eq!(rig.press("1").await["screen"], "Maji");
    let hangup = rig
        .call("/handsets/+255754123456/hangup", json!({}), StatusCode::OK)
        .await;
    assert_eq!(hangup["session_id"], first["session_id"]);

    let bodies: Vec<Value> = rig.received().into_iter().map(|r| r.body).collect();
    let summary: Vec<_> = bodies
        .iter()
        .map(|b| {
            (
                b["Type"].clone(),
                b["Message"].clone(),
                b["Sequence"].clone(),
                b["ClientState"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (json!("Initiation"), json!("*152*00#"), json!(1), json!("")),
            (json!("Response"), json!("1"), json!(2), json!("root")),
            (json!("Release"), json!(""), json!(3), json!("maji")),
        ]
    );
    assert!(bodies
        .iter()
        .all(|b| b["Mobile"] == "255754123456" && b["Operator"] == "vodacom"));
    assert!(rig.received().iter().all(|r| r.authorization.is_none()));
    // The dialogue is over: another press finds nothing open.
    let body = json!({ "key": "1" });
    rig.call("/handsets/255754123456/press", body, StatusCode::CONFLICT)
        .await;
    assert_eq!(rig.stats().await["ended"]["hangup"], 1);
}

#[tokio::test]
async fn failed_hops_end_the_dialogue_and_say_why() {
    const SLOW: Duration = Duration::from_secs(5);
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_url = format!("http://{}/ussd/telco", closed.local_addr().unwrap());
    drop(closed);
    // (the gateway's reply, or None for a closed port; drop rate; error kind; callback_errors)
    #[rustfmt::skip]
    let cases: Vec<(Option<Reply>, f64, &str, Value)> = vec![
        (Some((500, "oops", NOW)), 0.0, "gateway_status", json!({"500": 1})),
        (Some((401, "", NOW)), 0.0, "gateway_status", json!({"401": 1})),
        (Some((200, "Karibu", NOW)), 0.0, "bad_reply", json!({"bad_reply": 1})),
        (Some((200, "CON Karibu", SLOW)), 0.0, "reply_timeout", json!({"timeout": 1})),
        (Some((200, "CON Karibu", NOW)), 1.0, "dropped", json!({})),
        (None, 0.0, "unreachable", json!({"unreachable": 1})),
    ];
    for (reply, drop_rate, kind, errors) in cases {
        let rig = Rig::start(Format::AfricasTalking, reply.as_slice(), |s| {
            s.drop_rate = drop_rate;
            s.reply_timeout = Duration::from_millis(300);
            if reply.is_none() {
                s.gateway_url = closed_url.clone();
            }
        })
        .await;
        let answer = rig.dial("*152*00#").await;
        assert_eq!(answer["ends"], true, "{kind}");
        assert_eq!(answer["error"]["kind"], kind);
        let status = reply.filter(|_| kind == "gateway_status").map(|r| r.0);
        assert_eq!(answer["error"]["status"], json!(status), "{kind}");
        assert_eq!(rig.stats().await["callback_errors"], errors, "{kind}");
        if reply.is_some() {
            // The hop reached the gateway; then Africa's Talking reports the failure.
            let received = rig.received();
            let notice = &received.last().unwrap().body;
            assert_eq!(notice["status"], "Failed", "{kind}");
            assert_ne!(notice["errorMessage"], "", "{kind}");
        }
    }
}

#[tokio::test]
async fn without_end_notices_nothing_follows_the_last_hop() {
    let replies = [(200, "END Asante", NOW)];
    let rig = Rig::start(Format::AfricasTalking, &replies, |s| s.end_notices = false).await;
    assert_eq!(rig.dial("*152*00#").await["ends"], true);
    assert_eq!(rig.received().len(), 1);
    assert_eq!(rig.stats().await["notices_sent"], 0);
}

#[tokio::test]
async fn requests_no_handset_could_make_are_refused() {
    let rig = Rig::start(Format::Hubtel, &[], |_| {}).await;
    let (bad, conflict) = (StatusCode::BAD_REQUEST, StatusCode::CONFLICT);
    #[rustfmt::skip]
    let cases = [
        ("/handsets/0754/dial", json!({"code": "*152*00#"}), bad, "bad_request"),
        ("/handsets/255754123456/dial", json!({"code": "152"}), bad, "bad_request"),
        ("/handsets/255754123456/dial", json!({}), bad, "bad_request"),
        ("/handsets/255754123456/press", json!({"key": "a"}), bad, "bad_request"),
        ("/handsets/255754123456/press", json!({"key": "1"}), conflict, "no_session"),
        ("/handsets/255754123456/hangup", json!({}), conflict, "no_session"),
    ];
    for (path, body, want, code) in cases {
        assert_eq!(rig.call(path, body, want).await["error"], code, "{path}");
    }
    assert!(rig.received().is_empty());
    let health = rig.http.get(format!("{}/healthz", rig.url)).send().await;
    assert_eq!(health.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn chaos_duplicates_each_hop_and_reports_answers_that_differ() {
    let replies = [
        (200, "CON Karibu"),
        (200, "CON Karibu"),
        (200, "END Namba 991"),
        (200, "END Namba 992"),
    ]
    .map(|(status, body)| (status, body, NOW));
    let rig = Rig::start(Format::AfricasTalking, &replies, |s| {
        s.chaos = "duplicate=1".parse().unwrap();
        s.end_notices = false;
    })
    .await;
    let first = rig.dial("*152*00#").await;
    assert_eq!(first["screen"], "Karibu");
    assert_eq!(
        first["chaos"],
        json!({"behaviour": "duplicate", "abandoned": false, "violation": null, "detail": null})
    );
    let last = rig.press("1").await;
    assert_eq!(
        last["screen"], "Namba 991",
        "the handset sees the first answer"
    );
    assert_eq!(last["chaos"]["violation"], "duplicate_mismatch");
    assert!(last["chaos"]["detail"]
        .as_str()
        .unwrap()
        .contains("Namba 992"));

    let texts: Vec<Value> = rig
        .received()
        .into_iter()
        .map(|r| r.body["text"].clone())
        .collect();
    assert_eq!(texts, [json!(""), json!(""), json!("1"), json!("1")]);
    let stats = rig.stats().await;
    assert_eq!(stats["hops"], 4, "copies are hops sent");
    assert_eq!(stats["chaos"]["events"]["duplicate"], 2);
    assert_eq!(stats["chaos"]["violations"]["duplicate_mismatch"], 1);
    assert_eq!(stats["chaos"]["violations_total"], 1);
    let sample = stats["chaos"]["samples"][0].as_str().unwrap();
    assert!(
        sample.starts_with("duplicate_mismatch in session ATUid_"),
        "{sample}"
    );
}

#[tokio::test]
async fn chaos_replays_an_older_hubtel_sequence_and_expects_the_current_screen() {
    let response = |message: &str| -> &'static str {
        Box::leak(
            format!(r#"{{"Type":"Response","Message":"{message}","ClientState":""}}"#)
                .into_boxed_str(),
        )
    };
    let replies = [
        response("Karibu"),
        response("Maji"),
        response("Karibu"),
        response("Akaunti"),
        response("Akaunti"),
    ]
    .map(|body| (200, body, NOW));
    let rig = Rig::start(Format::Hubtel, &replies, |s| {
        s.chaos = "replay=1".parse().unwrap();
        s.chaos_seed = Some(3);
        s.end_notices = false;
    })
    .await;
    let dial = rig.dial("*152*00#").await;
    assert!(
        dial.get("chaos").is_none(),
        "the dial has nothing older to replay"
    );
    let maji = rig.press("1").await;
    assert_eq!(maji["screen"], "Maji");
    assert_eq!(maji["chaos"]["behaviour"], "replay");
    assert_eq!(
        maji["chaos"]["violation"], "replay_mismatch",
        "the Initiation came back with the first screen"
    );
    let account = rig.press("2").await;
    assert_eq!(account["chaos"]["violation"], Value::Null);

    let sent: Vec<(Value, Value)> = rig
        .received()
        .into_iter()
        .map(|r| (r.body["Type"].clone(), r.body["Sequence"].clone()))
        .collect();
    assert_eq!(
        sent[..3],
        [
            (json!("Initiation"), json!(1)),
            (json!("Response"), json!(2)),
            (json!("Initiation"), json!(1)),
        ]
    );
    assert_eq!(sent[3], (json!("Response"), json!(3)));
    assert!(
        sent[4].1.as_u64().unwrap() < 3,
        "an older Sequence: {:?}",
        sent[4]
    );
    assert_eq!(rig.stats().await["chaos"]["events"]["replay"], 2);
}
