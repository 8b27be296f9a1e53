//! Reports per agency (`mgov report`): for each service, how many dialogues started, how
//! they ended, where citizens stopped (a funnel over the menu's states), and the back-office
//! transactions made for them with their latency. Read from the durable store, the same way
//! on Postgres and SQLite.
//!
//! The funnel is exact, not inferred: each dialogue's record keeps the states of its service
//! it reached and the state it ended in, so "reached" counts dialogues that were ever at a
//! state (going back with `0` does not un-reach it) and "stopped" counts those that ended
//! there other than by completing.
//!
//! The SMS part (`sms`) has each agency's incoming and outgoing SMS figures, and the
//! gateway's own; an agency reads its own through `GET /v1/reports/sms`.

mod range;
mod since;
pub mod sms;
mod store;
mod text;

pub use range::{RangeError, ReportRange, MAX_RANGE_DAYS};
pub use since::{parse_since, SinceError};

use crate::db::{Db, DbError};
use crate::ids::AgencyId;
use crate::ussd::store::{parse_states, EndReason};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Which rows a report covers.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    /// Only this agency's services and transactions; every agency when `None`.
    pub agency: Option<AgencyId>,
    /// Dialogues started, and transactions made, at or after this time.
    pub since: DateTime<Utc>,
}

/// The report; its JSON form is the `--format json` output, documented in the README.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The agency asked for, or `null` for all.
    pub agency: Option<String>,
    /// By agency id; dialogues that never chose a service come last, with agency `null`.
    pub agencies: Vec<AgencyReport>,
    /// SMS received and sent in the same period.
    pub sms: sms::SmsReport,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgencyReport {
    pub agency: Option<String>,
    pub services: Vec<ServiceReport>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceReport {
    /// `null` for dialogues that ended on the root menu without choosing a service.
    pub service: Option<String>,
    pub dialogues: Dialogues,
    /// Most reached first; a step with state `null` counts dialogues that ended outside
    /// the service (back on the root menu, or in another service they went on to).
    pub funnel: Vec<FunnelStep>,
    /// By action, then outcome.
    pub transactions: Vec<TransactionCount>,
    /// By action.
    pub latency: Vec<ActionLatency>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dialogues {
    pub started: u64,
    pub completed: u64,
    pub abandoned: Abandoned,
    /// Ended by an error (ours, the back office's, or as the telco reported it).
    pub failed: u64,
    /// The service or the gateway's stores were not available.
    pub unavailable: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Abandoned {
    pub total: u64,
    /// No further hop came within `session_idle_secs`.
    pub idle_timeout: u64,
    /// The telco said the dialogue ended (its own timer, or the citizen hung up).
    pub telco_ended: u64,
    /// The citizen cancelled.
    pub by_citizen: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FunnelStep {
    pub state: Option<String>,
    /// Dialogues that were at this state at some point.
    pub reached: u64,
    /// Dialogues that ended here other than by completing.
    pub stopped: u64,
    /// Dialogues that ended here, by end reason (`completed`, `abandoned`, `telco_timeout`,
    /// `user_cancelled`, `failed`, `unavailable`).
    pub ended: BTreeMap<String, u64>,
    /// Sum over the dialogues that reached this state of how many states they had reached
    /// before it: orders steps reached equally often in the order citizens meet them.
    #[serde(skip)]
    depth_sum: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionCount {
    pub action: String,
    pub outcome: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionLatency {
    pub action: String,
    /// Calls answered (or given up on) after reaching the back office.
    pub calls: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

type Key = (Option<String>, Option<String>);

/// Builds the report for `query` from the durable store.
pub async fn build_report(db: &Db, query: &ReportQuery) -> Result<Report, DbError> {
    let until = Utc::now();
    let agency = query.agency.as_ref();
    let dialogues = store::dialogue_groups(db, query.since, agency).await?;
    let transactions = store::transaction_groups(db, query.since, agency).await?;
    let latencies = store::latency_groups(db, query.since, agency).await?;
    let sms = sms::sms_report(db, agency, query.since, until).await?;

    let mut services: BTreeMap<Key, ServiceReport> = BTreeMap::new();
    for g in dialogues {
        let report = services
            .entry((g.agency_id.clone(), g.service_id.clone()))
            .or_insert_with(|| ServiceReport::named(g.service_id.clone()));
        let n = g.n as u64;
        let reason = EndReason::parse(&g.end_reason);
        report.dialogues.count(reason, n);
        let reached = parse_states(g.states.as_deref()).map_err(|e| {
            DbError::corrupt("report dialogues", format!("states {:?}: {e}", g.states))
        })?;
        // A dialogue in a service reached at least its first state; none recorded means a
        // record from before migration 0004, which counts in the totals only.
        if g.service_id.is_none() || reached.is_empty() {
            continue;
        }
        for (depth, state) in reached.into_iter().enumerate() {
            let step = report.step(Some(state));
            step.reached += n;
            step.depth_sum += depth as u64 * n;
        }
        let last = report.step(g.last_state.clone());
        *last.ended.entry(g.end_reason.clone()).or_default() += n;
        if reason != Some(EndReason::Completed) {
            last.stopped += n;
        }
    }
    for g in transactions {
        let report = services
            .entry((Some(g.agency_id), g.service_id.clone()))
            .or_insert_with(|| ServiceReport::named(g.service_id));
        report.transactions.push(TransactionCount {
            action: g.action,
            outcome: g.outcome,
            count: g.n as u64,
        });
    }
    for g in latencies {
        let report = services
            .entry((Some(g.agency_id), g.service_id.clone()))
            .or_insert_with(|| ServiceReport::named(g.service_id));
        report.latency.push(ActionLatency {
            action: g.action,
            calls: g.n as u64,
            p50_ms: g.p50,
            p95_ms: g.p95,
        });
    }

    let mut agencies: Vec<AgencyReport> = Vec::new();
    for ((agency, _), mut report) in services {
        report.sort();
        match agencies.last_mut() {
            Some(last) if last.agency == agency => last.services.push(report),
            _ => agencies.push(AgencyReport {
                agency,
                services: vec![report],
            }),
        }
    }
    // Dialogues without an agency (root menu only) after the agencies.
    agencies.sort_by_key(|a| a.agency.is_none());
    Ok(Report {
        since: query.since,
        until,
        agency: query.agency.as_ref().map(|a| a.to_string()),
        agencies,
        sms,
    })
}

impl ServiceReport {
    fn named(service: Option<String>) -> Self {
        ServiceReport {
            service,
            ..Default::default()
        }
    }

    fn step(&mut self, state: Option<String>) -> &mut FunnelStep {
        let at = match self.funnel.iter().position(|s| s.state == state) {
            Some(at) => at,
            None => {
                self.funnel.push(FunnelStep {
                    state,
                    ..Default::default()
                });
                self.funnel.len() - 1
            }
        };
        &mut self.funnel[at]
    }

    /// Most reached first (the funnel's order along any path), steps outside the service
    /// last; steps reached equally often in the order citizens meet them (shallower first),
    /// then by name, so that the output is stable.
    fn sort(&mut self) {
        self.funnel.sort_by(|a, b| {
            a.state
                .is_none()
                .cmp(&b.state.is_none())
                .then(b.reached.cmp(&a.reached))
                .then(mean_depth_order(a, b))
                .then(a.state.cmp(&b.state))
        });
        self.transactions
            .sort_by(|a, b| (&a.action, &a.outcome).cmp(&(&b.action, &b.outcome)));
        self.latency.sort_by(|a, b| a.action.cmp(&b.action));
    }
}

/// Compares the mean depths of two steps without division: `a.sum / a.n` against
/// `b.sum / b.n`.
fn mean_depth_order(a: &FunnelStep, b: &FunnelStep) -> std::cmp::Ordering {
    let left = u128::from(a.depth_sum) * u128::from(b.reached.max(1));
    let right = u128::from(b.depth_sum) * u128::from(a.reached.max(1));
    left.cmp(&right)
}

impl Dialogues {
    fn count(&mut self, reason: Option<EndReason>, n: u64) {
        self.started += n;
        match reason {
            Some(EndReason::Completed) => self.completed += n,
            Some(EndReason::Abandoned) => self.abandoned.idle_timeout += n,
            Some(EndReason::TelcoTimeout) => self.abandoned.telco_ended += n,
            Some(EndReason::UserCancelled) => self.abandoned.by_citizen += n,
            // An end reason this build does not know (written by a newer node) is counted
            // as failed rather than dropped, so that the totals add up.
            Some(EndReason::Failed) | None => self.failed += n,
            Some(EndReason::Unavailable) => self.unavailable += n,
        }
        self.abandoned.total =
            self.abandoned.idle_timeout + self.abandoned.telco_ended + self.abandoned.by_citizen;
    }
}
