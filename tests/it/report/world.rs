//! A gateway for the report tests on either backend: the fixed-shape menus of
//! `tests/it/report/menus`, agency `dawasa` at a working back-office simulator and `rita` at
//! one that answers 500 to everything, telcos with credentials.

use crate::support::gateway::{
    embedded_with, production_with, register_agency, register_operators, TestGateway,
};
use mgov::cli::phone::Phone;
use mgov::db::Db;
use mgov::telcos::auth::generate_secret;
use mgov_simulators::backoffice as simulator;
use reqwest::StatusCode;
use std::path::PathBuf;
use std::process::{Command, Output};

#[derive(Clone, Copy)]
pub enum Backend {
    /// Postgres and Redis, as in production.
    Postgres,
    /// The embedded SQLite file and in-process sessions, without the demo world.
    Sqlite,
}

pub struct ReportWorld {
    pub gw: TestGateway,
    /// The SQLite file, on that backend; it outlives the gateway's own temporary folder.
    sqlite: Option<(tempfile::TempDir, PathBuf)>,
}

fn menus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/report/menus")
}

impl ReportWorld {
    pub async fn start(backend: Backend) -> Self {
        let secret = generate_secret().0;
        let working = simulator_at(&secret, 0.0).await;
        let (mut gw, sqlite) = match backend {
            Backend::Postgres => {
                let settings = simulator::Settings::default();
                let gw = production_with(settings, |c| c.menus_dir = menus()).await;
                (gw, None)
            }
            Backend::Sqlite => {
                // The agencies the menus use are registered before the gateway starts, as
                // `mgov agencies add` would, since it refuses menus of unknown agencies.
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("mgov.db");
                let db = Db::connect(&format!("sqlite:{}", path.display()))
                    .await
                    .unwrap();
                db.migrate().await.unwrap();
                register_operators(&db, &working, &secret).await;
                db.close().await;
                let file = path.clone();
                let gw = embedded_with(move |c| {
                    c.sqlite_path = file;
                    c.menus_dir = menus();
                    c.demo = Some(false);
                })
                .await;
                (gw, Some((dir, path)))
            }
        };
        let db = &gw.running.gateway.db;
        gw.credentials = register_operators(db, &working, &secret).await;
        register_agency(db, "rita", &simulator_at(&secret, 1.0).await, &secret).await;
        gw.running.gateway.refresh_directories().await.unwrap();
        ReportWorld { gw, sqlite }
    }

    pub async fn stop(self) {
        self.gw.stop().await;
        drop(self.sqlite);
    }

    /// Africa's Talking's end notice for `phone`'s dialogue: its timer ran out.
    pub async fn telco_times_out(&self, phone: &Phone, number: &str, hops: usize) {
        let (user, secret) = self.gw.credentials["africastalking"].clone();
        let notice = [
            ("sessionId", phone.session_id().to_string()),
            ("serviceCode", "*152*00#".into()),
            ("phoneNumber", format!("+{number}")),
            ("networkCode", "63902".into()),
            ("status", "Incomplete".into()),
            ("hopsCount", hops.to_string()),
            ("durationInMillis", "20000".into()),
        ];
        let request = self.gw.http.post(self.gw.url("/ussd/africastalking"));
        let ack = request
            .basic_auth(&user, Some(&secret))
            .form(&notice)
            .send()
            .await
            .unwrap();
        assert_eq!(ack.status(), StatusCode::OK);
    }

    /// Hubtel's release of `phone`'s dialogue: the citizen hung up.
    pub async fn citizen_hangs_up(&self, phone: &Phone, number: &str, sequence: u32) {
        let (user, secret) = self.gw.credentials["hubtel"].clone();
        let release = serde_json::json!({
            "Type": "Release", "Mobile": number, "SessionId": phone.session_id(),
            "ServiceCode": "*152*00#", "Message": "", "Operator": "vodacom", "Sequence": sequence,
        });
        let request = self.gw.http.post(self.gw.url("/ussd/hubtel"));
        let ack = request
            .basic_auth(&user, Some(&secret))
            .json(&release)
            .send()
            .await
            .unwrap();
        assert_eq!(ack.status(), StatusCode::OK);
    }

    /// `mgov report <args>` against this world's database; its standard output.
    pub fn mgov_report(&self, args: &[&str]) -> String {
        let out = self.run_mgov_report(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "mgov report {args:?}: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// `mgov report <args>` that must fail: its exit code and standard error.
    pub fn mgov_report_fails(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = self.run_mgov_report(args);
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    }

    fn run_mgov_report(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mgov"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(["--config", "/nonexistent/mgov.toml", "report"])
            .args(args);
        match (&self.sqlite, self.gw.database_url()) {
            (Some((_, path)), _) => command.env("MGOV_SQLITE_PATH", path),
            (None, Some(url)) => command.env("MGOV_DATABASE_URL", url),
            (None, None) => unreachable!("every report world has a database"),
        };
        command.output().expect("mgov runs")
    }
}

/// A back-office simulator signing with `secret`, failing that share of requests; its URL.
async fn simulator_at(secret: &str, failure_rate: f64) -> String {
    let settings = simulator::Settings {
        secret: Some(secret.to_string()),
        failure_rate,
        ..Default::default()
    };
    let (addr, _) = simulator::spawn(settings)
        .await
        .expect("the simulator starts");
    format!("http://{addr}/")
}
