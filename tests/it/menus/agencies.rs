//! Menus checked against the agencies registered in a real database: by `mgov menus check`
//! on Postgres and on the embedded default's SQLite file, and by `serve`, which refuses with
//! the same full list.

use super::one_run::{kesi, layered_problems, line, write, UNREADABLE_STATE};
use crate::support::db::{agency, drop_postgres, fresh_postgres, fresh_sqlite};
use crate::support::gateway::{base_config, embedded_with};
use mgov::agencies::store::upsert_agency;
use mgov::config::Secret;
use mgov::db::Db;
use std::path::Path;
use std::process::Output;

/// `mgov menus check DIR` with only `env` as settings (no `mgov.toml`, nothing inherited).
fn menus_check(dir: &Path, env: &[(&str, &str)]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mgov"))
        .env_clear()
        .envs(env.iter().copied())
        .arg("--config")
        .arg(dir.join("absent.toml"))
        .args(["menus", "check"])
        .arg(dir)
        .output()
        .unwrap()
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

fn not_registered(file: &str, id: &str) -> String {
    format!(
        "{file}:{}: agency \"{id}\" is not registered (mgov agencies add {id} ...)",
        line(&kesi(), "agency =")
    )
}

/// `rita`, offering `actions`.
async fn register_rita(db: &Db, actions: &[&str]) {
    let mut rita = agency("rita");
    rita.actions = actions.iter().map(|a| a.to_string()).collect();
    upsert_agency(db, &rita).await.unwrap();
}

#[tokio::test]
async fn menus_check_names_the_agency_postgres_does_not_know_then_the_missing_action() {
    let (db, url) = fresh_postgres().await;
    upsert_agency(&db, &agency("dawasa")).await.unwrap();
    let menus = tempfile::tempdir().unwrap();
    let file = write(menus.path(), "kesi.toml", &kesi());
    let env = [("MGOV_DATABASE_URL", url.as_str())];

    let refused = menus_check(menus.path(), &env);
    assert!(!refused.status.success());
    assert_eq!(
        lines(&refused.stderr),
        [
            not_registered(&file, "rita"),
            "agencies: checked against the Postgres database".to_string(),
            "1 problem in 1 file".to_string(),
        ]
    );

    // Registered, but without the action the menu calls: now, and only now, that is said.
    register_rita(&db, &["bills.fetch"]).await;
    let refused = menus_check(menus.path(), &env);
    assert!(!refused.status.success());
    assert_eq!(
        lines(&refused.stderr)[0],
        format!(
            "{file}:{}: state \"fetch_status\": agency \"rita\" does not offer action \"cases.status\"",
            line(&kesi(), "action =")
        )
    );

    register_rita(&db, &["cases.status"]).await;
    let ok = menus_check(menus.path(), &env);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = lines(&ok.stdout);
    assert!(out[1].starts_with("ok: kesi v"), "{out:?}");
    drop_postgres(db, &url).await;
}

#[tokio::test]
async fn menus_check_on_the_embedded_default_counts_the_demo_agencies_and_the_sqlite_file() {
    let (db, sqlite_dir, _) = fresh_sqlite().await;
    register_rita(&db, &["cases.status"]).await;
    db.close().await;
    let sqlite = sqlite_dir.path().join("mgov.db");
    let sqlite = sqlite.display().to_string();
    let menus = tempfile::tempdir().unwrap();
    let file = write(
        menus.path(),
        "kesi.toml",
        &kesi().replace("agency = \"rita\"", "agency = \"tra\""),
    );

    // Demo on (the embedded default's own choice): the demo agencies count, `tra` is none.
    let refused = menus_check(menus.path(), &[("MGOV_SQLITE_PATH", &sqlite)]);
    assert!(!refused.status.success());
    let err = lines(&refused.stderr);
    assert_eq!(err[0], not_registered(&file, "tra"));
    assert!(
        err[1].starts_with("agencies: checked against the embedded default: the demo agencies (")
            && err[1].ends_with(&format!(" and those registered in {sqlite}")),
        "{err:?}"
    );

    // Demo off: only what the file holds. `rita` is there; `dawasa` is not.
    let demo_off = [
        ("MGOV_SQLITE_PATH", sqlite.as_str()),
        ("MGOV_DEMO", "false"),
    ];
    write(menus.path(), "kesi.toml", &kesi());
    let ok = menus_check(menus.path(), &demo_off);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    write(menus.path(), "maji.toml", UNREADABLE_STATE);
    let maji = menus.path().join("maji.toml").display().to_string();
    let refused = menus_check(menus.path(), &demo_off);
    let err = lines(&refused.stderr);
    assert!(
        err.contains(&format!(
            "{maji}:{}: agency \"dawasa\" is not registered (mgov agencies add dawasa ...)",
            line(UNREADABLE_STATE, "agency =")
        )),
        "{err:?}"
    );
    assert!(
        err.contains(&format!(
            "agencies: checked against the embedded default: those registered in {sqlite}"
        )),
        "{err:?}"
    );
}

#[tokio::test]
async fn serve_refuses_with_every_problem_the_unregistered_agency_included() {
    let (db, url) = fresh_postgres().await;
    upsert_agency(&db, &agency("dawasa")).await.unwrap();
    let menus = tempfile::tempdir().unwrap();
    let status = write(menus.path(), "status.toml", super::one_run::LAYERED);
    let mut config = base_config();
    config.database_url = Some(Secret::new(url.clone()));
    config.menus_dir = menus.path().to_path_buf();
    let refused = mgov::app::spawn(config)
        .await
        .err()
        .expect("serve refuses these menus");
    let expected: Vec<String> = layered_problems(&status)
        .iter()
        .map(|p| format!("  {p}"))
        .collect();
    assert_eq!(
        refused.to_string(),
        format!("menus refused:\n{}", expected.join("\n"))
    );
    drop_postgres(db, &url).await;
}

#[tokio::test]
async fn serve_starts_with_a_warning() {
    let menus = tempfile::tempdir().unwrap();
    let unbounded = UNREADABLE_STATE
        .replace("failed = \"sory\"", "failed = \"done\"")
        .replace("colour = \"blue\"\n", "");
    write(menus.path(), "maji.toml", &unbounded);
    let gw = embedded_with(|c| c.menus_dir = menus.path().to_path_buf()).await;
    assert_eq!(
        gw.running
            .gateway
            .menus
            .current()
            .services_by_position()
            .len(),
        1
    );
    gw.stop().await;
}
