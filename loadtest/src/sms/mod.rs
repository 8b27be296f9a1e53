//! `mgov-load sms`: the SMS side of the load generator. Agencies' requests go to
//! `POST /v1/messages` (one or many recipients each, every text unique), and the run follows
//! what the dispatcher makes of them: sent/s and delivered/s, the time from acceptance to the
//! delivery report, and an audit that every accepted message reached one final status
//! exactly once, and (from the telco simulator) was received once.
//!
//! # Layout
//! - [`config`]: the run's settings; [`cli`]: the `sms` subcommand's flags and output.
//! - [`texts`]: unique texts and recipients per request.
//! - [`submit`]: the closed and open loops of requests; [`answer`]: reading each answer.
//! - [`follow`]: progress, drain and figures, from the database or through the API.
//! - [`figures`]: what was measured and the audit's verdict.
//! - [`telco_sim`]: what the telco simulator received.
//! - [`report`]: the table on stdout and the JSON file.

pub mod answer;
pub mod cli;
pub mod config;
pub mod figures;
pub mod follow;
pub mod report;
pub mod submit;
pub mod telco_sim;
pub mod texts;

use config::{Config, Source};
use figures::{Audit, Dispatch};
use follow::{api::now_epoch, Follower, Seen};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use submit::{Live, Submitted};
use telco_sim::Received;
use tokio::time::Instant;

/// Everything one run measured.
#[derive(Debug)]
pub struct Outcome {
    pub submitted: Submitted,
    pub dispatch: Dispatch,
    pub audit: Audit,
    /// What the telco simulator received during the run, when `--telco-sim` was given.
    pub telco: Option<Received>,
}

/// Submits, follows the dispatch to its end, audits.
pub async fn run(config: Config) -> anyhow::Result<Outcome> {
    let http = reqwest::Client::builder().no_proxy().build()?;
    let telco_before = match &config.telco_sim {
        Some(base) => Some(telco_sim::read(&http, base).await?),
        None => None,
    };
    let start_epoch = now_epoch();
    // Every message accepted from now on has an id at or after this one.
    let lower_id = format!(
        "msg_{}",
        ulid::Ulid::from_parts((start_epoch * 1000.0) as u64, 0)
    );
    let mut follower = match &config.source {
        Source::Database { url } => {
            Follower::Db(follow::db::DbWatch::connect(url, lower_id).await?)
        }
        Source::Api => Follower::Api(follow::api::ApiWatch::new(
            &config.url,
            &config.api_key,
            lower_id,
            start_epoch,
        )),
    };
    let live = Arc::new(Live::default());
    let stop_on_ctrl_c = tokio::spawn({
        let live = live.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                live.stop.store(true, Ordering::Relaxed);
            }
        }
    });
    let started = Instant::now();
    let progress = Progress::new(config.show_progress, started);
    let mut submitting = tokio::spawn(submit::submit(config.clone(), live.clone()));
    let mut tick = tokio::time::interval(config.poll_every);
    let submitted = loop {
        tokio::select! {
            done = &mut submitting => break done??,
            _ = tick.tick() => {
                let accepted = live.accepted.load(Ordering::Relaxed);
                let seen = follower.progress(accepted).await?;
                progress.line("submitting", accepted, seen);
            }
        }
    };
    let accepted = submitted.ids.len() as u64;
    follower.load(&submitted.ids).await?;
    let drained = follow::drain(
        &mut follower,
        accepted,
        config.drain_timeout,
        config.poll_every,
        |seen| progress.line("draining", accepted, seen),
    )
    .await?;
    stop_on_ctrl_c.abort();
    let (mut dispatch, audit) = follower.figures(start_epoch).await?;
    dispatch.drained = drained.drained;
    dispatch.drain_s = drained.elapsed.as_secs_f64();
    let telco = match (&config.telco_sim, telco_before) {
        (Some(base), Some(before)) => Some(settled_telco(&http, base, &before).await?),
        _ => None,
    };
    Ok(Outcome {
        submitted,
        dispatch,
        audit,
        telco,
    })
}

/// The simulator's counters once its reports in flight are sent (up to 30 s more).
async fn settled_telco(
    http: &reqwest::Client,
    base: &str,
    before: &Received,
) -> anyhow::Result<Received> {
    let give_up = Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let now = telco_sim::read(http, base).await?;
        if now.reports_pending == 0 || Instant::now() >= give_up {
            return Ok(now.since(before));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The progress line on stderr.
struct Progress {
    show: bool,
    started: Instant,
}

impl Progress {
    fn new(show: bool, started: Instant) -> Self {
        Progress { show, started }
    }

    fn line(&self, phase: &str, accepted: u64, seen: Seen) {
        if self.show {
            eprintln!(
                "{:>7.1} s  {phase:<10}  accepted {accepted}  sent {}  final {}  delivered {}",
                self.started.elapsed().as_secs_f64(),
                seen.taken,
                seen.finals,
                seen.delivered
            );
        }
    }
}
