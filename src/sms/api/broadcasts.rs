//! `/v1/broadcasts`: one text (a variant per language) to every subscriber of one of the
//! agency's topics. `POST /v1/broadcasts/estimate` says what one would cost before it is
//! sent; `POST /v1/broadcasts` starts one (`202`, with the same estimate); `GET` follows its
//! progress, its messages counted by status; `POST .../cancel` holds back what is not yet
//! sent. Numbers that sent STOP are never sent to.

use super::send::{answer_stored, check_sender_id, check_text, check_validity, idempotency_key};
use super::{invalid, AgencyCaller};
use crate::app::AppState;
use crate::error::ApiError;
use crate::sms::broadcasts::store::{
    cancel as cancel_broadcast, create as create_broadcast, list as list_broadcasts,
    new_broadcast_id, progress, subscribers_by_language, Broadcast,
};
use crate::sms::broadcasts::{estimate as estimate_for, BroadcastRequest, Estimate};
use crate::sms::subscriptions::Topic;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A broadcast as the API shows it.
#[derive(Serialize)]
pub struct BroadcastView {
    pub id: String,
    pub topic_id: String,
    /// `queued` (its subscribers are being queued), `sending`, `done` (nothing left to
    /// send) or `cancelled`.
    pub status: String,
    /// Messages queued so far, one per subscriber.
    pub messages: i64,
    pub estimated_parts: i64,
    /// Its messages by status.
    pub counts: BTreeMap<String, i64>,
    pub created_at: String,
}

impl BroadcastView {
    /// `counts` are `None` in lists, which do not count: `done` is then not known.
    fn of(broadcast: &Broadcast, counts: Option<BTreeMap<String, i64>>) -> Self {
        let unsent = counts.as_ref().is_none_or(|counts| {
            ["queued", "sending"]
                .iter()
                .any(|s| counts.get(*s).copied().unwrap_or(0) > 0)
        });
        let status = match broadcast.status.as_str() {
            "sending" if !unsent => "done",
            other => other,
        };
        let counts = counts.unwrap_or_default();
        Self {
            id: broadcast.id.clone(),
            topic_id: broadcast.topic_id.clone(),
            status: status.to_string(),
            messages: i64::from(broadcast.queued),
            estimated_parts: broadcast.estimated_parts,
            counts,
            created_at: broadcast
                .created_at
                .0
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }
}

#[derive(Serialize)]
struct Created {
    id: String,
    topic_id: String,
    status: &'static str,
    estimate: Estimate,
}

/// `POST /v1/broadcasts/estimate`: recipients and parts, by language, sending nothing.
pub async fn estimate(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Estimate>, ApiError> {
    let body = super::read_body(body)?;
    let (_, topic, estimate) = checked(&gw, &caller, &body).await?;
    tracing::debug!(topic = %topic.name, recipients = estimate.recipients, "broadcast estimated");
    Ok(Json(estimate))
}

pub async fn create(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = super::read_body(body)?;
    let key = idempotency_key(&headers)?;
    let (request, topic, estimate) = checked(&gw, &caller, &body).await?;
    let validity = check_validity(request.validity)?;
    let broadcast = Broadcast {
        id: new_broadcast_id(),
        agency_id: caller.agency.to_string(),
        topic_id: topic.id.clone(),
        texts: serde_json::to_string(&request.text).map_err(ApiError::internal)?,
        sender_id: request.from.clone(),
        status: "queued".into(),
        cursor_msisdn: String::new(),
        queued: 0,
        estimated_parts: estimate.parts,
        expires_ms: crate::sessions::now_ms() + (validity * 1000) as i64,
        created_at: crate::db::Timestamp::now(),
    };
    let answer = Created {
        id: broadcast.id.clone(),
        topic_id: topic.id.clone(),
        status: "queued",
        estimate,
    };
    let response = serde_json::to_string(&answer).map_err(ApiError::internal)?;
    let request_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
    let stored = create_broadcast(
        &gw.db,
        &broadcast,
        key.map(|k| (k, request_sha256.as_str(), response.as_str())),
    )
    .await
    .map_err(unavailable)?;
    if stored == crate::sms::store::accept::Stored::Accepted {
        tracing::info!(agency = %caller.agency, broadcast = %broadcast.id, topic = %topic.name,
            recipients = answer.estimate.recipients, "broadcast accepted");
        gw.sms.wake_broadcasts.notify_one();
    }
    answer_stored(stored, &request_sha256, response)
}

pub async fn one(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
) -> Result<Json<BroadcastView>, ApiError> {
    let (broadcast, counts) = progress(&gw.db, &caller.agency, &id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(BroadcastView::of(&broadcast, Some(counts))))
}

/// `GET /v1/broadcasts`: the agency's last 100 broadcasts, newest first, without counts.
pub async fn list(
    State(gw): State<AppState>,
    caller: AgencyCaller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let broadcasts = list_broadcasts(&gw.db, &caller.agency, None, 100)
        .await
        .map_err(unavailable)?;
    let views: Vec<BroadcastView> = broadcasts
        .iter()
        .map(|b| BroadcastView::of(b, None))
        .collect();
    Ok(Json(serde_json::json!({ "broadcasts": views })))
}

/// `POST /v1/broadcasts/{id}/cancel`: its progress after the cancellation.
pub async fn cancel(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
) -> Result<Json<BroadcastView>, ApiError> {
    let cancelled = cancel_broadcast(&gw.db, &caller.agency, &id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(agency = %caller.agency, broadcast = %id, cancelled, "broadcast cancelled");
    one(State(gw), caller, Path(id)).await
}

/// The request, its topic (the caller's, by name or id) and what it would cost.
async fn checked(
    gw: &AppState,
    caller: &AgencyCaller,
    body: &[u8],
) -> Result<(BroadcastRequest, Arc<Topic>, Estimate), ApiError> {
    let request: BroadcastRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("body is not a valid broadcast: {e}")))?;
    if request.text.is_empty() {
        return Err(invalid("text needs a variant in at least one language"));
    }
    for (language, text) in &request.text {
        check_text(text).map_err(|e| invalid(format!("text in {language}: {}", e.message)))?;
    }
    if let Some(from) = &request.from {
        let agency = gw
            .agencies
            .get(&caller.agency)
            .ok_or_else(|| ApiError::unavailable("the agency's record is not loaded yet; retry"))?;
        check_sender_id(&agency, from)?;
    }
    let wanted = crate::sms::inbound::keywords::normalise(&request.topic);
    let topic = gw
        .sms
        .topics
        .snapshot()
        .values()
        .find(|t| t.agency == caller.agency && (t.id == request.topic || t.name == wanted))
        .cloned()
        .ok_or_else(|| {
            invalid(format!(
                "topic {:?} is not one of this agency's",
                request.topic
            ))
        })?;
    let counts = subscribers_by_language(&gw.db, &topic.id)
        .await
        .map_err(unavailable)?;
    let estimate = estimate_for(&request.text, &counts);
    Ok((request, topic, estimate))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("no broadcast {id:?} of this agency"))
}

fn unavailable(e: crate::db::DbError) -> ApiError {
    tracing::error!(error = %e, "broadcasts not read or written");
    ApiError::unavailable("broadcasts cannot be read or written right now; retry")
}
