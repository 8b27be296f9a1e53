//! The loop every background worker of the outbox runs: a round, then, when the round found
//! nothing to do, a wait for a nudge from this node or for the poll that finds work other
//! nodes left. A failed round is logged and the loop goes on.

use std::future::Future;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Runs `round` until `stopped`; `what` names the work in the log when a round fails.
pub async fn run_rounds<F, Fut>(
    what: &'static str,
    mut stopped: watch::Receiver<bool>,
    nudge: &Notify,
    idle_poll: Duration,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, crate::db::DbError>>,
{
    loop {
        if *stopped.borrow() {
            return;
        }
        let handled = match round().await {
            Ok(handled) => handled,
            Err(e) => {
                tracing::warn!(error = %e, what, "background round failed; trying again");
                0
            }
        };
        if handled == 0 {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = nudge.notified() => {}
                _ = tokio::time::sleep(idle_poll) => {}
            }
        }
    }
}
