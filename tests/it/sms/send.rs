//! Agencies sending SMS over HTTP, on Postgres + Redis and on the embedded default: ten
//! thousand numbers through the telco simulator, each reaching one final status with its part
//! count; another agency reading none of them; and every refusal with its reason.

use super::world::{final_count, sms_world, Backends};
use mgov::sms::encoding::part_count;
use mgov_simulators::telco::{OutcomeMix, Settings};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// One test per backend pair for each case.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod production {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backends::Production).await;
                }
            )*
        }
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backends::Embedded).await;
                }
            )*
        }
    };
}

on_both_backends!(
    ten_thousand_numbers_each_reach_one_final_status,
    reports_before_the_send_answer_and_repeated_reports_count_once,
    requests_are_refused_with_their_reason,
    an_idempotency_key_answers_a_repeat_and_refuses_another_body,
);

/// Vodacom numbers (Kannel) and others (Africa's Talking), `count` of them from `first`.
fn numbers(first: usize, count: usize) -> Vec<String> {
    (first..first + count)
        .map(|i| {
            let prefix = if i % 2 == 0 { "25575" } else { "25568" };
            format!("{prefix}{i:07}")
        })
        .collect()
}

async fn ten_thousand_numbers_each_reach_one_final_status(backends: Backends) {
    if std::env::var_os("MGOV_TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("mgov=info,warn")
            .with_test_writer()
            .try_init();
    }
    // Reports before the send answer hold that answer at the simulator, which at this volume
    // would time sends out and send them twice (the documented window): they have their own
    // test below.
    let telco = Settings {
        outcomes: OutcomeMix::new(90, 5, 3, 2).unwrap(),
        duplicate_report_rate: 0.05,
        seed: Some(7),
        ..Default::default()
    };
    let world = sms_world(backends, telco, |_| {}).await;
    // Three texts: one GSM-7 part, three GSM-7 parts (escapes included), two UCS-2 parts.
    let texts = [
        "Habari! Bili yako ya maji ni TZS 53,000.00. Lipa kwa namba 991234567890.".to_string(),
        format!(
            "Ilani [DAWASA] {{maji}}: {}",
            "huduma itasimama kesho saa 2 asubuhi. ".repeat(9)
        ),
        format!("Zgłoszenie ą ż ł, ș ț, € 🙂 {}", "ok ".repeat(30)),
    ];
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for request in 0..10 {
        let text = &texts[request % texts.len()];
        // As a client should: a 503 (the store was too busy on a loaded machine) is
        // retried with the same Idempotency-Key, which can never store the batch twice.
        let body = json!({"to": numbers(request * 1000, 1000), "text": text, "from": "DAWASA"});
        let key = format!("ten-thousand-{request}");
        let mut tries = 0;
        let (status, answer) = loop {
            let response = world
                .gw
                .http
                .post(world.gw.url("/v1/messages"))
                .bearer_auth(&world.dawasa)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let answer: serde_json::Value = response.json().await.unwrap_or_default();
            tries += 1;
            if status != 503 || tries == 5 {
                break (status, answer);
            }
        };
        assert_eq!(status, 202, "{answer}");
        let (encoding, parts) = part_count(text);
        assert_eq!(answer["encoding"], encoding.as_str());
        assert_eq!(answer["parts"], parts);
        assert_eq!(answer["messages"].as_array().unwrap().len(), 1000);
        for message in answer["messages"].as_array().unwrap() {
            sent.insert(message["id"].as_str().unwrap().to_string(), parts);
        }
    }
    assert_eq!(sent.len(), 10_000);
    world.until_final(10_000).await;

    // Every message final once, with the parts of its text; the history ends in that status.
    let db = &world.gw.running.gateway.db;
    let rows = messages(db).await;
    assert_eq!(rows.len(), 10_000);
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for (id, status, parts, finals) in &rows {
        assert_eq!(Some(*parts as usize), sent.get(id).copied(), "{id}");
        assert_eq!(*finals, 1, "{id} has {finals} final history entries");
        *by_status.entry(status.clone()).or_default() += 1;
    }
    let stats = world.simulator_stats().await;
    assert_eq!(stats["unique_messages"], 10_000, "{stats}");
    // A message is sent twice only when a send's answer was lost (timed out) after the
    // telco took it: the documented window. Each such duplicate is a retry after a time-out.
    let duplicates = stats["duplicates"].as_u64().unwrap() as usize;
    let timed_out = timed_out_sends(db).await as usize;
    assert!(
        duplicates <= timed_out,
        "{duplicates} duplicates, {timed_out} timed-out sends: {stats}"
    );
    // The simulator dealt 90/5/3/2 per 100 (rejected and failed are both `failed` here); a
    // message sent twice was dealt twice.
    for (status, expected) in [("delivered", 9_000), ("failed", 700), ("expired", 300)] {
        let got = by_status.get(status).copied().unwrap_or(0);
        assert!(
            got.abs_diff(expected) <= duplicates,
            "{status}: {got} of {expected}: {by_status:?}"
        );
    }

    // Another agency reads none of them.
    let some_id = sent.keys().next().unwrap();
    let (status, _) = world
        .get(&world.rita, &format!("/v1/messages/{some_id}"))
        .await;
    assert_eq!(status, 404);
    let (status, page) = world.get(&world.rita, "/v1/messages").await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"], json!([]));
    // The sender pages through its own, newest first, without repeats.
    let mut seen = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = world
            .get(
                &world.dawasa,
                &format!("/v1/messages?status=delivered&limit=1000{cursor}"),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        for message in page["messages"].as_array().unwrap() {
            assert_eq!(message["status"], "delivered");
            assert!(seen.insert(message["id"].as_str().unwrap().to_string()));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9_000);
    assert_eq!(final_count(db).await, 10_000);
    world.stop().await;
}

async fn reports_before_the_send_answer_and_repeated_reports_count_once(backends: Backends) {
    let telco = Settings {
        interim_reports: true,
        early_report_rate: 1.0,
        duplicate_report_rate: 1.0,
        ..Default::default()
    };
    let world = sms_world(backends, telco, |_| {}).await;
    let (status, answer) = world
        .send(
            &world.dawasa,
            json!({"to": numbers(0, 40), "text": "Kumbukumbu: miadi yako ni kesho saa 3"}),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    world.until_final(40).await;
    let db = &world.gw.running.gateway.db;
    for (id, status, _, finals) in messages(db).await {
        assert_eq!(status, "delivered", "{id}");
        assert_eq!(
            finals, 1,
            "{id}: every report came twice, the final one once in the history"
        );
    }
    let stats = world.simulator_stats().await;
    assert_eq!(stats["reports_before_answer"], 40, "{stats}");
    assert_eq!(stats["duplicates"], 0, "{stats}");
    let kept = early_reports(db).await;
    assert_eq!(kept, 0, "every early report was matched and forgotten");
    world.stop().await;
}

/// Sends that got no answer in time and were tried again.
async fn timed_out_sends(db: &mgov::db::Db) -> i64 {
    let sql =
        "SELECT COUNT(*) FROM message_events WHERE status = 'queued' AND detail LIKE '%timed out%'";
    match db {
        mgov::db::Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        mgov::db::Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

async fn early_reports(db: &mgov::db::Db) -> i64 {
    let sql = "SELECT COUNT(*) FROM early_reports";
    match db {
        mgov::db::Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        mgov::db::Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

/// (id, status, parts, final history entries) of every message.
async fn messages(db: &mgov::db::Db) -> Vec<(String, String, i32, i64)> {
    let sql = "SELECT m.id, m.status, m.parts,
                      (SELECT COUNT(*) FROM message_events e WHERE e.message_id = m.id
                       AND e.status IN ('delivered', 'failed', 'expired'))
               FROM messages m";
    match db {
        mgov::db::Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        mgov::db::Db::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    }
}

async fn requests_are_refused_with_their_reason(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |_| {}).await;
    let to = json!(["255754123456"]);
    let cases = [
        (json!({"to": to, "text": ""}), 422, "text is empty"),
        (
            json!({"to": to, "text": "x".repeat(1531)}),
            422,
            "at most 10",
        ),
        (
            json!({"to": to, "text": "Habari", "from": "TRA"}),
            422,
            "not registered",
        ),
        (
            json!({"to": to, "text": "Habari", "from": "DAWASA-WATER-X"}),
            422,
            "not registered",
        ),
        (
            json!({"to": numbers(0, 1001), "text": "Habari"}),
            422,
            "at most 1000",
        ),
        (json!({"to": [], "text": "Habari"}), 422, "no recipient"),
        (
            json!({"to": ["12", "abc"], "text": "Habari"}),
            422,
            "no recipient can be sent to",
        ),
        (
            json!({"to": to, "text": "Habari", "callback_url": "ftp://x"}),
            422,
            "not an http",
        ),
        (
            json!({"to": to, "text": "Habari", "validity": 5}),
            422,
            "validity",
        ),
        (
            json!({"to": "255754123456", "text": "Habari"}),
            400,
            "not a valid message request",
        ),
        (
            json!({"to": to, "text": "Habari", "priority": "high"}),
            400,
            "unknown field",
        ),
    ];
    for (body, status, reason) in cases {
        let (got, answer) = world.send(&world.dawasa, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{body}: {message}");
    }
    // Part of a request may be refused: the rest is sent.
    let (status, answer) = world
        .send(
            &world.dawasa,
            json!({"to": ["255754123456", "0754123456", "99"], "text": "Habari"}),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["messages"].as_array().unwrap().len(), 1);
    let refused: Vec<_> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].clone())
        .collect();
    assert_eq!(refused, [json!(1), json!(2)]);

    // Without a key, or with a wrong or revoked one: 401 with a Bearer challenge.
    let plain = world
        .gw
        .http
        .post(world.gw.url("/v1/messages"))
        .json(&json!({"to": to, "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 401);
    assert_eq!(
        plain.headers()["www-authenticate"],
        "Bearer realm=\"mgov-gateway\""
    );
    let forged = format!("{}x", &world.dawasa[..world.dawasa.len() - 1]);
    assert_eq!(
        world.send(&forged, json!({"to": to, "text": "x"})).await.0,
        401
    );
    let prefix = &world.dawasa[..mgov::agencies::keys::PREFIX_LEN];
    let db = &world.gw.running.gateway.db;
    assert!(mgov::agencies::store::revoke_api_key(db, prefix)
        .await
        .unwrap());
    // A revoked key is refused within a second on every node (checked keys are remembered
    // that long).
    let started = std::time::Instant::now();
    loop {
        let (status, _) = world
            .send(&world.dawasa, json!({"to": to, "text": "x"}))
            .await;
        if status == 401 {
            break;
        }
        assert_eq!(status, 202);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "revoked key still accepted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    world.stop().await;
}

async fn an_idempotency_key_answers_a_repeat_and_refuses_another_body(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |_| {}).await;
    let send = |body: serde_json::Value, key: &'static str| {
        let request = world
            .gw
            .http
            .post(world.gw.url("/v1/messages"))
            .bearer_auth(&world.dawasa)
            .header("Idempotency-Key", key)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let body = json!({"to": ["255754123456", "255713123456"], "text": "Ombi lako limepokelewa"});
    // Two at once and one after: one set of messages, the same answer each time.
    let (a, b) = tokio::join!(
        send(body.clone(), "receipt-42"),
        send(body.clone(), "receipt-42")
    );
    let c = send(body.clone(), "receipt-42").await;
    for (status, answer) in [&a, &b, &c] {
        assert_eq!(*status, 202, "{answer}");
        assert_eq!(answer, &a.1);
    }
    let other = send(
        json!({"to": ["255754123456"], "text": "Another"}),
        "receipt-42",
    )
    .await;
    assert_eq!(other.0, 409, "{}", other.1);
    world.until_final(2).await;
    let stats = world.simulator_stats().await;
    assert_eq!(stats["unique_messages"], 2, "{stats}");
    assert_eq!(stats["duplicates"], 0, "{stats}");
    world.stop().await;
}
