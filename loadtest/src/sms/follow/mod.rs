//! Follows what the dispatcher does with the accepted messages: progress while requests go
//! out, then the drain (until every accepted message is final, or the drain timeout), then
//! the figures and the audit. From the database ([`db`]) or through the API ([`api`]).

pub mod api;
pub mod db;

use super::figures::{Audit, Dispatch};
use std::time::Duration;
use tokio::time::Instant;

/// Counts seen so far: messages the telco took, that reached a final status, delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    pub taken: u64,
    pub finals: u64,
    pub delivered: u64,
}

pub enum Follower {
    Db(db::DbWatch),
    Api(api::ApiWatch),
}

impl Follower {
    pub async fn progress(&mut self, accepted: u64) -> anyhow::Result<Seen> {
        match self {
            Follower::Db(w) => w.progress().await,
            Follower::Api(w) => w.progress(accepted).await,
        }
    }

    pub async fn load(&mut self, ids: &[String]) -> anyhow::Result<()> {
        match self {
            Follower::Db(w) => w.load(ids).await,
            Follower::Api(w) => {
                w.load(ids);
                Ok(())
            }
        }
    }

    async fn unsettled(&mut self) -> anyhow::Result<u64> {
        match self {
            Follower::Db(w) => w.unsettled().await,
            Follower::Api(w) => w.unsettled().await,
        }
    }

    pub async fn figures(&mut self, start_epoch: f64) -> anyhow::Result<(Dispatch, Audit)> {
        match self {
            Follower::Db(w) => w.figures(start_epoch).await,
            Follower::Api(w) => w.figures().await,
        }
    }
}

/// Polls without an exact count at most this many times in a row.
const EXACT_EVERY: u32 = 10;

/// Whether to count the unsettled messages exactly now: when the cheap progress says all
/// are final, when it stopped moving (it can miss an event committed out of order), and
/// every [`EXACT_EVERY`] polls whatever it says.
pub fn time_for_exact_count(
    seen: Seen,
    accepted: u64,
    unchanged_polls: u32,
    polls_since: u32,
) -> bool {
    seen.finals >= accepted || unchanged_polls >= 2 || polls_since >= EXACT_EVERY
}

/// How the drain ended.
pub struct Drained {
    pub drained: bool,
    /// From the start of the drain to the poll that found nothing unsettled (or the timeout).
    pub elapsed: Duration,
}

/// Polls every `every` until no accepted message is unsettled or `timeout` passes;
/// `report` is called with each poll's counts.
pub async fn drain(
    follower: &mut Follower,
    accepted: u64,
    timeout: Duration,
    every: Duration,
    mut report: impl FnMut(Seen),
) -> anyhow::Result<Drained> {
    let start = Instant::now();
    let (mut last, mut unchanged, mut since_exact) = (None, 0u32, 0u32);
    loop {
        let seen = follower.progress(accepted).await?;
        report(seen);
        unchanged = if last == Some(seen) { unchanged + 1 } else { 0 };
        last = Some(seen);
        since_exact += 1;
        if time_for_exact_count(seen, accepted, unchanged, since_exact) {
            since_exact = 0;
            if follower.unsettled().await? == 0 {
                return Ok(Drained {
                    drained: true,
                    elapsed: start.elapsed(),
                });
            }
        }
        if start.elapsed() >= timeout {
            return Ok(Drained {
                drained: false,
                elapsed: start.elapsed(),
            });
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_counts_come_when_all_look_final_or_progress_stalls() {
        let seen = |finals| Seen {
            taken: finals,
            finals,
            delivered: finals,
        };
        // (seen, accepted, unchanged polls, polls since the last exact count) -> count now?
        let cases = [
            (seen(100), 100, 0, 1, true),
            (seen(101), 100, 0, 1, true),
            (seen(50), 100, 0, 1, false),
            (seen(50), 100, 1, 1, false),
            (seen(50), 100, 2, 1, true),
            (seen(50), 100, 0, EXACT_EVERY, true),
        ];
        for (seen, accepted, unchanged, since, expected) in cases {
            assert_eq!(
                time_for_exact_count(seen, accepted, unchanged, since),
                expected,
                "{seen:?} {accepted} {unchanged} {since}"
            );
        }
    }
}
