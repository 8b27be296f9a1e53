//! Group commit for the records hops make (back-office intents and outcomes, finished
//! dialogues, language choices), and the promise that none is dropped.
//!
//! A hop hands its record to the journal and may wait until the record is committed. Under
//! load, records that arrive while earlier writes are in flight go out together in one
//! multi-row statement per table (one commit, one WAL flush) instead of one commit each; when
//! the gateway is idle a record is written at once, so batching adds no waiting.
//!
//! A record the journal has accepted is written eventually: a write the database cannot take
//! now (down, busy, locked, timed out) is retried with back-off for as long as it takes, and
//! [`Journal::flush`] lets a stopping gateway wait for the backlog. Only a row the database
//! refuses for what it holds (a constraint) is given up, and logged with its id. Every write
//! is idempotent (keyed rows, `ON CONFLICT`), so retrying a batch that did commit records
//! nothing twice. A `kill -9` loses what is accepted and not yet committed.

use super::{carriers, citizens, Db, DbError};
use crate::backoffice::store::{write_intents, write_outcomes, TransactionRecord};
use crate::language::Language;
use crate::msisdn::Msisdn;
use crate::telemetry::names;
use crate::ussd::store::{insert_session_records, SessionRecord};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};

/// Records written in one batch at most.
const MAX_BATCH: usize = 500;
/// Batches being written at once; more queue up and grow the next batch.
const WRITERS: usize = 4;
const FIRST_RETRY: Duration = Duration::from_millis(50);
const MAX_RETRY: Duration = Duration::from_secs(5);

pub enum Record {
    /// A back-office call about to be made (`pending`).
    Intent(TransactionRecord),
    /// A back-office call's outcome.
    Transaction(TransactionRecord),
    Session(SessionRecord),
    Language {
        msisdn: Msisdn,
        language: Language,
    },
}

struct Entry {
    record: Record,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct Journal {
    entries: mpsc::UnboundedSender<Entry>,
    backlog: Arc<Backlog>,
}

/// Records accepted and not yet written, and a signal when there are none.
#[derive(Default)]
struct Backlog {
    count: AtomicUsize,
    empty: Notify,
}

impl Backlog {
    fn add(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    /// The gauge is set per batch written, not per record accepted: off the hop's path.
    fn done(&self, written: usize) {
        let n = self.count.fetch_sub(written, Ordering::SeqCst) - written;
        metrics::gauge!(names::JOURNAL_BACKLOG).set(n as f64);
        if n == 0 {
            self.empty.notify_waiters();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the journal has stopped")]
    Stopped,
    #[error("the database refused the record: {0}")]
    Refused(String),
}

/// Resolves once the record is committed; dropping it does not stop the write.
pub struct Committed(oneshot::Receiver<Result<(), String>>);

impl std::future::Future for Committed {
    type Output = Result<(), JournalError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|r| match r {
            Ok(written) => written.map_err(JournalError::Refused),
            Err(_) => Err(JournalError::Stopped),
        })
    }
}

impl Journal {
    /// Starts the journal's collector on the current runtime.
    pub fn start(db: Db) -> Self {
        let (entries, receiver) = mpsc::unbounded_channel();
        let backlog = Arc::new(Backlog::default());
        tokio::spawn(collect(db, receiver, backlog.clone()));
        Self { entries, backlog }
    }

    /// Writes `record` and returns once it is committed.
    pub async fn write(&self, record: Record) -> Result<(), JournalError> {
        self.submit(record).await
    }

    /// Accepts `record` for writing; the returned future resolves once it is committed.
    pub fn submit(&self, record: Record) -> Committed {
        let (done, committed) = oneshot::channel();
        self.backlog.add();
        if let Err(refused) = self.entries.send(Entry { record, done }) {
            // The collector is gone (its runtime is shutting down): nothing will write it.
            self.backlog.done(1);
            drop(refused);
        }
        Committed(committed)
    }

    /// Records accepted and not yet committed.
    pub fn backlog(&self) -> usize {
        self.backlog.count.load(Ordering::SeqCst)
    }

    /// Waits until every record accepted so far is committed (or refused), or until
    /// `deadline`; returns how many are still waiting.
    pub async fn flush(&self, deadline: tokio::time::Instant) -> usize {
        loop {
            let empty = self.backlog.empty.notified();
            let left = self.backlog();
            if left == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, empty).await.is_err() {
                return self.backlog();
            }
        }
    }
}

async fn collect(db: Db, mut receiver: mpsc::UnboundedReceiver<Entry>, backlog: Arc<Backlog>) {
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
        let (db, backlog) = (db.clone(), backlog.clone());
        tokio::spawn(async move {
            let written = batch.len();
            write_batch(&db, batch).await;
            backlog.done(written);
            drop(permit);
        });
    }
}

