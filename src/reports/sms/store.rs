//! The SMS report's SQL: GROUP BY queries over `inbound_messages` and `messages`, so that
//! what comes back is bounded by agencies, keywords and statuses, not by traffic; and the
//! median time to delivery, found by the database (count, then the one or two rows in the
//! middle of the ordered times), never by reading every time into memory.
//!
//! Timestamps compare as stored: `TIMESTAMPTZ` on Postgres, fixed-width RFC 3339 text on
//! SQLite (see [`Timestamp`]), whose order is time order.

use crate::db::{on_both, Db, DbError, OpExt, Timestamp};
use crate::ids::AgencyId;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

/// Which rows a query covers: the period `[from, to)`, and one agency or all.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub agency: Option<&'a AgencyId>,
}

/// Incoming messages of one agency (`None`: reaching no agency's service) that named one
/// keyword and ended with one outcome (`pending` while not yet routed).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct MoGroup {
    pub agency_id: Option<String>,
    pub keyword: Option<String>,
    pub outcome: String,
    pub n: i64,
}

/// One agency's messages now in one status, and their parts.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct MtGroup {
    pub agency_id: String,
    pub status: String,
    pub n: i64,
    pub parts: i64,
}

/// Adds `WHERE <time> >= from AND <time> < to [AND <agency> = agency]` (a macro: the
/// builder's type differs per backend).
macro_rules! push_window {
    ($qb:expr, $time:literal, $agency_column:literal, $window:expr) => {
        $qb.push(concat!(" WHERE ", $time, " >= "));
        $qb.push_bind(Timestamp($window.from));
        $qb.push(concat!(" AND ", $time, " < "));
        $qb.push_bind(Timestamp($window.to));
        if let Some(agency) = $window.agency {
            $qb.push(concat!(" AND ", $agency_column, " = "));
            $qb.push_bind(agency.as_str());
        }
    };
}

/// Incoming messages by the time they were received.
pub(super) async fn mo_groups(db: &Db, window: &Window<'_>) -> Result<Vec<MoGroup>, DbError> {
    let groups = on_both!(db, pool => {
        let mut qb = QueryBuilder::new(
            "SELECT agency_id, keyword, COALESCE(outcome, 'pending') AS outcome, COUNT(*) AS n \
             FROM inbound_messages",
        );
        push_window!(qb, "received_at", "agency_id", window);
        qb.push(" GROUP BY agency_id, keyword, COALESCE(outcome, 'pending')");
        qb.build_query_as().fetch_all(pool).await
    })
    .op("sms report incoming")?;
    Ok(groups)
}

/// Outgoing messages by the time they were accepted, in the status they are in now.
pub(super) async fn mt_groups(db: &Db, window: &Window<'_>) -> Result<Vec<MtGroup>, DbError> {
    let groups = on_both!(db, pool => {
        let mut qb = QueryBuilder::new(
            "SELECT agency_id, status, COUNT(*) AS n, SUM(parts) AS parts FROM messages",
        );
        push_window!(qb, "created_at", "agency_id", window);
        qb.push(" GROUP BY agency_id, status");
        qb.build_query_as().fetch_all(pool).await
    })
    .op("sms report outgoing")?;
    Ok(groups)
}

/// Delivered messages joined to their `delivered` event (a final status is entered once, so
/// there is one such event per message).
const DELIVERED: &str = " FROM messages m JOIN message_events e \
     ON e.message_id = m.id AND e.status = 'delivered'";

/// Milliseconds from acceptance to delivery, each time taken to the millisecond, so that
/// both backends give the same whole number.
const PG_DELIVERY_MS: &str = "CAST(ROUND(EXTRACT(EPOCH FROM e.at) * 1000) \
     - ROUND(EXTRACT(EPOCH FROM m.created_at) * 1000) AS BIGINT)";
const SQLITE_DELIVERY_MS: &str = "CAST(ROUND(julianday(e.at) * 86400000.0) \
     - ROUND(julianday(m.created_at) * 86400000.0) AS INTEGER)";

/// How many delivered messages each agency has in the window.
pub(super) async fn delivered_counts(
    db: &Db,
    window: &Window<'_>,
) -> Result<Vec<(String, i64)>, DbError> {
    let counts = on_both!(db, pool => {
        let mut qb = QueryBuilder::new("SELECT m.agency_id, COUNT(*)");
        qb.push(DELIVERED);
        push_window!(qb, "m.created_at", "m.agency_id", window);
        qb.push(" AND m.status = 'delivered' GROUP BY m.agency_id");
        qb.build_query_as().fetch_all(pool).await
    })
    .op("sms report delivered")?;
    Ok(counts)
}

/// The median of `agency`'s times to delivery in the window, in milliseconds, given how
/// many there are (from [`delivered_counts`]): the middle one, or the mean of the middle two.
pub(super) async fn median_delivery_ms(
    db: &Db,
    window: &Window<'_>,
    agency: &str,
    delivered: i64,
) -> Result<Option<f64>, DbError> {
    if delivered <= 0 {
        return Ok(None);
    }
    let take = if delivered % 2 == 0 { 2 } else { 1 };
    let offset = (delivered - 1) / 2;
    let window = Window {
        agency: None,
        ..*window
    };
    let expression = match db {
        Db::Postgres(_) => PG_DELIVERY_MS,
        Db::Sqlite(_) => SQLITE_DELIVERY_MS,
    };
    let middle: Vec<i64> = on_both!(db, pool => {
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(expression);
        qb.push(" AS ms");
        qb.push(DELIVERED);
        push_window!(qb, "m.created_at", "m.agency_id", window);
        qb.push(" AND m.status = 'delivered' AND m.agency_id = ");
        qb.push_bind(agency);
        qb.push(" ORDER BY ms LIMIT ");
        qb.push_bind(take);
        qb.push(" OFFSET ");
        qb.push_bind(offset);
        qb.build_query_scalar().fetch_all(pool).await
    })
    .op("sms report median delivery")?;
    if middle.is_empty() {
        // Rows changed between the count and now (the period still being written): no
        // median rather than a wrong one.
        return Ok(None);
    }
    Ok(Some(
        middle.iter().map(|&ms| ms as f64).sum::<f64>() / middle.len() as f64,
    ))
}
