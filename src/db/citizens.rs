//! The language each phone number chose, so that the next dialogue and every SMS reply
//! start in it.

use super::{on_both, Db, DbError, OpExt, Timestamp};
use crate::language::Language;
use crate::msisdn::Msisdn;

pub async fn get_language(db: &Db, msisdn: &Msisdn) -> Result<Option<Language>, DbError> {
    const OP: &str = "get_language";
    let code: Option<String> = on_both!(db, pool => {
        sqlx::query_scalar("SELECT language FROM citizens WHERE msisdn = $1")
            .bind(msisdn.as_str())
            .fetch_optional(pool)
            .await
    })
    .op(OP)?;
    code.map(|c| Language::parse(&c).map_err(|e| DbError::corrupt(OP, e)))
        .transpose()
}

/// Records the choice, replacing any earlier one.
pub async fn set_language(db: &Db, msisdn: &Msisdn, language: Language) -> Result<(), DbError> {
    on_both!(db, pool => {
        sqlx::query(
            "INSERT INTO citizens (msisdn, language, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (msisdn) DO UPDATE
             SET language = excluded.language, updated_at = excluded.updated_at",
        )
        .bind(msisdn.as_str())
        .bind(language.code())
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .op("set_language")?;
    Ok(())
}
