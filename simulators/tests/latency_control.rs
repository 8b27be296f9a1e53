//! `/admin/latency` over real HTTP: a drill slows the back office down for a while.

use mgov_simulators::backoffice::{self, Settings};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn start() -> String {
    let (address, _server) = backoffice::spawn(Settings::default())
        .await
        .expect("simulator starts");
    format!("http://{address}/admin/latency")
}

#[tokio::test]
async fn latency_is_replaced_for_a_while_and_restored() {
    let url = start().await;
    let client = reqwest::Client::new();

    let response = client
        .post(&url)
        .json(&json!({ "latency": "6s", "for": "10s" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let now: Value = response.json().await.unwrap();
    assert_eq!(now["latency"], "6s");
    let remaining = now["remaining_ms"].as_u64().expect("a timed replacement");
    assert!((9_000..=10_000).contains(&remaining), "{now}");

    let response = client.delete(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let now: Value = response.json().await.unwrap();
    assert_eq!(now, json!({ "latency": "0s", "remaining_ms": null }));
}

#[tokio::test]
async fn bad_latencies_are_refused() {
    let url = start().await;
    let client = reqwest::Client::new();
    for (body, code) in [
        (json!({ "latency": "fast" }), "bad_latency"),
        (json!({ "latency": "6s", "for": "ever" }), "bad_duration"),
    ] {
        let response = client.post(&url).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], code, "{body}");
    }
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let now: Value = response.json().await.unwrap();
    assert_eq!(now["latency"], "0s", "nothing changed");
}
