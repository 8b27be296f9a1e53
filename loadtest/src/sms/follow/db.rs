//! Following dispatch in the gateway's PostgreSQL database: cheap progress from the new
//! `message_events` rows of each poll, then, once submitting is over, the accepted ids in a
//! temporary table for exact counts, event times, acceptance-to-report latencies and the
//! exactly-once audit. One connection, because the temporary table lives in its session.

use super::Seen;
use crate::sms::figures::{Audit, Dispatch, Percentiles, Span};
use sqlx::{Connection, PgConnection, Row};
use std::collections::BTreeMap;

/// Final statuses, as SQL.
const FINAL: &str = "('delivered', 'failed', 'expired')";
/// Ids are loaded this many at a time.
const CHUNK: usize = 50_000;

pub struct DbWatch {
    conn: PgConnection,
    /// Ids of messages accepted at or after the run began sort at or after this one.
    lower_id: String,
    /// The newest event read so far.
    last_event: i64,
    seen: Seen,
}

impl DbWatch {
    pub async fn connect(url: &str, lower_id: String) -> anyhow::Result<Self> {
        let mut conn = PgConnection::connect(url).await?;
        let last_event: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM message_events")
            .fetch_one(&mut conn)
            .await?;
        Ok(DbWatch {
            conn,
            lower_id,
            last_event,
            seen: Seen::default(),
        })
    }

    /// Adds the events committed since the last poll. An event committed out of id order
    /// can be missed here; the exact checks below never rely on this.
    pub async fn progress(&mut self) -> anyhow::Result<Seen> {
        let rows = sqlx::query(
            "SELECT status, count(*) AS n, max(id) AS last FROM message_events
             WHERE id > $1 AND message_id >= $2 GROUP BY status",
        )
        .bind(self.last_event)
        .bind(&self.lower_id)
        .fetch_all(&mut self.conn)
        .await?;
        for row in rows {
            let (status, n, last): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
            self.last_event = self.last_event.max(last);
            let n = n as u64;
            match status.as_str() {
                "sent" => self.seen.taken += n,
                "delivered" => {
                    self.seen.delivered += n;
                    self.seen.finals += n;
                }
                "failed" | "expired" => self.seen.finals += n,
                _ => {}
            }
        }
        Ok(self.seen)
    }

    /// Puts the accepted ids in the temporary table `load_run`.
    pub async fn load(&mut self, ids: &[String]) -> anyhow::Result<()> {
        sqlx::query("CREATE TEMP TABLE load_run (id TEXT PRIMARY KEY)")
            .execute(&mut self.conn)
            .await?;
        for chunk in ids.chunks(CHUNK) {
            sqlx::query(
                "INSERT INTO load_run (id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
            )
            .bind(chunk)
            .execute(&mut self.conn)
            .await?;
        }
        sqlx::query("ANALYZE load_run")
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// Accepted messages not yet in a final status, the missing ones included.
    pub async fn unsettled(&mut self) -> anyhow::Result<u64> {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM load_run r LEFT JOIN messages m ON m.id = r.id
             WHERE m.id IS NULL OR m.status NOT IN {FINAL}"
        ))
        .fetch_one(&mut self.conn)
        .await?;
        Ok(n as u64)
    }

    /// The figures and the audit, with times relative to `start_epoch` (Unix seconds of the
    /// run's first request).
    pub async fn figures(&mut self, start_epoch: f64) -> anyhow::Result<(Dispatch, Audit)> {
        let statuses: Vec<(String, i64)> = sqlx::query_as(
            "SELECT coalesce(m.status, 'missing'), count(*) FROM load_run r
             LEFT JOIN messages m ON m.id = r.id GROUP BY 1",
        )
        .fetch_all(&mut self.conn)
        .await?;
        let statuses: BTreeMap<String, u64> =
            statuses.into_iter().map(|(s, n)| (s, n as u64)).collect();
        let span = |row: (i64, Option<f64>, Option<f64>)| Span {
            count: row.0 as u64,
            first_s: row.1.map_or(0.0, |t| t - start_epoch),
            last_s: row.2.map_or(0.0, |t| t - start_epoch),
        };
        let span_sql = |status: &str| {
            format!(
                "SELECT count(DISTINCT e.message_id), extract(epoch FROM min(e.at))::float8,
                        extract(epoch FROM max(e.at))::float8
                 FROM load_run r JOIN message_events e ON e.message_id = r.id
                 WHERE e.status = '{status}'"
            )
        };
        let sent = span(
            sqlx::query_as(&span_sql("sent"))
                .fetch_one(&mut self.conn)
                .await?,
        );
        let delivered = span(
            sqlx::query_as(&span_sql("delivered"))
                .fetch_one(&mut self.conn)
                .await?,
        );
        let latency = self.latency().await?;
        let audit = self.audit(&statuses).await?;
        let dispatch = Dispatch {
            source: "database".into(),
            statuses,
            sent,
            delivered,
            latency,
            ..Dispatch::default()
        };
        Ok((dispatch, audit))
    }

    /// From `messages.created_at` (acceptance) to the `delivered` event.
    async fn latency(&mut self) -> anyhow::Result<Percentiles> {
        let row = sqlx::query(
            "SELECT count(*),
                    percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY d.ms),
                    max(d.ms)
             FROM (SELECT extract(epoch FROM e.at - m.created_at)::float8 * 1000 AS ms
                   FROM load_run r JOIN messages m ON m.id = r.id
                   JOIN message_events e ON e.message_id = m.id AND e.status = 'delivered') d",
        )
        .fetch_one(&mut self.conn)
        .await?;
        let count: i64 = row.get(0);
        let quantiles: Option<Vec<f64>> = row.get(1);
        let q = quantiles.unwrap_or_default();
        let at = |i: usize| q.get(i).copied().unwrap_or(0.0);
        Ok(Percentiles {
            count: count as u64,
            p50: at(0),
            p90: at(1),
            p99: at(2),
            max: row.get::<Option<f64>, _>(2).unwrap_or(0.0),
        })
    }

    async fn audit(&mut self, statuses: &BTreeMap<String, u64>) -> anyhow::Result<Audit> {
        let count = |s: &str| statuses.get(s).copied().unwrap_or(0);
        let row = sqlx::query(&format!(
            "WITH f AS (
               SELECT r.id, m.status, count(e.id) AS finals, max(e.status) AS final_status
               FROM load_run r JOIN messages m ON m.id = r.id
               LEFT JOIN message_events e ON e.message_id = r.id AND e.status IN {FINAL}
               GROUP BY r.id, m.status)
             SELECT count(*) FILTER (WHERE finals = 0 AND status IN {FINAL}),
                    count(*) FILTER (WHERE finals > 1),
                    count(*) FILTER (WHERE finals = 1 AND status <> final_status)
             FROM f"
        ))
        .fetch_one(&mut self.conn)
        .await?;
        let unanswered: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM messages m WHERE m.id >= $1
             AND NOT EXISTS (SELECT 1 FROM load_run r WHERE r.id = m.id)",
        )
        .bind(&self.lower_id)
        .fetch_one(&mut self.conn)
        .await?;
        let get = |i: usize| Some(row.get::<i64, _>(i) as u64);
        Ok(Audit {
            accepted: statuses.values().sum(),
            missing: count("missing"),
            non_final: count("queued") + count("sending") + count("sent"),
            no_final_event: get(0),
            several_final_events: get(1),
            status_disagrees: get(2),
            stored_unanswered: Some(unanswered as u64),
        })
    }
}
