//! The idle sweep on tokio's paused clock (no notices, so no HTTP); hops over real HTTP are in
//! `simulators/tests/aggregator.rs`.

use std::time::Duration;

use super::*;

fn quiet_platform(idle_timeout: Duration) -> Arc<Platform> {
    Arc::new(Platform::new(Settings {
        idle_timeout,
        end_notices: false,
        ..Settings::default()
    }))
}

/// Opens a dialogue on `msisdn` as if its last screen arrived now.
fn open(platform: &Platform, msisdn: &str) {
    let now = Instant::now();
    let session = Session {
        dialogue: Dialogue::new(format!("s-{msisdn}"), msisdn, "*152*00#", "*152*00#"),
        started: now,
        idle_since: now,
    };
    let handset = Arc::new(Mutex::new(Some(session)));
    platform.handsets.insert(msisdn.to_owned(), handset);
}

#[tokio::test(start_paused = true)]
async fn handsets_idle_for_the_timeout_are_cut_off() {
    let platform = quiet_platform(Duration::from_secs(60));
    open(&platform, "255754000001");
    tokio::time::advance(Duration::from_secs(30)).await;
    open(&platform, "255754000002");
    assert_eq!(platform.cut_idle().await, 0, "nobody idle yet");
    assert_eq!(platform.active(), 2);

    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(
        platform.cut_idle().await,
        1,
        "the first handset reached 60 s"
    );
    assert_eq!(platform.active(), 1);
    assert_eq!(
        platform.hangup("255754000001").await,
        None,
        "already cut off"
    );

    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(platform.cut_idle().await, 1);
    assert_eq!(platform.active(), 0);
    let stats = platform.stats.to_json(0);
    assert_eq!(stats["ended"]["idle_timeout"], 2);
    assert_eq!(stats["notices_sent"], 0, "notices are off");
    // Handsets with nothing open are forgotten.
    assert!(platform.handsets.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_handset_busy_with_a_hop_is_not_idle() {
    let platform = quiet_platform(Duration::from_secs(60));
    open(&platform, "255754000003");
    tokio::time::advance(Duration::from_secs(90)).await;
    let handset = platform.handsets.get("255754000003").unwrap().clone();
    let busy = handset.lock().await;
    assert_eq!(platform.cut_idle().await, 0);
    assert_eq!(platform.active(), 1);
    drop(busy);
    drop(handset);
    assert_eq!(platform.cut_idle().await, 1);
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_cuts_off_on_its_own_while_the_platform_lives() {
    let platform = quiet_platform(Duration::from_secs(60));
    crate::aggregator::start_idle_sweeper(&platform);
    open(&platform, "255754000005");
    tokio::time::sleep(Duration::from_secs(59)).await;
    assert_eq!(platform.active(), 1);
    // The paused clock jumps from one sweep to the next; the 60 s sweep cuts the handset off.
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(platform.active(), 0);
    assert_eq!(platform.stats.to_json(0)["ended"]["idle_timeout"], 1);
}

#[tokio::test]
async fn hangup_and_press_without_a_dialogue_find_nothing() {
    let platform = quiet_platform(Duration::from_secs(60));
    assert_eq!(platform.hangup("255754000004").await, None);
    assert!(platform.press("255754000004", "1").await.is_none());
    open(&platform, "255754000004");
    assert_eq!(
        platform.hangup("255754000004").await.as_deref(),
        Some("s-255754000004")
    );
    assert_eq!(platform.stats.to_json(0)["ended"]["hangup"], 1);
}
