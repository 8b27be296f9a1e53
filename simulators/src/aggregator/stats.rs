//! Counters of the aggregator, served as JSON by `GET /stats` for tests and load tests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::chaos::{ChaosCounts, Event};
use super::wire::HopError;

/// Why a dialogue ended, as counted in `GET /stats` under `ended`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The gateway answered `END` / `Release`.
    Gateway,
    Hangup,
    /// The handset dialled again while a dialogue was open.
    Replaced,
    IdleTimeout,
    ReplyTimeout,
    Dropped,
    /// Refused, unreachable or unreadable.
    GatewayError,
}

impl Ended {
    pub(crate) const ALL: [Ended; 7] = [
        Ended::Gateway,
        Ended::Hangup,
        Ended::Replaced,
        Ended::IdleTimeout,
        Ended::ReplyTimeout,
        Ended::Dropped,
        Ended::GatewayError,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Ended::Gateway => "gateway",
            Ended::Hangup => "hangup",
            Ended::Replaced => "replaced",
            Ended::IdleTimeout => "idle_timeout",
            Ended::ReplyTimeout => "reply_timeout",
            Ended::Dropped => "dropped",
            Ended::GatewayError => "gateway_error",
        }
    }

    pub(crate) fn of(error: &HopError) -> Ended {
        match error {
            HopError::Dropped => Ended::Dropped,
            HopError::Timeout => Ended::ReplyTimeout,
            HopError::Unreachable(_) | HopError::Status(_) | HopError::BadReply(_) => {
                Ended::GatewayError
            }
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Hop requests posted to the gateway, chaos's extra copies included (notices not).
    hops: AtomicU64,
    /// Dialogues dialled.
    sessions: AtomicU64,
    /// Per [`Ended`], indexed by its position in [`Ended::ALL`].
    ended: [AtomicU64; Ended::ALL.len()],
    /// Failed callbacks by HTTP status, or `timeout`, `unreachable`, `bad_reply`.
    callback_errors: Mutex<BTreeMap<String, u64>>,
    notices_sent: AtomicU64,
    notices_failed: AtomicU64,
    chaos: Mutex<ChaosCounts>,
}

impl Stats {
    pub(crate) fn session_started(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn hop_sent(&self) {
        self.hops.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn ended(&self, reason: Ended) {
        let index = Ended::ALL
            .iter()
            .position(|known| *known == reason)
            .expect("every reason is in ALL");
        self.ended[index].fetch_add(1, Ordering::Relaxed);
    }

    /// A hop's failure; a dropped reply is the network's doing, not a callback error.
    pub(crate) fn callback_failed(&self, error: &HopError) {
        let key = match error {
            HopError::Dropped => return,
            HopError::Timeout => "timeout".to_owned(),
            HopError::Unreachable(_) => "unreachable".to_owned(),
            HopError::Status(status) => status.to_string(),
            HopError::BadReply(_) => "bad_reply".to_owned(),
        };
        let mut errors = self.callback_errors.lock().expect("counters never panic");
        *errors.entry(key).or_default() += 1;
    }

    pub(crate) fn notice(&self, delivered: bool) {
        let counter = if delivered {
            &self.notices_sent
        } else {
            &self.notices_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A hop chaos played, `context` saying where for the violation samples.
    pub(crate) fn chaos(&self, event: &Event, context: &str) {
        let mut counts = self.chaos.lock().expect("counters never panic");
        counts.record(event, context);
    }

    pub(crate) fn to_json(&self, active: usize) -> Value {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let ended: Map<String, Value> = Ended::ALL
            .iter()
            .zip(&self.ended)
            .map(|(reason, count)| (reason.name().to_owned(), read(count).into()))
            .collect();
        let errors = self.callback_errors.lock().expect("counters never panic");
        json!({
            "hops": read(&self.hops),
            "sessions": read(&self.sessions),
            "active": active,
            "ended": ended,
            "callback_errors": *errors,
            "notices_sent": read(&self.notices_sent),
            "notices_failed": read(&self.notices_failed),
            "chaos": self.chaos.lock().expect("counters never panic").to_json(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_hops_endings_and_errors_by_status() {
        let stats = Stats::default();
        stats.session_started();
        stats.hop_sent();
        stats.hop_sent();
        stats.ended(Ended::Gateway);
        stats.ended(Ended::of(&HopError::Status(500)));
        stats.callback_failed(&HopError::Status(500));
        stats.callback_failed(&HopError::Status(500));
        stats.callback_failed(&HopError::Timeout);
        stats.callback_failed(&HopError::Dropped);
        stats.notice(true);
        stats.notice(false);
        let json = stats.to_json(3);
        assert_eq!(json["hops"], 2);
        assert_eq!(json["sessions"], 1);
        assert_eq!(json["active"], 3);
        assert_eq!(json["ended"]["gateway"], 1);
        assert_eq!(json["ended"]["gateway_error"], 1);
        assert_eq!(json["ended"]["idle_timeout"], 0);
        assert_eq!(json["ended"].as_object().unwrap().len(), Ended::ALL.len());
        assert_eq!(json["callback_errors"], json!({"500": 2, "timeout": 1}));
        assert_eq!(json["notices_sent"], 1);
        assert_eq!(json["notices_failed"], 1);
    }
}
