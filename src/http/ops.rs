//! What operators and orchestrators poll: liveness, readiness and Prometheus metrics.

use crate::app::AppState;
use crate::ussd::Dialogues;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Ready when both shared parts answer; a load balancer stops sending hops otherwise.
async fn readyz(
    State(gw): State<AppState>,
    State(dialogues): State<Dialogues>,
) -> impl IntoResponse {
    // Causes go to the log; the answer only says which part is down.
    let sessions = dialogues
        .sessions
        .ping()
        .await
        .map_err(|e| tracing::warn!(error = %e, "readyz: sessions"));
    let database = gw
        .db
        .ping()
        .await
        .map_err(|e| tracing::warn!(error = %e, "readyz: database"));
    let dispatcher = dispatcher(&gw).await;
    let ready = sessions.is_ok() && database.is_ok() && dispatcher["status"] != "stuck";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let describe = |r: Result<(), ()>| if r.is_ok() { "ok" } else { "unavailable" };
    let body = serde_json::json!({
        "ready": ready,
        "sessions": describe(sessions),
        "database": describe(database),
        "dispatcher": dispatcher,
    });
    (status, Json(body))
}

/// How long a dispatcher round may last: a claim's lease, and a margin.
const DISPATCH_ROUND_LIMIT_MS: i64 = 120_000;

/// The SMS dispatcher: `ok` while its rounds keep finishing (`off` on a node configured
/// with none), with the queue it faces.
async fn dispatcher(gw: &AppState) -> serde_json::Value {
    let now = crate::sessions::now_ms();
    let last = gw
        .sms
        .last_dispatch_ms
        .load(std::sync::atomic::Ordering::Relaxed);
    // Before the first round ends (just started, or a first round still sending) it is
    // still ok: only a round that runs past any lease is a stuck dispatcher.
    let started = gw.started_ms;
    let since = if last == 0 { now - started } else { now - last };
    let status = if gw.config.sms.dispatchers == 0 {
        "off"
    } else if since <= DISPATCH_ROUND_LIMIT_MS {
        "ok"
    } else {
        "stuck"
    };
    let queue = crate::sms::store::read::queue_depth(&gw.db, now).await.ok();
    serde_json::json!({
        "status": status,
        "last_round_ms_ago": (last != 0).then_some(now - last),
        "queued": queue.map(|q| q.0),
        "most_overdue_ms": queue.and_then(|q| q.1),
    })
}

async fn metrics(State(gw): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        gw.metrics.render(),
    )
}
