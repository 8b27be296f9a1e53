//! A gateway with SMS: either backend pair, its `africastalking` telco (the default route)
//! and a `kannel` telco (Vodacom's prefixes) sending to one telco simulator of the test's own,
//! and API keys for two agencies.

use crate::support::gateway::{embedded_with, production_with, TestGateway};
use mgov::agencies::keys::issue;
use mgov::config::Config;
use mgov::ids::{AgencyId, TelcoId};
use mgov::telcos::{SmsLink, Telco, WireFormat};
use mgov_simulators::telco::{self as simulator, Credentials};
use std::num::NonZeroU32;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub enum Backends {
    /// Postgres and Redis, telcos with credentials.
    Production,
    /// SQLite and in-process sessions, the demo world.
    Embedded,
}

pub struct SmsWorld {
    pub gw: TestGateway,
    pub simulator: String,
    /// API keys of `dawasa` and of `rita`.
    pub dawasa: String,
    pub rita: String,
    _simulator_task: tokio::task::JoinHandle<()>,
}

const SEND_USER: &str = "mgov";
const SEND_SECRET: &str = "send-secret";

pub async fn sms_world(
    backends: Backends,
    mut telco: simulator::Settings,
    adjust: impl FnOnce(&mut Config),
) -> SmsWorld {
    let mut gw = match backends {
        Backends::Production => production_with(Default::default(), adjust).await,
        Backends::Embedded => embedded_with(adjust).await,
    };
    let gateway = &gw.running.gateway;
    let db = &gateway.db;
    telco.at_credentials = Some(Credentials::new(SEND_USER, SEND_SECRET));
    telco.kannel_credentials = Some(Credentials::new(SEND_USER, SEND_SECRET));
    telco.at_report_url = Some(gw.url("/sms/africastalking/dlr"));
    telco.at_report_credentials = gw
        .credentials
        .get("africastalking")
        .map(|(user, secret)| Credentials::new(user, secret));
    let (addr, task) = simulator::spawn(telco)
        .await
        .expect("the telco simulator starts");
    let simulator = format!("http://{addr}");
    let link = |path: &str, prefixes: &[&str], default_route| SmsLink {
        url: format!("{simulator}{path}"),
        username: SEND_USER.into(),
        secret: SEND_SECRET.into(),
        parts_per_second: NonZeroU32::new(100_000).unwrap(),
        prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
        default_route,
    };
    let at_id = TelcoId::parse("africastalking").unwrap();
    let mut at = mgov::telcos::store::get_telco(db, &at_id)
        .await
        .unwrap()
        .unwrap();
    at.sms = Some(link("/version1/messaging", &[], true));
    mgov::telcos::store::upsert_telco(db, &at).await.unwrap();
    // Registered as `mgov telcos add` does: with callback credentials, which its incoming
    // SMS present (its reports are checked by their signature instead).
    let (kannel_secret, kannel_secret_sha256) = mgov::telcos::auth::generate_secret();
    gw.credentials
        .insert("kannel".into(), ("kannel".into(), kannel_secret));
    let kannel = Telco {
        id: TelcoId::parse("kannel").unwrap(),
        wire_format: WireFormat::Kannel,
        credentials: Some(mgov::telcos::TelcoCredentials {
            username: "kannel".into(),
            secret_sha256: kannel_secret_sha256,
        }),
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        screen_limit: 182,
        max_hops_per_second: mgov::telcos::DEFAULT_MAX_HOPS_PER_SECOND,
        sms: Some(link(
            "/cgi-bin/sendsms",
            &["25574", "25575", "25576"],
            false,
        )),
    };
    mgov::telcos::store::upsert_telco(db, &kannel)
        .await
        .unwrap();
    let dawasa_id = AgencyId::parse("dawasa").unwrap();
    let mut agency = mgov::agencies::store::get_agency(db, &dawasa_id)
        .await
        .unwrap()
        .unwrap();
    agency.sender_ids = vec!["DAWASA".into()];
    mgov::agencies::store::upsert_agency(db, &agency)
        .await
        .unwrap();
    gateway.refresh_directories().await.unwrap();
    let dawasa = issue(db, &AgencyId::parse("dawasa").unwrap())
        .await
        .unwrap()
        .0;
    let rita = issue(db, &AgencyId::parse("rita").unwrap())
        .await
        .unwrap()
        .0;
    SmsWorld {
        gw,
        simulator,
        dawasa,
        rita,
        _simulator_task: task,
    }
}

impl SmsWorld {
    /// `POST /v1/messages` as `key`; the status and the JSON answer.
    pub async fn send(&self, key: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self
            .gw
            .http
            .post(self.gw.url("/v1/messages"))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// `GET path` as `key`; the status and the JSON answer.
    pub async fn get(&self, key: &str, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .gw
            .http
            .get(self.gw.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    pub async fn simulator_stats(&self) -> serde_json::Value {
        let url = format!("{}/stats", self.simulator);
        reqwest::get(url).await.unwrap().json().await.unwrap()
    }

    /// Waits until `count` messages are final, reading the database as the dispatcher and
    /// the reports change it. The bound only turns a hang into a failure.
    pub async fn until_final(&self, count: i64) {
        let db = &self.gw.running.gateway.db;
        let started = std::time::Instant::now();
        loop {
            let finals = final_count(db).await;
            if finals >= count {
                assert_eq!(finals, count, "more final messages than sent");
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "{finals} of {count} messages final after 5 minutes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the telco simulator delivered to `to`, oldest first: (sender id, text).
    pub async fn handset(&self, to: &str) -> Vec<(Option<String>, String)> {
        let url = format!("{}/messages?to={to}", self.simulator);
        let page: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let from = m["from"].as_str().map(String::from);
                (from, m["text"].as_str().unwrap_or_default().to_string())
            })
            .collect()
    }

    pub async fn stop(self) {
        self.gw.stop().await;
    }
}

pub async fn final_count(db: &mgov::db::Db) -> i64 {
    let sql = "SELECT COUNT(*) FROM messages WHERE status IN ('delivered', 'failed', 'expired')";
    match db {
        mgov::db::Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        mgov::db::Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}
