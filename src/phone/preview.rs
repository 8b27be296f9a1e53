//! The preview dialogue's callback: `POST /phone/preview/{format}/{service}/{version}` takes
//! exactly what a telco of that wire format sends to `/ussd/{telco}` and answers the same
//! way, walking the gateway's menus with `version` in `service`'s place.
//!
//! Its dialogues belong to a telco of their own, [`PREVIEW_TELCO`], which is registered
//! nowhere: they are kept, limited and recorded like any other, apart from every telco's.

use super::drafts::{preview_of, Drafts, Refusal};
use super::local_only;
use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::{ServiceId, TelcoId};
use crate::telcos::{Telco, WireFormat, DEFAULT_MAX_HOPS_PER_SECOND};
use crate::ussd::Dialogues;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The telco id preview dialogues are kept and recorded under.
pub const PREVIEW_TELCO: &str = "phone-preview";

/// A preview's screens are as long as most telcos': 182 characters.
const PREVIEW_SCREEN_LIMIT: usize = 182;

pub(super) async fn callback(
    State(gw): State<AppState>,
    State(dialogues): State<Dialogues>,
    Extension(drafts): Extension<Arc<Drafts>>,
    Path((format, service, version)): Path<(String, String, String)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    let started = Instant::now();
    local_only(&gw, peer, &headers).map_err(IntoResponse::into_response)?;
    let format = WireFormat::parse(&format).ok_or_else(|| {
        ApiError::not_found(format!(
            "no wire format {format:?}; africastalking or hubtel"
        ))
        .into_response()
    })?;
    let service = ServiceId::parse(&service)
        .map_err(|e| ApiError::bad_request(e.to_string()).into_response())?;
    let menus = preview_of(&gw, &drafts, &service, &version)
        .await
        .map_err(Refusal::into_response)?;
    let telco = Arc::new(Telco {
        id: TelcoId::parse(PREVIEW_TELCO).expect("a valid id"),
        wire_format: format,
        credentials: None,
        allowed_networks: Vec::new(),
        screen_limit: PREVIEW_SCREEN_LIMIT,
        max_hops_per_second: DEFAULT_MAX_HOPS_PER_SECOND,
        sms: None,
    });
    let preview = Some(Arc::new(menus));
    crate::ussd::answer_callback(&gw, &dialogues, &telco, &headers, &body, started, preview)
        .await
        .map_err(IntoResponse::into_response)
}
