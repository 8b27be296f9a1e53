//! `/sms/{telco}/inbound`: incoming SMS. Africa's Talking posts a form; Kannel calls its
//! `get-url` with GET. Each message is stored before the telco is answered `200`; one that
//! cannot be read is refused with the reason (`4xx`), one that cannot be stored now gets a
//! `503` so that the telco sends it again. What the text says never makes a refusal: an
//! empty, odd or unknown message is stored, answered `200` and routed like any other.

use super::store::store_incoming;
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::client_ip::client_ip;
use crate::msisdn::Msisdn;
use crate::sms::reports::{auth_refused, refused, sms_telco};
use crate::telcos::auth::authenticate;
use crate::telemetry::names;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::HeaderMap;
use std::net::SocketAddr;

/// A sender that is no phone number is kept to this many characters.
const LONGEST_SENDER: usize = 32;

pub async fn receive(
    State(gw): State<AppState>,
    Path(telco_id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<&'static str, ApiError> {
    let telco = sms_telco(&gw, &telco_id)?;
    let source = client_ip(peer.ip(), &headers, &gw.config.trusted_proxies);
    authenticate(&telco, source, &headers)
        .map_err(|why| auth_refused(&telco, source, why, "incoming SMS"))?;
    let sms = telco
        .wire_format
        .parse_inbound(&headers, query.as_deref().unwrap_or(""), &body)
        .map_err(|e| {
            refused(e.code());
            tracing::warn!(telco = %telco.id, error = %e, "incoming SMS refused");
            ApiError::new(e.status(), e.code(), e.to_string())
        })?;
    let (sender, is_number) = match Msisdn::parse(&sms.from, &gw.config.default_country) {
        Ok(msisdn) => (msisdn.as_str().to_string(), true),
        Err(_) => (sms.from.chars().take(LONGEST_SENDER).collect(), false),
    };
    let stored = store_incoming(
        &gw.db,
        telco.id.as_str(),
        &sms,
        &sender,
        is_number,
        crate::sessions::now_ms(),
    )
    .await
    .map_err(|e| {
        tracing::error!(telco = %telco.id, error = %e, "incoming SMS not stored");
        ApiError::unavailable("message not stored; send it again")
    })?;
    match stored {
        Some(_) => gw.sms.wake_router.notify_one(),
        None => metrics::counter!(names::SMS_INBOUND_REPEATS, "telco" => telco.id.to_string())
            .increment(1),
    }
    Ok("OK")
}
