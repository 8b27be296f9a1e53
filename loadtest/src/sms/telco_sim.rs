//! What the telco simulator received during the run, from its `GET /stats` before and after:
//! each accepted message should arrive once (`unique_messages` up by the accepted count,
//! `duplicates` unchanged). Its counters cover every run since it started, hence the
//! difference.

use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// The counters of `/stats` that the run reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Received {
    pub recipients: u64,
    pub unique_messages: u64,
    pub duplicates: u64,
    pub refused_recipients: u64,
    pub throttled: u64,
    /// Reports answered `2xx`, all formats and statuses.
    pub reports_sent: u64,
    pub report_attempts_failed: u64,
    pub reports_abandoned: u64,
    pub reports_pending: u64,
}

impl Received {
    pub fn from_stats(stats: &Value) -> Self {
        let n = |name: &str| stats[name].as_u64().unwrap_or(0);
        let reports_sent = stats["reports_sent"]
            .as_object()
            .into_iter()
            .flat_map(|formats| formats.values())
            .filter_map(Value::as_object)
            .flat_map(|statuses| statuses.values())
            .filter_map(Value::as_u64)
            .sum();
        Received {
            recipients: n("recipients"),
            unique_messages: n("unique_messages"),
            duplicates: n("duplicates"),
            refused_recipients: n("refused_recipients"),
            throttled: n("throttled"),
            reports_sent,
            report_attempts_failed: n("report_attempts_failed"),
            reports_abandoned: n("reports_abandoned"),
            reports_pending: n("reports_pending"),
        }
    }

    /// What changed since `before`; `reports_pending` is the current value, not a change.
    pub fn since(&self, before: &Received) -> Received {
        Received {
            recipients: self.recipients.saturating_sub(before.recipients),
            unique_messages: self.unique_messages.saturating_sub(before.unique_messages),
            duplicates: self.duplicates.saturating_sub(before.duplicates),
            refused_recipients: self
                .refused_recipients
                .saturating_sub(before.refused_recipients),
            throttled: self.throttled.saturating_sub(before.throttled),
            reports_sent: self.reports_sent.saturating_sub(before.reports_sent),
            report_attempts_failed: self
                .report_attempts_failed
                .saturating_sub(before.report_attempts_failed),
            reports_abandoned: self
                .reports_abandoned
                .saturating_sub(before.reports_abandoned),
            reports_pending: self.reports_pending,
        }
    }

    /// Where the run's messages fell short of "each received once": `unreceived N` (fewer
    /// unique messages than accepted) and `duplicates N`.
    pub fn failures(&self, accepted: u64) -> Vec<String> {
        let mut failed = Vec::new();
        if self.unique_messages < accepted {
            failed.push(format!("unreceived {}", accepted - self.unique_messages));
        }
        if self.duplicates > 0 {
            failed.push(format!("duplicates {}", self.duplicates));
        }
        failed
    }
}

/// Reads `{base}/stats`.
pub async fn read(http: &reqwest::Client, base: &str) -> anyhow::Result<Received> {
    let stats: Value = http
        .get(format!("{}/stats", base.trim_end_matches('/')))
        .timeout(Duration::from_secs(10))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(Received::from_stats(&stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stats_are_read_and_differenced() {
        let before = Received::from_stats(&json!({
            "recipients": 10, "unique_messages": 10, "duplicates": 1,
            "reports_sent": {"africastalking": {"Success": 9}, "kannel": {"8": 1}},
        }));
        assert_eq!((before.reports_sent, before.duplicates), (10, 1));
        let after = Received::from_stats(&json!({
            "recipients": 110, "unique_messages": 109, "duplicates": 2, "throttled": 3,
            "reports_sent": {"africastalking": {"Success": 105}, "kannel": {"8": 1, "1": 2}},
            "reports_pending": 4, "unknown_counter": 7,
        }));
        let run = after.since(&before);
        assert_eq!(
            run,
            Received {
                recipients: 100,
                unique_messages: 99,
                duplicates: 1,
                throttled: 3,
                reports_sent: 98,
                reports_pending: 4,
                ..Received::default()
            }
        );
    }

    #[test]
    fn each_accepted_message_must_arrive_once() {
        let got = |unique, duplicates| Received {
            unique_messages: unique,
            duplicates,
            ..Received::default()
        };
        let cases = [
            (got(100, 0), 100, vec![]),
            (got(98, 0), 100, vec!["unreceived 2"]),
            (got(100, 3), 100, vec!["duplicates 3"]),
            (got(99, 1), 100, vec!["unreceived 1", "duplicates 1"]),
        ];
        for (received, accepted, expected) in cases {
            assert_eq!(received.failures(accepted), expected, "{received:?}");
        }
    }
}
