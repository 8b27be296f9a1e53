//! The breaker's state machine on tokio's paused clock.

use super::*;
use std::sync::Mutex as StdMutex;

const OPEN_FOR: Duration = Duration::from_secs(5);

fn breaker(probes: u32) -> (Arc<Breaker>, Arc<StdMutex<Vec<BreakerState>>>) {
    let seen = Arc::new(StdMutex::new(Vec::new()));
    let record = seen.clone();
    let settings = BreakerSettings {
        failures_to_open: 3,
        open_for: OPEN_FOR,
        probes,
    };
    let breaker = Breaker::new(settings, move |state| record.lock().unwrap().push(state));
    (breaker, seen)
}

fn fail(breaker: &Arc<Breaker>, times: u32) {
    for _ in 0..times {
        breaker
            .admit()
            .expect("let through")
            .finish(Verdict::Failed);
    }
}

use BreakerState::{Closed, HalfOpen, Open};

#[tokio::test(start_paused = true)]
async fn a_run_of_failures_opens_it_and_a_good_answer_ends_the_run() {
    let (breaker, seen) = breaker(1);
    fail(&breaker, 2);
    breaker.admit().unwrap().finish(Verdict::Healthy);
    fail(&breaker, 2);
    assert_eq!(breaker.state(), Closed, "two in a row are not three");
    fail(&breaker, 1);
    assert_eq!(breaker.state(), Open);
    assert!(breaker.admit().is_none(), "refused while open");
    assert_eq!(*seen.lock().unwrap(), [Open]);
}

#[tokio::test(start_paused = true)]
async fn answers_that_break_the_contract_count_for_nothing() {
    let (breaker, _) = breaker(1);
    fail(&breaker, 2);
    for _ in 0..10 {
        breaker.admit().unwrap().finish(Verdict::Inconclusive);
    }
    assert_eq!(breaker.state(), Closed);
    fail(&breaker, 1);
    assert_eq!(breaker.state(), Open, "the run of failures went on");
}

#[tokio::test(start_paused = true)]
async fn after_the_cool_down_one_probe_goes_through_and_its_success_closes_it() {
    let (breaker, seen) = breaker(1);
    fail(&breaker, 3);
    tokio::time::advance(OPEN_FOR - Duration::from_millis(1)).await;
    assert!(breaker.admit().is_none(), "still cooling down");
    tokio::time::advance(Duration::from_millis(1)).await;
    let probe = breaker.admit().expect("the probe");
    assert!(probe.is_probe());
    assert_eq!(breaker.state(), HalfOpen);
    assert!(breaker.admit().is_none(), "one probe at a time");
    probe.finish(Verdict::Healthy);
    assert_eq!(breaker.state(), Closed);
    let call = breaker.admit().expect("closed again");
    assert!(!call.is_probe());
    assert_eq!(*seen.lock().unwrap(), [Open, HalfOpen, Closed]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_opens_it_for_another_cool_down() {
    let (breaker, _) = breaker(2);
    fail(&breaker, 3);
    tokio::time::advance(OPEN_FOR).await;
    let first = breaker.admit().expect("first probe");
    let second = breaker.admit().expect("second probe");
    assert!(breaker.admit().is_none(), "two probes at a time");
    first.finish(Verdict::Failed);
    assert_eq!(breaker.state(), Open);
    second.finish(Verdict::Healthy);
    assert_eq!(
        breaker.state(),
        Open,
        "a probe of the half-open spell that ended says nothing now"
    );
    tokio::time::advance(OPEN_FOR - Duration::from_millis(1)).await;
    assert!(breaker.admit().is_none());
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(breaker.admit().expect("probing again").is_probe());
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_counts_as_a_failure_at_once_and_its_late_answer_as_nothing() {
    let (breaker, _) = breaker(1);
    let mut slow = breaker.admit().unwrap();
    fail(&breaker, 1);
    slow.slow();
    fail(&breaker, 1);
    assert_eq!(breaker.state(), Open, "slow, failed, failed: three");
    slow.finish(Verdict::Healthy);
    assert_eq!(breaker.state(), Open);
}

#[tokio::test(start_paused = true)]
async fn a_slow_probe_gives_its_place_to_the_next_call() {
    let (breaker, _) = breaker(1);
    fail(&breaker, 3);
    tokio::time::advance(OPEN_FOR).await;
    let mut stuck = breaker.admit().expect("first probe");
    assert!(breaker.admit().is_none());
    stuck.slow();
    assert_eq!(breaker.state(), HalfOpen, "slow is not an answer");
    let next = breaker.admit().expect("the next call probes");
    next.finish(Verdict::Healthy);
    assert_eq!(breaker.state(), Closed);
    stuck.finish(Verdict::Failed);
    assert_eq!(
        breaker.state(),
        Closed,
        "the stuck probe was already judged"
    );
}

#[tokio::test(start_paused = true)]
async fn a_probe_its_caller_gave_up_on_frees_its_place() {
    let (breaker, _) = breaker(1);
    fail(&breaker, 3);
    tokio::time::advance(OPEN_FOR).await;
    drop(breaker.admit().expect("probe"));
    assert_eq!(breaker.state(), HalfOpen);
    let probe = breaker.admit().expect("the place is free again");
    probe.finish(Verdict::Inconclusive);
    assert_eq!(breaker.state(), HalfOpen);
    assert!(
        breaker.admit().is_some(),
        "an inconclusive probe frees it too"
    );
}

#[tokio::test(start_paused = true)]
async fn calls_let_through_before_it_opened_do_not_close_it() {
    let (breaker, _) = breaker(1);
    let old = breaker.admit().unwrap();
    fail(&breaker, 3);
    tokio::time::advance(OPEN_FOR).await;
    let probe = breaker.admit().expect("probe");
    old.finish(Verdict::Healthy);
    assert_eq!(breaker.state(), HalfOpen);
    probe.finish(Verdict::Failed);
    assert_eq!(breaker.state(), Open);
}
