//! `/v1/services/sms`: an agency's keyword services on the gateway's shortcodes. Create,
//! list, read, replace and delete; another agency's service is a `404`. A change reaches
//! every node within a second.

use super::{invalid, AgencyCaller};
use crate::app::AppState;
use crate::db::changes;
use crate::error::ApiError;
use crate::sms::inbound::services::{check, ServiceSpec, SmsService, SpecError};
use crate::sms::inbound::services_store::{
    agency_services, delete_service, new_service_id, save_service, ServiceWrite,
};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// A service as the API shows it.
#[derive(Serialize)]
pub struct ServiceView {
    pub id: String,
    /// As matched: upper case, without accents.
    pub keyword: String,
    pub shortcode: String,
    /// Every word that reaches it.
    pub words: Vec<String>,
    #[serde(flatten)]
    pub spec: ServiceSpecView,
}

#[derive(Serialize)]
pub struct ServiceSpecView {
    pub aliases: serde_json::Value,
    pub description: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<serde_json::Value>,
}

impl From<&SmsService> for ServiceView {
    fn from(service: &SmsService) -> Self {
        Self {
            id: service.id.clone(),
            keyword: service.keyword.clone(),
            shortcode: service.shortcode.clone(),
            words: service.words(),
            spec: ServiceSpecView {
                aliases: serde_json::to_value(&service.spec.aliases).unwrap_or_default(),
                description: serde_json::to_value(&service.spec.description).unwrap_or_default(),
                forward: service
                    .spec
                    .forward
                    .as_ref()
                    .and_then(|f| serde_json::to_value(f).ok()),
                answer: service
                    .spec
                    .answer
                    .as_ref()
                    .and_then(|a| serde_json::to_value(a).ok()),
            },
        }
    }
}

pub async fn list(
    State(gw): State<AppState>,
    caller: AgencyCaller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let services = agency_services(&gw.db, &caller.agency)
        .await
        .map_err(unavailable)?;
    let views: Vec<ServiceView> = services.iter().map(ServiceView::from).collect();
    Ok(Json(serde_json::json!({ "services": views })))
}

pub async fn one(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
) -> Result<Json<ServiceView>, ApiError> {
    let services = agency_services(&gw.db, &caller.agency)
        .await
        .map_err(unavailable)?;
    services
        .iter()
        .find(|s| s.id == id)
        .map(|s| Json(ServiceView::from(s)))
        .ok_or_else(|| not_found(&id))
}

pub async fn create(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let service = described(&gw, &caller, new_service_id(), body)?;
    let saved = save(&gw, &service, false).await?;
    Ok((StatusCode::CREATED, Json(ServiceView::from(&saved))).into_response())
}

pub async fn replace(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ServiceView>, ApiError> {
    let service = described(&gw, &caller, id, body)?;
    let saved = save(&gw, &service, true).await?;
    Ok(Json(ServiceView::from(&saved)))
}

pub async fn remove(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let deleted = delete_service(&gw.db, &caller.agency, &id)
        .await
        .map_err(unavailable)?;
    if !deleted {
        return Err(not_found(&id));
    }
    taken_in(&gw, "sms_services").await;
    Ok(StatusCode::NO_CONTENT)
}

/// The service the request describes, checked.
fn described(
    gw: &AppState,
    caller: &AgencyCaller,
    id: String,
    body: Result<Bytes, BytesRejection>,
) -> Result<SmsService, ApiError> {
    let body = super::read_body(body)?;
    let spec: ServiceSpec = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("body is not a valid SMS service: {e}")))?;
    let offered = gw
        .agencies
        .get(&caller.agency)
        .map(|a| a.actions.clone())
        .unwrap_or_default();
    let (keyword, shortcode) =
        check(&spec, &gw.config.sms.shortcodes, &offered).map_err(|e| match e {
            SpecError::Invalid(why) => invalid(why),
            SpecError::Reserved(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reserved_keyword",
                e.to_string(),
            ),
        })?;
    Ok(SmsService {
        id,
        agency: caller.agency.clone(),
        shortcode,
        keyword,
        spec,
    })
}

async fn save(gw: &AppState, service: &SmsService, replace: bool) -> Result<SmsService, ApiError> {
    match save_service(&gw.db, service, replace)
        .await
        .map_err(unavailable)?
    {
        ServiceWrite::Done(saved) => {
            taken_in(gw, "sms_services").await;
            tracing::info!(agency = %saved.agency, service = %saved.id, keyword = %saved.keyword, "SMS service saved");
            Ok(*saved)
        }
        ServiceWrite::Taken(word) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "keyword_taken",
            format!(
                "{word:?} already reaches another service on {}; keywords are unique per shortcode",
                service.shortcode
            ),
        )),
        ServiceWrite::NotFound => Err(not_found(&service.id)),
    }
}

/// This node takes a change to `what` (`sms_services`, `sms_topics`) in at once; the others
/// when they hear of it.
pub(super) async fn taken_in(gw: &AppState, what: &'static str) {
    let _ = changes::announce(&gw.db, what).await;
    if let Err(e) = gw.refresh_directories().await {
        tracing::warn!(error = %e, what, "change saved but not re-read; taken in at the next refresh");
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("no SMS service {id:?} of this agency"))
}

fn unavailable(e: crate::db::DbError) -> ApiError {
    tracing::error!(error = %e, "SMS services not read or written");
    ApiError::unavailable("SMS services cannot be read or written right now; retry")
}
