//! Subscriptions and broadcasts: citizens join an agency's topic by SMS in their language, a
//! broadcast reaches each subscriber once in that language, and a STOP that comes after the
//! broadcast was queued still holds its message back, as it holds back an agency's direct
//! send. The node under test runs no dispatcher of its own: the test drives sending, so that
//! "queued before the STOP, claimed after it" is certain, not a race.

use super::inbound::{api, count, deliver, routed};
use super::world::{sms_world, Backends, SmsWorld};
use mgov_simulators::telco::Settings;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_stop_holds_back_a_queued_broadcast() {
    stop_holds_back_a_queued_broadcast(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_stop_holds_back_a_queued_broadcast() {
    stop_holds_back_a_queued_broadcast(Backends::Embedded).await;
}

/// Sends everything due, as a dispatcher would, until nothing is left.
async fn drain(world: &SmsWorld) {
    let gateway = &world.gw.running.gateway;
    while mgov::sms::dispatch::dispatch_once(gateway).await.unwrap() > 0 {}
}

/// What `to` received of the first broadcast.
async fn broadcast_text(world: &SmsWorld, to: &str) -> Vec<(Option<String>, String)> {
    let received = world.handset(to).await.into_iter();
    received
        .filter(|(_, text)| text.contains("Jangwani"))
        .collect()
}

/// Waits until broadcast `id` has queued all its subscribers; its progress then.
async fn queued(world: &SmsWorld, id: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let (status, progress) = world
            .get(&world.dawasa, &format!("/v1/broadcasts/{id}"))
            .await;
        assert_eq!(status, 200, "{progress}");
        if progress["status"] != "queued" {
            return progress;
        }
        // The bound only turns a hang into a failure.
        assert!(started.elapsed() < Duration::from_secs(60), "{progress}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn stop_holds_back_a_queued_broadcast(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |config| {
        config.sms.dispatchers = 0;
    })
    .await;
    let db = &world.gw.running.gateway.db;
    let base = world.gw.url("");
    let base = base.trim_end_matches('/');

    // The agency offers a topic; names are unique, reserved words refused, others' hidden.
    let topic = json!({"name": "mafuriko", "description": {"sw": "Tahadhari za mafuriko", "en": "Flood alerts"}});
    let (status, created) = api(
        &world,
        &world.dawasa,
        Method::POST,
        "/v1/topics",
        Some(topic.clone()),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "MAFURIKO");
    let topic_id = created["id"].as_str().unwrap().to_string();
    let (status, _) = api(&world, &world.rita, Method::POST, "/v1/topics", Some(topic)).await;
    assert_eq!(status, 409, "the name is taken on the gateway");
    let (status, refused) = api(
        &world,
        &world.rita,
        Method::POST,
        "/v1/topics",
        Some(json!({"name": "STOP", "description": {"sw": "x"}})),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    for (method, path) in [
        (Method::GET, format!("/v1/topics/{topic_id}")),
        (Method::DELETE, format!("/v1/topics/{topic_id}")),
        (Method::GET, format!("/v1/topics/{topic_id}/subscribers")),
    ] {
        let (status, _) = api(&world, &world.rita, method.clone(), &path, None).await;
        assert_eq!(status, 404, "{method} {path} as another agency");
    }

    // Citizens join by SMS: in Swahili with JIUNGE, in English with SUBSCRIBE.
    let texts = [
        ("j-1", "255754000601", "JIUNGE mafuriko"),
        ("j-2", "255754000602", "subscribe Mafuriko"),
        ("j-3", "255754000603", "jiunge MAFURIKO"),
        ("j-4", "255754000604", "JIUNGE MAFURIKO"),
        ("j-5", "255754000605", "STOP"),
        ("j-6", "255754000606", "JIUNGE"),
        ("j-7", "255754000607", "JIUNGE MAJIMAJI"),
    ];
    for (id, from, text) in texts {
        assert_eq!(deliver(&world, base, id, from, "15200", text).await, 200);
    }
    // The telco delivers one twice: it is stored and acted on once.
    assert_eq!(
        deliver(
            &world,
            base,
            "j-1",
            "255754000601",
            "15200",
            "JIUNGE mafuriko"
        )
        .await,
        200
    );
    let done = routed(db, texts.len() as i64).await;
    let reply = |id: &str| done[id].2.clone().unwrap_or_default();
    assert_eq!(done["j-1"].0, "subscribed");
    assert_eq!(
        reply("j-1"),
        "Umejiunga na MAFURIKO: Tahadhari za mafuriko. Tuma STOP MAFURIKO kujiondoa."
    );
    assert_eq!(
        reply("j-2"),
        "You are subscribed to MAFURIKO: Flood alerts. Send STOP MAFURIKO to leave."
    );
    assert_eq!(done["j-5"].0, "stopped");
    assert_eq!(
        (done["j-6"].0.as_str(), reply("j-6").as_str()),
        (
            "help",
            "Tuma JIUNGE <mada>:\nMAFURIKO - Tahadhari za mafuriko"
        )
    );
    assert!(
        reply("j-7").starts_with("Hatujui mada \"MAJIMAJI\"."),
        "{}",
        reply("j-7")
    );
    let (_, page) = world
        .get(&world.dawasa, &format!("/v1/topics/{topic_id}/subscribers"))
        .await;
    let numbers: Vec<&str> = page["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["msisdn"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [
            "+255754000601",
            "+255754000602",
            "+255754000603",
            "+255754000604"
        ]
    );
    assert_eq!(page["subscribers"][1]["language"], "en");

    // The estimate counts subscribers and parts by language, sending nothing.
    let broadcast = json!({"topic": "MAFURIKO", "from": "DAWASA", "text": {
        "sw": "Tahadhari: mvua kubwa leo usiku. Epuka mabonde ya Jangwani.",
        "en": "Warning: heavy rain tonight. Keep away from the Jangwani valley."}});
    let (status, estimate) = api(
        &world,
        &world.dawasa,
        Method::POST,
        "/v1/broadcasts/estimate",
        Some(broadcast.clone()),
    )
    .await;
    assert_eq!(status, 200, "{estimate}");
    assert_eq!(
        (estimate["recipients"].as_i64(), estimate["parts"].as_i64()),
        (Some(4), Some(4))
    );
    assert_eq!(estimate["by_language"]["en"]["recipients"], 1);
    let (status, _) = api(
        &world,
        &world.rita,
        Method::POST,
        "/v1/broadcasts",
        Some(broadcast.clone()),
    )
    .await;
    assert_eq!(
        status, 422,
        "another agency's topic is not theirs to broadcast to"
    );

    // Sent twice with one key: one broadcast.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = world
            .gw
            .http
            .post(world.gw.url("/v1/broadcasts"))
            .bearer_auth(&world.dawasa)
            .header("Idempotency-Key", "flood-2026-11-30")
            .json(&broadcast)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
        ids.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids[0], ids[1]);
    let id = ids[0].clone();
    assert_eq!(count(db, "SELECT COUNT(*) FROM broadcasts").await, 1);
    let progress = queued(&world, &id).await;
    assert_eq!(progress["counts"]["queued"], 4, "{progress}");

    // Queued, not yet sent: one subscriber sends STOP, another leaves the topic.
    assert_eq!(
        deliver(&world, base, "s-3", "255754000603", "15200", "stop").await,
        200
    );
    assert_eq!(
        deliver(
            &world,
            base,
            "s-4",
            "255754000604",
            "15200",
            "STOP MAFURIKO"
        )
        .await,
        200
    );
    let done = routed(db, texts.len() as i64 + 2).await;
    assert_eq!(done["s-4"].0, "unsubscribed");
    // The agency writes to a number that sent STOP: accepted, never sent.
    let (status, sent) = world
        .send(
            &world.dawasa,
            json!({"to": ["+255754000605"], "text": "Bili yako iko tayari"}),
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    drain(&world).await;

    assert_eq!(
        broadcast_text(&world, "255754000601").await,
        [(
            Some("DAWASA".to_string()),
            "Tahadhari: mvua kubwa leo usiku. Epuka mabonde ya Jangwani.".to_string()
        )]
    );
    assert_eq!(broadcast_text(&world, "255754000602").await.len(), 1);
    assert!(broadcast_text(&world, "255754000602").await[0]
        .1
        .starts_with("Warning"));
    assert!(
        broadcast_text(&world, "255754000603").await.is_empty(),
        "STOP after the broadcast was queued"
    );
    assert!(
        broadcast_text(&world, "255754000604").await.is_empty(),
        "left the topic"
    );
    let to_605 = world.handset("255754000605").await;
    assert_eq!(to_605.len(), 1, "only the STOP confirmation: {to_605:?}");
    assert!(to_605[0].1.starts_with("Umejiondoa"), "{to_605:?}");
    // The STOP confirmations themselves were sent.
    assert!(world
        .handset("255754000603")
        .await
        .iter()
        .any(|(_, t)| t.starts_with("Umejiondoa")));

    let (_, progress) = world
        .get(&world.dawasa, &format!("/v1/broadcasts/{id}"))
        .await;
    assert_eq!(progress["counts"]["cancelled"], 2, "{progress}");
    let message = sent["messages"][0]["id"].as_str().unwrap();
    let (_, direct) = world
        .get(&world.dawasa, &format!("/v1/messages/{message}"))
        .await;
    assert_eq!(direct["status"], "cancelled", "{direct}");

    // A second broadcast, cancelled before it is sent: nothing of it goes out.
    let (status, second) = api(
        &world,
        &world.dawasa,
        Method::POST,
        "/v1/broadcasts",
        Some(json!({"topic": topic_id, "text": {"sw": "Tahadhari ya pili: Msimbazi."}})),
    )
    .await;
    assert_eq!(status, 202, "{second}");
    let second = second["id"].as_str().unwrap().to_string();
    queued(&world, &second).await;
    let (status, _) = api(
        &world,
        &world.rita,
        Method::POST,
        &format!("/v1/broadcasts/{second}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, cancelled) = api(
        &world,
        &world.dawasa,
        Method::POST,
        &format!("/v1/broadcasts/{second}/cancel"),
        None,
    )
    .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled")),
        "{cancelled}"
    );
    assert_eq!(
        cancelled["counts"]["cancelled"], 2,
        "the two numbers still subscribed: {cancelled}"
    );
    drain(&world).await;
    let seen: usize = world
        .handset("255754000601")
        .await
        .iter()
        .filter(|(_, t)| t.contains("Msimbazi"))
        .count();
    assert_eq!(seen, 0);

    // Joining again lifts a STOP.
    assert_eq!(
        deliver(
            &world,
            base,
            "r-5",
            "255754000605",
            "15200",
            "JIUNGE MAFURIKO"
        )
        .await,
        200
    );
    routed(db, texts.len() as i64 + 3).await;
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM opt_outs WHERE msisdn = '255754000605'"
        )
        .await,
        0
    );
    world.stop().await;
}
