//! Templates and notifications in the durable store. A notification's row, its message and
//! its request's `Idempotency-Key` are written in one transaction; the row's key (agency,
//! reference) makes a repeated reference find the first answer, whichever node it reaches.

use super::templates::TemplateSpec;
use crate::db::{on_both, BeginWrite, Db, DbError, OpExt, Timestamp};
use crate::ids::AgencyId;
use crate::language::Language;
use crate::sms::store::accept::{claim_idempotency_key, insert_messages, NewMessage, Stored};

fn definition_of(spec: &TemplateSpec) -> Result<String, DbError> {
    serde_json::to_string(spec).map_err(|e| DbError::invalid("save_template", e.to_string()))
}

fn parse(definition: &str) -> Result<TemplateSpec, DbError> {
    serde_json::from_str(definition).map_err(|e| DbError::corrupt("read_template", e))
}

/// The templates of `agency`, by id.
pub async fn agency_templates(db: &Db, agency: &AgencyId) -> Result<Vec<TemplateSpec>, DbError> {
    let rows: Vec<String> = on_both!(db, pool => {
        sqlx::query_scalar(
            "SELECT definition FROM notification_templates WHERE agency_id = $1 ORDER BY id",
        )
        .bind(agency.as_str())
        .fetch_all(pool)
        .await
    })
    .op("list_templates")?;
    rows.iter().map(|d| parse(d)).collect()
}

/// The template `id` of `agency`; another agency's is not found.
pub async fn get_template(
    db: &Db,
    agency: &AgencyId,
    id: &str,
) -> Result<Option<TemplateSpec>, DbError> {
    let row: Option<String> = on_both!(db, pool => {
        sqlx::query_scalar(
            "SELECT definition FROM notification_templates WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency.as_str())
        .bind(id)
        .fetch_optional(pool)
        .await
    })
    .op("get_template")?;
    row.as_deref().map(parse).transpose()
}

/// Stores a new template; false when the agency has one of that id already.
pub async fn create_template(
    db: &Db,
    agency: &AgencyId,
    spec: &TemplateSpec,
) -> Result<bool, DbError> {
    let definition = definition_of(spec)?;
    let now = Timestamp::now();
    let created = on_both!(db, pool => {
        sqlx::query(
            "INSERT INTO notification_templates (agency_id, id, definition, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (agency_id, id) DO NOTHING",
        )
        .bind(agency.as_str())
        .bind(&spec.id)
        .bind(&definition)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .op("create_template")?;
    Ok(created > 0)
}

/// Replaces the agency's template of `spec`'s id; false when it has none.
pub async fn replace_template(
    db: &Db,
    agency: &AgencyId,
    spec: &TemplateSpec,
) -> Result<bool, DbError> {
    let definition = definition_of(spec)?;
    let updated = on_both!(db, pool => {
        sqlx::query(
            "UPDATE notification_templates SET definition = $3, updated_at = $4
             WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency.as_str())
        .bind(&spec.id)
        .bind(&definition)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .op("replace_template")?;
    Ok(updated > 0)
}

/// Deletes the agency's template `id`; whether there was one. Notifications already sent
/// from it keep their rows.
pub async fn delete_template(db: &Db, agency: &AgencyId, id: &str) -> Result<bool, DbError> {
    let deleted = on_both!(db, pool => {
        sqlx::query("DELETE FROM notification_templates WHERE agency_id = $1 AND id = $2")
            .bind(agency.as_str())
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
    .op("delete_template")?;
    Ok(deleted > 0)
}

/// The first notification of `agency` with `reference`: its request's hash and its answer.
pub async fn earlier_notification(
    db: &Db,
    agency: &AgencyId,
    reference: &str,
) -> Result<Option<(String, String)>, DbError> {
    on_both!(db, pool => {
        sqlx::query_as(
            "SELECT request_sha256, response FROM notifications
             WHERE agency_id = $1 AND reference = $2",
        )
        .bind(agency.as_str())
        .bind(reference)
        .fetch_optional(pool)
        .await
    })
    .op("earlier_notification")
}

/// One notification as accepted: the message it queues and what to keep of the request.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub agency: AgencyId,
    pub reference: Option<String>,
    pub template: String,
    pub language: Language,
    pub message: NewMessage,
    pub request_sha256: String,
    pub response: String,
    /// The request's `Idempotency-Key`.
    pub key: Option<String>,
}

/// What became of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Its message is queued.
    Accepted,
    /// Its `Idempotency-Key` was used before: nothing was stored.
    RepeatedKey {
        request_sha256: String,
        response: String,
    },
    /// Its reference was used before: nothing was stored.
    RepeatedReference {
        request_sha256: String,
        response: String,
    },
}

/// Stores the notification's row, its message and its key in one transaction, unless its
/// key or its reference was used before.
pub async fn record_notification(
    db: &Db,
    notification: &NewNotification,
    now_ms: i64,
) -> Result<Recorded, DbError> {
    let n = notification;
    let now = Timestamp::now();
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            if let Some(key) = &n.key {
                if let Some(Stored::Repeat { request_sha256, response }) =
                    claim_idempotency_key!(tx, n.agency.as_str(), key, &n.request_sha256, &n.response, now)
                {
                    return Ok(Recorded::RepeatedKey { request_sha256, response });
                }
            }
            // A concurrent notification with the same reference waits here for the first.
            let claimed = sqlx::query(
                "INSERT INTO notifications
                 (message_id, agency_id, reference, template_id, language, request_sha256, response, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (agency_id, reference) DO NOTHING",
            )
            .bind(n.message.id.as_str())
            .bind(n.agency.as_str())
            .bind(&n.reference)
            .bind(&n.template)
            .bind(n.language.code())
            .bind(&n.request_sha256)
            .bind(&n.response)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                let (request_sha256, response): (String, String) = sqlx::query_as(
                    "SELECT request_sha256, response FROM notifications
                     WHERE agency_id = $1 AND reference = $2",
                )
                .bind(n.agency.as_str())
                .bind(&n.reference)
                .fetch_one(&mut *tx)
                .await?;
                return Ok(Recorded::RepeatedReference { request_sha256, response });
            }
            insert_messages!(tx, n.agency.as_str(), std::slice::from_ref(&n.message), None, now, now_ms)?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Recorded::Accepted)
        }
        .await
    })
    .op("record_notification")
}
