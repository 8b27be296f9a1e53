//! Remembered answers: a repeated `request_id` gets the byte-identical earlier reply, so a
//! retry never issues a second control number or a second booking.
//!
//! The key is the action together with the request id, because one gateway transaction may
//! call several actions (fetch a bill, then ask for its control number) under the same id.
//!
//! Answers are kept for the idempotency window the contract promises (24 hours unless set
//! otherwise), not for the life of the simulator: under load a simulator that remembered
//! everything would grow without end. They are kept in two generations: answers given since
//! the current one began, and those of the one before. When the current generation is a
//! window old it becomes the previous one and the previous one is dropped, so every answer
//! is remembered for at least a window and at most two. An optional capacity also starts a
//! new generation once the current one holds that many answers, which bounds memory at twice
//! the capacity whatever the request rate (the embedded demo uses this).

use std::mem;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use axum::body::Bytes;
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use tokio::time::Instant;

use super::actions::Action;

type Key = (Action, String);

#[derive(Debug)]
pub(crate) struct Answers {
    window: Duration,
    capacity: Option<usize>,
    generations: RwLock<Generations>,
}

#[derive(Debug)]
struct Generations {
    current: DashMap<Key, Bytes>,
    /// Answers in `current`, counted apart because `DashMap::len` locks every shard.
    current_len: AtomicUsize,
    previous: DashMap<Key, Bytes>,
    started: Instant,
}

/// Whether a reply was computed now or replayed from an earlier request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Freshness {
    New,
    Replayed,
}

impl Answers {
    /// Remembers answers for `window` (at least, and at most twice that), and at most about
    /// `2 * capacity` of them when a capacity is given.
    pub(crate) fn new(window: Duration, capacity: Option<usize>) -> Self {
        Answers {
            window,
            capacity,
            generations: RwLock::new(Generations {
                current: DashMap::new(),
                current_len: AtomicUsize::new(0),
                previous: DashMap::new(),
                started: Instant::now(),
            }),
        }
    }

    /// The remembered reply for `(action, request_id)`, or `answer()` remembered now.
    /// Concurrent requests with the same key are serialised by the map's shard lock, so
    /// `answer` runs at most once per key while the key is remembered.
    pub(crate) fn get_or_answer(
        &self,
        action: Action,
        request_id: &str,
        answer: impl FnOnce() -> Bytes,
    ) -> (Bytes, Freshness) {
        let generations = self.generations_at(Instant::now());
        let key = (action, request_id.to_owned());
        if let Some(reply) = generations.previous.get(&key) {
            return (reply.clone(), Freshness::Replayed);
        }
        let remembered = match generations.current.entry(key) {
            Entry::Occupied(entry) => (entry.get().clone(), Freshness::Replayed),
            Entry::Vacant(entry) => {
                generations.current_len.fetch_add(1, Ordering::Relaxed);
                (entry.insert(answer()).clone(), Freshness::New)
            }
        };
        remembered
    }

    /// How many answers are remembered now.
    pub(crate) fn len(&self) -> usize {
        let generations = self.generations_at(Instant::now());
        generations.current.len() + generations.previous.len()
    }

    /// The generations as of `now`, after starting a new one if the current one is due.
    fn generations_at(&self, now: Instant) -> RwLockReadGuard<'_, Generations> {
        let read = || {
            self.generations
                .read()
                .unwrap_or_else(PoisonError::into_inner)
        };
        let generations = read();
        if !self.due(&generations, now) {
            return generations;
        }
        drop(generations);
        let mut generations = self
            .generations
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Another request may have started the new generation while this one waited.
        if self.due(&generations, now) {
            let age = now.saturating_duration_since(generations.started);
            let current = mem::take(&mut generations.current);
            // Answers of a generation two windows old are all past the window.
            generations.previous = if age >= self.window * 2 {
                DashMap::new()
            } else {
                current
            };
            generations.current_len = AtomicUsize::new(0);
            generations.started = now;
        }
        drop(generations);
        read()
    }

    fn due(&self, generations: &Generations, now: Instant) -> bool {
        now.saturating_duration_since(generations.started) >= self.window
            || self
                .capacity
                .is_some_and(|capacity| generations.current_len.load(Ordering::Relaxed) >= capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn remember(answers: &Answers, id: &str, reply: &'static str) -> (Bytes, Freshness) {
        answers.get_or_answer(Action::BillsFetch, id, || Bytes::from(reply))
    }

    #[test]
    fn replays_per_action_and_request_id() {
        let answers = Answers::new(DAY, None);
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

    #[tokio::test(start_paused = true)]
    async fn answers_are_remembered_for_the_window_and_then_forgotten() {
        let answers = Answers::new(DAY, None);
        remember(&answers, "tx_early", "early");
        tokio::time::advance(DAY - Duration::from_secs(1)).await;
        remember(&answers, "tx_late", "late");
        // A new generation begins a window after the first: nothing is forgotten yet.
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(remember(&answers, "tx_early", "again").0, "early");
        assert_eq!(answers.len(), 2);
        // Two windows on, both are past the window and gone.
        tokio::time::advance(DAY).await;
        assert_eq!(answers.len(), 0);
        assert_eq!(
            remember(&answers, "tx_early", "new"),
            (Bytes::from("new"), Freshness::New)
        );
        assert_eq!(
            remember(&answers, "tx_late", "new"),
            (Bytes::from("new"), Freshness::New)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_silence_forgets_everything_at_once() {
        let answers = Answers::new(DAY, None);
        remember(&answers, "tx_1", "one");
        tokio::time::advance(DAY * 3).await;
        assert_eq!(answers.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_capacity_bounds_how_many_are_kept_whatever_the_rate() {
        let answers = Answers::new(DAY, Some(100));
        for n in 0..1_000 {
            remember(&answers, &format!("tx_{n}"), "x");
            assert!(answers.len() <= 200, "{} after {n}", answers.len());
        }
        // The last hundred are always still there.
        for n in 900..1_000 {
            assert_eq!(
                remember(&answers, &format!("tx_{n}"), "y").1,
                Freshness::Replayed
            );
        }
    }
}
