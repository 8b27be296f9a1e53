//! Settling a dispatcher's batch on Postgres in three statements (the messages, their
//! history, their webhooks), each over arrays of the whole batch.

use super::dispatch::SettleRow;
use super::events::{
    webhook_payload, StatusChange, WebhookRoutes, CHANGE_COLUMNS, WEBHOOK_GIVE_UP_MS,
};
use crate::db::Timestamp;
use std::collections::HashMap;

pub(super) async fn settle(
    pool: &sqlx::PgPool,
    rows: &[SettleRow<'_>],
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<Vec<StatusChange>, sqlx::Error> {
    let now = Timestamp::now();
    let returning: Vec<String> = CHANGE_COLUMNS
        .split(", ")
        .map(|c| format!("m.{c}"))
        .collect();
    let sql = format!(
        "UPDATE messages m SET status = s.status, telco_id = COALESCE(s.telco, m.telco_id),
                telco_message_id = COALESCE(s.telco_message_id, m.telco_message_id),
                due_ms = COALESCE(s.due_ms, m.due_ms), last_error = COALESCE(s.error, m.last_error),
                updated_at = $8
         FROM UNNEST($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[], $6::int8[], $7::text[])
              AS s(id, attempt, status, telco, telco_message_id, due_ms, error)
         WHERE m.id = s.id AND m.attempts = s.attempt AND m.status = 'sending'
         RETURNING {}",
        returning.join(", ")
    );
    let column = |f: &dyn Fn(&SettleRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let mut tx = pool.begin().await?;
    let changes: Vec<StatusChange> = sqlx::query_as(&sql)
        .bind(rows.iter().map(|r| r.id.to_string()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.attempt).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.status.as_str().to_string())
                .collect::<Vec<_>>(),
        )
        .bind(column(&|r| r.telco.map(str::to_string)))
        .bind(column(&|r| r.telco_message_id.map(str::to_string)))
        .bind(rows.iter().map(|r| r.due_ms).collect::<Vec<_>>())
        .bind(column(&|r| r.error.map(str::to_string)))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
    if changes.is_empty() {
        tx.commit().await?;
        return Ok(changes);
    }
    let errors: HashMap<&str, Option<&str>> = rows.iter().map(|r| (r.id, r.error)).collect();
    let detail = |change: &StatusChange| errors.get(change.id.as_str()).copied().flatten();
    sqlx::query(
        "INSERT INTO message_events (message_id, status, detail, at)
         SELECT e.id, e.status, e.detail, $4 FROM UNNEST($1::text[], $2::text[], $3::text[]) AS e(id, status, detail)",
    )
    .bind(changes.iter().map(|c| c.id.clone()).collect::<Vec<_>>())
    .bind(changes.iter().map(|c| c.status.clone()).collect::<Vec<_>>())
    .bind(changes.iter().map(|c| detail(c).map(str::to_string)).collect::<Vec<_>>())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let hooks: Vec<(&StatusChange, String)> = changes
        .iter()
        .filter_map(|c| routes.url_for(c).map(|url| (c, url)))
        .collect();
    if !hooks.is_empty() {
        sqlx::query(
            "INSERT INTO webhooks (agency_id, message_id, url, payload, status, attempts, due_ms,
                                   give_up_ms, created_at)
             SELECT w.agency, w.message, w.url, w.payload, 'pending', 0, $5, $6, $7
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS w(agency, message, url, payload)",
        )
        .bind(hooks.iter().map(|(c, _)| c.agency_id.clone()).collect::<Vec<_>>())
        .bind(hooks.iter().map(|(c, _)| c.id.clone()).collect::<Vec<_>>())
        .bind(hooks.iter().map(|(_, url)| url.clone()).collect::<Vec<_>>())
        .bind(hooks.iter().map(|(c, _)| webhook_payload(c, detail(c), &now.0)).collect::<Vec<_>>())
        .bind(now_ms)
        .bind(now_ms + WEBHOOK_GIVE_UP_MS)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(changes)
}
