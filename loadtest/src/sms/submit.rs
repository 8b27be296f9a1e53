//! Submits messages as agencies do: `POST /v1/messages` with a Bearer API key, each request
//! naming fresh numbers and carrying its own text, in a closed loop (a fixed number of
//! clients) or an open loop (a fixed request rate). Every request's answer goes to one
//! collector, which keeps the accepted ids for the audit.

use super::answer::{self, Accepted, RequestError};
use super::config::{Config, Until};
use super::texts::recipients_of;
use crate::numbers::Msisdns;
use crate::runner::Load;
use hdrhistogram::Histogram;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Error samples kept for the report.
const SAMPLES: usize = 5;

/// Counters the progress line reads while requests go out.
#[derive(Debug, Default)]
pub struct Live {
    pub accepted: AtomicU64,
    pub requests: AtomicU64,
    pub failed: AtomicU64,
    /// Set to stop submitting early (Ctrl-C); the run still follows and reports.
    pub stop: AtomicBool,
}

/// What submitting produced.
#[derive(Debug)]
pub struct Submitted {
    /// Every accepted message's id.
    pub ids: Vec<String>,
    pub requests: u64,
    /// Recipients the gateway refused one by one (listed in `rejected`).
    pub rejected: u64,
    /// Recipients of requests that got no `202`: not accepted (a timed-out one may still
    /// have been stored).
    pub not_accepted: u64,
    pub errors: BTreeMap<RequestError, u64>,
    pub error_samples: Vec<String>,
    /// Microseconds from sending a request to its `202`.
    pub latency: Histogram<u64>,
    /// From the first request to the last answer.
    pub elapsed: Duration,
    /// Open loop: arrivals more than `late_after` behind schedule, and arrivals dropped.
    pub late: u64,
    pub dropped: u64,
    /// Parts of each message, as the gateway counted them.
    pub parts: u32,
}

/// One request's fate, sent to the collector.
struct Answered {
    recipients: u32,
    latency: Duration,
    at: Instant,
    result: Result<Accepted, (RequestError, String)>,
}

struct Shared {
    config: Config,
    http: reqwest::Client,
    msisdns: Msisdns,
    next_seq: AtomicU64,
    start: Instant,
    live: Arc<Live>,
}

impl Shared {
    /// The next request's number and recipient count, or `None` when submitting is over.
    fn next_request(&self) -> Option<(u64, u32)> {
        if self.live.stop.load(Ordering::Relaxed) {
            return None;
        }
        let per_request = self.config.recipients;
        match self.config.until {
            Until::Elapsed(d) if self.start.elapsed() >= d => None,
            Until::Elapsed(_) => Some((self.next_seq.fetch_add(1, Ordering::Relaxed), per_request)),
            Until::Messages(total) => {
                let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
                Some((seq, recipients_of(seq, total, per_request))).filter(|(_, n)| *n > 0)
            }
        }
    }
}

/// Runs the submitting half of a run.
pub async fn submit(config: Config, live: Arc<Live>) -> anyhow::Result<Submitted> {
    let http = crate::target::client(config.timeout, config.pacing.connections().max(16))?;
    let shared = Arc::new(Shared {
        config,
        http,
        msisdns: Msisdns::new(&mut rand::rng()),
        next_seq: AtomicU64::new(0),
        start: Instant::now(),
        live,
    });
    let (tx, rx) = mpsc::unbounded_channel();
    let collector = tokio::spawn(collect(rx, shared.start, shared.live.clone()));
    let mut requests = JoinSet::new();
    let (late, dropped) = match shared.config.pacing {
        Load::Closed { concurrency } => {
            for _ in 0..concurrency {
                let (shared, tx) = (shared.clone(), tx.clone());
                requests.spawn(async move {
                    while let Some((seq, recipients)) = shared.next_request() {
                        if tx.send(post(&shared, seq, recipients).await).is_err() {
                            break;
                        }
                    }
                });
            }
            (0, 0)
        }
        Load::Open {
            rate,
            max_in_flight,
            late_after,
        } => open(&shared, rate, max_in_flight, late_after, &tx, &mut requests).await,
    };
    drop(tx);
    while requests.join_next().await.is_some() {}
    let mut submitted = collector.await?;
    submitted.late = late;
    submitted.dropped = dropped;
    Ok(submitted)
}

