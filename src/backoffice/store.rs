//! The transaction log: one row per back-office call made for a citizen, keyed by its
//! request id. A call is written as an intent (`pending`) before it is made; its outcome
//! updates the same row, whichever of the two writes lands first.

use crate::db::{on_both, rows_per_statement, Db, DbError, Money, OpExt, Timestamp};
use crate::ids::{AgencyId, ServiceId, TransactionId};
use crate::language::Language;
use crate::msisdn::Msisdn;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// How a back-office call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionOutcome {
    /// Committed before the call; no answer recorded yet.
    Pending,
    Ok,
    NotFound,
    Rejected,
    Failed,
    Timeout,
}

impl TransactionOutcome {
    pub const ALL: [TransactionOutcome; 6] = [
        TransactionOutcome::Pending,
        TransactionOutcome::Ok,
        TransactionOutcome::NotFound,
        TransactionOutcome::Rejected,
        TransactionOutcome::Failed,
        TransactionOutcome::Timeout,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TransactionOutcome::Pending => "pending",
            TransactionOutcome::Ok => "ok",
            TransactionOutcome::NotFound => "not_found",
            TransactionOutcome::Rejected => "rejected",
            TransactionOutcome::Failed => "failed",
            TransactionOutcome::Timeout => "timeout",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == raw)
    }
}

/// One back-office call as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRecord {
    /// The request id sent to the agency (`tx_...`); a repeated id is not stored twice.
    pub id: TransactionId,
    pub agency: AgencyId,
    pub service: Option<ServiceId>,
    pub action: String,
    pub session_key: Option<String>,
    /// The full number, so that a late result can still be sent by SMS.
    pub msisdn: Msisdn,
    pub outcome: TransactionOutcome,
    pub latency_ms: i64,
    pub attempts: i32,
    /// Stored to two decimal places, rounded half away from zero.
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    /// Control number, booking reference, case id...
    pub reference: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the answer was recorded; `None` while pending.
    pub completed_at: Option<DateTime<Utc>>,
    /// What asking again needs: the citizen's language and the action's params.
    pub language: Option<Language>,
    pub params: Option<BTreeMap<String, String>>,
    /// The answer came after the citizen had been answered: they did not see it on screen.
    pub late: bool,
    /// When a pending row is next due for the reconciler.
    pub reconcile_at: Option<DateTime<Utc>>,
}

pub(super) const COLUMNS: &str =
    "id, agency_id, service_id, action, session_key, msisdn, outcome, \
                       latency_ms, attempts, amount, currency, reference, error, created_at, \
                       completed_at, language, params, late, reconcile_at";
const COLUMN_COUNT: usize = 19;

/// An outcome replaces what is stored only while the row is pending, or to turn a failure
/// into a real answer (the same request asked again); a settled answer is never changed.
pub(super) const REPLACE_OUTCOME: &str =
    " ON CONFLICT (id) DO UPDATE SET outcome = excluded.outcome, \
    latency_ms = excluded.latency_ms, attempts = excluded.attempts, amount = excluded.amount, \
    currency = excluded.currency, reference = excluded.reference, error = excluded.error, \
    completed_at = excluded.completed_at, late = excluded.late, \
    reconcile_at = excluded.reconcile_at \
    WHERE transactions.outcome = 'pending' \
       OR (transactions.outcome IN ('failed', 'timeout') \
           AND excluded.outcome NOT IN ('pending', 'failed', 'timeout'))";

#[derive(sqlx::FromRow)]
pub(super) struct TransactionRow {
    id: String,
    agency_id: String,
    service_id: Option<String>,
    action: String,
    session_key: Option<String>,
    msisdn: String,
    outcome: String,
    latency_ms: i64,
    attempts: i32,
    amount: Option<Money>,
    currency: Option<String>,
    reference: Option<String>,
    error: Option<String>,
    created_at: Timestamp,
    completed_at: Option<Timestamp>,
    language: Option<String>,
    params: Option<String>,
    late: bool,
    reconcile_at: Option<Timestamp>,
}

/// Binds one record's columns, in `COLUMNS` order, to a multi-row VALUES list.
macro_rules! bind_record {
    ($row:expr, $r:expr) => {
        $row.push_bind($r.id.as_str())
            .push_bind($r.agency.as_str())
            .push_bind($r.service.as_ref().map(|s| s.as_str()))
            .push_bind($r.action.as_str())
            .push_bind($r.session_key.as_deref())
            .push_bind($r.msisdn.as_str())
            .push_bind($r.outcome.as_str())
            .push_bind($r.latency_ms)
            .push_bind($r.attempts)
            .push_bind($r.amount.map(Money))
            .push_bind($r.currency.as_deref())
            .push_bind($r.reference.as_deref())
            .push_bind($r.error.as_deref())
            .push_bind(Timestamp($r.created_at))
            .push_bind($r.completed_at.map(Timestamp))
            .push_bind($r.language.as_ref().map(|l| l.code()))
            .push_bind(
                $r.params
                    .as_ref()
                    .map(|p| serde_json::to_string(p).expect("a map of strings serialises")),
            )
            .push_bind($r.late)
            .push_bind($r.reconcile_at.map(Timestamp))
    };
}
pub(super) use bind_record;

