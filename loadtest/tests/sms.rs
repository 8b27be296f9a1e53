//! `mgov-load sms` against the real gateway: embedded, whose demo telcos send to the telco
//! simulator mounted in-process, followed through the API; and on PostgreSQL with a telco
//! simulator of its own, registered as an operator would, followed in the database with the
//! whole audit. Assertions are on counts, never on
//! timings.

use mgov::agencies::Agency;
use mgov::backoffice::catalogue::STANDARD_ACTIONS;
use mgov::db::Db;
use mgov::ids::{AgencyId, TelcoId};
use mgov::telcos::auth::generate_secret;
use mgov::telcos::{SmsLink, Telco, TelcoCredentials, WireFormat};
use mgov_loadtest::runner::Load;
use mgov_loadtest::sms::config::{Config, Source, Until};
use mgov_loadtest::sms::texts::{run_id, Texts, DEFAULT_TEMPLATE};
use mgov_loadtest::sms::{self, Outcome};
use mgov_simulators::telco;
use sqlx::{Connection, Executor, PgConnection};
use std::num::NonZeroU32;
use std::time::Duration;

/// The gateway on a free port: embedded (SQLite) with the demo world, or on Postgres.
async fn gateway(database_url: Option<&str>) -> (mgov::app::Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = mgov::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        menus_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../menus").into(),
        sqlite_path: dir.path().join("mgov.db"),
        database_url: database_url.map(mgov::config::Secret::new),
        demo: Some(database_url.is_none()),
        ..Default::default()
    };
    config.validate().unwrap();
    (mgov::app::spawn(config).await.unwrap(), dir)
}

/// An API key of the demo agency dawasa.
async fn api_key(running: &mgov::app::Running) -> String {
    let dawasa = AgencyId::parse("dawasa").unwrap();
    let (key, _prefix) = mgov::agencies::keys::issue(&running.gateway.db, &dawasa)
        .await
        .unwrap();
    key
}

fn config(url: &str, api_key: String, recipients: u32, messages: u64, source: Source) -> Config {
    Config {
        url: url.to_string(),
        api_key,
        recipients,
        texts: Texts::new(&run_id(), DEFAULT_TEMPLATE).unwrap(),
        from: None,
        pacing: Load::Closed { concurrency: 4 },
        until: Until::Messages(messages),
        timeout: Duration::from_secs(10),
        source,
        telco_sim: Some(format!("{url}{}", mgov::app::TELCO_SIMULATOR_PATH)),
        drain_timeout: Duration::from_secs(60),
        poll_every: Duration::from_millis(100),
        show_progress: false,
    }
}

