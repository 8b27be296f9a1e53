//! Queues the subscribers of new broadcasts, a chunk at a time, on any node.

use super::store::{queue_chunk, to_queue};
use crate::app::rounds::run_rounds;
use crate::app::Gateway;
use crate::sessions::now_ms;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Subscribers queued per transaction: large enough to keep up with any telco's pace,
/// small enough that a transaction stays short.
const CHUNK: u32 = 500;
/// How often an idle worker looks for broadcasts another node created.
const IDLE_POLL: Duration = Duration::from_secs(1);

pub async fn run(gw: Arc<Gateway>, stopped: watch::Receiver<bool>) {
    let nudge = &gw.sms.wake_broadcasts;
    run_rounds("queueing broadcasts", stopped, nudge, IDLE_POLL, || {
        queue_once(&gw)
    })
    .await
}

/// Queues one chunk of each broadcast still being queued; how many messages it queued.
pub async fn queue_once(gw: &Gateway) -> Result<usize, crate::db::DbError> {
    let mut queued = 0;
    for broadcast in to_queue(&gw.db, 8).await? {
        let count = queue_chunk(&gw.db, &broadcast, CHUNK, now_ms()).await?;
        if count > 0 {
            tracing::debug!(broadcast = %broadcast.id, count, "broadcast messages queued");
            gw.sms.wake.notify_one();
        }
        queued += count;
    }
    Ok(queued)
}
