//! The whole gateway on `127.0.0.1:0`, on either backend pair:
//! - `embedded()`: SQLite in a temporary folder, in-process sessions, the demo world;
//! - `production()`: a fresh Postgres database, Redis under a random prefix, telcos with
//!   credentials and agencies registered as an operator would, and the back-office
//!   simulator as a separate HTTP server.

use super::db::{drop_postgres, fresh_postgres};
use super::redis::TestRedis;
use mgov::agencies::Agency;
use mgov::app::{spawn, Running};
use mgov::backoffice::catalogue::STANDARD_ACTIONS;
use mgov::cli::phone::{Phone, PhoneSettings};
use mgov::config::{Config, Secret};
use mgov::db::Db;
use mgov::ids::{AgencyId, TelcoId};
use mgov::telcos::auth::generate_secret;
use mgov::telcos::{Telco, TelcoCredentials, WireFormat};
use mgov_simulators::backoffice as simulator;
use std::collections::HashMap;
use std::path::PathBuf;

pub struct TestGateway {
    pub running: Running,
    pub base_url: String,
    pub http: reqwest::Client,
    /// HTTP Basic credentials per telco id, where the telco has them.
    pub credentials: HashMap<String, (String, String)>,
    pub redis: Option<TestRedis>,
    /// The test's own Postgres database, dropped at `stop`.
    postgres_url: Option<String>,
    _sqlite_dir: Option<tempfile::TempDir>,
}

pub fn menus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("menus")
}

/// Settings for tests: every value chosen here, none taken from the environment.
pub fn base_config() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        menus_dir: menus_dir(),
        ..Default::default()
    }
}

pub async fn embedded() -> TestGateway {
    embedded_with(|_| {}).await
}

pub async fn embedded_with(adjust: impl FnOnce(&mut Config)) -> TestGateway {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut config = base_config();
    config.sqlite_path = dir.path().join("mgov.db");
    adjust(&mut config);
    config.validate().expect("test settings are valid");
    let running = spawn(config).await.expect("the embedded gateway starts");
    TestGateway::new(running, HashMap::new(), None, Some(dir))
}

pub async fn production() -> TestGateway {
    production_with(simulator::Settings::default(), |_| {}).await
}

/// A production world before any gateway runs in it: a fresh Postgres database with telcos
/// and agencies registered as an operator would, a Redis prefix, and the back-office
/// simulator as a separate HTTP server.
pub struct ProductionWorld {
    pub database_url: String,
    pub redis: TestRedis,
    /// HTTP Basic credentials per telco id.
    pub credentials: HashMap<String, (String, String)>,
}

impl ProductionWorld {
    /// The settings a gateway of this world runs with.
    pub fn config(&self) -> Config {
        let mut config = base_config();
        config.database_url = Some(Secret::new(self.database_url.clone()));
        config.redis_url = Some(Secret::new(self.redis.url.clone()));
        config.redis_prefix = self.redis.prefix.clone();
        config
    }

    /// Deletes the world's Redis keys and drops its database.
    pub async fn clean_up(self) {
        self.redis.cleanup().await;
        let db = mgov::db::Db::connect(&self.database_url).await.unwrap();
        drop_postgres(db, &self.database_url).await;
    }
}

/// A production world: a fresh Postgres database with telcos and agencies registered, and
/// the back-office simulator running with `backoffice`.
pub async fn production_world(mut backoffice: simulator::Settings) -> ProductionWorld {
    let (db, url) = fresh_postgres().await;
    let signing_secret = generate_secret().0;
    backoffice.secret = Some(signing_secret.clone());
    let (simulator_addr, _) = simulator::spawn(backoffice)
        .await
        .expect("the simulator starts");
    let credentials =
        register_operators(&db, &format!("http://{simulator_addr}/"), &signing_secret).await;
    db.close().await;
    ProductionWorld {
        database_url: url,
        redis: TestRedis::new(),
        credentials,
    }
}

