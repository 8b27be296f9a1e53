//! `GET /v1/reports/sms` over real traffic, on Postgres + Redis and on the embedded default:
//! messages sent through `/v1/messages` and settled by the telco simulator's delivery
//! reports, and messages citizens send to the shortcode. Each agency reads exactly its own
//! counts, never another's; the gateway's own (help, ignored) are only in the operator's
//! report; bad periods are refused with their reason.

use super::world::{sms_world, Backends, SmsWorld};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use mgov::db::{Db, Timestamp};
use mgov::reports::{build_report, ReportQuery};
use mgov_simulators::telco::Settings;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_each_agency_reads_its_own_sms_figures() {
    each_agency_reads_its_own_sms_figures(Backends::Production).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_each_agency_reads_its_own_sms_figures() {
    each_agency_reads_its_own_sms_figures(Backends::Embedded).await;
}

/// Three of every four messages delivered, one failed: the simulator deals outcomes from a
/// shuffled deck of four, so each batch of a multiple of four sent alone gets exactly that.
fn three_in_four_delivered() -> Settings {
    Settings {
        outcomes: "delivered=3,failed=1".parse().unwrap(),
        ..Settings::default()
    }
}

async fn each_agency_reads_its_own_sms_figures(backends: Backends) {
    let world = sms_world(backends, three_in_four_delivered(), |_| {}).await;
    let db = &world.gw.running.gateway.db;
    let started = Utc::now();

    // dawasa: four two-part messages, one deck; rita, after them: eight one-part, two decks.
    let long = format!("DAWASA: {}", "Maji yatakatika kesho Ilala. ".repeat(6));
    let dawasa_to: Vec<String> = (1..=4).map(|i| format!("25568800060{i}")).collect();
    let (status, sent) = world
        .send(&world.dawasa, json!({"to": dawasa_to, "text": long}))
        .await;
    assert_eq!(status, 202, "{sent}");
    assert_eq!(sent["parts"], 2, "{sent}");
    world.until_final(4).await;
    let rita_to: Vec<String> = (1..=8).map(|i| format!("25568800061{i}")).collect();
    let (status, sent) = world
        .send(
            &world.rita,
            json!({"to": rita_to, "text": "RITA: cheti chako kiko tayari."}),
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    world.until_final(12).await;

    // Citizens write: to each agency's service, for help, and to a shortcode not ours.
    let hooks = agency_endpoint().await;
    register(
        &world,
        &world.dawasa,
        json!({"keyword": "KODI", "forward": {"url": hooks}}),
    )
    .await;
    register(
        &world,
        &world.rita,
        json!({"keyword": "CHETI", "forward": {"url": hooks}}),
    )
    .await;
    for (id, from, to, text) in [
        ("rep-1", "255688000621", "15200", "kodi 1234"),
        ("rep-2", "255688000622", "15200", "KODI 99"),
        ("rep-3", "255688000623", "15200", "cheti 5"),
        ("rep-4", "255688000624", "15200", "msaada"),
        ("rep-5", "255688000625", "15200", "xyz 1"),
        ("rep-6", "255688000626", "15300", "kodi 1"),
    ] {
        assert_eq!(deliver(&world, id, from, to, text).await, 200, "{id}");
    }
    until_routed(db, 6).await;
    // The two help replies are the gateway's own messages.
    world.until_final(14).await;

    let (status, dawasa) = world.get(&world.dawasa, "/v1/reports/sms").await;
    assert_eq!(status, 200, "{dawasa}");
    assert_eq!(dawasa["agency"], "dawasa");
    assert_eq!(
        dawasa["received"],
        json!({"total": 2, "by_outcome": {"forwarded": 2},
            "by_keyword": [{"keyword": "KODI", "count": 2, "by_outcome": {"forwarded": 2}}]})
    );
    let median = dawasa["sent"]["median_delivery_ms"].as_f64().unwrap();
    assert_eq!(
        dawasa["sent"],
        json!({"total": 4, "by_status": {"delivered": 3, "failed": 1}, "parts": 8,
            "delivery_rate": 0.75, "median_delivery_ms": median})
    );
    // The middle of its three delivery times, to the millisecond each.
    let times = delivery_times(db, "dawasa").await;
    assert_eq!(times.len(), 3, "{times:?}");
    assert!((median - times[1]).abs() <= 1.0, "{median} {times:?}");

    // rita's figures hold none of dawasa's, nor the gateway's.
    let (status, rita) = world.get(&world.rita, "/v1/reports/sms").await;
    assert_eq!(status, 200, "{rita}");
    assert_eq!(rita["agency"], "rita");
    assert_eq!(
        rita["received"],
        json!({"total": 1, "by_outcome": {"forwarded": 1},
            "by_keyword": [{"keyword": "CHETI", "count": 1, "by_outcome": {"forwarded": 1}}]})
    );
    assert_eq!(
        (
            &rita["sent"]["total"],
            &rita["sent"]["by_status"],
            &rita["sent"]["parts"]
        ),
        (&json!(8), &json!({"delivered": 6, "failed": 2}), &json!(8))
    );
    assert_eq!(rita["sent"]["delivery_rate"], 0.75);

    // The same period given explicitly; and the hour before it, which is empty.
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let (from, to) = (
        started - Duration::minutes(1),
        Utc::now() + Duration::minutes(1),
    );
    let path = format!("/v1/reports/sms?from={}&to={}", at(from), at(to));
    let (status, explicit) = world.get(&world.dawasa, &path).await;
    assert_eq!(status, 200, "{explicit}");
    assert_eq!(
        (&explicit["received"], &explicit["sent"]),
        (&dawasa["received"], &dawasa["sent"])
    );
    let answered = explicit["from"].as_str().unwrap();
    assert_eq!(
        at(DateTime::parse_from_rfc3339(answered).unwrap().to_utc()),
        at(from)
    );
    let path = format!(
        "/v1/reports/sms?from={}&to={}",
        at(from - Duration::hours(1)),
        at(from)
    );
    let (status, before) = world.get(&world.dawasa, &path).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        (&before["received"]["total"], &before["sent"]["total"]),
        (&json!(0), &json!(0))
    );

    // The operator's report has the same figures per agency, and the gateway's own.
    let query = ReportQuery {
        agency: None,
        since: started - Duration::minutes(1),
    };
    let report = serde_json::to_value(build_report(db, &query).await.unwrap()).unwrap();
    let agencies = report["sms"]["agencies"].as_array().unwrap();
    assert_eq!(agencies.len(), 2, "{report}");
    for (entry, own) in agencies.iter().zip([&dawasa, &rita]) {
        assert_eq!(
            (&entry["agency"], &entry["received"], &entry["sent"]),
            (&own["agency"], &own["received"], &own["sent"])
        );
    }
    let gateway = &report["sms"]["gateway"];
    assert_eq!(
        gateway["received"],
        json!({"total": 3, "by_outcome": {"help": 2, "ignored": 1},
        "by_keyword": [
            {"keyword": null, "count": 2, "by_outcome": {"help": 1, "ignored": 1}},
            {"keyword": "MSAADA", "count": 1, "by_outcome": {"help": 1}},
        ]})
    );
    assert_eq!(gateway["sent"]["total"], 2, "{gateway}");

    refusals(&world).await;
    world.stop().await;
}

async fn refusals(world: &SmsWorld) {
    for (query, message) in [
        (
            "from=2026-11-02&to=2026-11-01",
            "from (2026-11-02) must be before to (2026-11-01)",
        ),
        (
            "from=2026-01-01&to=2026-03-01",
            "from (2026-01-01) to (2026-03-01) is longer than 31 days; ask for shorter periods",
        ),
        (
            "to=soon",
            "to \"soon\" is not an RFC 3339 time (2026-11-01T00:00:00Z) or a date (2026-11-01)",
        ),
    ] {
        let path = format!("/v1/reports/sms?{query}");
        let (status, refused) = world.get(&world.dawasa, &path).await;
        assert_eq!(
            (status, refused),
            (422, json!({"error": "invalid_request", "message": message})),
            "{query}"
        );
    }
    let (status, refused) = world
        .get(&world.dawasa, "/v1/reports/sms?agency=rita")
        .await;
    assert_eq!(status, 422, "no way to name another agency: {refused}");
    let (status, _) = world.get("mgk_wrong", "/v1/reports/sms").await;
    assert_eq!(status, 401);
}

/// An agency's URL for forwarded messages: takes them, replies nothing.
async fn agency_endpoint() -> String {
    let app = axum::Router::new().route(
        "/mo",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mo", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn register(world: &SmsWorld, key: &str, service: Value) {
    let response = world
        .gw
        .http
        .post(world.gw.url("/v1/services/sms"))
        .bearer_auth(key)
        .json(&service)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201, "{service}");
}

/// Posts one message in Africa's Talking's format; the HTTP status.
async fn deliver(world: &SmsWorld, id: &str, from: &str, to: &str, text: &str) -> u16 {
    let mut request = world
        .gw
        .http
        .post(world.gw.url("/sms/africastalking/inbound"));
    if let Some((user, secret)) = world.gw.credentials.get("africastalking") {
        request = request.basic_auth(user, Some(secret));
    }
    let date = ("date", "2026-11-30 10:00:00");
    let form = [("id", id), ("from", from), ("to", to), ("text", text), date];
    request.form(&form).send().await.unwrap().status().as_u16()
}

/// Waits until `count` incoming messages are routed. The bound only turns a hang into a
/// failure.
async fn until_routed(db: &Db, count: i64) {
    let sql = "SELECT COUNT(*) FROM inbound_messages WHERE status = 'done'";
    let started = std::time::Instant::now();
    loop {
        let done: i64 = match db {
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        };
        if done >= count {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{done} of {count} routed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `agency`'s times from acceptance to delivery, each end taken to the millisecond, in
/// ascending order.
async fn delivery_times(db: &Db, agency: &str) -> Vec<f64> {
    let sql = "SELECT m.created_at, e.at FROM messages m
               JOIN message_events e ON e.message_id = m.id AND e.status = 'delivered'
               WHERE m.agency_id = $1";
    let rows: Vec<(Timestamp, Timestamp)> = match db {
        Db::Postgres(pool) => sqlx::query_as(sql).bind(agency).fetch_all(pool).await,
        Db::Sqlite(pool) => sqlx::query_as(sql).bind(agency).fetch_all(pool).await,
    }
    .unwrap();
    let ms = |t: Timestamp| (t.0.timestamp_micros() + 500).div_euclid(1000);
    let mut times: Vec<f64> = rows
        .into_iter()
        .map(|(created, delivered)| (ms(delivered) - ms(created)) as f64)
        .collect();
    times.sort_by(f64::total_cmp);
    times
}
