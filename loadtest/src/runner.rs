//! Drives virtual phones: a closed loop (N phones, each running journeys back to back) or an
//! open loop (sessions arriving on a fixed schedule, whether or not earlier ones finished).
//! Every run stops by itself: after its duration or its number of sessions, then waits for
//! the sessions in flight, each bounded by the per-request timeout.

use crate::journey::Journey;
use crate::numbers::Msisdns;
use crate::progress::{Live, Progress};
use crate::session::play;
use crate::stats::{SessionReport, Stats};
use mgov::telcos::WireFormat;
use mgov_simulators::aggregator::{self, Chaos};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Which wire formats the phones speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formats {
    One(WireFormat),
    /// Each session picks one at random.
    Mixed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// `concurrency` phones, each starting a new session when the last one ends.
    Closed { concurrency: usize },
    /// `rate` new sessions per second; an arrival that finds `max_in_flight` sessions running
    /// is dropped, one that starts more than `late_after` behind schedule is counted late.
    Open {
        rate: f64,
        max_in_flight: usize,
        late_after: Duration,
    },
}

impl Load {
    /// Connections worth keeping open: one per phone or client that can be waiting.
    pub fn connections(&self) -> usize {
        match *self {
            Load::Closed { concurrency } => concurrency,
            Load::Open { max_in_flight, .. } => max_in_flight,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Stop {
    After(Duration),
    Sessions(u64),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub url: String,
    pub formats: Formats,
    pub telco_africastalking: String,
    pub telco_hubtel: String,
    /// HTTP Basic (username, secret) of the telcos; of the Africa's Talking one only when
    /// `credentials_hubtel` is given.
    pub credentials: Option<(String, String)>,
    pub credentials_hubtel: Option<(String, String)>,
    pub root_code: String,
    pub load: Load,
    pub warmup: Duration,
    pub stop: Stop,
    pub timeout: Duration,
    pub show_progress: bool,
    /// How hops misbehave (see `mgov_simulators::aggregator::chaos`); `Chaos::OFF` sends
    /// each hop once.
    pub chaos: Chaos,
    /// Seeds the chaos planning; random when `None`.
    pub chaos_seed: Option<u64>,
    /// Share of sessions (0 to 1) that stop answering after a random step before the last.
    pub abandon_rate: f64,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    pub stats: Stats,
    /// From the end of the warm-up to the end of the last measured session.
    pub elapsed: Duration,
    /// Measured sessions started.
    pub started: u64,
    /// Open loop: arrivals that started more than `late_after` behind schedule.
    pub late: u64,
    /// Open loop: arrivals that could not start because `max_in_flight` were running.
    pub dropped: u64,
    /// Sessions still running after the grace period, cut off (should stay 0).
    pub abandoned: u64,
    /// The seed the chaos was planned with: give it as `--chaos-seed` to plan it again.
    pub chaos_seed: u64,
}

/// A completed journey, for `--record-completed`: session id, MSISDN, recorded value, telco.
pub type Completed = (String, String, String, String);

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) journeys: Vec<Journey>,
    pub(crate) total_weight: u32,
    pub(crate) http: reqwest::Client,
    pub(crate) msisdns: Msisdns,
    pub(crate) warmup_end: Instant,
    pub(crate) live: Arc<Live>,
    pub(crate) stopping: AtomicBool,
    /// Set by the first closed-loop phone that sees the end of the run.
    pub(crate) ending: AtomicBool,
    /// Sessions started so far, warm-up included: each one's number seeds its chaos.
    pub(crate) sessions_begun: AtomicU64,
    pub(crate) chaos_seed: u64,
    /// The aggregator codec's settings, per wire format.
    wire_africastalking: aggregator::Settings,
    wire_hubtel: aggregator::Settings,
}

impl Shared {
    pub(crate) fn wire(&self, format: WireFormat) -> &aggregator::Settings {
        match aggregator::Format::from(format) {
            aggregator::Format::AfricasTalking => &self.wire_africastalking,
            aggregator::Format::Hubtel => &self.wire_hubtel,
        }
    }
}

/// The codec settings of handsets speaking `format` (the callback URL is the runner's).
fn wire_settings(format: WireFormat, root_code: &str) -> aggregator::Settings {
    aggregator::Settings {
        format: format.into(),
        root_code: root_code.to_string(),
        ..aggregator::Settings::default()
    }
}

/// Runs the load and returns the merged results. `completed` receives every finished
/// journey (warm-up included: those transactions happened at the gateway too).
pub async fn run(
    config: Config,
    journeys: Vec<Journey>,
    completed: Option<std::sync::mpsc::Sender<Completed>>,
) -> anyhow::Result<Outcome> {
    anyhow::ensure!(!journeys.is_empty(), "no journey to play");
    let http = crate::target::client(config.timeout, config.load.connections().max(64))?;
    let step_counts: Vec<usize> = journeys.iter().map(|j| j.steps.len()).collect();
    let longest = step_counts.iter().copied().max().unwrap_or(1) as u32;
    let live = Arc::new(Live::default());
    let start = Instant::now();
    let shared = Arc::new(Shared {
        total_weight: journeys.iter().map(|j| j.weight).sum(),
        journeys,
        http,
        msisdns: Msisdns::new(&mut rand::rng()),
        warmup_end: start + config.warmup,
        live: live.clone(),
        stopping: AtomicBool::new(false),
        ending: AtomicBool::new(false),
        sessions_begun: AtomicU64::new(0),
        chaos_seed: config.chaos_seed.unwrap_or_else(rand::random),
        wire_africastalking: wire_settings(WireFormat::AfricasTalking, &config.root_code),
        wire_hubtel: wire_settings(WireFormat::Hubtel, &config.root_code),
        config,
    });
    let progress = Progress::start(&shared.config, live.clone());

    let shards = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let mut senders = Vec::with_capacity(shards);
    let mut collectors = Vec::with_capacity(shards);
    for _ in 0..shards {
        let (tx, rx) = mpsc::unbounded_channel();
        senders.push(tx);
        collectors.push(tokio::spawn(collect(
            rx,
            Stats::new(&step_counts),
            live.clone(),
            completed.clone(),
        )));
    }
    drop(completed);

    // A first Ctrl-C stops starting sessions and still reports; a second one quits.
    let ctrl_c = tokio::spawn({
        let shared = shared.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                shared.stopping.store(true, Ordering::Relaxed);
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        }
    });
    let mut sessions = JoinSet::new();
    let counters = match shared.config.load {
        Load::Closed { concurrency } => closed(&shared, concurrency, &senders, &mut sessions),
        Load::Open {
            rate,
            max_in_flight,
            late_after,
        } => {
            open(
                &shared,
                rate,
                max_in_flight,
                late_after,
                &senders,
                &mut sessions,
            )
            .await
        }
    };
    drop(senders);

