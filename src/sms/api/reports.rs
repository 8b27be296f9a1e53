//! `GET /v1/reports/sms?from=&to=`: the calling agency's own SMS figures for a period (what
//! citizens sent to its services, what it sent and what became of it). Another agency's
//! traffic is never counted; the figures are those `mgov report` prints for the agency.

use super::{invalid, AgencyCaller};
use crate::app::AppState;
use crate::error::ApiError;
use crate::reports::sms::{agency_sms_figures, SmsFigures};
use crate::reports::ReportRange;
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct AgencySmsReport {
    pub agency: String,
    /// The period, `[from, to)`.
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub figures: SmsFigures,
}

pub async fn sms(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    query: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AgencySmsReport>, ApiError> {
    let Query(query) = query.map_err(|e| invalid(e.body_text()))?;
    let range = ReportRange::parse(query.from.as_deref(), query.to.as_deref(), Utc::now())
        .map_err(|e| invalid(e.to_string()))?;
    let figures = agency_sms_figures(&gw.db, &caller.agency, range.from, range.to)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "SMS report not read");
            ApiError::unavailable("the report cannot be read right now; retry")
        })?;
    Ok(Json(AgencySmsReport {
        agency: caller.agency.to_string(),
        from: rfc3339(range.from),
        to: rfc3339(range.to),
        figures,
    }))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}
