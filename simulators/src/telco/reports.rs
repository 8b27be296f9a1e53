//! Delivery reports, sent from one background task so that no send waits for them (unless a
//! message was picked to report before its answer).
//!
//! Each accepted message hands over its [`Reports`]: the reports it will get, in order, each
//! with its delay (drawn when the message was accepted, so a seeded run repeats) and whether
//! it goes twice. The dispatcher keeps them in a queue ordered by due time (tokio's clock),
//! sends at most [`MAX_IN_FLIGHT`] at once, and after each attempt decides what comes next:
//! - answered `2xx`: counted under its status; the copy follows at once when it goes twice,
//!   otherwise the message's next report after its delay;
//! - anything else: counted as a failed attempt and retried after `backoff`, doubled for each
//!   retry, until `attempts` have been made; then given up and the next report follows.
//!
//! The dispatcher stops, dropping every pending report and aborting those in flight, when the
//! router that fed it is dropped or a [`StopGuard`] is.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

use super::settings::Credentials;
use super::stats::{Count, Stats};
use super::Format;

/// Report requests in flight at once, so a slow gateway is not flooded with connections.
pub(crate) const MAX_IN_FLIGHT: usize = 256;

/// One report as it goes on the wire.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Request {
    /// A form `POST` (Africa's Talking), with HTTP Basic credentials when configured.
    Form {
        url: String,
        fields: Vec<(&'static str, String)>,
        credentials: Option<Credentials>,
    },
    /// A `GET` of a URL with everything in it (Kannel's `dlr-url`).
    Get { url: String },
}

/// One report of a message, with when and how often it goes.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    /// The key it is counted under in `reports_sent`: the status, or Kannel's DLR type.
    pub(crate) status: String,
    pub(crate) request: Request,
    /// From the previous report of the message (or from the send) to this one.
    pub(crate) delay: Duration,
    /// Sent a second time once the first copy was answered.
    pub(crate) twice: bool,
}

/// The reports of one message, in the order they go.
#[derive(Debug)]
pub(crate) struct Reports {
    pub(crate) format: Format,
    pub(crate) queue: VecDeque<Report>,
    /// Attempts made at the report at the front.
    attempts: u32,
    /// The held send answer, for reports sent before it: released when the last report was
    /// answered, when any attempt fails, or when the reports are dropped.
    release: Option<oneshot::Sender<()>>,
}

impl Reports {
    pub(crate) fn new(format: Format, queue: VecDeque<Report>) -> Self {
        Reports {
            format,
            queue,
            attempts: 0,
            release: None,
        }
    }

    /// Makes these reports hold the send answer; the receiver resolves once they let it go.
    pub(crate) fn hold_answer(&mut self) -> oneshot::Receiver<()> {
        let (release, released) = oneshot::channel();
        self.release = Some(release);
        released
    }

    fn let_answer_go(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.send(());
        }
    }
}

/// How the dispatcher sends and retries.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) attempts: u32,
    pub(crate) backoff: Duration,
    pub(crate) timeout: Duration,
}

/// The handle the routes use to hand reports over.
#[derive(Debug)]
pub(crate) struct Reporter {
    incoming: mpsc::UnboundedSender<Reports>,
    stop: Arc<watch::Sender<bool>>,
    stats: Arc<Stats>,
}

/// Stops the dispatcher when dropped (or when [`StopGuard::stop`] is called).
#[derive(Debug)]
pub struct StopGuard {
    stop: Arc<watch::Sender<bool>>,
}

impl StopGuard {
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Reporter {
    /// Starts the dispatcher on the current Tokio runtime; without one, reports never go.
    pub(crate) fn start(policy: Policy, stats: Arc<Stats>) -> Self {
        let (incoming, queue) = mpsc::unbounded_channel();
        let (stop, stopped) = watch::channel(false);
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .build()
            .expect("a client with a timeout builds");
        let dispatcher = Dispatcher {
            http,
            policy,
            stats: Arc::clone(&stats),
            waiting: BinaryHeap::new(),
            scheduled: 0,
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(dispatcher.run(queue, stopped))),
            Err(_) => tracing::warn!("no Tokio runtime: delivery reports will not be sent"),
        }
        Reporter {
            incoming,
            stop: Arc::new(stop),
            stats,
        }
    }