/// Records a call's outcome; returns false (and changes nothing) when the id already holds
/// a settled answer, so that a retried write cannot log one call twice.
pub async fn insert_transaction(db: &Db, record: &TransactionRecord) -> Result<bool, DbError> {
    Ok(write_outcomes(db, std::slice::from_ref(record)).await? == 1)
}

/// Records the outcomes of many calls with one multi-row statement per ~1,700 rows: new ids
/// are inserted, pending rows (and failures, by a real answer) are updated, settled answers
/// stay. Each id at most once per call. Returns how many rows were written.
pub async fn write_outcomes(db: &Db, records: &[TransactionRecord]) -> Result<u64, DbError> {
    write(db, records, REPLACE_OUTCOME, "write_outcomes").await
}

/// Records intents: a `pending` row per call about to be made. An id already stored (its
/// outcome landed first, or a replay of the same step) is left as it is.
pub async fn write_intents(db: &Db, records: &[TransactionRecord]) -> Result<u64, DbError> {
    write(db, records, " ON CONFLICT (id) DO NOTHING", "write_intents").await
}

async fn write(
    db: &Db,
    records: &[TransactionRecord],
    on_conflict: &str,
    op: &'static str,
) -> Result<u64, DbError> {
    let mut written = 0;
    for chunk in records.chunks(rows_per_statement(COLUMN_COUNT)) {
        written += on_both!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO transactions ({COLUMNS}) "));
            qb.push_values(chunk, |mut row, r| {
                bind_record!(row, r);
            });
            qb.push(on_conflict);
            qb.build().execute(pool).await.map(|r| r.rows_affected())
        })
        .op(op)?;
    }
    Ok(written)
}

pub async fn get_transaction(
    db: &Db,
    id: &TransactionId,
) -> Result<Option<TransactionRecord>, DbError> {
    const OP: &str = "get_transaction";
    let sql = format!("SELECT {COLUMNS} FROM transactions WHERE id = $1");
    let row: Option<TransactionRow> = on_both!(db, pool => {
        sqlx::query_as(&sql).bind(id.as_str()).fetch_optional(pool).await
    })
    .op(OP)?;
    row.map(|r| r.into_record(OP)).transpose()
}

/// The calls made during one USSD dialogue, oldest first.
pub async fn transactions_for_session(
    db: &Db,
    session_key: &str,
) -> Result<Vec<TransactionRecord>, DbError> {
    const OP: &str = "transactions_for_session";
    let sql = format!(
        "SELECT {COLUMNS} FROM transactions WHERE session_key = $1 ORDER BY created_at, id"
    );
    let rows: Vec<TransactionRow> = on_both!(db, pool => {
        sqlx::query_as(&sql).bind(session_key).fetch_all(pool).await
    })
    .op(OP)?;
    rows.into_iter().map(|r| r.into_record(OP)).collect()
}

/// How many calls ended each way, e.g. `[("failed", 3), ("ok", 120)]`, ordered by outcome.
pub async fn count_transactions_by_outcome(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    on_both!(db, pool => {
        sqlx::query_as(
            "SELECT outcome, COUNT(*) FROM transactions GROUP BY outcome ORDER BY outcome",
        )
        .fetch_all(pool)
        .await
    })
    .op("count_transactions_by_outcome")
}

impl TransactionRow {
    pub(super) fn into_record(self, op: &'static str) -> Result<TransactionRecord, DbError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            DbError::corrupt(op, format!("transaction {}: {what}: {e}", self.id))
        };
        Ok(TransactionRecord {
            agency: AgencyId::parse(&self.agency_id).map_err(|e| bad("agency", &e))?,
            service: match &self.service_id {
                Some(s) => Some(ServiceId::parse(s).map_err(|e| bad("service", &e))?),
                None => None,
            },
            msisdn: Msisdn::parse(&self.msisdn, "").map_err(|e| bad("msisdn", &e))?,
            outcome: TransactionOutcome::parse(&self.outcome)
                .ok_or_else(|| bad("outcome", &self.outcome))?,
            action: self.action,
            session_key: self.session_key,
            latency_ms: self.latency_ms,
            attempts: self.attempts,
            amount: self.amount.map(|m| m.0),
            currency: self.currency,
            reference: self.reference,
            error: self.error,
            created_at: self.created_at.0,
            completed_at: self.completed_at.map(|t| t.0),
            language: match &self.language {
                Some(l) => Some(Language::parse(l).map_err(|e| bad("language", &e))?),
                None => None,
            },
            params: match &self.params {
                Some(p) => Some(serde_json::from_str(p).map_err(|e| bad("params", &e))?),
                None => None,
            },
            late: self.late,
            reconcile_at: self.reconcile_at.map(|t| t.0),
            id: TransactionId::from_stored(self.id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_their_names() {
        for o in TransactionOutcome::ALL {
            assert_eq!(TransactionOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(TransactionOutcome::parse("OK"), None);
    }
}
