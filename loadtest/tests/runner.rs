//! The runner against a small fake gateway (`support`) that plays the water-bill menu in
//! both wire formats. The telco id in the path picks a misbehaviour, so every error kind can
//! be provoked. Assertions are on counts, never on timings.

mod support;

use mgov_loadtest::journey::Journey;
use mgov_loadtest::runner::{self, Config, Formats, Load, Outcome, Stop};
use mgov_loadtest::stats::ErrorKind;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{config, fake_gateway, water_bill};

async fn run(config: Config) -> Outcome {
    runner::run(config, water_bill(), None).await.unwrap()
}

fn errors(outcome: &Outcome, kind: ErrorKind) -> u64 {
    outcome.stats.errors[kind as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_completes_every_journey_and_records_each_control_number() {
    let (url, _fake) = fake_gateway().await;
    let dir = std::env::temp_dir().join(format!("mgov-load-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("completed.csv");
    let (tx, writer) = mgov_loadtest::report::completed_csv(&csv).unwrap();
    let config = config(&url, Load::Closed { concurrency: 5 }, Stop::Sessions(40));
    let outcome = runner::run(config, water_bill(), Some(tx)).await.unwrap();
    let s = &outcome.stats;
    assert_eq!(
        (s.completed, s.failed, s.errors_total()),
        (40, 0, 0),
        "{:?}",
        s.samples
    );
    assert_eq!((s.hops, s.transactions), (200, 80));
    assert_eq!(s.overall.len(), 200);
    assert!(s.steps[0].iter().all(|h| h.len() == 40));
    assert_eq!(writer.join().unwrap().unwrap(), 40);
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let unique = |col: usize| rows.iter().map(|r| r[col]).collect::<HashSet<_>>().len();
    assert_eq!(
        (rows.len(), unique(0), unique(1), unique(2)),
        (40, 40, 40, 40),
        "distinct sessions, numbers, controls"
    );
    assert!(rows
        .iter()
        .all(|r| r[2].len() == 12 && r[2].starts_with("99") && r[1].starts_with("2557")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_formats_reach_both_telcos_and_warmup_is_not_counted() {
    let (url, fake) = fake_gateway().await;
    let mut config = config(&url, Load::Closed { concurrency: 4 }, Stop::Sessions(30));
    config.formats = Formats::Mixed;
    config.warmup = Duration::from_millis(200);
    let outcome = run(config).await;
    assert_eq!(
        (outcome.stats.completed, outcome.stats.errors_total()),
        (30, 0),
        "{:?}",
        outcome.stats.samples
    );
    let (at, hubtel) = (
        fake.africastalking_hops.load(Ordering::Relaxed),
        fake.hubtel_hops.load(Ordering::Relaxed),
    );
    assert!(at > 0 && hubtel > 0, "{at} {hubtel}");
    assert!(
        at + hubtel > 150,
        "warm-up sessions ran too, beyond the 30 measured ({})",
        at + hubtel
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_starts_the_requested_sessions() {
    let (url, _fake) = fake_gateway().await;
    let load = Load::Open {
        rate: 400.0,
        max_in_flight: 1000,
        late_after: Duration::from_secs(1),
    };
    let outcome = run(config(&url, load, Stop::Sessions(60))).await;
    assert_eq!(
        (outcome.started, outcome.dropped, outcome.abandoned),
        (60, 0, 0)
    );
    assert_eq!(outcome.stats.completed, 60, "{:?}", outcome.stats.samples);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_drops_arrivals_beyond_the_in_flight_cap() {
    let (url, _fake) = fake_gateway().await;
    let load = Load::Open {
        rate: 100.0,
        max_in_flight: 1,
        late_after: Duration::from_secs(1),
    };
    let mut config = config(&url, load, Stop::Sessions(20));
    config.telco_africastalking = "slow".into();
    let outcome = run(config).await;
    assert_eq!(outcome.started + outcome.dropped, 20);
    assert!(outcome.dropped > 0 && outcome.started > 0, "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_failure_is_counted_as_such() {
    let (url, _fake) = fake_gateway().await;
    let closed = Load::Closed { concurrency: 2 };
    for (telco, kind) in [
        ("wrong", ErrorKind::WrongScreen),
        ("limited", ErrorKind::HttpStatus),
        ("garbage", ErrorKind::BadReply),
        ("slow", ErrorKind::Timeout),
    ] {
        let mut config = config(&url, closed, Stop::Sessions(4));
        config.telco_africastalking = telco.into();
        config.timeout = Duration::from_millis(100);
        let outcome = run(config).await;
        assert_eq!(
            (outcome.stats.completed, errors(&outcome, kind)),
            (0, 4),
            "{telco}: {:?}",
            outcome.stats.samples
        );
        assert_eq!(
            outcome.stats.hops, 0,
            "{telco}: a wrong answer scores nothing"
        );
    }
    // A port nothing listens on.
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let outcome = run(config(
        &format!("http://127.0.0.1:{closed_port}"),
        closed,
        Stop::Sessions(3),
    ))
    .await;
    assert_eq!(
        errors(&outcome, ErrorKind::Connect),
        3,
        "{:?}",
        outcome.stats.samples
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_that_expects_more_than_the_gateway_gives_fails_on_the_end() {
    let (url, _fake) = fake_gateway().await;
    let journey = Journey::parse(
        "name='short'\ndial='*152*00#'\nexpect='Maji'\n[[steps]]\npress='1'\nexpect='Angalia'\nends=false\n\
         [[steps]]\npress='9'\nexpect='x'\n[[steps]]\npress='1'\nexpect='y'",
    )
    .unwrap();
    let config = config(&url, Load::Closed { concurrency: 1 }, Stop::Sessions(2));
    let outcome = runner::run(config, vec![journey], None).await.unwrap();
    assert_eq!(
        errors(&outcome, ErrorKind::UnexpectedEnd),
        2,
        "{:?}",
        outcome.stats.samples
    );
    assert_eq!(outcome.stats.failed_at[0], vec![0, 0, 2, 0]);
    assert_eq!(outcome.stats.hops, 4, "the dial and the first press passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_plays_every_session_however_long_the_run_lasts() {
    // The grace period for the sessions in flight at the end (timeout × (steps + 1) + 5 s,
    // 8.6 s here) is shorter than this whole run (7 sessions × 5 hops × 300 ms); it must
    // start at the end of the run, not at its start, or the last sessions are cut off.
    let (url, _fake) = fake_gateway().await;
    let mut config = config(&url, Load::Closed { concurrency: 1 }, Stop::Sessions(7));
    config.telco_africastalking = "slow".into();
    config.timeout = Duration::from_millis(600);
    let outcome = run(config).await;
    assert_eq!(
        (outcome.stats.completed, outcome.abandoned),
        (7, 0),
        "{:?}",
        outcome.stats.samples
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hold_journey_leaves_its_sessions_open() {
    let (url, _fake) = fake_gateway().await;
    let hold = Journey::parse(include_str!("../journeys/hold.toml")).unwrap();
    assert!(!hold.steps[1].ends, "its last screen must continue");
    let config = config(&url, Load::Closed { concurrency: 2 }, Stop::Sessions(5));
    let outcome = runner::run(config, vec![hold], None).await.unwrap();
    assert_eq!((outcome.stats.completed, outcome.stats.hops), (5, 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_away_stops_before_the_last_step_and_is_not_completed() {
    let (url, _fake) = fake_gateway().await;
    let mut config = config(&url, Load::Closed { concurrency: 5 }, Stop::Sessions(40));
    config.abandon_rate = 1.0;
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = runner::run(config, water_bill(), Some(tx)).await.unwrap();
    let s = &outcome.stats;
    assert_eq!(
        (s.completed, s.walked_away, s.failed),
        (0, 40, 0),
        "{:?}",
        s.samples
    );
    assert_eq!(outcome.started, 40);
    // Five steps: each session plays one to four of them, never the last.
    assert!((40..=160).contains(&s.hops), "{}", s.hops);
    assert_eq!(s.steps[0][4].len(), 0, "no session played the last step");
    assert_eq!(rx.try_iter().count(), 0, "nothing recorded as completed");
}
