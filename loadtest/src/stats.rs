//! What a run measured. Phones never share a histogram: each finished session is sent as a
//! [`SessionReport`] to one of a few collector tasks, each owning a [`Stats`]; the collectors'
//! stats are merged once at the end. No lock is taken on the hot path, and memory stays a few
//! histograms per collector however many phones run.

use hdrhistogram::Histogram;
use mgov::cli::phone::PhoneError;
use mgov_simulators::aggregator::chaos::{ChaosCounts, Event};
use mgov_simulators::aggregator::HopError;
use std::time::{Duration, Instant};

/// Why a session failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The TCP connection could not be made.
    Connect,
    /// No complete answer within `--timeout`.
    Timeout,
    /// The gateway answered with a status other than 2xx.
    HttpStatus,
    /// A 2xx whose body is not a screen in the telco's format.
    BadReply,
    /// The connection broke after it was made.
    Transport,
    /// The screen does not contain what the journey expects.
    WrongScreen,
    /// The session ended where the journey expects it to continue.
    UnexpectedEnd,
    /// The session continued where the journey expects it to end.
    UnexpectedContinue,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::HttpStatus,
        ErrorKind::BadReply,
        ErrorKind::Transport,
        ErrorKind::WrongScreen,
        ErrorKind::UnexpectedEnd,
        ErrorKind::UnexpectedContinue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::BadReply => "bad_reply",
            ErrorKind::Transport => "transport",
            ErrorKind::WrongScreen => "wrong_screen",
            ErrorKind::UnexpectedEnd => "unexpected_end",
            ErrorKind::UnexpectedContinue => "unexpected_continue",
        }
    }

    /// Sorts an error from `Phone::dial`/`Phone::press`.
    pub fn of_phone_error(error: &PhoneError) -> ErrorKind {
        match error {
            PhoneError::Transport { source, .. } if source.is_connect() => ErrorKind::Connect,
            PhoneError::Transport { source, .. } if source.is_timeout() => ErrorKind::Timeout,
            PhoneError::Transport { .. } => ErrorKind::Transport,
            PhoneError::Status { .. } => ErrorKind::HttpStatus,
            PhoneError::BadReply(_) => ErrorKind::BadReply,
        }
    }

    /// Sorts a reply that is not a screen.
    pub fn of_hop_error(error: &HopError) -> ErrorKind {
        match error {
            HopError::Status(_) => ErrorKind::HttpStatus,
            HopError::BadReply(_) => ErrorKind::BadReply,
            HopError::Timeout => ErrorKind::Timeout,
            HopError::Dropped | HopError::Unreachable(_) => ErrorKind::Transport,
        }
    }
}

/// One hop that got the screen it expected.
#[derive(Debug, Clone, Copy)]
pub struct Hop {
    pub step: usize,
    pub latency: Duration,
    pub transaction: bool,
}

/// Everything one session did, sent to a collector when it finishes.
#[derive(Debug)]
pub struct SessionReport {
    pub journey: usize,
    /// Started after the warm-up: counts in the results.
    pub measured: bool,
    pub session_id: String,
    /// The telco id the hops went to (the gateway keys sessions by telco and session id).
    pub telco: String,
    pub msisdn: String,
    pub hops: Vec<Hop>,
    /// `Ok(recorded value)` for a completed journey, or the failure, its step and a detail.
    pub outcome: Result<Option<String>, (ErrorKind, usize, String)>,
    /// The phone stopped answering part-way on purpose (`--abandon-rate`): its hops count,
    /// and the gateway records the dialogue as abandoned once it is idle.
    pub walked_away: bool,
    /// Hops played with chaos: the step and how the gateway took it.
    pub chaos: Vec<(usize, Event)>,
    pub finished: Instant,
}

/// Error samples kept per collector, so a run that fails shows why without flooding.
const SAMPLES: usize = 10;
/// Latencies are recorded in microseconds, up to 10 minutes, to 3 significant digits.
const MAX_MICROS: u64 = 600_000_000;

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static histogram bounds are valid")
}

/// Counters and histograms of the measured sessions.
#[derive(Debug, Clone)]
pub struct Stats {
    pub overall: Histogram<u64>,
    /// Per journey, per step index (0 = dial).
    pub steps: Vec<Vec<Histogram<u64>>>,
    /// Failed sessions per journey, per step index.
    pub failed_at: Vec<Vec<u64>>,
    pub hops: u64,
    pub transactions: u64,
    pub completed: u64,
    /// Sessions that walked away on purpose (`--abandon-rate`).
    pub walked_away: u64,
    pub failed: u64,
    pub errors: [u64; ErrorKind::ALL.len()],
    pub samples: Vec<String>,
    /// Chaos events and violations of the gateway's rules for repeated hops.
    pub chaos: ChaosCounts,
    /// When the last measured session finished.
    pub last_finish: Option<Instant>,
}

