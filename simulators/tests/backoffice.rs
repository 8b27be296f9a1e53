//! The back-office simulator over real HTTP: each test spawns its own instance on a free port.

use std::time::{SystemTime, UNIX_EPOCH};

use mgov_simulators::backoffice::{self, signature, Settings};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "test-agency-secret";

struct Simulator {
    url: String,
    client: reqwest::Client,
    secret: Option<String>,
}

impl Simulator {
    async fn start(settings: Settings) -> Simulator {
        let secret = settings.secret.clone();
        let (address, _server) = backoffice::spawn(settings).await.expect("simulator starts");
        Simulator {
            url: format!("http://{address}"),
            client: reqwest::Client::new(),
            secret,
        }
    }

    async fn signed() -> Simulator {
        Simulator::start(Settings {
            secret: Some(SECRET.to_owned()),
            ..Settings::default()
        })
        .await
    }

    /// Posts `body` signed with the simulator's secret (if any), as the gateway would.
    async fn call(&self, body: &Value) -> (StatusCode, String) {
        let body = serde_json::to_vec(body).unwrap();
        let header = self
            .secret
            .as_ref()
            .map(|secret| signature::header_value(secret.as_bytes(), unix_now(), &body));
        self.post(body, header).await
    }

    async fn post(&self, body: Vec<u8>, signature_header: Option<String>) -> (StatusCode, String) {
        let mut request = self
            .client
            .post(format!("{}/", self.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(header) = signature_header {
            request = request.header(signature::HEADER, header);
        }
        let response = request.send().await.expect("request reaches the simulator");
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    async fn stats(&self) -> Value {
        let response = self
            .client
            .get(format!("{}/stats", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn envelope(request_id: &str, action: &str, params: Value) -> Value {
    json!({
        "request_id": request_id,
        "action": action,
        "msisdn": "255754123456",
        "language": "sw",
        "params": params,
    })
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"))
}

#[tokio::test]
async fn healthz_answers_ok() {
    let simulator = Simulator::signed().await;
    let response = reqwest::get(format!("{}/healthz", simulator.url))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

#[tokio::test]
async fn bills_fetch_answers_ok_not_found_and_rejected() {
    let simulator = Simulator::signed().await;

    let request = envelope("tx_1", "bills.fetch", json!({"account": "12345678"}));
    let (status, body) = simulator.call(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply = parse(&body);
    assert_eq!(reply["status"], "ok");
    let bill = &reply["data"]["bills"][0];
    assert_eq!(bill["bill_id"], "BL12345678");
    assert_eq!(bill["amount"], "53000.00");
    assert_eq!(bill["currency"], "TZS");
    assert_eq!(reply["data"]["customer_name"], "Salim Abdallah");

    let request = envelope("tx_2", "bills.fetch", json!({"account": "01234567"}));
    let (status, body) = simulator.call(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(parse(&body)["status"], "not_found");
    assert!(parse(&body)["message"].is_string());

    let request = envelope("tx_3", "bills.fetch", json!({"account": "123"}));
    let (status, body) = simulator.call(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(parse(&body)["status"], "rejected");
}

#[tokio::test]
async fn malformed_json_and_unknown_actions_are_400() {
    let simulator = Simulator::start(Settings::default()).await;

    let (status, body) = simulator.post(b"{not json".to_vec(), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(parse(&body)["error"], "bad_request");

    let request = envelope("tx_1", "bills.pay", json!({}));
    let (status, body) = simulator.call(&request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(parse(&body)["error"], "unknown_action");
    assert!(parse(&body)["message"]
        .as_str()
        .unwrap()
        .contains("bills.fetch"));

    assert_eq!(simulator.stats().await["bad_requests"], 2);
}

#[tokio::test]
async fn missing_bad_or_stale_signatures_are_401() {
    let simulator = Simulator::signed().await;
    let body = serde_json::to_vec(&envelope(
        "tx_1",
        "bills.fetch",
        json!({"account": "12345678"}),
    ))
    .unwrap();
    let now = unix_now();
    let cases = [
        None,
        Some("t=1,v1=zz".to_owned()),
        Some(signature::header_value(b"wrong-secret", now, &body)),
        Some(signature::header_value(SECRET.as_bytes(), now - 301, &body)),
        Some(signature::header_value(
            SECRET.as_bytes(),
            now,
            b"another body",
        )),
    ];
    for header in cases {
        let (status, reply) = simulator.post(body.clone(), header.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:?}: {reply}");
        let reply = parse(&reply);
        assert_eq!(reply["error"], "bad_signature");
        assert!(reply["message"].is_string());
    }
    let signed = signature::header_value(SECRET.as_bytes(), now, &body);
    let (status, reply) = simulator.post(body, Some(signed)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(simulator.stats().await["unauthorized"], 5);
}

#[tokio::test]
async fn failure_rate_one_always_answers_500() {
    let simulator = Simulator::start(Settings {
        failure_rate: 1.0,
        ..Settings::default()
    })
    .await;
    for attempt in 0..5 {
        let request = envelope(
            "tx_1",
            "payments.control_number",
            json!({"bill_id": "BL12345678", "amount": "53000.00"}),
        );
        let (status, body) = simulator.call(&request).await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "attempt {attempt}"
        );
        assert_eq!(parse(&body), json!({"error": "simulated failure"}));
    }
    let stats = simulator.stats().await;
    assert_eq!(stats["simulated_failures"], 5);
    assert_eq!(stats["answered"]["payments.control_number"], 0);
}

#[tokio::test]
async fn a_bill_keeps_its_control_number_whatever_the_request_id() {
    let simulator = Simulator::signed().await;
    let params = json!({"bill_id": "BL12345678", "amount": "53000.00"});
    let first = envelope("tx_a", "payments.control_number", params.clone());
    let (status, first_body) = simulator.call(&first).await;
    assert_eq!(status, StatusCode::OK, "{first_body}");
    let (status, retry_body) = simulator.call(&first).await;
    assert_eq!(status, StatusCode::OK, "{retry_body}");
    assert_eq!(
        first_body, retry_body,
        "a retry gets the byte-identical answer"
    );

    let data = &parse(&first_body)["data"];
    let number = data["control_number"].as_str().unwrap();
    assert_eq!(number.len(), 12);
    assert!(number.starts_with("99") && number.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(data["amount"], "53000.00");
    assert_eq!(data["status"], "ISSUED");

    let second = envelope("tx_b", "payments.control_number", params);
    let (status, second_body) = simulator.call(&second).await;
    assert_eq!(status, StatusCode::OK, "{second_body}");
    assert_eq!(
        parse(&second_body)["data"]["control_number"],
        number,
        "one unpaid bill has one control number"
    );

    let stats = simulator.stats().await;
    assert_eq!(stats["answered"]["payments.control_number"], 3);
    assert_eq!(stats["replayed"], 1);
}

#[tokio::test]
async fn bookings_and_submissions_are_idempotent_too() {
    let simulator = Simulator::signed().await;
    let slots = envelope("tx_s", "appointments.slots", json!({"office": "Kinondoni"}));
    let (status, body) = simulator.call(&slots).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let slot_id = parse(&body)["data"]["slots"][0]["slot_id"].clone();

    let book = envelope("tx_k", "appointments.book", json!({"slot_id": slot_id}));
    let (status, booked) = simulator.call(&book).await;
    assert_eq!(status, StatusCode::OK, "{booked}");
    assert_eq!(
        simulator.call(&book).await,
        (StatusCode::OK, booked.clone())
    );
    assert!(parse(&booked)["data"]["booking_ref"]
        .as_str()
        .unwrap()
        .starts_with("BK"));

    let submit = envelope(
        "tx_p",
        "applications.submit",
        json!({"service": "passport"}),
    );
    let (status, submitted) = simulator.call(&submit).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(
        simulator.call(&submit).await,
        (StatusCode::OK, submitted.clone())
    );
    let case_id = parse(&submitted)["data"]["case_id"].clone();

    let status_request = envelope("tx_c", "cases.status", json!({"case_id": case_id}));
    let (status, body) = simulator.call(&status_request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply = parse(&body);
    assert_eq!(reply["data"]["status"], "RECEIVED");
    assert_eq!(
        reply["data"]["status_text"],
        "Limepokelewa, linasubiri kukaguliwa."
    );
}

#[tokio::test]
async fn works_nested_under_the_gateways_path() {
    let app = axum::Router::new().nest(
        "/simulators/backoffice",
        backoffice::router(Settings::default()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();
    let base = format!("http://{address}/simulators/backoffice");

    let request = envelope("tx_1", "cases.status", json!({"case_id": "250417631"}));
    let response = client.post(&base).json(&request).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["data"]["status"], "NEEDS_DOCUMENTS");

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let stats = client.get(format!("{base}/stats")).send().await.unwrap();
    assert_eq!(stats.status(), StatusCode::OK);
    assert_eq!(
        stats.json::<Value>().await.unwrap()["answered"]["cases.status"],
        1
    );
}

/// `envelope` from another citizen.
fn from(msisdn: &str, mut envelope: Value) -> Value {
    envelope["msisdn"] = json!(msisdn);
    envelope
}

#[tokio::test]
async fn a_booked_slot_goes_to_the_first_number_even_against_retries() {
    let simulator = Simulator::signed().await;
    let slots = envelope("tx_s1", "appointments.slots", json!({"office": "Ilala"}));
    let listed = parse(&simulator.call(&slots).await.1)["data"]["slots"].clone();
    let slot_id = listed[0]["slot_id"].clone();

    let book = envelope("tx_k1", "appointments.book", json!({"slot_id": slot_id}));
    let (status, booked) = simulator.call(&book).await;
    assert_eq!(status, StatusCode::OK, "{booked}");
    let rival = from(
        "255754000002",
        envelope("tx_k2", "appointments.book", json!({"slot_id": slot_id})),
    );
    let (status, refused) = simulator.call(&rival).await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(parse(&refused)["status"], "rejected", "{refused}");
    // The first booking's retry still gets its booking, and the slot is offered to no one.
    assert_eq!(simulator.call(&book).await, (StatusCode::OK, booked));
    let again = envelope("tx_s2", "appointments.slots", json!({"office": "Ilala"}));
    let now_listed = parse(&simulator.call(&again).await.1)["data"]["slots"].clone();
    assert_eq!(
        now_listed.as_array().unwrap().len(),
        listed.as_array().unwrap().len() - 1
    );
    assert!(!now_listed
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["slot_id"] == slot_id));
}

#[tokio::test]
async fn poll_results_count_one_answer_per_number() {
    let simulator = Simulator::signed().await;
    let params = json!({"poll_id": "kinondoni-taka-2026", "service": "fair", "frequency": "daily"});
    let vote = envelope("tx_v1", "polls.answer", params.clone());
    let (status, first) = simulator.call(&vote).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        simulator.call(&vote).await,
        (StatusCode::OK, first),
        "a retry replays"
    );
    let second = simulator
        .call(&envelope("tx_v2", "polls.answer", params.clone()))
        .await;
    assert_eq!(parse(&second.1)["status"], "rejected", "{second:?}");
    let other = from("255754000002", envelope("tx_v3", "polls.answer", params));
    assert_eq!(parse(&simulator.call(&other).await.1)["status"], "ok");

    let results = |path: &str| {
        let request = simulator.client.get(format!("{}{path}", simulator.url));
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, tally) = results("/polls/kinondoni-taka-2026/results?language=sw").await;
    assert_eq!(status, StatusCode::OK, "{tally}");
    assert_eq!(tally["respondents"], 2);
    assert_eq!(
        tally["questions"][0]["choices"][1],
        json!({"id": "fair", "label": "Ya wastani", "count": 2})
    );
    let (status, unknown) = results("/polls/no-such-poll/results").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    assert_eq!(unknown["error"], "unknown_poll");
}
