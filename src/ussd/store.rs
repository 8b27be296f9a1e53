//! Finished USSD dialogues in the durable store, for reports. Live dialogue state lives
//! in the session store (`sessions`), not here.

use crate::db::{on_both, rows_per_statement, Db, DbError, OpExt, Timestamp};
use crate::ids::{AgencyId, ServiceId, TelcoId};
use crate::msisdn::Msisdn;
use crate::sessions::{Location, Session};
use chrono::{DateTime, Utc};

/// Why a dialogue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// Reached an end screen.
    Completed,
    /// The citizen pressed cancel.
    UserCancelled,
    /// The telco gave up waiting for the citizen.
    TelcoTimeout,
    /// No further hop came and the session expired.
    Abandoned,
    /// An error on our side ended it.
    Failed,
    /// The service or its back office was not available.
    Unavailable,
}

impl EndReason {
    pub const ALL: [EndReason; 6] = [
        EndReason::Completed,
        EndReason::UserCancelled,
        EndReason::TelcoTimeout,
        EndReason::Abandoned,
        EndReason::Failed,
        EndReason::Unavailable,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            EndReason::Completed => "completed",
            EndReason::UserCancelled => "user_cancelled",
            EndReason::TelcoTimeout => "telco_timeout",
            EndReason::Abandoned => "abandoned",
            EndReason::Failed => "failed",
            EndReason::Unavailable => "unavailable",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// One finished dialogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The telco's session id.
    pub session_key: String,
    pub telco: TelcoId,
    /// Only the masked number (`Msisdn::masked`, `2557****3456`): reports need no more.
    pub msisdn_masked: String,
    /// The full number, only to remember which telco carries it (`carriers`); it is not
    /// stored with the record, and records read back do not have it.
    pub msisdn: Option<Msisdn>,
    pub service: Option<ServiceId>,
    /// The agency whose service it is.
    pub agency: Option<AgencyId>,
    /// The state of `service` it ended in; `None` when it ended outside that service.
    pub last_state: Option<String>,
    /// The states of `service` it reached, in the order first reached.
    pub reached: Vec<String>,
    pub network: Option<String>,
    pub hops: i32,
    pub end_reason: EndReason,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub duration_ms: i64,
}

impl SessionRecord {
    /// The record of `session`, a dialogue with a service of `agency`, ending now for `reason`.
    pub fn from_session(
        session: &Session,
        agency: Option<AgencyId>,
        reason: EndReason,
        now_ms: i64,
    ) -> Self {
        // An abandoned dialogue ended at its last hop, not when the reaper noticed.
        let now_ms = if reason == EndReason::Abandoned {
            session.last_seen_ms
        } else {
            now_ms
        };
        let at = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
        let last_state = match &session.location {
            Location::Service { service, state, .. }
                if session.service.as_ref() == Some(service) =>
            {
                Some(state.clone())
            }
            _ => None,
        };
        Self {
            session_key: session.key.clone(),
            telco: session.telco.clone(),
            msisdn_masked: session.msisdn.masked(),
            msisdn: Some(session.msisdn.clone()),
            service: session.service.clone(),
            agency,
            last_state,
            reached: session.reached.clone(),
            network: session.network.clone(),
            hops: session.hops as i32,
            end_reason: reason,
            started_at: at(session.started_at_ms),
            ended_at: at(now_ms),
            duration_ms: (now_ms - session.started_at_ms).max(0),
        }
    }
}

const COLUMNS: &str = "session_key, telco_id, msisdn_masked, service_id, network, hops, \
                       end_reason, started_at, ended_at, duration_ms, agency_id, last_state, states";
const COLUMN_COUNT: usize = 13;

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_key: String,
    telco_id: String,
    msisdn_masked: String,
    service_id: Option<String>,
    network: Option<String>,
    hops: i32,
    end_reason: String,
    started_at: Timestamp,
    ended_at: Timestamp,
    duration_ms: i64,
    agency_id: Option<String>,
    last_state: Option<String>,
    states: Option<String>,
}

