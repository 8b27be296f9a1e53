//! A gateway killed (`kill -9`) while it dispatches loses no accepted message: started again,
//! it sends what was queued, the claims the dead process held lapse and are sent, and every
//! message reaches one final status. What may be sent twice is only what the dead process had
//! handed to the telco and not yet recorded.

use super::world::final_count;
use crate::support::gateway::production_world;
use crate::support::process::GatewayProcess;
use mgov::agencies::keys::issue;
use mgov::db::Db;
use mgov::ids::{AgencyId, TelcoId};
use mgov::telcos::SmsLink;
use mgov_simulators::telco::{self as simulator, Credentials};
use serde_json::json;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

const MESSAGES: i64 = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_mid_dispatch_loses_no_message() {
    let world = production_world(Default::default()).await;
    // The same address before and after the crash, so that reports find the new process.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let (user, secret) = world.credentials["africastalking"].clone();
    let (addr, _simulator) = simulator::spawn(simulator::Settings {
        at_credentials: Some(Credentials::new("mgov", "send-secret")),
        at_report_url: Some(format!("{base}/sms/africastalking/dlr")),
        at_report_credentials: Some(Credentials::new(user, secret)),
        // Reports refused while the gateway is down are tried again, as telcos do.
        report_attempts: 8,
        ..Default::default()
    })
    .await
    .unwrap();
    let db = Db::connect(&world.database_url).await.unwrap();
    let telco = TelcoId::parse("africastalking").unwrap();
    let mut at = mgov::telcos::store::get_telco(&db, &telco)
        .await
        .unwrap()
        .unwrap();
    at.sms = Some(SmsLink {
        url: format!("http://{addr}/version1/messaging"),
        username: "mgov".into(),
        secret: "send-secret".into(),
        // Slow enough that the kill lands with messages queued, claimed and in flight.
        parts_per_second: NonZeroU32::new(400).unwrap(),
        prefixes: vec![],
        default_route: true,
    });
    mgov::telcos::store::upsert_telco(&db, &at).await.unwrap();
    let key = issue(&db, &AgencyId::parse("dawasa").unwrap())
        .await
        .unwrap()
        .0;
    let settings = [
        ("MGOV_LISTEN", format!("127.0.0.1:{port}")),
        ("MGOV_SMS__CLAIM_LEASE_MS", "3000".to_string()),
    ];
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway = GatewayProcess::start(&world, &settings);

    let http = reqwest::Client::new();
    for request in 0..2 {
        let to: Vec<String> = (0..1000)
            .map(|i| format!("2556880{request}{i:04}"))
            .collect();
        let answer = http
            .post(format!("{}/v1/messages", gateway.base_url))
            .bearer_auth(&key)
            .json(&json!({"to": to, "text": format!("Taarifa {request}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202);
    }
    // Kill it once some messages are final and most are not.
    until(&db, |finals| finals >= 200).await;
    gateway.kill_hard();
    let at_kill = final_count(&db).await;
    assert!(
        at_kill < MESSAGES,
        "killed too late to prove anything ({at_kill} final)"
    );

    let again = GatewayProcess::start(&world, &settings);
    until(&db, |finals| finals >= MESSAGES).await;
    assert_eq!(final_count(&db).await, MESSAGES);
    let stats: serde_json::Value = reqwest::get(format!("http://{addr}/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats["unique_messages"], MESSAGES,
        "every message reached the telco: {stats}"
    );
    // Sent twice only if the dead process had handed it over and not recorded it: claimed
    // again after its lease, so attempted at least twice.
    let reclaimed: i64 = match &db {
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE attempts > 1")
                .fetch_one(pool)
                .await
                .unwrap()
        }
        Db::Sqlite(_) => unreachable!("the production world is on Postgres"),
    };
    let duplicates = stats["duplicates"].as_i64().unwrap();
    assert!(
        duplicates <= reclaimed,
        "{duplicates} duplicates but {reclaimed} reclaimed: {stats}"
    );
    assert!(again.terminate(), "the restarted gateway stops cleanly");
    db.close().await;
    world.clean_up().await;
}

/// Waits until the count of final messages satisfies `done`; the bound turns a hang into a
/// failure.
async fn until(db: &Db, done: impl Fn(i64) -> bool) {
    let started = Instant::now();
    loop {
        let finals = final_count(db).await;
        if done(finals) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "stuck at {finals} final messages"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
