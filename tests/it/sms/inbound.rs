//! Incoming SMS on the shared shortcode: an agency registers a keyword through the API and a
//! citizen's message reaches it on another node, signed, and its reply goes back once; a
//! repeated delivery is stored once; odd and unknown messages are answered 2xx and recorded
//! with what was done; help comes in the citizen's remembered language.

use super::world::{sms_world, Backends, SmsWorld};
use axum::body::Bytes;
use axum::http::HeaderMap;
use mgov::backoffice::signature;
use mgov::db::Db;
use mgov::ids::AgencyId;
use mgov_simulators::telco::Settings;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::mpsc;

/// Answers every forward with a reply; sends each body down the channel with whether its
/// signature was good.
async fn agency_endpoint(
    secret: String,
    reply: &'static str,
) -> (String, mpsc::UnboundedReceiver<(Value, bool)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/mo",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (tx, secret) = (tx.clone(), secret.clone());
            async move {
                let header = headers[signature::HEADER].to_str().unwrap();
                let now = chrono::Utc::now().timestamp();
                let signed = signature::verify(secret.as_bytes(), header, &body, now).is_ok();
                let _ = tx.send((serde_json::from_slice(&body).unwrap(), signed));
                axum::Json(json!({ "reply": reply }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mo", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

/// Posts one MO in Africa's Talking's format to `base`; the HTTP status.
pub(super) async fn deliver(
    world: &SmsWorld,
    base: &str,
    id: &str,
    from: &str,
    to: &str,
    text: &str,
) -> u16 {
    let mut request = world
        .gw
        .http
        .post(format!("{base}/sms/africastalking/inbound"));
    // The embedded default's demo telcos take callbacks without credentials.
    if let Some((user, secret)) = world.gw.credentials.get("africastalking") {
        request = request.basic_auth(user, Some(secret));
    }
    request
        .form(&[
            ("id", id),
            ("from", from),
            ("to", to),
            ("text", text),
            ("date", "2026-11-30 10:00:00"),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

pub(super) async fn api(
    world: &SmsWorld,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = world
        .gw
        .http
        .request(method, world.gw.url(path))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// (outcome, detail, reply text) of every incoming message once all are routed, by telco id.
pub(super) async fn routed(
    db: &Db,
    count: i64,
) -> std::collections::BTreeMap<String, (String, String, Option<String>)> {
    let sql = "SELECT i.telco_message_id, i.outcome, COALESCE(i.detail, ''), m.text
               FROM inbound_messages i LEFT JOIN messages m ON m.id = i.reply_id
               WHERE i.status = 'done'";
    let started = std::time::Instant::now();
    loop {
        let rows: Vec<(String, String, String, Option<String>)> = match db {
            Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            Db::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        };
        if rows.len() as i64 >= count {
            return rows
                .into_iter()
                .map(|(id, o, d, r)| (id, (o, d, r)))
                .collect();
        }
        // The bound only turns a hang into a failure.
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} of {count} routed",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(super) async fn count(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyword_registered_through_the_api_reaches_the_agency_on_another_node() {
    let world = sms_world(Backends::Production, Settings::default(), |_| {}).await;
    let gateway = &world.gw.running.gateway;
    let db = &gateway.db;
    let second = {
        let mut config = gateway.config.clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        mgov::app::spawn(config)
            .await
            .expect("a second node starts")
    };
    let second_url = format!("http://{}", second.addr);
    let dawasa = AgencyId::parse("dawasa").unwrap();
    let secret = mgov::agencies::store::get_agency(db, &dawasa)
        .await
        .unwrap()
        .unwrap()
        .signing_secret;
    let (url, mut forwarded) =
        agency_endpoint(secret, "Kodi ya kiwanja 1234: TZS 120,000.00").await;

    let (status, service) = api(&world, &world.dawasa, reqwest::Method::POST, "/v1/services/sms",
        Some(json!({"keyword": "Kodi", "aliases": {"en": ["tax"]}, "description": {"sw": "KODI <kiwanja>: kodi ya majengo"}, "forward": {"url": url}}))).await;
    assert_eq!(status, 201, "{service}");
    assert_eq!(service["keyword"], "KODI");
    assert_eq!(service["words"], json!(["KODI", "TAX"]));
    // The second node hears of it (Postgres NOTIFY), without waiting for its periodic re-read.
    let mut reloads = second.gateway.sms.keywords.reloads();
    while second
        .gateway
        .sms
        .keywords
        .get(&("15200".into(), "KODI".into()))
        .is_none()
    {
        tokio::time::timeout(Duration::from_secs(30), reloads.changed())
            .await
            .expect("no reload")
            .unwrap();
    }

    assert_eq!(
        deliver(
            &world,
            &second_url,
            "ATXid_kodi_1",
            "+255754000201",
            "15200",
            "kodi 1234"
        )
        .await,
        200
    );
    // Delivered again by the telco: acknowledged, stored once, forwarded once.
    assert_eq!(
        deliver(
            &world,
            &world.gw.base_url,
            "ATXid_kodi_1",
            "+255754000201",
            "15200",
            "kodi 1234"
        )
        .await,
        200
    );
    let (body, signed) = tokio::time::timeout(Duration::from_secs(30), forwarded.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(signed, "{body}");
    assert_eq!(body["type"], "message.received");
    assert_eq!(
        (
            body["keyword"].as_str(),
            body["arguments"].as_str(),
            body["from"].as_str()
        ),
        (Some("KODI"), Some("1234"), Some("255754000201"))
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM inbound_messages").await, 1);

    // The agency's answer goes back to the citizen, once.
    world.until_final(1).await;
    let replies: Vec<(String, String, Option<String>)> = match db {
        Db::Postgres(pool) => sqlx::query_as("SELECT recipient, text, in_reply_to FROM messages")
            .fetch_all(pool)
            .await
            .unwrap(),
        Db::Sqlite(_) => unreachable!(),
    };
    assert_eq!(
        replies,
        [(
            "255754000201".to_string(),
            "Kodi ya kiwanja 1234: TZS 120,000.00".to_string(),
            body["id"].as_str().map(String::from)
        )]
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM webhooks WHERE inbound_id IS NOT NULL"
        )
        .await,
        1,
        "forwarded once"
    );

    // Later, the agency answers again through the API, naming the message: to its sender.
    let mo = body["id"].as_str().unwrap();
    let (status, later) = world
        .send(
            &world.dawasa,
            json!({"in_reply_to": mo, "text": "Risiti ya kodi: RC-2291"}),
        )
        .await;
    assert_eq!(status, 202, "{later}");
    assert_eq!(later["messages"][0]["to"], "255754000201");
    let (status, refused) = world
        .send(&world.rita, json!({"in_reply_to": mo, "text": "Habari"}))
        .await;
    assert_eq!(status, 422, "another agency cannot answer it: {refused}");
    world.until_final(2).await;

    // Another agency cannot see, change or delete it; nor take its words.
    let id = service["id"].as_str().unwrap();
    let path = format!("/v1/services/sms/{id}");
    assert_eq!(
        api(&world, &world.rita, reqwest::Method::GET, &path, None)
            .await
            .0,
        404
    );
    assert_eq!(
        api(&world, &world.rita, reqwest::Method::DELETE, &path, None)
            .await
            .0,
        404
    );
    let (status, taken) = api(
        &world,
        &world.rita,
        reqwest::Method::POST,
        "/v1/services/sms",
        Some(json!({"keyword": "TAX", "forward": {}})),
    )
    .await;
    assert_eq!(
        (status, taken["error"].as_str()),
        (409, Some("keyword_taken")),
        "{taken}"
    );
    let (status, listed) = api(
        &world,
        &world.rita,
        reqwest::Method::GET,
        "/v1/services/sms",
        None,
    )
    .await;
    assert_eq!((status, listed["services"].clone()), (200, json!([])));
    let (status, reserved) = api(
        &world,
        &world.dawasa,
        reqwest::Method::POST,
        "/v1/services/sms",
        Some(json!({"keyword": "stop", "forward": {}})),
    )
    .await;
    assert_eq!(
        (status, reserved["error"].as_str()),
        (422, Some("reserved_keyword")),
        "{reserved}"
    );
    assert_eq!(
        api(&world, &world.dawasa, reqwest::Method::DELETE, &path, None)
            .await
            .0,
        204
    );
    second.stop().await.unwrap();
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_odd_messages_are_acknowledged_and_recorded() {
    odd_messages_are_acknowledged_and_recorded(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_odd_messages_are_acknowledged_and_recorded() {
    odd_messages_are_acknowledged_and_recorded(Backends::Embedded).await;
}

async fn odd_messages_are_acknowledged_and_recorded(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |_| {}).await;
    let db = &world.gw.running.gateway.db;
    let base = world.gw.base_url.clone();
    // An English speaker: help comes in English.
    mgov::db::citizens::set_language(
        db,
        &mgov::msisdn::Msisdn::parse("255688000303", "").unwrap(),
        mgov::language::Language::ENGLISH,
    )
    .await
    .unwrap();
    let (status, service) = api(&world, &world.dawasa, reqwest::Method::POST, "/v1/services/sms",
        Some(json!({"keyword": "kodi", "description": {"sw": "KODI <kiwanja>: kodi ya majengo", "en": "TAX <parcel>: property tax"}, "forward": {}}))).await;
    assert_eq!(status, 201, "{service}");
    let long = "habari ".repeat(300);
    let cases: &[(&str, &str, &str, &str)] = &[
        ("odd-1", "255754000301", "15200", ""),
        ("odd-2", "255754000302", "15200", "   "),
        ("odd-3", "255688000303", "15200", "xyz 1"),
        ("odd-4", "255754000304", "15200", long.as_str()),
        ("odd-5", "255754000305", "15200", "\u{1}\u{7}"),
        ("odd-6", "255754000306", "15300", "MAJI 12345678"),
        ("odd-7", "INFO", "15200", "MAJI 12345678"),
        ("odd-8", "255754000308", "15200", "ХАЛИ 123"),
        ("odd-9", "255754000309", "15200", "msaada"),
        ("odd-10", "12", "15200", "MAJI"),
    ];
    for (id, from, to, text) in cases {
        assert_eq!(
            deliver(&world, &base, id, from, to, text).await,
            200,
            "{id}"
        );
    }
    let done = routed(db, cases.len() as i64).await;
    let outcome = |id: &str| done[id].clone();
    assert_eq!(outcome("odd-1").0, "help");
    let help = |id: &str| outcome(id).2.unwrap_or_default();
    // The demo's own services (embedded default) are listed too.
    assert!(
        help("odd-1").starts_with("Ujumbe wako hauna neno la huduma. Huduma kwa SMS 15200:\n"),
        "{}",
        help("odd-1")
    );
    assert!(
        help("odd-1").contains("\nKODI <kiwanja>: kodi ya majengo"),
        "{}",
        help("odd-1")
    );
    assert_eq!(outcome("odd-2").1, "empty text");
    assert_eq!(outcome("odd-3").0, "help");
    assert!(
        help("odd-3").starts_with("We know no service \"xyz\". SMS services on 15200:\n"),
        "{}",
        help("odd-3")
    );
    assert!(
        help("odd-3").contains("\nTAX <parcel>: property tax"),
        "{}",
        help("odd-3")
    );
    assert_eq!(outcome("odd-4").0, "help", "2,000 characters");
    assert_eq!(outcome("odd-5").1, "empty text", "control characters only");
    assert_eq!(
        (outcome("odd-6").0.as_str(), outcome("odd-6").2.is_none()),
        ("ignored", true)
    );
    assert!(outcome("odd-6").1.contains("15300"));
    assert_eq!(
        (outcome("odd-7").0.as_str(), outcome("odd-7").2.is_none()),
        ("ignored", true)
    );
    assert!(outcome("odd-8")
        .2
        .unwrap()
        .starts_with("Hatujui huduma \"ХАЛИ\"."));
    assert_eq!(outcome("odd-9").1, "asked for help");
    assert_eq!(outcome("odd-10").0, "ignored", "a number that cannot exist");

    // A malformed callback is refused with its reason, and a wrong password too.
    assert_eq!(
        deliver(&world, &base, "", "255754000398", "15200", "MAJI").await,
        400,
        "no id"
    );
    if let Some((user, _)) = world.gw.credentials.get("africastalking") {
        let wrong = world
            .gw
            .http
            .post(format!("{base}/sms/africastalking/inbound"))
            .basic_auth(user, Some("wrong"))
            .form(&[
                ("id", "y"),
                ("from", "255754000399"),
                ("to", "15200"),
                ("text", "MAJI"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status().as_u16(), 401);
    }
    // Every help reply reaches the telco.
    let replies = done
        .values()
        .filter(|(_, _, reply)| reply.is_some())
        .count() as i64;
    world.until_final(replies).await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kannel_delivers_with_get_and_a_repeat_is_stored_once() {
    let world = sms_world(Backends::Production, Settings::default(), |_| {}).await;
    let db = &world.gw.running.gateway.db;
    let (user, secret) = world.gw.credentials["kannel"].clone();
    // As Kannel's get-url sends it: `?id=%I&from=%p&to=%P&ts=%t&text=%a`.
    let url = world
        .gw
        .url("/sms/kannel/inbound?id=9f0c&from=%2B255688000401&to=15200&ts=1796025600&text=Msaada");
    for _ in 0..2 {
        let status = world
            .gw
            .http
            .get(&url)
            .basic_auth(&user, Some(&secret))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200);
    }
    let unauthenticated = world.gw.http.get(&url).send().await.unwrap().status();
    assert_eq!(unauthenticated.as_u16(), 401);
    let done = routed(db, 1).await;
    assert_eq!(done["9f0c"].1, "asked for help");
    assert_eq!(count(db, "SELECT COUNT(*) FROM inbound_messages").await, 1);
    // The reply goes back through the telco that delivered the message, not by its prefix.
    world.until_final(1).await;
    let telco: String = match db {
        Db::Postgres(pool) => sqlx::query_scalar("SELECT telco_id FROM messages")
            .fetch_one(pool)
            .await
            .unwrap(),
        Db::Sqlite(_) => unreachable!(),
    };
    assert_eq!(telco, "kannel");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_a_service_answers_from_the_back_office() {
    a_service_answers_from_the_back_office(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_a_service_answers_from_the_back_office() {
    a_service_answers_from_the_back_office(Backends::Embedded).await;
}

/// `MAJI 12345678` gets its bill; an unknown account is told how to ask. On the embedded
/// default `MAJI` is a demo service; elsewhere DAWASA registers it through the API.
async fn a_service_answers_from_the_back_office(backends: Backends) {
    let world = sms_world(backends, Settings::default(), |_| {}).await;
    let db = &world.gw.running.gateway.db;
    if matches!(backends, Backends::Production) {
        let (status, service) = api(&world, &world.dawasa, reqwest::Method::POST, "/v1/services/sms", Some(json!({
            "keyword": "maji",
            "answer": {
                "action": "bills.fetch",
                "params": {"account": "{args[0]}"},
                "reply": {"sw": "DAWASA, akaunti {args[0]} ({customer_name}): bili {bills[0].currency} {bills[0].amount|money}"},
                "not_found": {"sw": "DAWASA: hatukupata akaunti \"{arguments}\"."}
            }
        }))).await;
        assert_eq!(status, 201, "{service}");
    }
    let base = world.gw.base_url.clone();
    assert_eq!(
        deliver(
            &world,
            &base,
            "maji-1",
            "255754000501",
            "15200",
            "Maji 12345678"
        )
        .await,
        200
    );
    assert_eq!(
        deliver(
            &world,
            &base,
            "maji-2",
            "255754000502",
            "15200",
            "MAJI 01234567"
        )
        .await,
        200
    );
    let done = routed(db, 2).await;
    let (outcome, detail, reply) = done["maji-1"].clone();
    assert_eq!(
        (outcome.as_str(), detail.as_str()),
        ("answered", "bills.fetch answered")
    );
    let reply = reply.unwrap();
    assert!(
        reply.starts_with("DAWASA, akaunti 12345678 (") && reply.contains("TZS 53,000.00"),
        "{reply}"
    );
    let (outcome, detail, reply) = done["maji-2"].clone();
    assert_eq!(
        (outcome.as_str(), detail.as_str()),
        ("answered", "bills.fetch found nothing")
    );
    assert!(reply
        .unwrap()
        .starts_with("DAWASA: hatukupata akaunti \"01234567\""));
    if matches!(backends, Backends::Embedded) {
        // The demo's MIADI lists an office's next free times, with weekdays.
        assert_eq!(
            deliver(
                &world,
                &base,
                "miadi-1",
                "255754000503",
                "15200",
                "miadi Ilala"
            )
            .await,
            200
        );
        let done = routed(db, 3).await;
        let reply = done["miadi-1"].2.clone().unwrap();
        assert!(
            reply.starts_with("NIDA, ofisi ya Ilala: nafasi ")
                && reply.ends_with("piga *152*00*3#"),
            "{reply}"
        );
    }
    // The service's replies are its agency's messages, not the gateway's.
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM messages WHERE agency_id = 'dawasa'"
        )
        .await,
        2
    );
    let sent = if matches!(backends, Backends::Embedded) {
        3
    } else {
        2
    };
    world.until_final(sent).await;
    world.stop().await;
}
