//! The routes, and what every format's send does the same way: throttling, recording the
//! message, planning its reports and holding the answer for reports that go before it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::ledger::{Ledger, Received};
use super::plan::Planner;
use super::reports::{Policy, Report, Reporter, Reports, Request, StopGuard};
use super::settings::Settings;
use super::stats::{Count, Stats};
use super::throttle::RateLimit;
use super::{africastalking, kannel, Format};

/// Everything the routes share.
pub(crate) struct Telco {
    pub(crate) settings: Settings,
    pub(crate) planner: Planner,
    pub(crate) stats: Arc<Stats>,
    ledger: Ledger,
    reporter: Reporter,
    /// Per format, indexed like [`Format::ALL`]; `None` without `max_per_second`.
    limits: [Option<RateLimit>; Format::ALL.len()],
}

impl Telco {
    /// Starts the report dispatcher on the current runtime.
    pub(crate) fn new(settings: Settings) -> Self {
        let stats = Arc::new(Stats::default());
        let policy = Policy {
            attempts: settings.report_attempts.max(1),
            backoff: settings.report_backoff,
            timeout: settings.report_timeout,
        };
        Telco {
            planner: Planner::new(settings.seed, settings.outcomes),
            ledger: Ledger::new(settings.keep_messages),
            reporter: Reporter::start(policy, Arc::clone(&stats)),
            limits: Format::ALL.map(|_| settings.max_per_second.map(RateLimit::new)),
            stats,
            settings,
        }
    }

    pub(crate) fn stop_guard(&self) -> StopGuard {
        self.reporter.stop_guard()
    }

    /// Whether a send of `recipients` recipients is refused as throttled: by the configured
    /// share of requests, or because it would go over the format's per-second limit.
    pub(crate) fn throttled(&self, format: Format, recipients: usize) -> bool {
        let over_limit = |limit: &RateLimit| !limit.admit(recipients);
        let throttled = self.planner.chance(self.settings.throttle_rate)
            || self.limits[format as usize]
                .as_ref()
                .is_some_and(over_limit);
        if throttled {
            self.stats.count(Count::Throttled);
        }
        throttled
    }

    /// Records an accepted `message` and schedules `reports` for it (status and request, in
    /// the order they go). Returns what to wait on before answering when the reports were
    /// picked to go before the answer.
    pub(crate) fn accept(
        &self,
        message: Received,
        reports: Vec<(String, Request)>,
    ) -> Option<oneshot::Receiver<()>> {
        let format = message.format;
        let duplicate = self.ledger.record(message);
        self.stats.count(if duplicate {
            Count::Duplicate
        } else {
            Count::UniqueMessage
        });
        if reports.is_empty() {
            return None;
        }
        let early = self.planner.chance(self.settings.early_report_rate);
        let queue: VecDeque<Report> = reports
            .into_iter()
            .map(|(status, request)| Report {
                status,
                request,
                delay: if early {
                    std::time::Duration::ZERO
                } else {
                    self.planner.delay(&self.settings.report_delay)
                },
                twice: self.planner.chance(self.settings.duplicate_report_rate),
            })
            .collect();
        let mut reports = Reports::new(format, queue);
        let held = early.then(|| {
            self.stats.count(Count::ReportBeforeAnswer);
            reports.hold_answer()
        });
        self.reporter.submit(reports);
        held
    }
}

/// Waits until every report sent before the answer has let it go.
pub(crate) async fn hold_for(held: Vec<oneshot::Receiver<()>>) {
    for released in held {
        // An error means the reports were dropped (shutdown): answer anyway.
        let _ = released.await;
    }
}

/// A short `text/plain` answer, the way both formats refuse requests.
pub(crate) fn plain(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

pub(crate) fn router(telco: Arc<Telco>) -> Router {
    Router::new()
        .route(africastalking::PATH, post(africastalking::send))
        .route(kannel::PATH, get(kannel::send))
        .route("/stats", get(stats))
        .route("/messages", get(messages))
        .route("/healthz", get(healthz))
        .with_state(telco)
}

async fn stats(State(telco): State<Arc<Telco>>) -> Json<Value> {
    Json(telco.stats.to_json(telco.ledger.kept()))
}

/// `?to=255754123456` (with or without `+`): what that number received, oldest first;
/// without `to`, every kept record.
async fn messages(
    State(telco): State<Arc<Telco>>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    let to = query.get("to").map(String::as_str);
    Json(json!({ "messages": telco.ledger.list(to) }))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
