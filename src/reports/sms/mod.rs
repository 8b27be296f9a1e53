//! SMS figures for a period, per agency: what citizens sent to its services (by keyword and
//! by outcome), what it sent (by status, with parts), its delivery rate and its median time
//! to delivery. The same figures serve an agency (`GET /v1/reports/sms`, its own only) and
//! an operator (`mgov report`, every agency, and the gateway's own traffic).
//!
//! - Incoming messages count by when they were received; those that reached no agency's
//!   service (help, ignored, not yet routed) are the gateway's own.
//! - Outgoing messages count by when they were accepted, in the status they are in now; the
//!   gateway's own replies are sent as agency `mgov`.
//! - Delivery rate: delivered / messages that reached the telco and a final status
//!   (`delivered`, `failed`, `expired`); messages still on their way are left out until
//!   their fate is known, and `cancelled` ones (never sent: STOP, a cancelled broadcast)
//!   are no delivery failure.
//! - Time to delivery: from acceptance (`created_at`) to the `delivered` event, to the
//!   millisecond; the median is the middle time, or the mean of the middle two.

mod store;
mod text;

use crate::db::{Db, DbError};
use crate::ids::AgencyId;
use crate::sms::inbound::store::GATEWAY_AGENCY;
use crate::sms::message::Status;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::Window;

/// One agency's figures, or the gateway's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SmsFigures {
    /// Messages citizens sent (MO).
    pub received: Received,
    /// Messages sent to citizens (MT).
    pub sent: Sent,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub total: u64,
    /// `forwarded`, `answered`, `failed` (the back office did not answer), `help`, `ignored`,
    /// and `pending` while not yet routed.
    pub by_outcome: BTreeMap<String, u64>,
    /// Most first; `keyword` is the word (or alias) the citizen used, `null` when none
    /// named a service.
    pub by_keyword: Vec<KeywordCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeywordCount {
    pub keyword: Option<String>,
    pub count: u64,
    pub by_outcome: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    /// Messages (one per recipient).
    pub total: u64,
    /// By status now: `queued`, `sending`, `sent`, `delivered`, `failed`, `expired`, ...
    pub by_status: BTreeMap<String, u64>,
    /// SMS parts of those messages, as billed by the telcos.
    pub parts: u64,
    /// Delivered / messages in a final status, 0 to 1; `null` when none is final yet.
    pub delivery_rate: Option<f64>,
    /// `null` when none was delivered.
    pub median_delivery_ms: Option<f64>,
}

/// The operator's view: every agency (or the one asked for), and the gateway's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SmsReport {
    /// By agency id; agencies with no SMS in the period are left out.
    pub agencies: Vec<AgencySms>,
    /// Messages that reached no agency's service, and the gateway's replies to them;
    /// `null` in a report for one agency.
    pub gateway: Option<SmsFigures>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgencySms {
    pub agency: String,
    #[serde(flatten)]
    pub figures: SmsFigures,
}

/// The figures of `agency` alone for `[from, to)`: all zero when it had no traffic.
pub async fn agency_sms_figures(
    db: &Db,
    agency: &AgencyId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<SmsFigures, DbError> {
    let report = sms_report(db, Some(agency), from, to).await?;
    Ok(report
        .agencies
        .into_iter()
        .find(|a| a.agency == agency.as_str())
        .map(|a| a.figures)
        .unwrap_or_default())
}

/// The figures for `[from, to)` of `agency`, or of every agency and the gateway.
pub async fn sms_report(
    db: &Db,
    agency: Option<&AgencyId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<SmsReport, DbError> {
    let window = Window { from, to, agency };
    // Without an agency asked for, the gateway's own traffic is kept apart under `None`.
    let whose = |id: Option<String>| match (agency, id) {
        (None, Some(id)) if id == GATEWAY_AGENCY => None,
        (_, id) => id,
    };
    let mut by_agency: BTreeMap<Option<String>, SmsFigures> = BTreeMap::new();
    for g in store::mo_groups(db, &window).await? {
        let figures = by_agency.entry(whose(g.agency_id)).or_default();
        figures.received.add(g.keyword, g.outcome, g.n as u64);
    }
    for g in store::mt_groups(db, &window).await? {
        let sent = &mut by_agency.entry(whose(Some(g.agency_id))).or_default().sent;
        sent.total += g.n as u64;
        sent.parts += g.parts as u64;
        *sent.by_status.entry(g.status).or_default() += g.n as u64;
    }
    for (agency_id, delivered) in store::delivered_counts(db, &window).await? {
        let median = store::median_delivery_ms(db, &window, &agency_id, delivered).await?;
        let sent = &mut by_agency.entry(whose(Some(agency_id))).or_default().sent;
        sent.median_delivery_ms = median;
    }
    let mut report = SmsReport::default();
    for (id, mut figures) in by_agency {
        figures.finish();
        match id {
            Some(agency) => report.agencies.push(AgencySms { agency, figures }),
            None => report.gateway = Some(figures),
        }
    }
    if agency.is_none() && report.gateway.is_none() {
        report.gateway = Some(SmsFigures::default());
    }
    Ok(report)
}

impl SmsFigures {
    fn finish(&mut self) {
        self.received.by_keyword.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.keyword.is_none().cmp(&b.keyword.is_none()))
                .then(a.keyword.cmp(&b.keyword))
        });
        let sent = &mut self.sent;
        let finished = sent.finished();
        sent.delivery_rate = (finished > 0).then(|| sent.delivered() as f64 / finished as f64);
    }

    /// Nothing received and nothing sent.
    pub fn is_empty(&self) -> bool {
        self.received.total == 0 && self.sent.total == 0
    }
}

impl Received {
    fn add(&mut self, keyword: Option<String>, outcome: String, n: u64) {
        self.total += n;
        *self.by_outcome.entry(outcome.clone()).or_default() += n;
        let at = match self.by_keyword.iter().position(|k| k.keyword == keyword) {
            Some(at) => at,
            None => {
                self.by_keyword.push(KeywordCount {
                    keyword,
                    count: 0,
                    by_outcome: BTreeMap::new(),
                });
                self.by_keyword.len() - 1
            }
        };
        let entry = &mut self.by_keyword[at];
        entry.count += n;
        *entry.by_outcome.entry(outcome).or_default() += n;
    }
}

impl Sent {
    pub fn delivered(&self) -> u64 {
        let delivered = self.by_status.get(Status::Delivered.as_str());
        delivered.copied().unwrap_or(0)
    }

    /// Messages in a final status other than `cancelled`: those the delivery rate is taken
    /// over. A status this build does not know (written by a newer node) is left out rather
    /// than guessed.
    pub fn finished(&self) -> u64 {
        self.by_status
            .iter()
            .filter(|(status, _)| {
                Status::parse(status).is_some_and(|s| s.is_final() && s != Status::Cancelled)
            })
            .map(|(_, n)| n)
            .sum()
    }
}
