//! `/v1/templates`: an agency's notification templates. Create, list, read, replace and
//! delete; each is checked when written (an unknown variable, a text that can never fit ten
//! parts: `422`); ids are the agency's own (`409` when taken); another agency's template is
//! a `404`.

use super::{invalid, AgencyCaller};
use crate::app::AppState;
use crate::error::ApiError;
use crate::sms::notifications::store::{
    agency_templates, create_template, delete_template, get_template, replace_template,
};
use crate::sms::notifications::templates::{check, TemplateSpec};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

pub async fn list(
    State(gw): State<AppState>,
    caller: AgencyCaller,
) -> Result<Json<TemplateList>, ApiError> {
    let templates = agency_templates(&gw.db, &caller.agency)
        .await
        .map_err(unavailable)?;
    Ok(Json(TemplateList { templates }))
}

#[derive(Serialize)]
pub struct TemplateList {
    pub templates: Vec<TemplateSpec>,
}

pub async fn one(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
) -> Result<Json<TemplateSpec>, ApiError> {
    get_template(&gw.db, &caller.agency, &id)
        .await
        .map_err(unavailable)?
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

pub async fn create(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let spec = described(body, None)?;
    if !create_template(&gw.db, &caller.agency, &spec)
        .await
        .map_err(unavailable)?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "template_exists",
            format!(
                "this agency has a template {:?} already; change it with PUT /v1/templates/{}",
                spec.id, spec.id
            ),
        ));
    }
    tracing::info!(agency = %caller.agency, template = %spec.id, "notification template created");
    Ok((StatusCode::CREATED, Json(spec)).into_response())
}

pub async fn replace(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<TemplateSpec>, ApiError> {
    let spec = described(body, Some(&id))?;
    if !replace_template(&gw.db, &caller.agency, &spec)
        .await
        .map_err(unavailable)?
    {
        return Err(not_found(&id));
    }
    tracing::info!(agency = %caller.agency, template = %spec.id, "notification template replaced");
    Ok(Json(spec))
}

pub async fn remove(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !delete_template(&gw.db, &caller.agency, &id)
        .await
        .map_err(unavailable)?
    {
        return Err(not_found(&id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The template the request describes, checked; `path_id` is the id of a `PUT`, which the
/// body may leave out (or repeat).
fn described(
    body: Result<Bytes, BytesRejection>,
    path_id: Option<&str>,
) -> Result<TemplateSpec, ApiError> {
    let body = super::read_body(body)?;
    let mut spec: TemplateSpec = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("body is not a valid template: {e}")))?;
    if let Some(id) = path_id {
        if spec.id.is_empty() {
            spec.id = id.to_string();
        } else if spec.id != id {
            return Err(invalid(format!(
                "id {:?} in the body is not the template {id:?} of the path; a template's id does not change",
                spec.id
            )));
        }
    }
    check(&spec).map_err(invalid)?;
    Ok(spec)
}

pub(super) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("no template {id:?} of this agency"))
}

pub(super) fn unavailable(e: crate::db::DbError) -> ApiError {
    tracing::error!(error = %e, "notification templates not read or written");
    ApiError::unavailable("templates cannot be read or written right now; retry")
}
