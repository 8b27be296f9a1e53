//! The report's SQL: a few GROUP BY queries over `ussd_sessions` and `transactions`, so that
//! what comes back is bounded by the menus' shape and the agencies' actions, not by traffic.
//! Back-office latency percentiles are `percentile_cont` on Postgres; SQLite has no
//! percentile function, so its latencies are streamed in order, one group at a time, and
//! the same interpolation is done in Rust ([`percentile_cont`]).

use crate::db::{on_both, Db, DbError, OpExt, Timestamp};
use crate::ids::AgencyId;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::QueryBuilder;

/// Dialogues that share an agency, service, end reason, last state and states reached.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct DialogueGroup {
    pub agency_id: Option<String>,
    pub service_id: Option<String>,
    pub end_reason: String,
    pub last_state: Option<String>,
    /// JSON array, as stored.
    pub states: Option<String>,
    pub n: i64,
}

/// Calls of one action of one service that ended with one outcome.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct TransactionGroup {
    pub agency_id: String,
    pub service_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub n: i64,
}

/// Agency, service and action: whose calls a latency group holds.
type ActionKey = (String, Option<String>, String);

/// Latency of the answered calls of one action of one service, in milliseconds.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(super) struct LatencyGroup {
    pub agency_id: String,
    pub service_id: Option<String>,
    pub action: String,
    pub n: i64,
    pub p50: f64,
    pub p95: f64,
}

/// Adds `WHERE <time> >= since [AND agency_id = agency]` to a query being built (a macro:
/// the builder's type differs per backend).
macro_rules! push_window {
    ($qb:expr, $time_column:literal, $since:expr, $agency:expr) => {
        $qb.push(concat!(" WHERE ", $time_column, " >= "));
        $qb.push_bind(Timestamp($since));
        if let Some(agency) = $agency {
            $qb.push(" AND agency_id = ");
            $qb.push_bind(agency.as_str());
        }
    };
}

/// Dialogues walked on the phone page's previews are an author's tests, not citizens'.
fn not_previews_dialogues() -> String {
    format!(" AND telco_id <> '{}'", crate::phone::PREVIEW_TELCO)
}

/// Calls made from the phone page's previews (their session key starts with its telco).
fn not_previews_calls() -> String {
    format!(
        " AND (session_key IS NULL OR session_key NOT LIKE '{}:%')",
        crate::phone::PREVIEW_TELCO
    )
}

pub(super) async fn dialogue_groups(
    db: &Db,
    since: DateTime<Utc>,
    agency: Option<&AgencyId>,
) -> Result<Vec<DialogueGroup>, DbError> {
    let groups = on_both!(db, pool => {
        let mut qb = QueryBuilder::new(
            "SELECT agency_id, service_id, end_reason, last_state, states, COUNT(*) AS n \
             FROM ussd_sessions",
        );
        push_window!(qb, "started_at", since, agency);
        qb.push(not_previews_dialogues());
        qb.push(" GROUP BY agency_id, service_id, end_reason, last_state, states");
        qb.build_query_as().fetch_all(pool).await
    })
    .op("report dialogues")?;
    Ok(groups)
}

pub(super) async fn transaction_groups(
    db: &Db,
    since: DateTime<Utc>,
    agency: Option<&AgencyId>,
) -> Result<Vec<TransactionGroup>, DbError> {
    let groups = on_both!(db, pool => {
        let mut qb = QueryBuilder::new(
            "SELECT agency_id, service_id, action, outcome, COUNT(*) AS n FROM transactions",
        );
        push_window!(qb, "created_at", since, agency);
        qb.push(not_previews_calls());
        qb.push(" GROUP BY agency_id, service_id, action, outcome");
        qb.build_query_as().fetch_all(pool).await
    })
    .op("report transactions")?;
    Ok(groups)
}

/// Calls made and settled, failures included (an unreachable back office costs its citizens
/// time too): not those still pending, nor those never sent (`attempts = 0`).
const ANSWERED: &str = " AND outcome <> 'pending' AND attempts > 0";

pub(super) async fn latency_groups(
    db: &Db,
    since: DateTime<Utc>,
    agency: Option<&AgencyId>,
) -> Result<Vec<LatencyGroup>, DbError> {
    const OP: &str = "report latency";
    match db {
        Db::Postgres(pool) => {
            let mut qb = QueryBuilder::new(
                "SELECT agency_id, service_id, action, COUNT(*) AS n, \
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50, \
                 percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95 \
                 FROM transactions",
            );
            push_window!(qb, "created_at", since, agency);
            qb.push(not_previews_calls());
            qb.push(ANSWERED);
            qb.push(" GROUP BY agency_id, service_id, action");
            qb.build_query_as().fetch_all(pool).await.op(OP)
        }
        Db::Sqlite(pool) => {
            let mut qb = QueryBuilder::new(
                "SELECT agency_id, service_id, action, latency_ms FROM transactions",
            );
            push_window!(qb, "created_at", since, agency);
            qb.push(not_previews_calls());
            qb.push(ANSWERED);
            qb.push(" ORDER BY agency_id, service_id, action, latency_ms");
            let mut rows = qb
                .build_query_as::<(String, Option<String>, String, i64)>()
                .fetch(pool);
            let mut groups = Vec::new();
            let mut current: Option<(ActionKey, Vec<i64>)> = None;
            while let Some((agency_id, service_id, action, latency)) =
                rows.try_next().await.op(OP)?
            {
                let key = (agency_id, service_id, action);
                match &mut current {
                    Some((k, latencies)) if *k == key => latencies.push(latency),
                    _ => {
                        groups.extend(current.take().map(close_group));
                        current = Some((key, vec![latency]));
                    }
                }
            }
            groups.extend(current.map(close_group));
            Ok(groups)
        }
    }
}

fn close_group(((agency_id, service_id, action), sorted): (ActionKey, Vec<i64>)) -> LatencyGroup {
    LatencyGroup {
        agency_id,
        service_id,
        action,
        n: sorted.len() as i64,
        p50: percentile_cont(&sorted, 0.5),
        p95: percentile_cont(&sorted, 0.95),
    }
}

/// Postgres' `percentile_cont(p)` of ascending `sorted`: interpolated between the two
/// values around position `p * (n - 1)`.
pub(super) fn percentile_cont(sorted: &[i64], p: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let rank = p.clamp(0.0, 1.0) * last as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (sorted[lo] as f64, sorted[hi] as f64);
    a + (b - a) * (rank - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::percentile_cont;

    #[test]
    fn percentiles_interpolate_like_postgres() {
        assert_eq!(percentile_cont(&[], 0.5), 0.0);
        assert_eq!(percentile_cont(&[7], 0.95), 7.0);
        assert_eq!(percentile_cont(&[10, 20], 0.5), 15.0);
        // SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x) FROM generate_series(1, 10) x
        // gives 9.55.
        let one_to_ten: Vec<i64> = (1..=10).collect();
        assert!((percentile_cont(&one_to_ten, 0.95) - 9.55).abs() < 1e-9);
        assert_eq!(percentile_cont(&one_to_ten, 0.5), 5.5);
    }
}
