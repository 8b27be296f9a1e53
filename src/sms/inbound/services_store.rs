//! Keyword services in the durable store. Every word that reaches a service (its keyword and
//! aliases) has a row in `sms_keywords`, whose key (shortcode, word) keeps words unique per
//! shortcode across agencies, whichever node writes.

use super::services::SmsService;
use crate::db::{on_both, BeginWrite, Db, DbError, OpExt, Timestamp};
use crate::ids::AgencyId;

/// What a write to an agency's services did.
#[derive(Debug)]
pub enum ServiceWrite {
    Done(Box<SmsService>),
    /// Another service (of any agency) on the shortcode already answers this word.
    Taken(String),
    /// No such service of this agency.
    NotFound,
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: String,
    agency_id: String,
    shortcode: String,
    keyword: String,
    definition: String,
}

impl ServiceRow {
    fn into_service(self) -> Result<SmsService, DbError> {
        const OP: &str = "read_sms_service";
        Ok(SmsService {
            agency: AgencyId::parse(&self.agency_id).map_err(|e| DbError::corrupt(OP, e))?,
            spec: serde_json::from_str(&self.definition).map_err(|e| DbError::corrupt(OP, e))?,
            id: self.id,
            shortcode: self.shortcode,
            keyword: self.keyword,
        })
    }
}

const COLUMNS: &str = "id, agency_id, shortcode, keyword, definition";

/// Every service of every agency (each node's registry).
pub async fn all_services(db: &Db) -> Result<Vec<SmsService>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM sms_services ORDER BY shortcode, keyword");
    let rows: Vec<ServiceRow> = on_both!(db, pool => {
        sqlx::query_as(&sql).fetch_all(pool).await
    })
    .op("list_sms_services")?;
    rows.into_iter().map(ServiceRow::into_service).collect()
}

/// The services of `agency`.
pub async fn agency_services(db: &Db, agency: &AgencyId) -> Result<Vec<SmsService>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sms_services WHERE agency_id = $1 ORDER BY shortcode, keyword"
    );
    let rows: Vec<ServiceRow> = on_both!(db, pool => {
        sqlx::query_as(&sql).bind(agency.as_str()).fetch_all(pool).await
    })
    .op("list_agency_sms_services")?;
    rows.into_iter().map(ServiceRow::into_service).collect()
}

/// Stores `service` (new when `replace` is false; else replacing the agency's service of
/// that id) with its words, in one transaction.
pub async fn save_service(
    db: &Db,
    service: &SmsService,
    replace: bool,
) -> Result<ServiceWrite, DbError> {
    let definition = serde_json::to_string(&service.spec)
        .map_err(|e| DbError::invalid("save_sms_service", e.to_string()))?;
    let words = service.words();
    let now = Timestamp::now();
    let saved = on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            if replace {
                let updated = sqlx::query(
                    "UPDATE sms_services SET shortcode = $3, keyword = $4, definition = $5, updated_at = $6
                     WHERE id = $1 AND agency_id = $2",
                )
                .bind(&service.id)
                .bind(service.agency.as_str())
                .bind(&service.shortcode)
                .bind(&service.keyword)
                .bind(&definition)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated == 0 {
                    return Ok(ServiceWrite::NotFound);
                }
                sqlx::query("DELETE FROM sms_keywords WHERE service_id = $1")
                    .bind(&service.id)
                    .execute(&mut *tx)
                    .await?;
            } else {
                sqlx::query(
                    "INSERT INTO sms_services (id, agency_id, shortcode, keyword, definition, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(&service.id)
                .bind(service.agency.as_str())
                .bind(&service.shortcode)
                .bind(&service.keyword)
                .bind(&definition)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for word in &words {
                let taken = sqlx::query(
                    "INSERT INTO sms_keywords (shortcode, word, service_id) VALUES ($1, $2, $3)
                     ON CONFLICT (shortcode, word) DO NOTHING",
                )
                .bind(&service.shortcode)
                .bind(word)
                .bind(&service.id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 0;
                if taken {
                    return Ok(ServiceWrite::Taken(word.clone()));
                }
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(ServiceWrite::Done(Box::new(service.clone())))
        }
        .await
    })
    .op("save_sms_service")?;
    Ok(saved)
}

/// Deletes the agency's service `id`; whether there was one.
pub async fn delete_service(db: &Db, agency: &AgencyId, id: &str) -> Result<bool, DbError> {
    let deleted = on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "DELETE FROM sms_keywords WHERE service_id IN
                 (SELECT id FROM sms_services WHERE id = $1 AND agency_id = $2)",
            )
            .bind(id)
            .bind(agency.as_str())
            .execute(&mut *tx)
            .await?;
            let deleted = sqlx::query("DELETE FROM sms_services WHERE id = $1 AND agency_id = $2")
                .bind(id)
                .bind(agency.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>(deleted > 0)
        }
        .await
    })
    .op("delete_sms_service")?;
    Ok(deleted)
}

/// A new service id: `svc_` and a ULID.
pub fn new_service_id() -> String {
    format!("svc_{}", ulid::Ulid::new())
}
