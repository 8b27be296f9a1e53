//! `GET /v1/openapi.json`: the OpenAPI 3.1 description of the `/v1` API and of the webhooks
//! the gateway sends, written by hand in `openapi.json` beside this file and embedded at
//! build time. It is served without a key, so that tools can read it before an agency has
//! one. Hand-written rather than generated from the handlers, so that describing the API
//! puts nothing in them; the integration test `sms::openapi` keeps it true by sending every
//! request example to a running gateway and checking each answer against the document.

use axum::http::header;
use axum::response::IntoResponse;

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
