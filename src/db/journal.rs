//! Group commit for the records every hop writes (transactions, finished dialogues).
//!
//! A hop hands its record to the journal and waits until the record is committed, so a
//! record the gateway reports as made is durable: a crash loses only records whose hops have
//! not been answered yet. Under load, records that arrive while earlier writes are in flight
//! go out together in one multi-row INSERT (one commit, one WAL flush) instead of one commit
//! each; when the gateway is idle a record is written at once, so batching adds no waiting.

use super::{Db, DbError};
use crate::backoffice::store::{insert_transactions, TransactionRecord};
use crate::ussd::store::{insert_session_records, SessionRecord};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Records written in one statement at most.
const MAX_BATCH: usize = 500;
/// Batches being written at once; more queue up and grow the next batch.
const WRITERS: usize = 4;

pub enum Record {
    Transaction(TransactionRecord),
    Session(SessionRecord),
}

struct Entry {
    record: Record,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct Journal {
    entries: mpsc::Sender<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the journal has stopped")]
    Stopped,
    #[error("writing failed: {0}")]
    Write(String),
}

impl Journal {
    /// Starts the journal's collector on the current runtime.
    pub fn start(db: Db) -> Self {
        let (entries, receiver) = mpsc::channel(MAX_BATCH * WRITERS * 4);
        tokio::spawn(collect(db, receiver));
        Self { entries }
    }

    /// Writes `record` and returns once it is committed.
    pub async fn write(&self, record: Record) -> Result<(), JournalError> {
        self.submit(record).await?.await
    }

    /// Queues `record` and returns a future that resolves once it is committed. A caller
    /// that stops waiting does not stop the write.
    pub async fn submit(
        &self,
        record: Record,
    ) -> Result<impl std::future::Future<Output = Result<(), JournalError>>, JournalError> {
        let (done, committed) = oneshot::channel();
        self.entries
            .send(Entry { record, done })
            .await
            .map_err(|_| JournalError::Stopped)?;
        Ok(async move {
            committed
                .await
                .map_err(|_| JournalError::Stopped)?
                .map_err(JournalError::Write)
        })
    }
}

async fn collect(db: Db, mut receiver: mpsc::Receiver<Entry>) {
    let writers = Arc::new(Semaphore::new(WRITERS));
    while let Some(first) = receiver.recv().await {
        // Wait for a free writer first: whatever arrives meanwhile joins this batch.
        let Ok(permit) = writers.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(entry) => batch.push(entry),
                Err(_) => break,
            }
        }
        let db = db.clone();
        tokio::spawn(async move {
            write_batch(&db, batch).await;
            drop(permit);
        });
    }
}

async fn write_batch(db: &Db, batch: Vec<Entry>) {
    let mut transactions = Vec::new();
    let mut sessions = Vec::new();
    let mut waiting = Vec::with_capacity(batch.len());
    for entry in batch {
        match entry.record {
            Record::Transaction(t) => transactions.push(t),
            Record::Session(s) => sessions.push(s),
        }
        waiting.push(entry.done);
    }
    let result = match write_both(db, &transactions, &sessions).await {
        Err(e) if e.is_retryable() => write_both(db, &transactions, &sessions).await,
        Err(e) if transactions.len() + sessions.len() > 1 => {
            // One bad row must not cost the others theirs: write them one at a time.
            tracing::warn!(error = %e, "a batch of records failed; writing them one by one");
            one_by_one(db, &transactions, &sessions).await
        }
        other => other,
    };
    let outcome = result.map_err(|e| e.to_string());
    for done in waiting {
        let _ = done.send(outcome.clone());
    }
}

async fn one_by_one(
    db: &Db,
    transactions: &[TransactionRecord],
    sessions: &[SessionRecord],
) -> Result<(), DbError> {
    let mut first_error = None;
    for t in transactions.chunks(1) {
        if let Err(e) = insert_transactions(db, t).await {
            tracing::error!(error = %e, transaction = %t[0].id, "transaction record refused");
            first_error.get_or_insert(e);
        }
    }
    for s in sessions.chunks(1) {
        if let Err(e) = insert_session_records(db, s).await {
            tracing::error!(error = %e, session = %s[0].session_key, "session record refused");
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

async fn write_both(
    db: &Db,
    transactions: &[TransactionRecord],
    sessions: &[SessionRecord],
) -> Result<(), DbError> {
    // Transactions are keyed by their request id and inserted with ON CONFLICT DO NOTHING,
    // so retrying a batch that did commit does not record anything twice.
    if !transactions.is_empty() {
        insert_transactions(db, transactions).await?;
    }
    if !sessions.is_empty() {
        insert_session_records(db, sessions).await?;
    }
    Ok(())
}
