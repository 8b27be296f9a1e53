//! Request counters, served as JSON by `GET /stats` for tests and load tests.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

use super::actions::Action;

#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Every `POST /`, whatever became of it.
    requests: AtomicU64,
    /// `200` answers per action, replays included, indexed by [`Action::index`].
    answered: [AtomicU64; Action::ALL.len()],
    replayed: AtomicU64,
    simulated_failures: AtomicU64,
    unauthorized: AtomicU64,
    bad_requests: AtomicU64,
}

/// What became of a request, for counting.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event {
    Received,
    Answered { action: Action, replayed: bool },
    SimulatedFailure,
    Unauthorized,
    BadRequest,
}

impl Stats {
    pub(crate) fn record(&self, event: Event) {
        let counter = match event {
            Event::Received => &self.requests,
            Event::Answered { action, replayed } => {
                if replayed {
                    self.replayed.fetch_add(1, Ordering::Relaxed);
                }
                &self.answered[action.index()]
            }
            Event::SimulatedFailure => &self.simulated_failures,
            Event::Unauthorized => &self.unauthorized,
            Event::BadRequest => &self.bad_requests,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn to_json(&self) -> Value {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let answered: Map<String, Value> = Action::ALL
            .into_iter()
            .map(|action| {
                (
                    action.name().to_owned(),
                    read(&self.answered[action.index()]).into(),
                )
            })
            .collect();
        json!({
            "requests": read(&self.requests),
            "answered": answered,
            "replayed": read(&self.replayed),
            "simulated_failures": read(&self.simulated_failures),
            "unauthorized": read(&self.unauthorized),
            "bad_requests": read(&self.bad_requests),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_event_and_lists_every_action() {
        let stats = Stats::default();
        stats.record(Event::Received);
        stats.record(Event::Received);
        stats.record(Event::Answered {
            action: Action::CasesStatus,
            replayed: false,
        });
        stats.record(Event::Answered {
            action: Action::CasesStatus,
            replayed: true,
        });
        stats.record(Event::SimulatedFailure);
        let json = stats.to_json();
        assert_eq!(json["requests"], 2);
        assert_eq!(json["answered"]["cases.status"], 2);
        assert_eq!(json["answered"]["bills.fetch"], 0);
        assert_eq!(
            json["answered"].as_object().unwrap().len(),
            Action::ALL.len()
        );
        assert_eq!(json["replayed"], 1);
        assert_eq!(json["simulated_failures"], 1);
        assert_eq!(json["unauthorized"], 0);
    }
}
