//! Published menu versions in the durable store, so that every node can load a version
//! that another node published.

use crate::db::{on_both, Db, DbError, OpExt, Timestamp};
use crate::ids::{AgencyId, ServiceId};

/// Publishes `source` as `version` of a service. Publishing the same source again is a
/// no-op (returns false); a different source under an existing version is refused, since
/// nodes may already be serving the published one.
pub async fn publish_menu_version(
    db: &Db,
    service: &ServiceId,
    version: &str,
    agency: &AgencyId,
    source: &str,
) -> Result<bool, DbError> {
    const OP: &str = "publish_menu_version";
    let inserted = on_both!(db, pool => {
        sqlx::query(
            "INSERT INTO menu_versions (service_id, version, agency_id, source, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (service_id, version) DO NOTHING",
        )
        .bind(service.as_str())
        .bind(version)
        .bind(agency.as_str())
        .bind(source)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .op(OP)?;
    if inserted == 1 {
        return Ok(true);
    }
    match get_menu_source(db, service, version).await? {
        Some(stored) if stored == source => Ok(false),
        _ => Err(DbError::Conflict {
            op: OP,
            detail: format!("{service} version {version} is already published with other content"),
        }),
    }
}

pub async fn get_menu_source(
    db: &Db,
    service: &ServiceId,
    version: &str,
) -> Result<Option<String>, DbError> {
    on_both!(db, pool => {
        sqlx::query_scalar("SELECT source FROM menu_versions WHERE service_id = $1 AND version = $2")
            .bind(service.as_str())
            .bind(version)
            .fetch_optional(pool)
            .await
    })
    .op("get_menu_source")
}

/// The most recently published version of a service and its source.
pub async fn latest_menu_version(
    db: &Db,
    service: &ServiceId,
) -> Result<Option<(String, String)>, DbError> {
    on_both!(db, pool => {
        sqlx::query_as(
            "SELECT version, source FROM menu_versions WHERE service_id = $1
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(service.as_str())
        .fetch_optional(pool)
        .await
    })
    .op("latest_menu_version")
}

/// One published version, without its source.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublishedVersion {
    pub service_id: String,
    pub version: String,
    pub created_at: Timestamp,
}

/// Every published version of every service, newest first.
pub async fn list_menu_versions(db: &Db) -> Result<Vec<PublishedVersion>, DbError> {
    on_both!(db, pool => {
        sqlx::query_as(
            "SELECT service_id, version, created_at FROM menu_versions
             ORDER BY service_id, created_at DESC",
        )
        .fetch_all(pool)
        .await
    })
    .op("list_menu_versions")
}
