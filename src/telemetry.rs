//! Logs and metrics. Phone numbers reach logs only masked (see [`crate::msisdn::Msisdn`]);
//! PINs and secrets are never logged.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// Metric names, in one place so that dashboards and code agree.
pub mod names {
    pub const USSD_HOPS: &str = "mgov_ussd_hops_total";
    pub const USSD_HOP_SECONDS: &str = "mgov_ussd_hop_duration_seconds";
    pub const USSD_SESSIONS_ENDED: &str = "mgov_ussd_sessions_ended_total";
    pub const SESSIONS_ACTIVE: &str = "mgov_sessions_active";
    pub const TRANSACTIONS: &str = "mgov_transactions_total";
    pub const BACKOFFICE_SECONDS: &str = "mgov_backoffice_call_duration_seconds";
    /// Per agency: 0 closed, 1 half-open, 2 open.
    pub const BACKOFFICE_BREAKER_STATE: &str = "mgov_backoffice_breaker_state";
    pub const BACKOFFICE_CALLS_IN_FLIGHT: &str = "mgov_backoffice_calls_in_flight";
    /// Per agency and reason (`breaker_open`, `at_capacity`): calls not sent.
    pub const BACKOFFICE_CALLS_REFUSED: &str = "mgov_backoffice_calls_refused_total";
    pub const CALLBACKS_REFUSED: &str = "mgov_callbacks_refused_total";
    /// Hops answered from memory without being applied, by `kind`: `duplicate` (the last
    /// hop again), `stale` (an older one), `over` (a hop of a dialogue that has ended).
    pub const USSD_HOPS_REPLAYED: &str = "mgov_ussd_hops_replayed_total";
    /// Hops and end notices naming another number than the dialogue's, by `kind`.
    pub const USSD_SESSION_CONFLICTS: &str = "mgov_ussd_session_conflicts_total";
    /// Records accepted by the journal and not yet committed.
    pub const JOURNAL_BACKLOG: &str = "mgov_journal_backlog";
    /// Journal writes that failed and were retried.
    pub const JOURNAL_RETRIES: &str = "mgov_journal_retries_total";
    /// Pending back-office calls asked again by the reconciler, by `outcome`.
    pub const RECONCILED: &str = "mgov_transactions_reconciled_total";
    /// `/v1` calls refused before their handler, by `reason`.
    pub const API_REFUSED: &str = "mgov_api_refused_total";
    /// Messages accepted through `/v1/messages`, by `agency`.
    pub const SMS_ACCEPTED: &str = "mgov_sms_accepted_total";
    /// Message status changes, by `telco` and `status`.
    pub const SMS_STATUS: &str = "mgov_sms_status_total";
    /// Parts handed to telcos, by `telco`.
    pub const SMS_PARTS_SENT: &str = "mgov_sms_parts_sent_total";
    /// Send attempts, by `telco` and `outcome` (sent, throttled, transient, refused).
    pub const SMS_SEND_ATTEMPTS: &str = "mgov_sms_send_attempts_total";
    /// Seconds from acceptance to the telco taking a message, and to its final report.
    pub const SMS_ACCEPTED_TO_SENT: &str = "mgov_sms_accepted_to_sent_seconds";
    pub const SMS_ACCEPTED_TO_FINAL: &str = "mgov_sms_accepted_to_final_seconds";
    /// Messages waiting to be sent, and how late the most overdue one is.
    pub const SMS_QUEUE_DEPTH: &str = "mgov_sms_queue_depth";
    pub const SMS_QUEUE_LATE_SECONDS: &str = "mgov_sms_queue_late_seconds";
    /// Delivery reports, by `telco` and `outcome` (final, in_transit, repeat, early, unknown).
    pub const SMS_REPORTS: &str = "mgov_sms_reports_total";
    /// Incoming SMS routed, by `telco` and `outcome` (forwarded, help, ignored).
    pub const SMS_INBOUND: &str = "mgov_sms_inbound_total";
    /// Incoming SMS a telco delivered again (acknowledged, not routed twice), by `telco`.
    pub const SMS_INBOUND_REPEATS: &str = "mgov_sms_inbound_repeats_total";
    /// Webhook attempts, by `outcome` (delivered, retry, abandoned).
    pub const WEBHOOK_ATTEMPTS: &str = "mgov_webhook_attempts_total";
}

/// Starts structured logging (`RUST_LOG` filters, default `info`); `json` for log shippers.
pub fn init_logging(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only for a person at a terminal: a log file or a shipper gets plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colour);
    let result = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests start many gateways in one process) keeps the first subscriber.
    let _ = result;
}

/// The process-wide Prometheus recorder; installed once, shared by every gateway in the
/// process (tests run several).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let latency_buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &latency_buckets)
                .and_then(|b| b.install_recorder())
                .unwrap_or_else(|_| {
                    // Another recorder was installed first (only possible in tests that embed
                    // the gateway next to other code); render from a detached one.
                    PrometheusBuilder::new().build_recorder().handle()
                })
        })
        .clone()
}
