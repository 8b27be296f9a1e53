//! Notifications from back offices over HTTP, on Postgres + Redis and on the embedded
//! default: a payment notification produces one receipt SMS at the telco, however often the
//! back office repeats it; templates are checked when registered and variables when sent;
//! one agency's templates are absent to another; the language is the one asked for, else
//! the citizen's, else the template's default.

use super::world::{sms_world, Backends, SmsWorld};
use mgov::db::Db;
use mgov::language::Language;
use mgov::msisdn::Msisdn;
use mgov_simulators::telco::Settings;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_a_payment_notification_produces_one_receipt_sms() {
    a_payment_notification_produces_one_receipt_sms(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_a_payment_notification_produces_one_receipt_sms() {
    a_payment_notification_produces_one_receipt_sms(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_templates_are_checked_and_belong_to_their_agency() {
    templates_are_checked_and_belong_to_their_agency(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_templates_are_checked_and_belong_to_their_agency() {
    templates_are_checked_and_belong_to_their_agency(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_the_language_is_asked_else_the_citizens_else_the_default() {
    the_language_is_asked_else_the_citizens_else_the_default(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_the_language_is_asked_else_the_citizens_else_the_default() {
    the_language_is_asked_else_the_citizens_else_the_default(Backends::Embedded).await;
}

/// GePG's receipt as an agency registers it.
fn receipt_template() -> Value {
    json!({
        "id": "gepg_receipt",
        "variables": {"amount": "money", "control_number": "text", "receipt": "text"},
        "text": {
            "sw": "Malipo yamepokelewa: TZS {amount} kwa namba ya udhibiti {control_number}, risiti {receipt}.",
            "en": "Payment received: TZS {amount|money} for control number {control_number}, receipt {receipt}."
        }
    })
}

/// `method path` as `key`, with `body` and an `Idempotency-Key`; the status and the answer.
async fn call(
    world: &SmsWorld,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    idempotency_key: Option<&str>,
) -> (u16, Value) {
    let mut request = world
        .gw
        .http
        .request(method, world.gw.url(path))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(idempotency_key) = idempotency_key {
        request = request.header("Idempotency-Key", idempotency_key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn notify(world: &SmsWorld, key: &str, body: Value) -> (u16, Value) {
    call(
        world,
        key,
        Method::POST,
        "/v1/notifications",
        Some(body),
        None,
    )
    .await
}

async fn count(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

/// The texts the telco simulator received for `to`, once there are `expected` of them.
async fn received(world: &SmsWorld, to: &str, expected: usize) -> Vec<String> {
    let url = format!("{}/messages?to={to}", world.simulator);
    let started = std::time::Instant::now();
    loop {
        let listed: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        let texts: Vec<String> = listed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect();
        if texts.len() >= expected {
            return texts;
        }
        // The bound only turns a hang into a failure.
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{to} received {texts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_payment_notification_produces_one_receipt_sms(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |_| {}).await;
    let db = &world.gw.running.gateway.db;
    let (status, created) = call(
        &world,
        &world.dawasa,
        Method::POST,
        "/v1/templates",
        Some(receipt_template()),
        None,
    )
    .await;
    assert_eq!(status, 201, "{created}");

    // GePG's callback, delivered twice (the second time with the number written nationally).
    let payment = json!({
        "to": "+255754000301",
        "template": "gepg_receipt",
        "variables": {"amount": "53000", "control_number": "991234567890", "receipt": "RC-2026-0001"},
        "reference": "RC-2026-0001"
    });
    let (status, first) = notify(&world, &world.dawasa, payment.clone()).await;
    assert_eq!(status, 202, "{first}");
    let mut again = payment.clone();
    again["to"] = json!("0754000301");
    let (status, second) = notify(&world, &world.dawasa, again).await;
    assert_eq!(status, 202, "{second}");
    assert_eq!(second, first, "a repeat is answered what the first was");
    // The same reference for something else sends nothing either.
    let mut other = payment.clone();
    other["variables"]["amount"] = json!("35000");
    let (status, refused) = notify(&world, &world.dawasa, other).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"], "reference_reused");

    // Without a reference, an Idempotency-Key does the same.
    let reminder = json!({
        "to": "255754000302",
        "template": "gepg_receipt",
        "variables": {"amount": 1500.5, "control_number": "991234567891", "receipt": "RC-2026-0002"},
        "from": "DAWASA"
    });
    let mut unregistered = reminder.clone();
    unregistered["from"] = json!("TANESCO");
    let (status, refused) = notify(&world, &world.dawasa, unregistered).await;
    assert_eq!(status, 422, "{refused}");
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (status, answer) = call(
            &world,
            &world.dawasa,
            Method::POST,
            "/v1/notifications",
            Some(reminder.clone()),
            Some("gepg-cb-2"),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        answers.push(answer);
    }
    assert_eq!(answers[0], answers[1]);

    let expected = "Malipo yamepokelewa: TZS 53,000.00 kwa namba ya udhibiti 991234567890, risiti RC-2026-0001.";
    assert_eq!(first["text"], expected);
    assert_eq!(received(&world, "255754000301", 1).await, [expected]);
    assert_eq!(
        received(&world, "255754000302", 1).await,
        ["Malipo yamepokelewa: TZS 1,500.50 kwa namba ya udhibiti 991234567891, risiti RC-2026-0002."]
    );
    // The same callback arriving several times at once is still one SMS.
    let mut racing = payment.clone();
    racing["to"] = json!("255754000304");
    racing["reference"] = json!("RC-2026-0004");
    let answers = futures_util::future::join_all(
        (0..8).map(|_| notify(&world, &world.dawasa, racing.clone())),
    )
    .await;
    assert!(
        answers.iter().all(|a| a.0 == 202 && a.1 == answers[0].1),
        "{answers:?}"
    );
    let url = format!("{}/messages?to=255754000302", world.simulator);
    let listed: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(listed["messages"][0]["from"], "DAWASA", "{listed}");
    world.until_final(3).await;
    assert_eq!(count(db, "SELECT COUNT(*) FROM messages").await, 3);
    assert_eq!(received(&world, "255754000301", 1).await.len(), 1);
    assert_eq!(received(&world, "255754000304", 1).await.len(), 1);

    // The notification's message is the agency's, read like any other.
    let id = first["id"].as_str().unwrap();
    let (status, message) = world
        .get(&world.dawasa, &format!("/v1/messages/{id}"))
        .await;
    assert_eq!(status, 200, "{message}");
    assert_eq!(message["text"], expected);
    let (status, _) = world.get(&world.rita, &format!("/v1/messages/{id}")).await;
    assert_eq!(status, 404);

    if matches!(backends, Backends::Embedded) {
        // The demo's DAWASA has its GePG receipt registered already.
        let (status, demo) = notify(&world, &world.dawasa, json!({
            "to": "255754000303",
            "template": "payment_receipt",
            "variables": {"amount": "25000", "control_number": "991234567892", "receipt": "RC-2026-0003"},
            "reference": "RC-2026-0003"
        }))
        .await;
        assert_eq!(status, 202, "{demo}");
        assert_eq!(
            received(&world, "255754000303", 1).await,
            ["DAWASA: Malipo yamepokelewa: TZS 25,000.00 kwa namba ya udhibiti 991234567892, risiti RC-2026-0003. Asante."]
        );
    }
    world.stop().await;
}

async fn templates_are_checked_and_belong_to_their_agency(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |_| {}).await;
    let (dawasa, rita) = (world.dawasa.as_str(), world.rita.as_str());
    let path = "/v1/templates/gepg_receipt";

    let mut misspelt = receipt_template();
    misspelt["text"]["en"] = json!("Payment received: TZS {amout}, receipt {receipt}.");
    let (status, refused) = call(
        &world,
        dawasa,
        Method::POST,
        "/v1/templates",
        Some(misspelt),
        None,
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(message.starts_with("text.en uses {amout}"), "{message}");

    let mut too_long = receipt_template();
    too_long["text"]["sw"] = json!(format!("{{receipt}} {}", "a".repeat(1600)));
    let (status, refused) = call(
        &world,
        dawasa,
        Method::POST,
        "/v1/templates",
        Some(too_long),
        None,
    )
    .await;
    assert_eq!(status, 422, "{refused}");

    let (status, created) = call(
        &world,
        dawasa,
        Method::POST,
        "/v1/templates",
        Some(receipt_template()),
        None,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, taken) = call(
        &world,
        dawasa,
        Method::POST,
        "/v1/templates",
        Some(receipt_template()),
        None,
    )
    .await;
    assert_eq!(status, 409, "{taken}");
    assert_eq!(taken["error"], "template_exists");

    // Another agency sees none of it, and may have its own of the same id.
    let (status, _) = call(&world, rita, Method::GET, path, None, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &world,
        rita,
        Method::PUT,
        path,
        Some(receipt_template()),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(&world, rita, Method::DELETE, path, None, None).await;
    assert_eq!(status, 404);
    let payment = json!({
        "to": "255754000401",
        "template": "gepg_receipt",
        "variables": {"amount": "53000", "control_number": "991234567890", "receipt": "RC-1"}
    });
    let (status, refused) = notify(&world, rita, payment.clone()).await;
    assert_eq!(status, 404, "{refused}");
    let (status, listed) = call(&world, rita, Method::GET, "/v1/templates", None, None).await;
    assert_eq!(status, 200);
    assert!(
        !listed["templates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "gepg_receipt"),
        "{listed}"
    );
    let mut own = receipt_template();
    own["text"] =
        json!({"sw": "RITA: ada ya TZS {amount} imelipwa ({control_number}, {receipt})."});
    let (status, created) =
        call(&world, rita, Method::POST, "/v1/templates", Some(own), None).await;
    assert_eq!(status, 201, "{created}");
    let (status, read) = call(&world, dawasa, Method::GET, path, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        read["text"],
        receipt_template()["text"],
        "DAWASA's is untouched"
    );

    // Variables are checked when a notification is sent.
    let mut missing = payment.clone();
    missing["variables"]
        .as_object_mut()
        .unwrap()
        .remove("receipt");
    let mut extra = payment.clone();
    extra["variables"]["payer"] = json!("Amina");
    let mut not_money = payment.clone();
    not_money["variables"]["amount"] = json!("TZS 53,000");
    for (body, reason) in [
        (missing, "missing variables: receipt"),
        (extra, "unknown variables: payer"),
        (not_money, "variable amount"),
    ] {
        let (status, refused) = notify(&world, dawasa, body).await;
        assert_eq!(status, 422, "{refused}");
        let message = refused["message"].as_str().unwrap();
        assert!(message.starts_with(reason), "{message}");
    }
    let db = &world.gw.running.gateway.db;
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM messages").await,
        0,
        "nothing refused was queued"
    );

    // The agency changes and deletes its own.
    let mut changed = receipt_template();
    changed["text"]["sw"] = json!("Asante! TZS {amount} kwa {control_number}, risiti {receipt}.");
    changed.as_object_mut().unwrap().remove("id");
    let (status, replaced) = call(&world, dawasa, Method::PUT, path, Some(changed), None).await;
    assert_eq!(status, 200, "{replaced}");
    let (status, sent) = notify(&world, dawasa, payment.clone()).await;
    assert_eq!(status, 202, "{sent}");
    assert_eq!(
        sent["text"],
        "Asante! TZS 53,000.00 kwa 991234567890, risiti RC-1."
    );
    let (status, _) = call(&world, dawasa, Method::DELETE, path, None, None).await;
    assert_eq!(status, 204);
    let (status, _) = call(&world, dawasa, Method::GET, path, None, None).await;
    assert_eq!(status, 404);
    let (status, _) = notify(&world, dawasa, payment).await;
    assert_eq!(status, 404);
    world.stop().await;
}

async fn the_language_is_asked_else_the_citizens_else_the_default(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |_| {}).await;
    let db = &world.gw.running.gateway.db;
    let (status, _) = call(
        &world,
        &world.dawasa,
        Method::POST,
        "/v1/templates",
        Some(receipt_template()),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let english_speaker = Msisdn::parse("255754000501", "255").unwrap();
    mgov::db::citizens::set_language(db, &english_speaker, Language::ENGLISH)
        .await
        .unwrap();
    let payment = |to: &str, language: Option<&str>| {
        let mut body = json!({
            "to": to,
            "template": "gepg_receipt",
            "variables": {"amount": "53000", "control_number": "991234567890", "receipt": "RC-9"}
        });
        if let Some(language) = language {
            body["language"] = json!(language);
        }
        body
    };
    let cases = [
        (
            "255754000501",
            None,
            "en",
            "Payment received: TZS 53,000.00",
        ),
        (
            "255754000501",
            Some("sw"),
            "sw",
            "Malipo yamepokelewa: TZS 53,000.00",
        ),
        (
            "255754000502",
            None,
            "sw",
            "Malipo yamepokelewa: TZS 53,000.00",
        ),
        (
            "255754000502",
            Some("en"),
            "en",
            "Payment received: TZS 53,000.00",
        ),
    ];
    for (to, asked, language, start) in cases {
        let (status, sent) = notify(&world, &world.dawasa, payment(to, asked)).await;
        assert_eq!(status, 202, "{sent}");
        assert_eq!(sent["language"], language, "{to} {asked:?}");
        assert!(sent["text"].as_str().unwrap().starts_with(start), "{sent}");
    }
    let (status, refused) =
        notify(&world, &world.dawasa, payment("255754000502", Some("fr"))).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("no text in fr"),
        "{refused}"
    );
    world.until_final(4).await;
    world.stop().await;
}