pub async fn insert_session_record(db: &Db, record: &SessionRecord) -> Result<(), DbError> {
    insert_session_records(db, std::slice::from_ref(record)).await?;
    Ok(())
}

/// Records many dialogues with one multi-row INSERT (split only past the bind-parameter
/// limit, about 3,000 rows); a dialogue already recorded is skipped, so a retried write does
/// not record it twice. Returns how many rows were written.
pub async fn insert_session_records(db: &Db, records: &[SessionRecord]) -> Result<u64, DbError> {
    let mut inserted = 0;
    for chunk in records.chunks(rows_per_statement(COLUMN_COUNT)) {
        inserted += on_both!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO ussd_sessions ({COLUMNS}) "));
            qb.push_values(chunk, |mut row, r| {
                row.push_bind(r.session_key.as_str())
                    .push_bind(r.telco.as_str())
                    .push_bind(r.msisdn_masked.as_str())
                    .push_bind(r.service.as_ref().map(|s| s.as_str()))
                    .push_bind(r.network.as_deref())
                    .push_bind(r.hops)
                    .push_bind(r.end_reason.as_str())
                    .push_bind(Timestamp(r.started_at))
                    .push_bind(Timestamp(r.ended_at))
                    .push_bind(r.duration_ms)
                    .push_bind(r.agency.as_ref().map(|a| a.as_str()))
                    .push_bind(r.last_state.as_deref())
                    .push_bind(states_json(&r.reached));
            });
            qb.push(" ON CONFLICT (session_key, started_at) DO NOTHING");
            qb.build().execute(pool).await.map(|r| r.rows_affected())
        })
        .op("insert_session_records")?;
    }
    Ok(inserted)
}

/// The most recently recorded dialogues, newest first.
pub async fn recent_session_records(db: &Db, limit: i64) -> Result<Vec<SessionRecord>, DbError> {
    const OP: &str = "recent_session_records";
    let sql = format!("SELECT {COLUMNS} FROM ussd_sessions ORDER BY id DESC LIMIT $1");
    let rows: Vec<SessionRow> = on_both!(db, pool => {
        sqlx::query_as(&sql).bind(limit).fetch_all(pool).await
    })
    .op(OP)?;
    rows.into_iter().map(|r| r.into_record(OP)).collect()
}

impl SessionRow {
    fn into_record(self, op: &'static str) -> Result<SessionRecord, DbError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            DbError::corrupt(op, format!("session {}: {what}: {e}", self.session_key))
        };
        Ok(SessionRecord {
            msisdn: None,
            telco: TelcoId::parse(&self.telco_id).map_err(|e| bad("telco", &e))?,
            service: match &self.service_id {
                Some(s) => Some(ServiceId::parse(s).map_err(|e| bad("service", &e))?),
                None => None,
            },
            end_reason: EndReason::parse(&self.end_reason)
                .ok_or_else(|| bad("end reason", &self.end_reason))?,
            agency: match &self.agency_id {
                Some(a) => Some(AgencyId::parse(a).map_err(|e| bad("agency", &e))?),
                None => None,
            },
            reached: parse_states(self.states.as_deref()).map_err(|e| bad("states", &e))?,
            last_state: self.last_state,
            msisdn_masked: self.msisdn_masked,
            network: self.network,
            hops: self.hops,
            started_at: self.started_at.0,
            ended_at: self.ended_at.0,
            duration_ms: self.duration_ms,
            session_key: self.session_key,
        })
    }
}

/// The states reached as stored: a JSON array, `NULL` for none.
fn states_json(reached: &[String]) -> Option<String> {
    (!reached.is_empty()).then(|| serde_json::to_string(reached).unwrap_or_default())
}

/// The states reached from their stored form.
pub(crate) fn parse_states(stored: Option<&str>) -> Result<Vec<String>, serde_json::Error> {
    stored.map_or(Ok(Vec::new()), serde_json::from_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_reasons_round_trip_through_their_names() {
        for r in EndReason::ALL {
            assert_eq!(EndReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(EndReason::parse("timeout"), None);
    }
}