async fn write_batch(db: &Db, batch: Vec<Entry>) {
    let (records, waiting): (Vec<Record>, Vec<_>) =
        batch.into_iter().map(|e| (e.record, e.done)).unzip();
    let outcome = match with_retries(|| write_all(db, &records)).await {
        Ok(()) => records.iter().map(|_| Ok(())).collect(),
        // One refused row must not cost the others theirs: write them one at a time.
        Err(e) if records.len() > 1 => {
            tracing::warn!(error = %e, "a batch of records was refused; writing them one by one");
            let mut each = Vec::with_capacity(records.len());
            for record in &records {
                let one = std::slice::from_ref(record);
                each.push(with_retries(|| write_all(db, one)).await);
            }
            each
        }
        Err(e) => vec![Err(e)],
    };
    for ((record, done), result) in records.iter().zip(waiting).zip(outcome) {
        let result = result.map_err(|e| {
            tracing::error!(error = %e, record = %describe(record), "record refused by the database");
            e.to_string()
        });
        let _ = done.send(result);
    }
}

/// Runs `write` until it succeeds or the database refuses the data itself.
async fn with_retries<F, Fut>(mut write: F) -> Result<(), DbError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), DbError>>,
{
    let mut pause = FIRST_RETRY;
    loop {
        match write().await {
            Err(e) if !e.is_refusal() => {
                metrics::counter!(names::JOURNAL_RETRIES).increment(1);
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "records not written yet; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY);
            }
            other => return other,
        }
    }
}

async fn write_all(db: &Db, records: &[Record]) -> Result<(), DbError> {
    let mut intents = Vec::new();
    let mut outcomes = Vec::new();
    let mut sessions = Vec::new();
    let mut languages = Vec::new();
    for record in records {
        match record {
            Record::Intent(t) => intents.push(t.clone()),
            Record::Transaction(t) => outcomes.push(t.clone()),
            Record::Session(s) => sessions.push(s.clone()),
            Record::Language { msisdn, language } => languages.push((msisdn, *language)),
        }
    }
    // Intents first: an outcome in the same batch then updates its row.
    if !intents.is_empty() {
        write_intents(db, &intents).await?;
    }
    // An upsert may touch a row once per statement: repeats of an id go in later rounds.
    for round in rounds(outcomes, |t| t.id.as_str().to_string()) {
        write_outcomes(db, &round).await?;
    }
    if !sessions.is_empty() {
        insert_session_records(db, &sessions).await?;
        let sightings: Vec<_> = sessions
            .iter()
            .filter_map(|s| Some((s.msisdn.as_ref()?, &s.telco, s.ended_at.timestamp_millis())))
            .collect();
        carriers::remember(db, &sightings).await?;
    }
    for (msisdn, language) in languages {
        citizens::set_language(db, msisdn, language).await?;
    }
    Ok(())
}

/// Splits `items` into rounds in which each key appears once, keeping their order.
fn rounds<T>(items: Vec<T>, key: impl Fn(&T) -> String) -> Vec<Vec<T>> {
    let mut rounds: Vec<(HashSet<String>, Vec<T>)> = Vec::new();
    for item in items {
        let k = key(&item);
        match rounds.iter_mut().find(|(keys, _)| !keys.contains(&k)) {
            Some((keys, round)) => {
                keys.insert(k);
                round.push(item);
            }
            None => rounds.push((HashSet::from([k]), vec![item])),
        }
    }
    rounds.into_iter().map(|(_, round)| round).collect()
}

fn describe(record: &Record) -> String {
    match record {
        Record::Intent(t) => format!("intent {}", t.id),
        Record::Transaction(t) => format!("transaction {}", t.id),
        Record::Session(s) => format!("session {}", s.session_key),
        Record::Language { msisdn, .. } => format!("language of {msisdn}"),
    }
}

#[cfg(test)]
mod tests {
    use super::rounds;

    #[test]
    fn repeated_keys_go_to_later_rounds_in_order() {
        let items = vec![("a", 1), ("b", 2), ("a", 3), ("a", 4), ("c", 5)];
        let got = rounds(items, |(k, _)| k.to_string());
        assert_eq!(
            got,
            vec![
                vec![("a", 1), ("b", 2), ("c", 5)],
                vec![("a", 3)],
                vec![("a", 4)]
            ]
        );
    }
}
