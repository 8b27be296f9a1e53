//! Subscriptions and broadcasts: citizens join an agency's topic by SMS in their language, a
//! broadcast reaches each subscriber once in that language, and a STOP that comes after the
//! broadcast was queued still holds its message back, as it holds back an agency's direct
//! send. The node under test runs no dispatcher of its own: the test drives sending, so that
//! "queued before the STOP, claimed after it" is certain, not a race.

use super::inbound::{api, count, deliver, routed};
use super::world::{sms_world, Backends, SmsWorld};
use mgov::ids::AgencyId;
use mgov::sms::subscriptions::store::{save_topic, TopicWrite};
use mgov::sms::subscriptions::Topic;
use mgov::telcos::WireFormat;
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
    let topic = json!({"name": "mvua", "description": {"sw": "Tahadhari za mvua", "en": "Heavy rain alerts"}});
    let (status, created) = api(
        &world,
        &world.dawasa,
        Method::POST,
        "/v1/topics",
        Some(topic.clone()),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "MVUA");
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
        ("j-1", "255754000601", "JIUNGE mvua"),
        ("j-2", "255754000602", "subscribe Mvua"),
        ("j-3", "255754000603", "jiunge MVUA"),
        ("j-4", "255754000604", "JIUNGE MVUA"),
        ("j-5", "255754000605", "STOP"),
        ("j-6", "255754000606", "JIUNGE"),
        ("j-7", "255754000607", "JIUNGE MAJIMAJI"),
    ];
    for (id, from, text) in texts {
        assert_eq!(deliver(&world, base, id, from, "15200", text).await, 200);
    }
    // The telco delivers one twice: it is stored and acted on once.
    assert_eq!(
        deliver(&world, base, "j-1", "255754000601", "15200", "JIUNGE mvua").await,
        200
    );
    let done = routed(db, texts.len() as i64).await;
    let reply = |id: &str| done[id].2.clone().unwrap_or_default();
    assert_eq!(done["j-1"].0, "subscribed");
    assert_eq!(
        reply("j-1"),
        "Umejiunga na MVUA: Tahadhari za mvua. Tuma STOP MVUA kujiondoa."
    );
    assert_eq!(
        reply("j-2"),
        "You are subscribed to MVUA: Heavy rain alerts. Send STOP MVUA to leave."
    );
    assert_eq!(done["j-5"].0, "stopped");
    // The list holds every agency's topics (the embedded default has Kinondoni's MAFURIKO).
    assert_eq!(done["j-6"].0, "help");
    assert!(
        reply("j-6").starts_with("Tuma JIUNGE <mada>:\n"),
        "{}",
        reply("j-6")
    );
    assert!(
        reply("j-6").contains("\nMVUA - Tahadhari za mvua"),
        "{}",
        reply("j-6")
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
    let broadcast = json!({"topic": "MVUA", "from": "DAWASA", "text": {
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
        deliver(&world, base, "s-4", "255754000604", "15200", "STOP MVUA").await,
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
    // Nor by naming another citizen's message: only its sender is answered past a STOP.
    let mo = "SELECT id FROM inbound_messages WHERE telco_message_id = 'j-1'";
    let mo: String = match db {
        mgov::db::Db::Postgres(pool) => sqlx::query_scalar(mo).fetch_one(pool).await.unwrap(),
        mgov::db::Db::Sqlite(pool) => sqlx::query_scalar(mo).fetch_one(pool).await.unwrap(),
    };
    let (status, replied) = world
        .send(
            &world.dawasa,
            json!({"to": ["+255754000605", "+255754000601"], "in_reply_to": mo, "text": "Asante kwa kujiunga"}),
        )
        .await;
    assert_eq!(status, 202, "{replied}");
    drain(&world).await;
    let thanked = world.handset("255754000601").await;
    assert!(
        thanked.iter().any(|(_, t)| t == "Asante kwa kujiunga"),
        "{thanked:?}"
    );

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
        deliver(&world, base, "r-5", "255754000605", "15200", "JIUNGE MVUA").await,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_a_resident_subscribes_from_the_councils_menu() {
    a_resident_subscribes_from_the_councils_menu(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_a_resident_subscribes_from_the_councils_menu() {
    a_resident_subscribes_from_the_councils_menu(Backends::Embedded).await;
}

/// The demo's Kinondoni menu (`*152*00#`, 6) signs a number up for MAFURIKO, in the language
/// of the dialogue, once however often it is dialled, and off again.
async fn a_resident_subscribes_from_the_councils_menu(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |_| {}).await;
    let gateway = &world.gw.running.gateway;
    let db = &gateway.db;
    if let Backends::Production = backends {
        // The embedded default registers the demo topic itself; here the council does.
        let topic = Topic {
            id: "top_0000000000000DEMOMAFURIKO".into(),
            agency: AgencyId::parse("kinondoni").unwrap(),
            name: "MAFURIKO".into(),
            description: serde_json::from_value(json!({"sw": "Tahadhari za mafuriko (Kinondoni)", "en": "Flood alerts (Kinondoni)"})).unwrap(),
        };
        assert!(matches!(
            save_topic(db, &topic, false).await.unwrap(),
            TopicWrite::Done
        ));
        gateway.refresh_directories().await.unwrap();
    }
    let subscriptions = |number: &str| {
        format!("SELECT COUNT(*) FROM subscriptions WHERE msisdn = '{number}' AND channel = 'ussd'")
    };
    for _ in 0..2 {
        let mut phone = world.gw.phone(WireFormat::AfricasTalking, "255754000701");
        phone.dial("*152*00#").await.unwrap();
        phone.press("6").await.unwrap();
        let joined = phone.press("1").await.unwrap();
        assert!(joined.ends, "{joined:?}");
        assert_eq!(
            joined.text,
            "Umejiunga na Tahadhari za mafuriko (Kinondoni). Utapokea tahadhari kwa SMS. Kujiondoa tuma STOP MAFURIKO kwenda 15200."
        );
    }
    assert_eq!(
        count(db, &subscriptions("255754000701")).await,
        1,
        "dialled twice, subscribed once"
    );

    let mut phone = world.gw.phone(WireFormat::AfricasTalking, "255754000702");
    phone.dial("*152*00#").await.unwrap();
    phone.press("9").await.unwrap();
    phone.press("6").await.unwrap();
    let joined = phone.press("1").await.unwrap();
    assert!(
        joined
            .text
            .starts_with("You are subscribed to Flood alerts (Kinondoni)."),
        "{joined:?}"
    );
    let language = "SELECT language FROM subscriptions WHERE msisdn = '255754000702'";
    let language: String = match db {
        mgov::db::Db::Postgres(pool) => sqlx::query_scalar(language).fetch_one(pool).await.unwrap(),
        mgov::db::Db::Sqlite(pool) => sqlx::query_scalar(language).fetch_one(pool).await.unwrap(),
    };
    assert_eq!(language, "en", "broadcasts come in the dialogue's language");

    let mut phone = world.gw.phone(WireFormat::AfricasTalking, "255754000701");
    phone.dial("*152*00#").await.unwrap();
    phone.press("6").await.unwrap();
    let left = phone.press("2").await.unwrap();
    assert!(
        left.text
            .starts_with("Umejiondoa kwenye tahadhari za MAFURIKO."),
        "{left:?}"
    );
    assert_eq!(count(db, &subscriptions("255754000701")).await, 0);
    world.stop().await;
}
