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
    let ready = sessions.is_ok() && database.is_ok();
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
    });
    (status, Json(body))
}

async fn metrics(State(gw): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        gw.metrics.render(),
    )
}
