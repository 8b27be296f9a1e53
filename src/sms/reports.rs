//! `/sms/{telco}/dlr`: delivery reports. Africa's Talking posts a form; Kannel calls the
//! `dlr-url` we gave it with GET. Reports are answered `200` unless they cannot be read
//! (`4xx`, the telco's fault) or cannot be stored now (`503`, so that the telco sends it
//! again); a report about a message we do not know is answered `200` and counted, since a
//! telco retries anything else for ever.

use super::channel::DeliveryReport;
use super::store::reports::{apply_reports, ReportOutcome};
use crate::app::{AppState, Gateway};
use crate::error::ApiError;
use crate::http::client_ip::client_ip;
use crate::ids::TelcoId;
use crate::telcos::auth::authenticate;
use crate::telcos::{Telco, WireFormat};
use crate::telemetry::names;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::HeaderMap;
use std::net::SocketAddr;
use std::sync::Arc;

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
    check_caller(&telco, source, &headers)?;
    let report = telco
        .wire_format
        .parse_report(
            telco.sms.as_ref(),
            &headers,
            query.as_deref().unwrap_or(""),
            &body,
        )
        .map_err(|e| {
            refused(e.code());
            tracing::warn!(telco = %telco.id, error = %e, "delivery report refused");
            ApiError::new(e.status(), e.code(), e.to_string())
        })?;
    let writer = gw.clone();
    let outcome = gw
        .sms
        .reports
        .submit(
            (telco.id.clone(), report.clone()),
            move || writer.sms.reports.clone(),
            {
                let gw = gw.clone();
                move |batch: Vec<(TelcoId, DeliveryReport)>| {
                    let gw = gw.clone();
                    async move {
                        let reports: Vec<_> = batch.iter().map(|(t, r)| (t, r)).collect();
                        apply_reports(&gw.db, &reports, &gw.agencies, crate::sessions::now_ms())
                            .await
                            .map_err(|e| e.to_string())
                    }
                }
            },
        )
        .await
        .map_err(|e| {
            tracing::error!(telco = %telco.id, error = %e, "delivery report not stored");
            ApiError::unavailable("report not stored; send it again")
        })?;
    metrics::counter!(names::SMS_REPORTS, "telco" => telco.id.to_string(), "outcome" => outcome.as_str())
        .increment(1);
    if let ReportOutcome::Final(change) = &outcome {
        metrics::counter!(names::SMS_STATUS, "telco" => telco.id.to_string(), "status" => change.status.clone())
            .increment(1);
        gw.sms.wake_webhooks.notify_one();
    }
    if matches!(outcome, ReportOutcome::Unknown) {
        tracing::info!(telco = %telco.id, message = ?report.message, "report about an unknown message");
    }
    Ok("OK")
}

/// Africa's Talking reports are authenticated like its USSD callbacks. Kannel's carry a
/// signature made for each message; its source network is still checked when set.
fn check_caller(
    telco: &Arc<Telco>,
    source: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let checked = match telco.wire_format {
        WireFormat::Kannel if telco.allowed_networks.is_empty() => Ok(()),
        WireFormat::Kannel => {
            let peer = source.to_canonical();
            if telco.allowed_networks.iter().any(|n| n.contains(&peer)) {
                Ok(())
            } else {
                Err(crate::telcos::auth::AuthError::PeerNotAllowed(peer))
            }
        }
        _ => authenticate(telco, source, headers),
    };
    checked.map_err(|why| auth_refused(telco, source, why, "delivery report"))
}

/// The telco `telco_id` names, when it carries SMS; else a `404` (counted).
pub(crate) fn sms_telco(gw: &Gateway, telco_id: &str) -> Result<Arc<Telco>, ApiError> {
    TelcoId::parse(telco_id)
        .ok()
        .and_then(|id| gw.telcos.get(&id))
        .filter(|t| t.wire_format.carries_sms())
        .ok_or_else(|| {
            refused("unknown_telco");
            ApiError::not_found(format!("no telco {telco_id:?} carries SMS here"))
        })
}

/// The answer to a caller who is not the telco it claims to be (counted and logged).
pub(crate) fn auth_refused(
    telco: &Telco,
    source: std::net::IpAddr,
    why: crate::telcos::auth::AuthError,
    what: &str,
) -> ApiError {
    refused("unauthenticated");
    tracing::warn!(telco = %telco.id, peer = %source, reason = %why, "{what} refused");
    let reason = why.public_reason(&telco.id);
    if why.is_forbidden() {
        ApiError::forbidden(reason)
    } else {
        ApiError::unauthorized(reason)
    }
}

pub(crate) fn refused(reason: &'static str) {
    metrics::counter!(names::CALLBACKS_REFUSED, "reason" => reason).increment(1);
}
