//! Several gateway nodes on one Redis and one Postgres: any node serves any hop, and a
//! dialogue finishes on the menu version it started with, even across a reload and on a
//! node that never loaded that version from its own files.

use super::control_number;
use crate::support::gateway::{menus_dir, msisdn, production_with};
use mgov::app::{spawn, Running};
use mgov::telcos::WireFormat;
use mgov_simulators::backoffice::Settings;

async fn another_node(first: &Running, adjust: impl FnOnce(&mut mgov::config::Config)) -> Running {
    let mut config = first.gateway.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    adjust(&mut config);
    spawn(config).await.expect("a second node starts")
}

#[tokio::test]
async fn any_node_serves_any_hop() {
    let gw = production_with(Settings::default(), |_| {}).await;
    let second = another_node(&gw.running, |_| {}).await;
    let second_url = format!("http://{}", second.addr);
    for format in [WireFormat::AfricasTalking, WireFormat::Hubtel] {
        let mut phone = gw.phone(format, &msisdn());
        phone.dial("*152*00#").await.unwrap();
        phone.set_url(&second_url);
        phone.press("1").await.unwrap();
        phone.press("1").await.unwrap();
        phone.set_url(&gw.base_url);
        phone.press("12345678").await.unwrap();
        phone.set_url(&second_url);
        let done = phone.press("1").await.unwrap();
        assert!(
            done.ends && control_number(&done).is_some(),
            "{format:?}: {done:?}"
        );
    }
    second.stop().await.unwrap();
    gw.stop().await;
}

#[tokio::test]
async fn a_dialogue_keeps_its_menu_version_across_a_reload_and_across_nodes() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["maji.toml", "kesi.toml", "miadi.toml"] {
        std::fs::copy(menus_dir().join(file), dir.path().join(file)).unwrap();
    }
    let menus = dir.path().to_path_buf();
    let gw = production_with(Settings::default(), |c| c.menus_dir = menus).await;
    let mut before = gw.phone(WireFormat::AfricasTalking, &msisdn());
    before.dial("*152*00#").await.unwrap();
    assert!(before
        .press("1")
        .await
        .unwrap()
        .text
        .contains("1. Angalia bili"));

    let maji = dir.path().join("maji.toml");
    let edited = std::fs::read_to_string(&maji)
        .unwrap()
        .replace("Angalia bili", "Tazama bili");
    std::fs::write(&maji, edited).unwrap();
    assert_eq!(gw.running.gateway.reload_menus().await.unwrap(), 3);

    let mut after = gw.phone(WireFormat::AfricasTalking, &msisdn());
    after.dial("*152*00#").await.unwrap();
    assert!(after
        .press("1")
        .await
        .unwrap()
        .text
        .contains("1. Tazama bili"));

    // A node started from the edited files has never loaded the old version.
    let second = another_node(&gw.running, |_| {}).await;
    before.set_url(&format!("http://{}", second.addr));
    let prompt = before.press("1").await.unwrap();
    assert!(
        !prompt.ends && prompt.text.contains("tarakimu 8"),
        "{prompt:?}"
    );
    let back = before.press("0").await.unwrap();
    assert!(
        back.text.contains("1. Angalia bili"),
        "the old version, read from the store: {back:?}"
    );
    second.stop().await.unwrap();
    gw.stop().await;
}
