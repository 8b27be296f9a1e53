//! The progress bar: live counters bumped once per finished session (relaxed atomics, no
//! lock), drawn on stderr four times a second. Hidden with `--quiet` or when stderr is not a
//! terminal.

use crate::runner::{Config, Stop};
use crate::stats::SessionReport;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct Live {
    pub sessions: AtomicU64,
    pub measured: AtomicU64,
    pub hops: AtomicU64,
    pub errors: AtomicU64,
    pub in_flight: AtomicU64,
    pub dropped: AtomicU64,
}

impl Live {
    pub fn session_done(&self, report: &SessionReport) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
        self.measured
            .fetch_add(u64::from(report.measured), Ordering::Relaxed);
        self.hops
            .fetch_add(report.hops.len() as u64, Ordering::Relaxed);
        self.errors
            .fetch_add(u64::from(report.outcome.is_err()), Ordering::Relaxed);
    }
}

pub struct Progress {
    bar: ProgressBar,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    pub fn start(config: &Config, live: Arc<Live>) -> Self {
        if !config.show_progress {
            return Progress {
                bar: ProgressBar::hidden(),
                ticker: None,
            };
        }
        let (length, by_time) = match config.stop {
            Stop::After(d) => ((config.warmup + d).as_secs().max(1), true),
            Stop::Sessions(n) => (n.max(1), false),
        };
        let bar =
            ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr_with_hz(4));
        let template = if by_time {
            "{spinner} {elapsed_precise} [{bar:24}] {pos}/{len} s  {msg}"
        } else {
            "{spinner} {elapsed_precise} [{bar:24}] {pos}/{len} sessions  {msg}"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        let warmup = config.warmup;
        let ticker = tokio::spawn({
            let bar = bar.clone();
            async move {
                let start = Instant::now();
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                let (mut last_hops, mut last_at) = (0u64, start);
                loop {
                    tick.tick().await;
                    let now = Instant::now();
                    let hops = live.hops.load(Ordering::Relaxed);
                    let per_s = (hops - last_hops) as f64
                        / now.duration_since(last_at).as_secs_f64().max(1e-3);
                    (last_hops, last_at) = (hops, now);
                    let elapsed = now.duration_since(start);
                    bar.set_position(if by_time {
                        elapsed.as_secs()
                    } else {
                        live.measured.load(Ordering::Relaxed)
                    });
                    let phase = if elapsed < warmup {
                        "warming up · "
                    } else {
                        ""
                    };
                    bar.set_message(format!(
                        "{phase}{} sessions · {per_s:.0} hops/s · {} errors · {} in flight{}",
                        live.sessions.load(Ordering::Relaxed),
                        live.errors.load(Ordering::Relaxed),
                        live.in_flight.load(Ordering::Relaxed),
                        match live.dropped.load(Ordering::Relaxed) {
                            0 => String::new(),
                            n => format!(" · {n} dropped"),
                        },
                    ));
                }
            }
        });
        Progress {
            bar,
            ticker: Some(ticker),
        }
    }

    pub fn finish(self) {
        if let Some(ticker) = self.ticker {
            ticker.abort();
        }
        self.bar.finish_and_clear();
    }
}
