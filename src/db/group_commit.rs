//! Writes that arrive together are committed together: each caller queues its item and waits
//! for the commit that includes it (so it answers only once its item is stored), and one
//! task at a time writes whatever has queued, as one transaction. Under load a commit
//! carries tens of items instead of one; alone, an item is written at once.

use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

type Done<O> = oneshot::Sender<Result<O, String>>;

pub struct GroupCommit<I, O> {
    state: Mutex<State<I, O>>,
    most_per_commit: usize,
}

struct State<I, O> {
    waiting: Vec<(I, Done<O>)>,
    /// A writer task is running and will take what is waiting.
    writing: bool,
}

impl<I: Send + 'static, O: Send + 'static> GroupCommit<I, O> {
    pub fn new(most_per_commit: usize) -> Self {
        Self {
            state: Mutex::new(State {
                waiting: Vec::new(),
                writing: false,
            }),
            most_per_commit,
        }
    }

    /// Queues `item` and waits for its outcome. `write` commits one batch and gives each
    /// item's outcome in order (or why none was stored); `queue` reaches this group from the
    /// writer task, which runs on its own so that a caller who goes away stops nothing.
    pub async fn submit<Q, W, F>(&self, item: I, queue: Q, write: W) -> Result<O, String>
    where
        Q: Fn() -> Arc<Self> + Send + 'static,
        W: Fn(Vec<I>) -> F + Send + 'static,
        F: Future<Output = Result<Vec<O>, String>> + Send,
    {
        let (done, outcome) = oneshot::channel();
        let start_writer = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.waiting.push((item, done));
            !std::mem::replace(&mut state.writing, true)
        };
        if start_writer {
            tokio::spawn(async move {
                let group = queue();
                loop {
                    let batch = group.take();
                    if batch.is_empty() {
                        return;
                    }
                    let (items, dones): (Vec<I>, Vec<Done<O>>) = batch.into_iter().unzip();
                    // A write that panics fails its batch, not the group.
                    let written = AssertUnwindSafe(write(items))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| Err("the write panicked".into()));
                    match written {
                        Ok(outcomes) => {
                            for (done, outcome) in dones.into_iter().zip(outcomes) {
                                let _ = done.send(Ok(outcome));
                            }
                        }
                        Err(e) => {
                            for done in dones {
                                let _ = done.send(Err(e.clone()));
                            }
                        }
                    }
                }
            });
        }
        outcome
            .await
            .unwrap_or_else(|_| Err("the writer stopped".into()))
    }

    fn take(&self) -> Vec<(I, Done<O>)> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let n = state.waiting.len().min(self.most_per_commit);
        if n == 0 {
            state.writing = false;
        }
        state.waiting.drain(..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::sync::watch;

    #[tokio::test]
    async fn items_queued_while_a_batch_commits_go_in_the_next_one_together() {
        let group: Arc<GroupCommit<u32, u32>> = Arc::new(GroupCommit::new(64));
        let commits = Arc::new(AtomicUsize::new(0));
        let (entered_tx, mut entered) = watch::channel(0usize);
        let entered_tx = Arc::new(entered_tx);
        let (release, released) = watch::channel(false);
        let submit = |item: u32| {
            let (group, commits, released, entered_tx) = (
                group.clone(),
                commits.clone(),
                released.clone(),
                entered_tx.clone(),
            );
            tokio::spawn(async move {
                let queue = group.clone();
                let write = move |items: Vec<u32>| {
                    let (commits, mut released, entered_tx) =
                        (commits.clone(), released.clone(), entered_tx.clone());
                    async move {
                        entered_tx.send_modify(|n| *n += 1);
                        // Every commit waits for the test's word.
                        let _ = released.wait_for(|r| *r).await;
                        commits.fetch_add(1, Ordering::SeqCst);
                        Ok(items.iter().map(|i| i * 10).collect())
                    }
                };
                group.submit(item, move || queue.clone(), write).await
            })
        };
        let first = submit(1);
        // The first commit has begun, with item 1 alone; the others queue behind it.
        entered.wait_for(|n| *n == 1).await.unwrap();
        let rest: Vec<_> = (2..=50).map(submit).collect();
        while group.state.lock().unwrap().waiting.len() < 49 {
            tokio::task::yield_now().await;
        }
        release.send(true).unwrap();
        assert_eq!(first.await.unwrap(), Ok(10));
        for (i, handle) in rest.into_iter().enumerate() {
            assert_eq!(handle.await.unwrap(), Ok((i as u32 + 2) * 10));
        }
        assert_eq!(
            commits.load(Ordering::SeqCst),
            2,
            "item 1 alone, then the other 49"
        );
    }

    #[tokio::test]
    async fn a_writer_that_panics_leaves_the_group_working() {
        let group: Arc<GroupCommit<u32, u32>> = Arc::new(GroupCommit::new(8));
        let submit = |item: u32| {
            let group = group.clone();
            async move {
                let queue = group.clone();
                let write = |items: Vec<u32>| async move {
                    assert!(items != [1], "the write of item 1 panics");
                    Ok(items)
                };
                group.submit(item, move || queue.clone(), write).await
            }
        };
        assert_eq!(submit(1).await, Err("the write panicked".to_string()));
        assert_eq!(submit(2).await, Ok(2));
    }
}
