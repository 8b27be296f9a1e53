//! `mgov telcos …` changes reach a running gateway within a second: announced with NOTIFY
//! on Postgres, re-read every second on the embedded default's SQLite file.

use crate::support::gateway::{embedded, production, TestGateway};
use mgov::ids::TelcoId;
use mgov::telcos::store::{get_telco, upsert_telco};
use reqwest::StatusCode;
use std::time::Duration;

/// Generous: the change is taken in within about a second; this only stops a broken build
/// from hanging (the periodic re-read every 30 s would miss it).
const TAKEN_IN_WITHIN: Duration = Duration::from_secs(10);

fn dial(session: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sessionId", session.to_string()),
        ("serviceCode", "*152*00#".into()),
        ("phoneNumber", "+255754000222".into()),
        ("networkCode", "63902".into()),
        ("text", String::new()),
    ]
}

/// Restricts the telco to `cidr` the way `mgov telcos update --allow` does: through its own
/// connection to the database, as another process would.
async fn allow_only(gw: &TestGateway, cidr: &str) {
    let db = &gw.running.gateway.db;
    let id = TelcoId::parse("africastalking").unwrap();
    let mut telco = get_telco(db, &id).await.unwrap().unwrap();
    telco.allowed_networks = vec![cidr.parse().unwrap()];
    let mut reloads = gw.running.gateway.telcos.reloads();
    upsert_telco(db, &telco).await.unwrap();
    tokio::time::timeout(TAKEN_IN_WITHIN, async {
        loop {
            reloads.changed().await.unwrap();
            let live = gw.running.gateway.telcos.get(&id).unwrap();
            if live.allowed_networks == telco.allowed_networks {
                return;
            }
        }
    })
    .await
    .expect("the running gateway took in the telco's change");
}

async fn post(gw: &TestGateway, session: &str) -> reqwest::Response {
    let mut request = gw.http.post(gw.url("/ussd/africastalking"));
    if let Some((user, secret)) = gw.credentials.get("africastalking") {
        request = request.basic_auth(user, Some(secret));
    }
    request.form(&dial(session)).send().await.unwrap()
}

async fn changes_take_effect_on_a_running_gateway(gw: TestGateway) {
    assert_eq!(post(&gw, "dir-1").await.status(), StatusCode::OK);

    allow_only(&gw, "10.0.0.0/8").await;
    let refused = post(&gw, "dir-2").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let why: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(
        why["message"],
        "peer 127.0.0.1 is outside telco africastalking's allowed networks (`mgov telcos update africastalking --allow <cidr>`)"
    );

    allow_only(&gw, "127.0.0.1/32").await;
    let admitted = post(&gw, "dir-3").await;
    assert_eq!(admitted.status(), StatusCode::OK);
    assert!(admitted.text().await.unwrap().starts_with("CON "));
    gw.stop().await;
}

#[tokio::test]
async fn telco_changes_reach_a_postgres_node_by_notify() {
    changes_take_effect_on_a_running_gateway(production().await).await;
}

#[tokio::test]
async fn telco_changes_reach_the_embedded_default() {
    changes_take_effect_on_a_running_gateway(embedded().await).await;
}
