//! Agency records and API keys in the durable store.

use super::Agency;
use crate::db::{on_both, Db, DbError, OpExt, Timestamp};
use crate::ids::AgencyId;

const SELECT: &str =
    "SELECT id, name, backoffice_url, signing_secret, actions, callback_url, sender_ids, \
     webhook_every_status FROM agencies";

#[derive(sqlx::FromRow)]
struct AgencyRow {
    id: String,
    name: String,
    backoffice_url: String,
    signing_secret: String,
    actions: String,
    callback_url: Option<String>,
    sender_ids: String,
    webhook_every_status: bool,
}

/// Creates the agency or replaces its settings (keeping its `created_at`).
pub async fn upsert_agency(db: &Db, agency: &Agency) -> Result<(), DbError> {
    const OP: &str = "upsert_agency";
    // Actions are stored comma-separated, so a name with a comma would not come back.
    if let Some(bad) = agency
        .actions
        .iter()
        .find(|a| a.is_empty() || a.contains(','))
    {
        return Err(DbError::invalid(
            OP,
            format!("action name {bad:?} is empty or has a comma"),
        ));
    }
    if let Some(bad) = agency
        .sender_ids
        .iter()
        .find(|s| s.is_empty() || s.contains(','))
    {
        return Err(DbError::invalid(
            OP,
            format!("sender id {bad:?} is empty or has a comma"),
        ));
    }
    let actions = agency.actions.join(",");
    on_both!(db, pool => {
        sqlx::query(
            "INSERT INTO agencies (id, name, backoffice_url, signing_secret, actions,
                                   callback_url, sender_ids, webhook_every_status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $8, $9, $7)
             ON CONFLICT (id) DO UPDATE SET
                 name = excluded.name,
                 backoffice_url = excluded.backoffice_url,
                 signing_secret = excluded.signing_secret,
                 actions = excluded.actions,
                 callback_url = excluded.callback_url,
                 sender_ids = excluded.sender_ids,
                 webhook_every_status = excluded.webhook_every_status",
        )
        .bind(agency.id.as_str())
        .bind(&agency.name)
        .bind(&agency.backoffice_url)
        .bind(&agency.signing_secret)
        .bind(&actions)
        .bind(agency.callback_url.as_deref())
        .bind(Timestamp::now())
        .bind(agency.sender_ids.join(","))
        .bind(agency.webhook_every_status)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .op(OP)?;
    crate::db::changes::announce(db, "agencies").await
}

pub async fn get_agency(db: &Db, id: &AgencyId) -> Result<Option<Agency>, DbError> {
    const OP: &str = "get_agency";
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<AgencyRow> = on_both!(db, pool => {
        sqlx::query_as(&sql).bind(id.as_str()).fetch_optional(pool).await
    })
    .op(OP)?;
    row.map(|r| r.into_agency(OP)).transpose()
}

/// Every agency, ordered by id.
pub async fn list_agencies(db: &Db) -> Result<Vec<Agency>, DbError> {
    const OP: &str = "list_agencies";
    let sql = format!("{SELECT} ORDER BY id");
    let rows: Vec<AgencyRow> =
        on_both!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await).op(OP)?;
    rows.into_iter().map(|r| r.into_agency(OP)).collect()
}

/// Stores a new API key by its prefix (its first characters, used to find the row) and the SHA-256 of the whole key; returns the key's row id. Prefixes are unique:
/// on [`DbError::is_unique_violation`] the caller generates another key.
pub async fn insert_api_key(
    db: &Db,
    agency: &AgencyId,
    key_prefix: &str,
    key_sha256: &str,
) -> Result<i64, DbError> {
    on_both!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO api_keys (agency_id, key_prefix, key_sha256, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(agency.as_str())
        .bind(key_prefix)
        .bind(key_sha256)
        .bind(Timestamp::now())
        .fetch_one(pool)
        .await
    })
    .op("insert_api_key")
}

/// The agency and key hash for a prefix, if that key exists and is not revoked. The caller
/// compares the hash in constant time.
pub async fn find_api_key(
    db: &Db,
    key_prefix: &str,
) -> Result<Option<(AgencyId, String)>, DbError> {
    const OP: &str = "find_api_key";
    let row: Option<(String, String)> = on_both!(db, pool => {
        sqlx::query_as(
            "SELECT agency_id, key_sha256 FROM api_keys
             WHERE key_prefix = $1 AND revoked_at IS NULL",
        )
        .bind(key_prefix)
        .fetch_optional(pool)
        .await
    })
    .op(OP)?;
    row.map(|(agency, hash)| {
        let agency = AgencyId::parse(&agency).map_err(|e| DbError::corrupt(OP, e))?;
        Ok((agency, hash))
    })
    .transpose()
}

/// Revokes the key with this prefix; false when there was no live key to revoke.
pub async fn revoke_api_key(db: &Db, key_prefix: &str) -> Result<bool, DbError> {
    let done = on_both!(db, pool => {
        sqlx::query(
            "UPDATE api_keys SET revoked_at = $2 WHERE key_prefix = $1 AND revoked_at IS NULL",
        )
        .bind(key_prefix)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .op("revoke_api_key")?;
    Ok(done > 0)
}

/// One API key as `mgov agencies key list` shows it (never the key itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    #[sqlx(rename = "key_prefix")]
    pub prefix: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// The agency's keys, oldest first.
pub async fn list_api_keys(db: &Db, agency: &AgencyId) -> Result<Vec<ApiKeyRow>, DbError> {
    on_both!(db, pool => {
        sqlx::query_as(
            "SELECT key_prefix, created_at, revoked_at FROM api_keys WHERE agency_id = $1 ORDER BY id",
        )
        .bind(agency.as_str())
        .fetch_all(pool)
        .await
    })
    .op("list_api_keys")
}

impl AgencyRow {
    fn into_agency(self, op: &'static str) -> Result<Agency, DbError> {
        Ok(Agency {
            id: AgencyId::parse(&self.id).map_err(|e| DbError::corrupt(op, e))?,
            name: self.name,
            backoffice_url: self.backoffice_url,
            signing_secret: self.signing_secret,
            actions: self
                .actions
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect(),
            callback_url: self.callback_url,
            sender_ids: self
                .sender_ids
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            webhook_every_status: self.webhook_every_status,
        })
    }
}
