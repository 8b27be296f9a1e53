//! The agencies' SMS API under `/v1`, each call made with the agency's API key
//! (`Authorization: Bearer mgk_...`): send, read one message, page through history; its
//! keyword services on the shortcodes; its topics and broadcasts to their subscribers; its
//! notification templates and the notifications sent from them; its SMS report; and
//! the API's OpenAPI description, which needs no key.

pub mod broadcasts;
pub mod notifications;
pub mod openapi;
mod read;
pub mod reports;
pub mod send;
pub mod services;
pub mod templates;
pub mod topics;

use crate::agencies::keys::{bearer, KeyError};
use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::AgencyId;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::routing::{get, post};
use axum::Router;

/// Largest `/v1` request body: a thousand recipients and a ten-part text fit many times.
pub(crate) const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every route [`router`] serves, as (method, path): the OpenAPI document must describe
/// exactly these, which the integration test `sms::openapi` checks against both.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/messages"),
    ("GET", "/v1/messages"),
    ("GET", "/v1/messages/{id}"),
    ("GET", "/v1/services/sms"),
    ("POST", "/v1/services/sms"),
    ("GET", "/v1/services/sms/{id}"),
    ("PUT", "/v1/services/sms/{id}"),
    ("DELETE", "/v1/services/sms/{id}"),
    ("GET", "/v1/topics"),
    ("POST", "/v1/topics"),
    ("GET", "/v1/topics/{id}"),
    ("PUT", "/v1/topics/{id}"),
    ("DELETE", "/v1/topics/{id}"),
    ("GET", "/v1/topics/{id}/subscribers"),
    ("GET", "/v1/broadcasts"),
    ("POST", "/v1/broadcasts"),
    ("POST", "/v1/broadcasts/estimate"),
    ("GET", "/v1/broadcasts/{id}"),
    ("POST", "/v1/broadcasts/{id}/cancel"),
    ("GET", "/v1/reports/sms"),
    ("GET", "/v1/templates"),
    ("POST", "/v1/templates"),
    ("GET", "/v1/templates/{id}"),
    ("PUT", "/v1/templates/{id}"),
    ("DELETE", "/v1/templates/{id}"),
    ("POST", "/v1/notifications"),
    ("GET", "/v1/openapi.json"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/messages", post(send::send).get(read::list))
        .route("/v1/messages/{id}", get(read::one))
        .route(
            "/v1/services/sms",
            get(services::list).post(services::create),
        )
        .route(
            "/v1/services/sms/{id}",
            get(services::one)
                .put(services::replace)
                .delete(services::remove),
        )
        .route("/v1/topics", get(topics::list).post(topics::create))
        .route(
            "/v1/topics/{id}",
            get(topics::one).put(topics::replace).delete(topics::remove),
        )
        .route("/v1/topics/{id}/subscribers", get(topics::subscriber_page))
        .route(
            "/v1/broadcasts",
            get(broadcasts::list).post(broadcasts::create),
        )
        .route("/v1/broadcasts/estimate", post(broadcasts::estimate))
        .route("/v1/broadcasts/{id}", get(broadcasts::one))
        .route("/v1/broadcasts/{id}/cancel", post(broadcasts::cancel))
        .route("/v1/reports/sms", get(reports::sms))
        .route(
            "/v1/templates",
            get(templates::list).post(templates::create),
        )
        .route(
            "/v1/templates/{id}",
            get(templates::one)
                .put(templates::replace)
                .delete(templates::remove),
        )
        .route("/v1/notifications", post(notifications::notify))
        .route("/v1/openapi.json", get(openapi::document))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The agency a request's API key belongs to.
pub struct AgencyCaller {
    pub agency: AgencyId,
}

impl FromRequestParts<AppState> for AgencyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, gw: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let refused = |e: KeyError| {
            metrics::counter!(crate::telemetry::names::API_REFUSED, "reason" => "api_key")
                .increment(1);
            ApiError::bad_api_key(e.to_string())
        };
        let key = bearer(header).map_err(refused)?;
        let agency = gw
            .sms
            .keys
            .check(&gw.db, key)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "API key check failed");
                ApiError::unavailable("API keys cannot be checked right now; retry")
            })?
            .map_err(refused)?;
        Ok(AgencyCaller { agency })
    }
}

/// A request's body, or why it could not be read (too large, cut short).
pub(crate) fn read_body(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::body::Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(MAX_BODY_BYTES)
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })
}

/// A request that parses but asks for something the gateway will not do.
pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
}
