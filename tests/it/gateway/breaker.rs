//! One agency's back office failing: once its circuit breaker opens, that agency's hops end
//! on its "not available" screen without calling it, while another agency's service still
//! completes, and `/metrics` shows the breakers.

use crate::support::gateway::{msisdn, production_with, TestGateway};
use mgov::backoffice::breaker::BreakerState;
use mgov::cli::phone::Screen;
use mgov::ids::AgencyId;
use mgov::telcos::WireFormat;
use mgov_simulators::backoffice::{self as simulator, Settings};
use reqwest::StatusCode;
use serde_json::Value;

async fn bill_lookup(gw: &TestGateway) -> Screen {
    let mut phone = gw.phone(WireFormat::AfricasTalking, &msisdn());
    phone.dial("*152*00*1*1#").await.unwrap();
    phone.press("12345678").await.unwrap()
}

async fn requests_received(http: &reqwest::Client, backoffice: &str) -> u64 {
    let response = http.get(format!("{backoffice}stats")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let stats: Value = response.json().await.unwrap();
    stats["requests"].as_u64().expect("a request count")
}

/// The value of the sample of `metric` whose labels include every one of `labels`.
fn sample(metrics: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn a_failing_agency_is_cut_off_while_another_agency_keeps_working() {
    let gw = production_with(Settings::default(), |c| {
        c.backoffice.breaker_failures = 2;
        c.backoffice.breaker_open_ms = 600_000; // stays open for the whole test
    })
    .await;
    // DAWASA's back office is a simulator of its own that answers 500 to everything.
    let failing = Settings {
        failure_rate: 1.0,
        ..Settings::default()
    };
    let (failing_addr, _failing) = simulator::spawn(failing).await.unwrap();
    let failing_url = format!("http://{failing_addr}/");
    let gateway = &gw.running.gateway;
    let dawasa = AgencyId::parse("dawasa").unwrap();
    let mut agency = (*gateway.agencies.get(&dawasa).unwrap()).clone();
    agency.backoffice_url = failing_url.clone();
    mgov::agencies::store::upsert_agency(&gateway.db, &agency)
        .await
        .unwrap();
    gateway.refresh_directories().await.unwrap();

    for _ in 0..2 {
        let screen = bill_lookup(&gw).await;
        assert!(
            screen.ends && screen.text.contains("jaribu tena baadaye"),
            "{screen:?}"
        );
    }
    assert_eq!(
        gateway.backoffice.breaker_state(&dawasa),
        Some(BreakerState::Open)
    );
    let sent = requests_received(&gw.http, &failing_url).await;
    assert_eq!(sent, 6, "two calls of three attempts each");

    let screen = bill_lookup(&gw).await;
    assert!(
        screen.ends && screen.text.contains("huduma haipatikani"),
        "{screen:?}"
    );
    assert_eq!(
        requests_received(&gw.http, &failing_url).await,
        sent,
        "the open breaker answered without calling the back office"
    );

    let mut phone = gw.phone(WireFormat::Hubtel, &msisdn());
    phone.dial("*152*00#").await.unwrap();
    phone.press("2").await.unwrap();
    phone.press("2").await.unwrap();
    let screen = phone.press("250417615").await.unwrap();
    assert!(
        screen.ends && screen.text.contains("RITA, ombi 250417615:"),
        "RITA's service completes: {screen:?}"
    );
    let rita = AgencyId::parse("rita").unwrap();
    assert_eq!(
        gateway.backoffice.breaker_state(&rita),
        Some(BreakerState::Closed)
    );

    let response = gw.http.get(gw.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let metrics = response.text().await.unwrap();
    let refused = sample(
        &metrics,
        "mgov_backoffice_calls_refused_total",
        &[r#"agency="dawasa""#, r#"reason="breaker_open""#],
    );
    assert!(refused >= Some(1.0), "{refused:?}");
    // Other tests in this process call the same agencies, so only the presence of each
    // breaker's gauge is certain here; its values are checked in the unit tests.
    for agency in ["dawasa", "rita"] {
        let label = format!(r#"agency="{agency}""#);
        let state = sample(&metrics, "mgov_backoffice_breaker_state", &[&label]);
        assert!(
            matches!(state, Some(s) if [0.0, 1.0, 2.0].contains(&s)),
            "{agency}: {state:?}"
        );
    }
    gw.stop().await;
}
