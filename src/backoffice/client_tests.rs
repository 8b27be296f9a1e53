//! The client against small back offices served in the test: answers too large to read, and
//! the agency's limits in front of every call.

use super::*;
use crate::config::BackOfficeLimits;
use crate::ids::TransactionId;
use axum::body::Body;
use axum::routing::post;
use axum::Router;
use std::sync::atomic::{AtomicU32, Ordering};

/// Serves `router` on a free loopback port; the URL to call.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}/")
}

fn action_call(url: &str) -> ActionCall {
    ActionCall {
        agency: Arc::new(Agency {
            id: AgencyId::parse("dawasa").unwrap(),
            name: "DAWASA".into(),
            backoffice_url: url.to_string(),
            signing_secret: "secret".into(),
            actions: vec!["bills.fetch".into()],
            callback_url: None,
            sender_ids: Vec::new(),
            webhook_every_status: false,
        }),
        transaction: TransactionId::generate(),
        action: "bills.fetch".into(),
        msisdn: Msisdn::parse("255754123456", "255").unwrap(),
        language: Language::SWAHILI,
        params: BTreeMap::from([("account".to_string(), "12345678".to_string())]),
    }
}

fn client_with(limits: BackOfficeLimits) -> BackOfficeClient {
    BackOfficeClient::new(&Config {
        backoffice: limits,
        ..Config::default()
    })
}

fn breaking_after(failures: u32) -> BackOfficeClient {
    client_with(BackOfficeLimits {
        breaker_failures: failures,
        ..BackOfficeLimits::default()
    })
}

/// A JSON answer of `size` bytes in the contract's envelope.
fn answer_of(size: usize) -> String {
    let filler = "x".repeat(size.saturating_sub(40));
    format!(r#"{{"status":"ok","data":{{"filler":"{filler}"}}}}"#)
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

fn assert_too_large(report: &CallReport) {
    match &report.outcome {
        CallOutcome::Failed {
            timed_out: false,
            reason,
        } => assert!(reason.contains("larger than 64 KiB"), "{reason}"),
        other => panic!("expected a failure for size, got {other:?}"),
    }
    assert_eq!(report.attempts, 1, "an oversized answer is not retried");
}

#[tokio::test]
async fn an_answer_of_a_megabyte_is_refused_by_its_declared_length() {
    let url = serve(Router::new().route("/", post(|| async { answer_of(1 << 20) }))).await;
    let client = BackOfficeClient::default();
    assert_too_large(&client.call(&action_call(&url), far()).await);
}

#[tokio::test]
async fn an_endless_answer_is_abandoned_past_the_limit() {
    // Chunked, with no length: a megabyte, then a body that never ends. Reading it to the
    // end would wait until the deadline and report a time-out.
    let endless = || async {
        let megabyte = futures_util::stream::iter(
            (0..16).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024])),
        );
        let forever = futures_util::stream::pending();
        Body::from_stream(futures_util::StreamExt::chain(megabyte, forever))
    };
    let url = serve(Router::new().route("/", post(endless))).await;
    let client = BackOfficeClient::default();
    assert_too_large(&client.call(&action_call(&url), far()).await);
}

#[tokio::test]
async fn an_answer_under_the_limit_is_read() {
    let url = serve(Router::new().route("/", post(|| async { answer_of(60 * 1024) }))).await;
    let client = BackOfficeClient::default();
    let report = client.call(&action_call(&url), far()).await;
    assert!(matches!(report.outcome, CallOutcome::Ok(_)), "{report:?}");
}

#[tokio::test]
async fn after_repeated_failures_calls_are_refused_without_being_sent() {
    let received = Arc::new(AtomicU32::new(0));
    let counter = received.clone();
    let failing = move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { (axum::http::StatusCode::BAD_GATEWAY, "down") }
    };
    let url = serve(Router::new().route("/", post(failing))).await;
    let client = breaking_after(2);
    let dawasa = AgencyId::parse("dawasa").unwrap();
    for _ in 0..2 {
        let report = client.call(&action_call(&url), far()).await;
        assert_eq!((report.attempts, report.refused), (3, None), "{report:?}");
    }
    assert_eq!(received.load(Ordering::SeqCst), 6);
    assert_eq!(client.breaker_state(&dawasa), Some(BreakerState::Open));

    let report = client.call(&action_call(&url), far()).await;
    assert_eq!(report.refused, Some(Refusal::BreakerOpen));
    assert_eq!(report.attempts, 0);
    match &report.outcome {
        CallOutcome::Failed {
            timed_out: false,
            reason,
        } => assert!(reason.contains("circuit breaker is open"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(received.load(Ordering::SeqCst), 6, "nothing sent");
}

#[tokio::test(start_paused = true)]
async fn calls_left_unanswered_open_the_breaker_before_their_deadline() {
    let silent = || std::future::pending::<&'static str>();
    let url = serve(Router::new().route("/", post(silent))).await;
    let client = breaking_after(2);
    let dawasa = AgencyId::parse("dawasa").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (a, b) = (action_call(&url), action_call(&url));
    let calls = futures_util::future::join(client.call(&a, deadline), client.call(&b, deadline));
    let slow_at = Instant::now() + client.limits.slow_call;
    tokio::pin!(calls);
    tokio::select! {
        _ = &mut calls => panic!("the back office never answers"),
        _ = tokio::time::sleep_until(slow_at + Duration::from_millis(1)) => {}
    }
    assert_eq!(client.breaker_state(&dawasa), Some(BreakerState::Open));
    let refused = client.call(&action_call(&url), deadline).await;
    assert_eq!(refused.refused, Some(Refusal::BreakerOpen));
    let (a, b) = calls.await;
    assert!(matches!(
        a.outcome,
        CallOutcome::Failed {
            timed_out: true,
            ..
        }
    ));
    assert!(matches!(
        b.outcome,
        CallOutcome::Failed {
            timed_out: true,
            ..
        }
    ));
}

#[tokio::test]
async fn a_full_cap_refuses_at_once() {
    let silent = || std::future::pending::<&'static str>();
    let url = serve(Router::new().route("/", post(silent))).await;
    let client = client_with(BackOfficeLimits {
        max_calls_in_flight: 1,
        ..BackOfficeLimits::default()
    });
    let held = action_call(&url);
    let first = client.call(&held, far());
    tokio::pin!(first);
    // Polled once, the first call takes the only place and waits on the silent back office.
    assert!(futures_util::poll!(&mut first).is_pending());
    let refused = client.call(&action_call(&url), far()).await;
    assert_eq!(refused.refused, Some(Refusal::AtCapacity));
    assert_eq!(refused.attempts, 0);
    match &refused.outcome {
        CallOutcome::Failed { reason, .. } => {
            assert!(reason.contains("calls in flight"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}
