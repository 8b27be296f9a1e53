//! Remembered answers: a repeated `request_id` gets the byte-identical earlier reply, so a
//! retry never issues a second control number or a second booking.
//!
//! The key is the action together with the request id, because one gateway transaction may
//! call several actions (fetch a bill, then ask for its control number) under the same id.
//! Answers are kept for the life of the simulator; at a few hundred bytes each, a load test
//! of a million requests costs a few hundred megabytes.

use axum::body::Bytes;
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use super::actions::Action;

#[derive(Debug, Default)]
pub(crate) struct Answers {
    remembered: DashMap<(Action, String), Bytes>,
}

/// Whether a reply was computed now or replayed from an earlier request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Freshness {
    New,
    Replayed,
}

impl Answers {
    /// The remembered reply for `(action, request_id)`, or `answer()` remembered now.
    /// Concurrent requests with the same key are serialised by the map's shard lock, so
    /// `answer` runs at most once per key.
    pub(crate) fn get_or_answer(
        &self,
        action: Action,
        request_id: &str,
        answer: impl FnOnce() -> Bytes,
    ) -> (Bytes, Freshness) {
        match self.remembered.entry((action, request_id.to_owned())) {
            Entry::Occupied(entry) => (entry.get().clone(), Freshness::Replayed),
            Entry::Vacant(entry) => (entry.insert(answer()).clone(), Freshness::New),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_per_action_and_request_id() {
        let answers = Answers::default();
        let first = answers.get_or_answer(Action::BillsFetch, "tx_1", || Bytes::from("one"));
        assert_eq!(first, (Bytes::from("one"), Freshness::New));
        let again = answers.get_or_answer(Action::BillsFetch, "tx_1", || Bytes::from("two"));
        assert_eq!(again, (Bytes::from("one"), Freshness::Replayed));
        // The same transaction id under another action is a different request.
        let other = answers.get_or_answer(Action::PaymentsControlNumber, "tx_1", || {
            Bytes::from("three")
        });
        assert_eq!(other, (Bytes::from("three"), Freshness::New));
    }
}
