//! What operators poll, and the command line they run.

use crate::support::gateway::{embedded, menus_dir, msisdn};
use mgov::telcos::WireFormat;
use reqwest::StatusCode;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let gw = embedded().await;
    let health = gw.http.get(gw.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = gw.http.get(gw.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let mut phone = gw.phone(WireFormat::AfricasTalking, &msisdn());
    phone.dial("*152*00*1*1#").await.unwrap();
    phone.press("12345678").await.unwrap();
    assert!(phone.press("1").await.unwrap().ends);
    let metrics = gw.http.get(gw.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    for needle in [
        "mgov_ussd_hops_total{telco=\"africastalking\",outcome=\"continued\"}",
        "mgov_ussd_hop_duration_seconds_bucket",
        "mgov_transactions_total{agency=\"dawasa\",action=\"bills.fetch\",outcome=\"ok\"}",
        "mgov_backoffice_call_duration_seconds_count{agency=\"dawasa\",action=\"bills.fetch\"}",
        "mgov_ussd_sessions_ended_total{reason=\"completed\",agency=\"dawasa\"}",
    ] {
        assert!(text.contains(needle), "/metrics lacks {needle}");
    }
    gw.stop().await;
}

#[test]
fn menus_check_passes_the_demo_menus_and_names_a_broken_file() {
    let mgov = env!("CARGO_BIN_EXE_mgov");
    let ok = std::process::Command::new(mgov)
        .args(["menus", "check"])
        .arg(menus_dir())
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ok: maji v"));

    let dir = tempfile::tempdir().unwrap();
    let broken = std::fs::read_to_string(menus_dir().join("maji.toml"))
        .unwrap()
        .replace("next = \"fetch_bill\"", "next = \"fech_bill\"");
    std::fs::write(dir.path().join("maji.toml"), broken).unwrap();
    let refused = std::process::Command::new(mgov)
        .args(["menus", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("maji.toml:") && stderr.contains("fech_bill") && stderr.contains("account"),
        "{stderr}"
    );
}