impl Stats {
    /// Empty stats for journeys with these numbers of steps.
    pub fn new(step_counts: &[usize]) -> Self {
        Stats {
            overall: histogram(),
            steps: step_counts
                .iter()
                .map(|n| (0..*n).map(|_| histogram()).collect())
                .collect(),
            failed_at: step_counts.iter().map(|n| vec![0; *n]).collect(),
            hops: 0,
            transactions: 0,
            completed: 0,
            walked_away: 0,
            failed: 0,
            errors: [0; ErrorKind::ALL.len()],
            samples: Vec::new(),
            chaos: ChaosCounts::default(),
            last_finish: None,
        }
    }

    pub fn record(&mut self, report: &SessionReport) {
        if !report.measured {
            return;
        }
        for hop in &report.hops {
            let micros = u64::try_from(hop.latency.as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            self.overall.saturating_record(micros);
            self.steps[report.journey][hop.step].saturating_record(micros);
            self.hops += 1;
            self.transactions += u64::from(hop.transaction);
        }
        match &report.outcome {
            Ok(_) if report.walked_away => self.walked_away += 1,
            Ok(_) => self.completed += 1,
            Err((kind, step, detail)) => {
                self.failed += 1;
                self.errors[*kind as usize] += 1;
                self.failed_at[report.journey][*step] += 1;
                if self.samples.len() < SAMPLES {
                    self.samples
                        .push(format!("{} at step {step}: {detail}", kind.as_str()));
                }
            }
        }
        for (step, event) in &report.chaos {
            // Only a violation's sample quotes the context.
            let context = match event.violation {
                Some(_) => format!("at step {step} of {}:{}", report.telco, report.session_id),
                None => String::new(),
            };
            self.chaos.record(event, &context);
        }
        self.last_finish = self.last_finish.max(Some(report.finished));
    }

    pub fn merge(&mut self, other: Stats) {
        self.overall
            .add(&other.overall)
            .expect("histograms share bounds");
        for (mine, theirs) in self.steps.iter_mut().zip(&other.steps) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                m.add(t).expect("histograms share bounds");
            }
        }
        for (mine, theirs) in self.failed_at.iter_mut().zip(&other.failed_at) {
            mine.iter_mut().zip(theirs).for_each(|(m, t)| *m += t);
        }
        self.hops += other.hops;
        self.transactions += other.transactions;
        self.completed += other.completed;
        self.walked_away += other.walked_away;
        self.failed += other.failed;
        self.errors
            .iter_mut()
            .zip(other.errors)
            .for_each(|(m, t)| *m += t);
        let room = SAMPLES.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.into_iter().take(room));
        self.chaos.merge(&other.chaos);
        self.last_finish = self.last_finish.max(other.last_finish);
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(
        measured: bool,
        hops: &[(usize, u64, bool)],
        outcome: Result<Option<String>, (ErrorKind, usize, String)>,
    ) -> SessionReport {
        SessionReport {
            journey: 0,
            measured,
            session_id: "s".into(),
            telco: "africastalking".into(),
            msisdn: "255754000001".into(),
            hops: hops
                .iter()
                .map(|&(step, ms, transaction)| Hop {
                    step,
                    latency: Duration::from_millis(ms),
                    transaction,
                })
                .collect(),
            outcome,
            walked_away: false,
            chaos: Vec::new(),
            finished: Instant::now(),
        }
    }

    #[test]
    fn only_measured_sessions_count_and_merging_adds_up() {
        let mut a = Stats::new(&[3]);
        a.record(&report(
            true,
            &[(0, 1, false), (1, 2, true), (2, 3, true)],
            Ok(Some("99".into())),
        ));
        a.record(&report(false, &[(0, 500, false)], Ok(None)));
        let mut b = Stats::new(&[3]);
        b.record(&report(
            true,
            &[(0, 4, false)],
            Err((ErrorKind::WrongScreen, 1, "got x".into())),
        ));
        a.merge(b);
        assert_eq!(
            (a.hops, a.transactions, a.completed, a.failed),
            (4, 2, 1, 1)
        );
        assert_eq!(a.errors[ErrorKind::WrongScreen as usize], 1);
        assert_eq!(a.failed_at[0], vec![0, 1, 0]);
        assert_eq!(a.overall.len(), 4);
        assert_eq!(a.steps[0][0].len(), 2);
        assert!(
            a.overall.max() < 5_000,
            "the warm-up hop of 500 ms is not counted"
        );
        assert_eq!(a.samples, vec!["wrong_screen at step 1: got x".to_string()]);
    }

    #[test]
    fn error_kinds_index_their_slot() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i);
        }
        let status = PhoneError::Status {
            status: reqwest::StatusCode::TOO_MANY_REQUESTS,
            body: "slow down".into(),
        };
        assert_eq!(ErrorKind::of_phone_error(&status), ErrorKind::HttpStatus);
        let garbage = PhoneError::BadReply("neither CON nor END".into());
        assert_eq!(ErrorKind::of_phone_error(&garbage), ErrorKind::BadReply);
    }
}
