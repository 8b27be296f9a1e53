//! The outbox in the durable store: accepted messages, their claims and settlements,
//! delivery reports, history, and the webhooks that follow status changes.

pub mod accept;
pub mod dispatch;
pub mod events;
pub mod read;
pub mod reports;
mod settle_pg;
pub mod webhooks;

use crate::db::DbKind;

/// The statement that claims due rows of `table` (messages, webhooks): `UPDATE ... SET {set}`
/// over the rows matching `due`, oldest `due_ms` first, at most `limit` (a placeholder),
/// returning `columns`. Postgres takes them `FOR UPDATE SKIP LOCKED`, so that claimers on
/// other nodes take other rows instead of waiting; SQLite has one writer, so the statement
/// alone is atomic.
pub(crate) fn claim_statement(
    kind: DbKind,
    table: &str,
    set: &str,
    due: &str,
    limit: &str,
    columns: &[&str],
) -> String {
    match kind {
        DbKind::Postgres => {
            // The subquery has an `id` too: qualify what is returned.
            let returning: Vec<String> = columns.iter().map(|c| format!("t.{c}")).collect();
            format!(
                "UPDATE {table} t SET {set}
                 FROM (SELECT id FROM {table} WHERE {due}
                       ORDER BY due_ms LIMIT {limit} FOR UPDATE SKIP LOCKED) due
                 WHERE t.id = due.id RETURNING {}",
                returning.join(", ")
            )
        }
        DbKind::Sqlite => format!(
            "UPDATE {table} SET {set}
             WHERE id IN (SELECT id FROM {table} WHERE {due} ORDER BY due_ms LIMIT {limit})
             RETURNING {}",
            columns.join(", ")
        ),
    }
}
