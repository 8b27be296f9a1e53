//! What following dispatch measured, and the audit's verdict: plain values, filled in by
//! either source (`follow::db` or `follow::api`) and read by the report.

use serde::Serialize;
use std::collections::BTreeMap;

/// How many messages reached a point (sent, delivered) and when the first and the last did,
/// in seconds from the run's first request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Span {
    pub count: u64,
    pub first_s: f64,
    pub last_s: f64,
}

impl Span {
    /// Messages per second over the run so far: from the first request to the last message
    /// that got here. When dispatch keeps up this is the acceptance rate; when it does not,
    /// the dispatch rate.
    pub fn per_s(&self) -> f64 {
        if self.count == 0 || self.last_s <= 0.0 {
            0.0
        } else {
            self.count as f64 / self.last_s
        }
    }
}

/// Acceptance-to-delivery-report times, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// What became of the accepted messages, from the store's point of view.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Dispatch {
    /// `database` or `api`.
    pub source: String,
    /// Accepted messages by status at the end (`missing`: not found at all).
    pub statuses: BTreeMap<String, u64>,
    /// Messages the telco took. From the database: `sent` events; from the API: polled, so
    /// its times are only as fine as the poll interval.
    pub sent: Span,
    /// Messages whose delivery report said delivered.
    pub delivered: Span,
    pub latency: Percentiles,
    /// Every accepted message reached a final status before the drain timeout.
    pub drained: bool,
    /// From the end of submitting to the last message settled (or to the timeout).
    pub drain_s: f64,
}

/// The exactly-once audit of the accepted messages. Checks the API cannot make are `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Audit {
    pub accepted: u64,
    /// Accepted (answered `202` with their id) but not in the store.
    pub missing: u64,
    /// Still queued, sending or sent once the drain ended.
    pub non_final: u64,
    /// In a final status without a final event.
    pub no_final_event: Option<u64>,
    /// With more than one final event (a second report moved a final message), or listed
    /// under two statuses by the API.
    pub several_final_events: Option<u64>,
    /// Whose status is not the one its final event recorded.
    pub status_disagrees: Option<u64>,
    /// Stored since the run began without any request having been answered with their id
    /// (a request that timed out after its commit): not a fault, but counted.
    pub stored_unanswered: Option<u64>,
}

impl Audit {
    /// Each check that failed, as `name value`; empty when every message reached one final
    /// status exactly once.
    pub fn failures(&self) -> Vec<String> {
        let mut failed = Vec::new();
        let mut check = |name: &str, value: Option<u64>| {
            if let Some(n) = value.filter(|n| *n > 0) {
                failed.push(format!("{name} {n}"));
            }
        };
        check("missing", Some(self.missing));
        check("non_final", Some(self.non_final));
        check("no_final_event", self.no_final_event);
        check("several_final_events", self.several_final_events);
        check("status_disagrees", self.status_disagrees);
        failed
    }
}

/// Rounds to `places` decimals, for reports.
pub fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_run_from_the_first_request_to_the_last_message() {
        let cases = [
            (
                Span {
                    count: 1000,
                    first_s: 0.2,
                    last_s: 2.0,
                },
                500.0,
            ),
            (
                Span {
                    count: 0,
                    first_s: 0.0,
                    last_s: 0.0,
                },
                0.0,
            ),
            (
                Span {
                    count: 3,
                    first_s: 0.0,
                    last_s: 0.0,
                },
                0.0,
            ),
        ];
        for (span, per_s) in cases {
            assert_eq!(span.per_s(), per_s, "{span:?}");
        }
    }

    #[test]
    fn the_audit_fails_on_any_message_not_settled_exactly_once() {
        let clean = Audit {
            accepted: 100,
            no_final_event: Some(0),
            several_final_events: Some(0),
            status_disagrees: Some(0),
            stored_unanswered: Some(3),
            ..Audit::default()
        };
        assert!(
            clean.failures().is_empty(),
            "unanswered ones are only counted"
        );
        let cases = [
            (
                Audit {
                    missing: 2,
                    ..clean.clone()
                },
                vec!["missing 2"],
            ),
            (
                Audit {
                    non_final: 5,
                    ..clean.clone()
                },
                vec!["non_final 5"],
            ),
            (
                Audit {
                    several_final_events: Some(1),
                    status_disagrees: Some(1),
                    ..clean.clone()
                },
                vec!["several_final_events 1", "status_disagrees 1"],
            ),
            (
                Audit {
                    accepted: 10,
                    ..Audit::default()
                },
                vec![],
            ),
        ];
        for (audit, expected) in cases {
            assert_eq!(audit.failures(), expected, "{audit:?}");
        }
    }
}