    pub(crate) fn submit(&self, reports: Reports) {
        if reports.queue.is_empty() {
            return;
        }
        let copies = reports.queue.iter().filter(|report| report.twice).count();
        self.stats
            .reports_scheduled((reports.queue.len() + copies) as u64);
        // A stopped dispatcher drops the reports, which lets a held answer go.
        let _ = self.incoming.send(reports);
    }

    pub(crate) fn stop_guard(&self) -> StopGuard {
        StopGuard {
            stop: Arc::clone(&self.stop),
        }
    }
}

/// Reports waiting for their time, earliest first (ties in the order they were scheduled).
#[derive(Debug)]
struct Due {
    at: Instant,
    order: u64,
    reports: Reports,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    /// Reversed, so that the max-heap pops the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

struct Dispatcher {
    http: reqwest::Client,
    policy: Policy,
    stats: Arc<Stats>,
    waiting: BinaryHeap<Due>,
    scheduled: u64,
}

impl Dispatcher {
    async fn run(
        mut self,
        mut queue: mpsc::UnboundedReceiver<Reports>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let mut in_flight = JoinSet::new();
        loop {
            let now = Instant::now();
            while in_flight.len() < MAX_IN_FLIGHT
                && self.waiting.peek().is_some_and(|due| due.at <= now)
            {
                let due = self.waiting.pop().expect("peeked");
                in_flight.spawn(attempt(self.http.clone(), due.reports));
            }
            let next_due = self.waiting.peek().map(|due| due.at);
            let room = in_flight.len() < MAX_IN_FLIGHT;
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => break,
                received = queue.recv() => match received {
                    Some(reports) => {
                        let delay = reports.queue.front().map_or(Duration::ZERO, |r| r.delay);
                        self.schedule(reports, now + delay);
                    }
                    None => break,
                },
                Some(done) = in_flight.join_next() => match done {
                    Ok((reports, answered)) => self.after_attempt(reports, answered),
                    Err(error) => tracing::error!(%error, "a report attempt failed to run"),
                },
                () = sleep_until(next_due.unwrap_or(now)), if next_due.is_some() && room => {}
            }
        }
        // Dropping the queue and the tasks in flight stops every pending report.
    }

    fn schedule(&mut self, reports: Reports, at: Instant) {
        self.scheduled += 1;
        self.waiting.push(Due {
            at,
            order: self.scheduled,
            reports,
        });
    }

    fn after_attempt(&mut self, mut reports: Reports, answered: bool) {
        let now = Instant::now();
        let twice = reports
            .queue
            .front()
            .expect("an attempt has a report")
            .twice;
        if answered {
            self.stats
                .report_sent(reports.format, &reports.queue[0].status);
            self.stats.report_done();
            reports.attempts = 0;
            if twice {
                reports.queue[0].twice = false;
                self.stats.count(Count::ReportDuplicated);
                self.schedule(reports, now);
                return;
            }
        } else {
            self.stats.count(Count::ReportAttemptFailed);
            reports.let_answer_go();
            reports.attempts += 1;
            if reports.attempts < self.policy.attempts {
                let doublings = (reports.attempts - 1).min(16);
                self.schedule(reports, now + self.policy.backoff * (1u32 << doublings));
                return;
            }
            self.stats.count(Count::ReportAbandoned);
            self.stats.report_done();
            if twice {
                // The copy that would have followed goes with it.
                self.stats.report_done();
            }
            reports.attempts = 0;
        }
        reports.queue.pop_front();
        match reports.queue.front() {
            Some(next) => {
                let delay = next.delay;
                self.schedule(reports, now + delay);
            }
            None => reports.let_answer_go(),
        }
    }
}

/// Sends the report at the front; true when the gateway answered `2xx`.
async fn attempt(http: reqwest::Client, reports: Reports) -> (Reports, bool) {
    let request = &reports
        .queue
        .front()
        .expect("scheduled with a report")
        .request;
    let sent = match request {
        Request::Form {
            url,
            fields,
            credentials,
        } => {
            let mut post = http.post(url).form(fields);
            if let Some(credentials) = credentials {
                post = post.basic_auth(&credentials.username, Some(&credentials.secret));
            }
            post.send().await
        }
        Request::Get { url } => http.get(url).send().await,
    };
    let answered = match sent {
        Ok(response) => response.status().is_success(),
        Err(error) => {
            tracing::debug!(%error, "report not delivered");
            false
        }
    };
    (reports, answered)
}
