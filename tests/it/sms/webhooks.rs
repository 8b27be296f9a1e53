//! Status webhooks to agencies: signed with the agency's secret, retried until acknowledged,
//! each attempt shown with the message.

use super::world::{sms_world, Backends};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use mgov::backoffice::signature;
use mgov::ids::AgencyId;
use mgov_simulators::telco::Settings;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_webhooks_are_signed_and_retried_until_acknowledged() {
    webhooks_are_signed_and_retried_until_acknowledged(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_webhooks_are_signed_and_retried_until_acknowledged() {
    webhooks_are_signed_and_retried_until_acknowledged(Backends::Embedded).await;
}

/// Refuses each webhook's first two attempts with a 500, then acknowledges it; sends every
/// acknowledged body down the channel with whether its signature was good.
async fn receiver(secret: String) -> (String, mpsc::UnboundedReceiver<(serde_json::Value, bool)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen: Arc<Mutex<HashMap<String, u32>>> = Default::default();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (tx, seen, secret) = (tx.clone(), seen.clone(), secret.clone());
            async move {
                let id = headers["mgov-webhook-id"].to_str().unwrap().to_string();
                let attempt = {
                    let mut seen = seen.lock().unwrap();
                    let count = seen.entry(id).or_default();
                    *count += 1;
                    *count
                };
                if attempt < 3 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let header = headers[signature::HEADER].to_str().unwrap();
                let now = chrono::Utc::now().timestamp();
                let signed = signature::verify(secret.as_bytes(), header, &body, now).is_ok();
                let _ = tx.send((serde_json::from_slice(&body).unwrap(), signed));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn webhooks_are_signed_and_retried_until_acknowledged(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |config| {
        config.sms.webhook_first_retry_ms = 20;
    })
    .await;
    let db = &world.gw.running.gateway.db;
    let dawasa = AgencyId::parse("dawasa").unwrap();
    let secret = mgov::agencies::store::get_agency(db, &dawasa)
        .await
        .unwrap()
        .unwrap()
        .signing_secret;
    let (url, mut acknowledged) = receiver(secret).await;
    let (status, answer) = world
        .send(
            &world.dawasa,
            json!({"to": ["255754000001", "255688000002", "255713000003"], "text": "Risiti RC-2291", "callback_url": url}),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let mut told = HashMap::new();
    while told.len() < 3 {
        let (body, signed) = acknowledged.recv().await.unwrap();
        assert!(signed, "{body}");
        assert_eq!(body["type"], "message.status");
        assert_eq!(body["status"], "delivered");
        told.insert(body["message_id"].as_str().unwrap().to_string(), body);
    }
    for message in answer["messages"].as_array().unwrap() {
        let id = message["id"].as_str().unwrap();
        let body = &told[id];
        assert_eq!(body["recipient"], message["to"]);
        // The receiver has answered; the gateway records that answer just after.
        let started = std::time::Instant::now();
        let detail = loop {
            let (status, detail) = world
                .get(&world.dawasa, &format!("/v1/messages/{id}"))
                .await;
            assert_eq!(status, 200);
            if detail["webhook_status"] != "pending" {
                break detail;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{detail}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let statuses: Vec<_> = detail["webhook_attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["http_status"].clone())
            .collect();
        assert_eq!(statuses, [json!(500), json!(500), json!(204)], "{detail}");
        assert_eq!(detail["webhook_status"], "delivered", "{detail}");
    }
    world.stop().await;
}
