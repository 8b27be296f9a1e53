//! Which telco last carried each number, so that an SMS to it goes out the way its dialogues
//! came in.

use super::{on_both, rows_per_statement, Db, DbError, OpExt};
use crate::ids::TelcoId;
use crate::msisdn::Msisdn;
use std::collections::HashMap;

/// Remembers `telco` as the carrier of each number, seen at `seen_ms`; an older sighting
/// than the one stored changes nothing, whatever order nodes write in.
pub async fn remember(db: &Db, sightings: &[(&Msisdn, &TelcoId, i64)]) -> Result<(), DbError> {
    // An upsert may touch a row once per statement: keep each number's latest sighting.
    let mut latest: HashMap<&str, (&str, i64)> = HashMap::new();
    for (msisdn, telco, seen_ms) in sightings {
        let entry = latest
            .entry(msisdn.as_str())
            .or_insert((telco.as_str(), *seen_ms));
        if *seen_ms >= entry.1 {
            *entry = (telco.as_str(), *seen_ms);
        }
    }
    let rows: Vec<_> = latest.into_iter().collect();
    for chunk in rows.chunks(rows_per_statement(3)) {
        on_both!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO carriers (msisdn, telco_id, seen_ms) ");
            qb.push_values(chunk, |mut row, (msisdn, (telco, seen_ms))| {
                row.push_bind(*msisdn).push_bind(*telco).push_bind(*seen_ms);
            });
            qb.push(
                " ON CONFLICT (msisdn) DO UPDATE SET telco_id = excluded.telco_id, \
                 seen_ms = excluded.seen_ms WHERE carriers.seen_ms <= excluded.seen_ms",
            );
            qb.build().execute(pool).await.map(|r| r.rows_affected())
        })
        .op("remember_carriers")?;
    }
    Ok(())
}

/// The last carrier of each of `msisdns` that has one.
pub async fn last_carriers(db: &Db, msisdns: &[&str]) -> Result<HashMap<String, String>, DbError> {
    let mut found = HashMap::new();
    for chunk in msisdns.chunks(rows_per_statement(1)) {
        let rows: Vec<(String, String)> = on_both!(db, pool => {
            let mut qb =
                sqlx::QueryBuilder::new("SELECT msisdn, telco_id FROM carriers WHERE msisdn IN (");
            let mut list = qb.separated(", ");
            for msisdn in chunk {
                list.push_bind(*msisdn);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(pool).await
        })
        .op("last_carriers")?;
        found.extend(rows);
    }
    Ok(found)
}
