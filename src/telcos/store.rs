//! Telco records in the durable store.

use super::{SmsLink, Telco, TelcoCredentials, WireFormat};
use crate::db::{on_both, Db, DbError, OpExt, Timestamp};
use crate::ids::TelcoId;
use std::num::NonZeroU32;

const SELECT: &str = "SELECT id, wire_format, username, secret_sha256, allowed_networks, \
                      screen_limit, max_hops_per_second, sms_url, sms_username, sms_secret, \
                      sms_parts_per_second, sms_prefixes, sms_default FROM telcos";

#[derive(sqlx::FromRow)]
struct TelcoRow {
    id: String,
    wire_format: String,
    username: Option<String>,
    secret_sha256: Option<String>,
    allowed_networks: String,
    screen_limit: i32,
    max_hops_per_second: i32,
    sms_url: Option<String>,
    sms_username: Option<String>,
    sms_secret: Option<String>,
    sms_parts_per_second: i32,
    sms_prefixes: String,
    sms_default: bool,
}

/// Creates the telco or replaces its settings (keeping its `created_at`).
pub async fn upsert_telco(db: &Db, telco: &Telco) -> Result<(), DbError> {
    const OP: &str = "upsert_telco";
    let screen_limit = i32::try_from(telco.screen_limit).map_err(|_| {
        DbError::invalid(
            OP,
            format!("screen limit {} is too large", telco.screen_limit),
        )
    })?;
    let max_hops_per_second = i32::try_from(telco.max_hops_per_second.get()).map_err(|_| {
        DbError::invalid(
            OP,
            format!("hop limit {} is too large", telco.max_hops_per_second),
        )
    })?;
    let networks: Vec<String> = telco
        .allowed_networks
        .iter()
        .map(|n| n.to_string())
        .collect();
    let networks = networks.join(",");
    let credentials = telco.credentials.as_ref();
    let sms = telco.sms.as_ref();
    let parts_per_second = match sms {
        Some(link) => i32::try_from(link.parts_per_second.get())
            .map_err(|_| DbError::invalid(OP, "SMS rate is too large"))?,
        None => crate::telcos::DEFAULT_SMS_PARTS_PER_SECOND.get() as i32,
    };
    let prefixes = sms.map(|l| l.prefixes.join(",")).unwrap_or_default();
    let now = Timestamp::now();
    on_both!(db, pool => {
        sqlx::query(
            "INSERT INTO telcos (id, wire_format, username, secret_sha256, allowed_networks,
                                 screen_limit, max_hops_per_second, sms_url, sms_username,
                                 sms_secret, sms_parts_per_second, sms_prefixes, sms_default,
                                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $10, $11, $12, $13, $14, $8, $8)
             ON CONFLICT (id) DO UPDATE SET
                 wire_format = excluded.wire_format,
                 username = excluded.username,
                 secret_sha256 = excluded.secret_sha256,
                 allowed_networks = excluded.allowed_networks,
                 screen_limit = excluded.screen_limit,
                 max_hops_per_second = excluded.max_hops_per_second,
                 sms_url = excluded.sms_url,
                 sms_username = excluded.sms_username,
                 sms_secret = excluded.sms_secret,
                 sms_parts_per_second = excluded.sms_parts_per_second,
                 sms_prefixes = excluded.sms_prefixes,
                 sms_default = excluded.sms_default,
                 updated_at = excluded.updated_at",
        )
        .bind(telco.id.as_str())
        .bind(telco.wire_format.as_str())
        .bind(credentials.map(|c| c.username.as_str()))
        .bind(credentials.map(|c| c.secret_sha256.as_str()))
        .bind(&networks)
        .bind(screen_limit)
        .bind(max_hops_per_second)
        .bind(now)
        .bind(sms.map(|l| l.url.as_str()))
        .bind(sms.map(|l| l.username.as_str()))
        .bind(sms.map(|l| l.secret.as_str()))
        .bind(parts_per_second)
        .bind(&prefixes)
        .bind(sms.is_some_and(|l| l.default_route))
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .op(OP)?;
    crate::db::changes::announce(db, "telcos").await
}

pub async fn get_telco(db: &Db, id: &TelcoId) -> Result<Option<Telco>, DbError> {
    const OP: &str = "get_telco";
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<TelcoRow> = on_both!(db, pool => {
        sqlx::query_as(&sql).bind(id.as_str()).fetch_optional(pool).await
    })
    .op(OP)?;
    row.map(|r| r.into_telco(OP)).transpose()
}

/// Every telco, ordered by id.
pub async fn list_telcos(db: &Db) -> Result<Vec<Telco>, DbError> {
    const OP: &str = "list_telcos";
    let sql = format!("{SELECT} ORDER BY id");
    let rows: Vec<TelcoRow> =
        on_both!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await).op(OP)?;
    rows.into_iter().map(|r| r.into_telco(OP)).collect()
}

impl TelcoRow {
    fn into_telco(self, op: &'static str) -> Result<Telco, DbError> {
        let id = TelcoId::parse(&self.id).map_err(|e| DbError::corrupt(op, e))?;
        let wire_format = WireFormat::parse(&self.wire_format).ok_or_else(|| {
            DbError::corrupt(
                op,
                format!("telco {id}: unknown wire format {:?}", self.wire_format),
            )
        })?;
        let credentials = match (self.username, self.secret_sha256) {
            (Some(username), Some(secret_sha256)) => Some(TelcoCredentials {
                username,
                secret_sha256,
            }),
            (None, None) => None,
            _ => {
                return Err(DbError::corrupt(
                    op,
                    format!("telco {id}: half of its credentials"),
                ))
            }
        };
        let allowed_networks = self
            .allowed_networks
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse()
                    .map_err(|e| DbError::corrupt(op, format!("telco {id}: network {s:?}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let screen_limit = usize::try_from(self.screen_limit).map_err(|_| {
            DbError::corrupt(
                op,
                format!("telco {id}: screen limit {}", self.screen_limit),
            )
        })?;
        let max_hops_per_second = u32::try_from(self.max_hops_per_second)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| {
                DbError::corrupt(
                    op,
                    format!("telco {id}: hop limit {}", self.max_hops_per_second),
                )
            })?;
        let sms = match (self.sms_url, self.sms_username, self.sms_secret) {
            (Some(url), Some(username), Some(secret)) => Some(SmsLink {
                url,
                username,
                secret,
                parts_per_second: u32::try_from(self.sms_parts_per_second)
                    .ok()
                    .and_then(NonZeroU32::new)
                    .ok_or_else(|| DbError::corrupt(op, format!("telco {id}: SMS rate")))?,
                prefixes: self
                    .sms_prefixes
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect(),
                default_route: self.sms_default,
            }),
            _ => None,
        };
        Ok(Telco {
            id,
            wire_format,
            credentials,
            allowed_networks,
            screen_limit,
            max_hops_per_second,
            sms,
        })
    }
}
