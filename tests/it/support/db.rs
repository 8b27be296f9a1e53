//! Fresh, migrated databases for tests: a new Postgres database per test (so tests run in
//! parallel without seeing each other's rows) or a SQLite file in a temporary directory.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use mgov::agencies::Agency;
use mgov::backoffice::store::{TransactionOutcome, TransactionRecord};
use mgov::db::Db;
use mgov::ids::{AgencyId, ServiceId, TelcoId, TransactionId};
use mgov::msisdn::Msisdn;
use mgov::ussd::store::{EndReason, SessionRecord};
use rust_decimal::Decimal;
use sqlx::{Connection, Executor, PgConnection};
use std::str::FromStr;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Where to create test databases: `MGOV_TEST_DATABASE_URL`, or the local trust-auth server.
pub fn admin_url() -> String {
    std::env::var("MGOV_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

async fn admin_connection() -> PgConnection {
    let url = admin_url();
    match PgConnection::connect(&url).await {
        Ok(conn) => conn,
        // Fail, never skip: a suite that silently skips Postgres proves nothing about it.
        Err(e) => panic!(
            "Postgres is needed for the store tests but cannot be reached at {} ({e}). \
             Start it (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) \
             or point MGOV_TEST_DATABASE_URL at an admin URL.",
            redact(&url)
        ),
    }
}

/// Creates `mgov_t_<random>`, connects to it and migrates it. Returns the pool and its URL.
pub async fn fresh_postgres() -> (Db, String) {
    let name = format!("mgov_t_{}", ulid::Ulid::new().to_string().to_lowercase());
    let mut admin = admin_connection().await;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    admin.close().await.ok();
    let url = with_database(&admin_url(), &name);
    let db = Db::connect(&url)
        .await
        .expect("connect to the test database");
    db.migrate().await.expect("migrate the test database");
    (db, url)
}

/// Closes the pool and drops the database `fresh_postgres` made for it.
pub async fn drop_postgres(db: Db, url: &str) {
    db.close().await;
    let name = url.rsplit('/').next().unwrap_or_default();
    let name = name.split('?').next().unwrap_or_default();
    assert!(name.starts_with("mgov_t_"), "refusing to drop {name:?}");
    let mut admin = admin_connection().await;
    // FORCE: a connection still closing must not leave the database behind.
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .unwrap_or_else(|e| panic!("DROP DATABASE {name}: {e}"));
    admin.close().await.ok();
}

/// A migrated SQLite database in a temporary directory, removed when the guard drops.
pub async fn fresh_sqlite() -> (Db, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let url = format!("sqlite:{}", dir.path().join("mgov.db").display());
    let db = Db::connect(&url).await.expect("open the test SQLite file");
    db.migrate().await.expect("migrate the test SQLite file");
    (db, dir, url)
}

/// `admin` with its database (the last path segment) replaced by `name`, query kept.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let colon = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
            format!("{}:***{}", &url[..colon], &url[at..])
        }
        _ => url.to_string(),
    }
}

// Records to store, varied enough to exercise every column.

/// Now, to the microsecond: the precision both backends keep.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn msisdn(raw: &str) -> Msisdn {
    Msisdn::parse(raw, "255").unwrap()
}

fn money(raw: &str) -> Decimal {
    Decimal::from_str(raw).unwrap()
}

pub fn agency(id: &str) -> Agency {
    Agency {
        id: AgencyId::parse(id).unwrap(),
        name: format!("Agency {id}"),
        backoffice_url: format!("http://127.0.0.1:9000/{id}"),
        signing_secret: format!("secret-{id}"),
        actions: vec!["bills.fetch".into(), "payments.control_number".into()],
        callback_url: Some(format!("http://127.0.0.1:9001/{id}/hooks")),
        sender_ids: Vec::new(),
        webhook_every_status: false,
    }
}

pub fn transaction(amount: Option<&str>) -> TransactionRecord {
    let created_at = now();
    TransactionRecord {
        id: TransactionId::generate(),
        agency: AgencyId::parse("dawasa").unwrap(),
        service: Some(ServiceId::parse("maji").unwrap()),
        action: "payments.control_number".into(),
        session_key: Some("ATUid_0123".into()),
        msisdn: msisdn("255754123456"),
        outcome: TransactionOutcome::Ok,
        latency_ms: 840,
        attempts: 1,
        amount: amount.map(money),
        currency: amount.map(|_| "TZS".to_string()),
        reference: Some("991234567890".into()),
        error: None,
        created_at,
        completed_at: Some(created_at + Duration::milliseconds(840)),
        language: None,
        params: None,
        late: false,
        reconcile_at: None,
    }
}

pub fn session(i: i64) -> SessionRecord {
    let started_at = now();
    SessionRecord {
        session_key: format!("ATUid_{i}"),
        telco: TelcoId::parse("africastalking").unwrap(),
        msisdn_masked: msisdn("255754123456").masked(),
        msisdn: None,
        service: (i % 2 == 0).then(|| ServiceId::parse("maji").unwrap()),
        agency: (i % 2 == 0).then(|| AgencyId::parse("dawasa").unwrap()),
        last_state: (i % 2 == 0).then(|| "account".to_string()),
        reached: if i % 2 == 0 {
            vec!["home".into(), "account".into()]
        } else {
            Vec::new()
        },
        network: (i % 3 == 0).then(|| "vodacom".to_string()),
        hops: (i % 7) as i32 + 1,
        end_reason: EndReason::ALL[i as usize % EndReason::ALL.len()],
        started_at,
        ended_at: started_at + Duration::milliseconds(i * 10),
        duration_ms: i * 10,
    }
}

#[test]
fn database_names_are_swapped_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "mgov_t_x"),
        "postgres://postgres@127.0.0.1:5432/mgov_t_x"
    );
    assert_eq!(
        with_database("postgresql://u:p@h/admin?sslmode=disable", "d"),
        "postgresql://u:p@h/d?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "d"),
        "postgres://h:5432/d"
    );
    assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
}