    // A closed loop's phones play until the end of the run (its duration, its number of
    // sessions or Ctrl-C), however long that takes: the grace period below starts when the
    // first of them sees the end, as the others then stop after the session they are playing.
    if matches!(shared.config.load, Load::Closed { .. }) {
        while !shared.ending.load(Ordering::Relaxed) {
            tokio::select! {
                joined = sessions.join_next() => if joined.is_none() { break },
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }

    // Every hop is bounded by the timeout, so the sessions in flight end within this.
    let grace = shared.config.timeout * (longest + 1) + Duration::from_secs(5);
    let drained = tokio::time::timeout(grace, async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    let abandoned = if drained.is_err() {
        sessions.len() as u64
    } else {
        0
    };
    sessions.shutdown().await;
    ctrl_c.abort();

    let mut stats = Stats::new(&step_counts);
    for collector in collectors {
        stats.merge(collector.await?);
    }
    progress.finish();
    let end = stats
        .last_finish
        .map_or_else(Instant::now, Instant::from_std);
    let elapsed = end.saturating_duration_since(shared.warmup_end);
    let (started, late, dropped) = counters;
    let started = if started == 0 {
        stats.completed + stats.walked_away + stats.failed
    } else {
        started
    };
    Ok(Outcome {
        stats,
        elapsed,
        started,
        late,
        dropped,
        abandoned,
        chaos_seed: shared.chaos_seed,
    })
}

async fn collect(
    mut rx: mpsc::UnboundedReceiver<SessionReport>,
    mut stats: Stats,
    live: Arc<Live>,
    completed: Option<std::sync::mpsc::Sender<Completed>>,
) -> Stats {
    while let Some(report) = rx.recv().await {
        live.session_done(&report);
        if let (Some(sink), Ok(recorded), false) = (&completed, &report.outcome, report.walked_away)
        {
            let value = recorded.clone().unwrap_or_default();
            let _ = sink.send((
                report.session_id.clone(),
                report.msisdn.clone(),
                value,
                report.telco.clone(),
            ));
        }
        stats.record(&report);
    }
    stats
}

/// Spawns the phones; returns (0, 0, 0) as the closed loop neither drops nor runs late.
fn closed(
    shared: &Arc<Shared>,
    concurrency: usize,
    senders: &[mpsc::UnboundedSender<SessionReport>],
    sessions: &mut JoinSet<()>,
) -> (u64, u64, u64) {
    let tickets = Arc::new(AtomicU64::new(0));
    for i in 0..concurrency {
        let (shared, tickets, tx) = (
            shared.clone(),
            tickets.clone(),
            senders[i % senders.len()].clone(),
        );
        sessions.spawn(async move {
            loop {
                let now = Instant::now();
                if shared.stopping.load(Ordering::Relaxed) {
                    break;
                }
                let measured = now >= shared.warmup_end;
                match shared.config.stop {
                    Stop::After(d) if now >= shared.warmup_end + d => break,
                    Stop::Sessions(n)
                        if measured && tickets.fetch_add(1, Ordering::Relaxed) >= n =>
                    {
                        break
                    }
                    _ => {}
                }
                if tx.send(play(&shared, measured).await).is_err() {
                    break;
                }
            }
            shared.ending.store(true, Ordering::Relaxed);
        });
    }
    (0, 0, 0)
}

/// Dispatches arrivals on schedule until the run's end; returns (started, late, dropped)
/// counted over the measured part.
async fn open(
    shared: &Arc<Shared>,
    rate: f64,
    max_in_flight: usize,
    late_after: Duration,
    senders: &[mpsc::UnboundedSender<SessionReport>],
    sessions: &mut JoinSet<()>,
) -> (u64, u64, u64) {
    let slots = Arc::new(Semaphore::new(max_in_flight));
    let (mut started, mut late, mut dropped, mut measured_arrivals) = (0u64, 0u64, 0u64, 0u64);
    let start = Instant::now();
    for k in 0u64.. {
        let due = start + Duration::from_secs_f64(k as f64 / rate);
        let measured = due >= shared.warmup_end;
        let done = match shared.config.stop {
            Stop::After(d) => due >= shared.warmup_end + d,
            Stop::Sessions(n) => measured_arrivals >= n,
        };
        if done || shared.stopping.load(Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep_until(due).await;
        while sessions.try_join_next().is_some() {}
        measured_arrivals += u64::from(measured);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            dropped += u64::from(measured);
            shared.live.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        if measured {
            started += 1;
            late += u64::from(Instant::now().saturating_duration_since(due) > late_after);
        }
        let (shared, tx) = (shared.clone(), senders[k as usize % senders.len()].clone());
        sessions.spawn(async move {
            let _ = tx.send(play(&shared, measured).await);
            drop(slot);
        });
    }
    (started, late, dropped)
}