/// Registers the telcos `africastalking` and `hubtel` with credentials, and the agencies
/// the demo menus use at `backoffice_url`, through the same store calls
/// `mgov telcos add` and `mgov agencies add` make. Returns HTTP Basic credentials per telco.
pub async fn register_operators(
    db: &Db,
    backoffice_url: &str,
    signing_secret: &str,
) -> HashMap<String, (String, String)> {
    let mut credentials = HashMap::new();
    for (id, format) in [
        ("africastalking", WireFormat::AfricasTalking),
        ("hubtel", WireFormat::Hubtel),
    ] {
        let (secret, secret_sha256) = generate_secret();
        let telco = Telco {
            id: TelcoId::parse(id).unwrap(),
            wire_format: format,
            credentials: Some(TelcoCredentials {
                username: id.to_string(),
                secret_sha256,
            }),
            allowed_networks: Vec::new(),
            screen_limit: 182,
            max_hops_per_second: mgov::telcos::DEFAULT_MAX_HOPS_PER_SECOND,
            sms: None,
        };
        mgov::telcos::store::upsert_telco(db, &telco).await.unwrap();
        credentials.insert(id.to_string(), (id.to_string(), secret));
    }
    for id in ["dawasa", "rita", "nida", "ilala", "kinondoni"] {
        register_agency(db, id, backoffice_url, signing_secret).await;
    }
    credentials
}

/// Registers (or moves) agency `id` with every standard action, at `backoffice_url`.
pub async fn register_agency(db: &Db, id: &str, backoffice_url: &str, signing_secret: &str) {
    let agency = Agency {
        id: AgencyId::parse(id).unwrap(),
        name: id.to_uppercase(),
        backoffice_url: backoffice_url.to_string(),
        signing_secret: signing_secret.to_string(),
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

/// Postgres + Redis, with telcos and agencies registered as an operator would.
pub async fn production_with(
    backoffice: simulator::Settings,
    adjust: impl FnOnce(&mut Config),
) -> TestGateway {
    let world = production_world(backoffice).await;
    let mut config = world.config();
    adjust(&mut config);
    config.validate().expect("test settings are valid");
    let running = spawn(config).await.expect("the production gateway starts");
    let mut gw = TestGateway::new(running, world.credentials, Some(world.redis), None);
    gw.postgres_url = Some(world.database_url);
    gw
}

impl TestGateway {
    fn new(
        running: Running,
        credentials: HashMap<String, (String, String)>,
        redis: Option<TestRedis>,
        sqlite_dir: Option<tempfile::TempDir>,
    ) -> Self {
        let base_url = format!("http://{}", running.addr);
        Self {
            running,
            base_url,
            http: reqwest::Client::new(),
            credentials,
            redis,
            postgres_url: None,
            _sqlite_dir: sqlite_dir,
        }
    }

    /// A phone on the telco named after its wire format (`africastalking` or `hubtel`).
    pub fn phone(&self, format: WireFormat, msisdn: &str) -> Phone {
        phone_at(&self.base_url, &self.credentials, format, msisdn)
    }

    /// The test's own Postgres database, on the production pair.
    pub fn database_url(&self) -> Option<&str> {
        self.postgres_url.as_deref()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn stop(self) {
        if let Some(redis) = &self.redis {
            redis.cleanup().await;
        }
        let db = self.running.gateway.db.clone();
        self.running
            .stop()
            .await
            .expect("the gateway stops cleanly");
        if let Some(url) = &self.postgres_url {
            drop_postgres(db, url).await;
        }
    }
}

/// A phone calling the gateway at `url` on the telco named after its wire format.
pub fn phone_at(
    url: &str,
    credentials: &HashMap<String, (String, String)>,
    format: WireFormat,
    msisdn: &str,
) -> Phone {
    let telco = format.as_str().to_string();
    Phone::new(
        PhoneSettings {
            url: url.to_string(),
            credentials: credentials.get(&telco).cloned(),
            telco,
            format,
            msisdn: msisdn.to_string(),
            root_code: "*152*00#".into(),
        },
        reqwest::Client::new(),
    )
}

/// A fresh phone number per test, so the per-number rate limit never couples tests.
pub fn msisdn() -> String {
    format!("2557{:08}", rand::random::<u32>() % 100_000_000)
}
