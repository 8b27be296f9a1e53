//! An SMS goes out through the telco that carried the number's last dialogue, whatever its
//! prefix says (numbers move between operators); a number never seen goes by its prefix.

use super::world::{sms_world, Backends};
use mgov::db::carriers::last_carriers;
use mgov::telcos::WireFormat;
use mgov_simulators::telco::Settings;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production() {
    an_sms_follows_the_numbers_last_dialogue(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded() {
    an_sms_follows_the_numbers_last_dialogue(Backends::Embedded).await;
}

async fn an_sms_follows_the_numbers_last_dialogue(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |_| {}).await;
    let db = &world.gw.running.gateway.db;
    // Both carry Vodacom's prefix, which routes to the `kannel` telco; the first dials in
    // through Africa's Talking.
    let (ported, never_seen) = ("255754000101", "255754000102");
    let mut phone = world.gw.phone(WireFormat::AfricasTalking, ported);
    phone.dial("*152*00*1*1#").await.unwrap();
    phone.press("12345678").await.unwrap();
    let end = phone.press("1").await.unwrap();
    assert!(end.ends, "the payment screen ends the dialogue: {end:?}");
    // The dialogue's record is written in the background; the bound turns a hang into a failure.
    let started = std::time::Instant::now();
    while last_carriers(db, &[ported]).await.unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no carrier recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (status, answer) = world
        .send(
            &world.dawasa,
            json!({"to": [ported, never_seen], "text": "Malipo yamepokelewa"}),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    world.until_final(2).await;
    assert_eq!(
        carried_by(db).await,
        BTreeMap::from([
            (ported.to_string(), "africastalking".to_string()),
            (never_seen.to_string(), "kannel".to_string()),
        ])
    );
    let stats = world.simulator_stats().await;
    assert_eq!(stats["unique_messages"], 2, "{stats}");
    world.stop().await;
}

/// The telco each message went out through, by recipient.
async fn carried_by(db: &mgov::db::Db) -> BTreeMap<String, String> {
    let sql = "SELECT recipient, telco_id FROM messages";
    let rows: Vec<(String, String)> = match db {
        mgov::db::Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        mgov::db::Db::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    };
    rows.into_iter().collect()
}