/// Every message accepted, delivered, received once: the run reports OK.
fn assert_delivered_once(outcome: &Outcome, messages: u64) {
    let report = sms::report::to_json(outcome, serde_json::json!({}));
    let table = sms::report::table(&report);
    let s = &outcome.submitted;
    assert_eq!(
        (s.ids.len() as u64, s.not_accepted, s.rejected),
        (messages, 0, 0),
        "{:?}",
        s.error_samples
    );
    let d = &outcome.dispatch;
    assert!(d.drained, "{table}");
    assert_eq!(d.statuses.get("delivered"), Some(&messages), "{table}");
    assert_eq!(d.statuses.len(), 1, "{table}");
    assert_eq!(
        (d.sent.count, d.delivered.count, d.latency.count),
        (messages, messages, messages)
    );
    assert!(
        d.latency.p50 > 0.0 && d.latency.p50 <= d.latency.p99,
        "{table}"
    );
    let telco = outcome.telco.expect("the simulator was read");
    assert_eq!(
        (telco.unique_messages, telco.duplicates),
        (messages, 0),
        "{table}"
    );
    assert_eq!(report["ok"], true, "{table}");
    assert!(table.contains("verdict      OK"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_through_the_api_every_message_is_delivered_once() {
    let (running, _dir) = gateway(None).await;
    let url = format!("http://{}", running.addr);
    for (recipients, messages) in [(1, 120), (100, 250)] {
        let key = api_key(&running).await;
        let config = config(&url, key, recipients, messages, Source::Api);
        let outcome = sms::run(config).await.unwrap();
        assert_delivered_once(&outcome, messages);
        assert_eq!(
            outcome.submitted.requests,
            messages.div_ceil(u64::from(recipients))
        );
        assert_eq!(
            outcome.audit.no_final_event, None,
            "the API shows no events"
        );
    }
    running.stop().await.unwrap();
}

/// A fresh, migrated Postgres database; its URL and the admin connection that drops it.
async fn fresh_postgres() -> (String, String, PgConnection) {
    let admin = std::env::var("MGOV_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = PgConnection::connect(&admin).await.expect(
        "Postgres is needed for this test: set MGOV_TEST_DATABASE_URL or start it on 127.0.0.1:5432",
    );
    let name = format!("mgov_t_load_{}", run_id());
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let (base, query) = admin.split_once('?').unwrap_or((admin.as_str(), ""));
    let server = base.rsplit_once('/').unwrap().0;
    let url = match query {
        "" => format!("{server}/{name}"),
        query => format!("{server}/{name}?{query}"),
    };
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
    (url, name, conn)
}

/// Registers the agencies the demo menus use, as `mgov agencies add` does.
async fn register_agencies(db: &Db) {
    for id in ["dawasa", "rita", "nida", "ilala", "kinondoni"] {
        let agency = Agency {
            id: AgencyId::parse(id).unwrap(),
            name: id.to_uppercase(),
            backoffice_url: "http://127.0.0.1:9/".into(),
            signing_secret: "not-called-in-this-test".into(),
            actions: STANDARD_ACTIONS
                .iter()
                .map(|(a, _)| a.to_string())
                .collect(),
            callback_url: None,
            sender_ids: Vec::new(),
            webhook_every_status: false,
        };
        mgov::agencies::store::upsert_agency(db, &agency)
            .await
            .unwrap();
    }
}

/// Starts a telco simulator reporting to `running`, and registers it there as the telco
/// `smsbench` that carries every number, as `mgov telcos add` does. Returns its base URL.
async fn telco_for(running: &mgov::app::Running) -> String {
    let (secret, secret_sha256) = generate_secret();
    let settings = telco::Settings {
        at_report_url: Some(format!("http://{}/sms/smsbench/dlr", running.addr)),
        at_report_credentials: Some(telco::Credentials::new("smsbench", secret)),
        ..Default::default()
    };
    let (addr, _server) = telco::spawn(settings).await.unwrap();
    let smsbench = Telco {
        id: TelcoId::parse("smsbench").unwrap(),
        wire_format: WireFormat::AfricasTalking,
        credentials: Some(TelcoCredentials {
            username: "smsbench".into(),
            secret_sha256,
        }),
        allowed_networks: Vec::new(),
        screen_limit: 182,
        max_hops_per_second: mgov::telcos::DEFAULT_MAX_HOPS_PER_SECOND,
        sms: Some(SmsLink {
            url: format!("http://{addr}/version1/messaging"),
            username: "mgov".into(),
            secret: "sms-key".into(),
            parts_per_second: NonZeroU32::new(2000).unwrap(),
            prefixes: Vec::new(),
            default_route: true,
        }),
    };
    mgov::telcos::store::upsert_telco(&running.gateway.db, &smsbench)
        .await
        .unwrap();
    running.gateway.refresh_directories().await.unwrap();
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_in_postgres_every_message_has_exactly_one_final_event() {
    let (url, name, mut admin) = fresh_postgres().await;
    let db = Db::connect(&url).await.unwrap();
    register_agencies(&db).await;
    db.close().await;
    let (running, _dir) = gateway(Some(&url)).await;
    let telco_sim = telco_for(&running).await;
    let gateway_url = format!("http://{}", running.addr);
    let key = api_key(&running).await;
    let mut config = config(&gateway_url, key, 50, 300, Source::Database { url });
    config.telco_sim = Some(telco_sim);
    let outcome = sms::run(config).await.unwrap();
    running.stop().await.unwrap();
    admin
        .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .unwrap();

    assert_delivered_once(&outcome, 300);
    let audit = &outcome.audit;
    assert_eq!(
        (
            audit.no_final_event,
            audit.several_final_events,
            audit.status_disagrees,
            audit.stored_unanswered
        ),
        (Some(0), Some(0), Some(0), Some(0))
    );
}