/// Starts requests on schedule; returns (late, dropped).
async fn open(
    shared: &Arc<Shared>,
    rate: f64,
    max_in_flight: usize,
    late_after: Duration,
    tx: &mpsc::UnboundedSender<Answered>,
    requests: &mut JoinSet<()>,
) -> (u64, u64) {
    let slots = Arc::new(Semaphore::new(max_in_flight));
    let (mut late, mut dropped) = (0u64, 0u64);
    for k in 0u64.. {
        let due = shared.start + Duration::from_secs_f64(k as f64 / rate);
        tokio::time::sleep_until(due).await;
        while requests.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            dropped += 1;
            continue;
        };
        let Some((seq, recipients)) = shared.next_request() else {
            break;
        };
        late += u64::from(Instant::now().saturating_duration_since(due) > late_after);
        let (shared, tx) = (shared.clone(), tx.clone());
        requests.spawn(async move {
            let _ = tx.send(post(&shared, seq, recipients).await);
            drop(slot);
        });
    }
    (late, dropped)
}

/// Sends request `seq` to `recipients` fresh numbers.
async fn post(shared: &Shared, seq: u64, recipients: u32) -> Answered {
    let config = &shared.config;
    let to: Vec<String> = (0..recipients).map(|_| shared.msisdns.next()).collect();
    let mut body = json!({ "to": to, "text": config.texts.text(seq) });
    if let Some(from) = &config.from {
        body["from"] = json!(from);
    }
    let sent = Instant::now();
    let result = async {
        let response = shared
            .http
            .post(format!("{}/v1/messages", config.url))
            .bearer_auth(&config.api_key)
            .json(&body)
            .send()
            .await
            .map_err(|e| (RequestError::of(&e), e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| (RequestError::of(&e), e.to_string()))?;
        answer::read(status, &bytes).map_err(|e| {
            (
                e,
                String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            )
        })
    }
    .await;
    let at = Instant::now();
    Answered {
        recipients,
        latency: at - sent,
        at,
        result,
    }
}

async fn collect(
    mut rx: mpsc::UnboundedReceiver<Answered>,
    start: Instant,
    live: Arc<Live>,
) -> Submitted {
    let mut s = Submitted {
        ids: Vec::new(),
        requests: 0,
        rejected: 0,
        not_accepted: 0,
        errors: BTreeMap::new(),
        error_samples: Vec::new(),
        latency: crate::stats::histogram(),
        elapsed: Duration::ZERO,
        late: 0,
        dropped: 0,
        parts: 0,
    };
    let mut last = start;
    while let Some(answered) = rx.recv().await {
        s.requests += 1;
        live.requests.fetch_add(1, Ordering::Relaxed);
        last = last.max(answered.at);
        match answered.result {
            Ok(accepted) => {
                live.accepted
                    .fetch_add(accepted.ids.len() as u64, Ordering::Relaxed);
                s.latency
                    .saturating_record(answered.latency.as_micros() as u64);
                s.rejected += u64::from(accepted.rejected);
                s.parts = accepted.parts;
                s.ids.extend(accepted.ids);
            }
            Err((error, detail)) => {
                live.failed.fetch_add(1, Ordering::Relaxed);
                s.not_accepted += u64::from(answered.recipients);
                *s.errors.entry(error).or_default() += 1;
                if s.error_samples.len() < SAMPLES {
                    s.error_samples.push(format!("{}: {detail}", error.name()));
                }
            }
        }
    }
    s.elapsed = last - start;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(latency_ms: u64, result: Result<Accepted, (RequestError, String)>) -> Answered {
        Answered {
            recipients: 2,
            latency: Duration::from_millis(latency_ms),
            at: Instant::now(),
            result,
        }
    }

    #[tokio::test]
    async fn answers_are_collected_into_ids_latencies_and_errors() {
        let (tx, rx) = mpsc::unbounded_channel();
        let live = Arc::new(Live::default());
        let accepted = |ids: &[&str]| {
            Ok(Accepted {
                ids: ids.iter().map(|id| id.to_string()).collect(),
                rejected: 1,
                parts: 1,
            })
        };
        tx.send(answered(250, accepted(&["msg_1", "msg_2"])))
            .unwrap();
        tx.send(answered(4_000, accepted(&["msg_3"]))).unwrap();
        tx.send(answered(
            10,
            Err((RequestError::Status(503), "busy".into())),
        ))
        .unwrap();
        drop(tx);
        let s = collect(rx, Instant::now(), live.clone()).await;
        assert_eq!(s.ids, ["msg_1", "msg_2", "msg_3"]);
        assert_eq!((s.requests, s.rejected, s.not_accepted), (3, 2, 2));
        assert_eq!(s.errors.get(&RequestError::Status(503)), Some(&1));
        assert_eq!(s.error_samples, ["http_503: busy"]);
        // Latencies of the accepted requests only, in microseconds, seconds long included.
        let (p50, max) = (s.latency.value_at_quantile(0.5), s.latency.max());
        assert!((249_000..=251_000).contains(&p50), "{p50}");
        assert!((3_990_000..=4_010_000).contains(&max), "{max}");
        assert_eq!(live.accepted.load(Ordering::Relaxed), 3);
    }
}
