//! What the SMS channel keeps on each node: the API-key checker, the HTTP client for telcos
//! and webhooks, each telco's send pace, and the signal that wakes the dispatcher.

use super::channel::DeliveryReport;
use super::dispatch::pace::Paces;
use super::inbound::services::SmsService;
use super::store::accept::{Acceptance, Stored};
use super::store::events::{StatusChange, WebhookRoutes};
use super::store::reports::ReportOutcome;
use super::subscriptions::Topic;
use crate::agencies::keys::KeyChecker;
use crate::agencies::Agency;
use crate::db::group_commit::GroupCommit;
use crate::directory::Directory;
use crate::ids::AgencyId;
use crate::ids::TelcoId;
use crate::sms::message::Status;
use crate::telemetry::names;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// At most this many requests, or reports, per commit.
const MOST_PER_COMMIT: usize = 256;

/// How long a telco's send API or an agency's webhook may take to answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SmsState {
    pub keys: KeyChecker,
    pub http: reqwest::Client,
    pub paces: Paces,
    /// Requests to `POST /v1/messages` and delivery reports that came together are each
    /// committed together.
    pub acceptances: Arc<GroupCommit<Acceptance, Stored>>,
    pub reports: Arc<GroupCommit<(TelcoId, DeliveryReport), ReportOutcome>>,
    /// Rung when messages are accepted, so that the dispatcher does not wait for its poll.
    pub wake: Notify,
    /// Rung when an incoming message is stored, so that the router does not wait for its poll.
    pub wake_router: Notify,
    /// Keyword services: (shortcode, word) → service; re-read when any node changes one.
    pub keywords: Directory<(String, String), SmsService>,
    /// Topics by name: (JIUNGE MAFURIKO); re-read when any node changes one.
    pub topics: Directory<String, Topic>,
    /// Rung when a broadcast is created, so that its subscribers are queued at once.
    pub wake_broadcasts: Notify,
    /// Rung when a status change queued a webhook.
    pub wake_webhooks: Notify,
    /// When a dispatcher on this node last finished a round (ms since the epoch; 0: never).
    pub last_dispatch_ms: AtomicI64,
}

impl Default for SmsState {
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .pool_max_idle_per_host(64)
            .build()
            .expect("a client with these settings builds");
        Self {
            keys: KeyChecker::default(),
            http,
            paces: Paces::default(),
            acceptances: Arc::new(GroupCommit::new(MOST_PER_COMMIT)),
            reports: Arc::new(GroupCommit::new(MOST_PER_COMMIT)),
            wake: Notify::new(),
            wake_webhooks: Notify::new(),
            wake_router: Notify::new(),
            keywords: Directory::default(),
            topics: Directory::default(),
            wake_broadcasts: Notify::new(),
            last_dispatch_ms: AtomicI64::new(0),
        }
    }
}

impl SmsState {
    /// Counts an accepted batch and wakes the dispatcher.
    pub fn accepted(&self, agency: &AgencyId, messages: usize, parts: usize) {
        metrics::counter!(names::SMS_ACCEPTED, "agency" => agency.to_string())
            .increment(messages as u64);
        tracing::debug!(%agency, messages, parts, "messages accepted");
        self.wake.notify_one();
    }
}

/// Webhooks go to the message's own callback URL, else its agency's; final statuses always,
/// `sent` too for agencies that asked for every status. A broadcast's messages have none:
/// the agency follows the broadcast's progress instead of one call per subscriber.
impl WebhookRoutes for Directory<AgencyId, Agency> {
    fn url_for(&self, change: &StatusChange) -> Option<String> {
        let status = change.status()?;
        if change.purpose == "broadcast" {
            return None;
        }
        let agency = AgencyId::parse(&change.agency_id)
            .ok()
            .and_then(|id| self.get(&id));
        let wanted = status.is_final()
            || (status == Status::Sent && agency.as_ref().is_some_and(|a| a.webhook_every_status));
        if !wanted {
            return None;
        }
        change
            .callback_url
            .clone()
            .or_else(|| agency.and_then(|a| a.callback_url.clone()))
    }
}
