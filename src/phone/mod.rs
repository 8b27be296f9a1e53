//! The phone in the browser: `GET /phone` serves a feature-phone page (HTML, CSS and a small
//! script, embedded in the binary, loading nothing from elsewhere) that dials the gateway
//! exactly as an aggregator does, posting Africa's Talking forms or Hubtel JSON to
//! `/ussd/{telco}`. Served on the embedded default, elsewhere only with `phone_page = true`.
//!
//! It can also walk a menu version before it is published. A preview is a dialogue on the
//! page's own endpoint, `/phone/preview/{format}/{service}/{version}`, with the same wire
//! format as a telco's callback: the version stands in for its service's current one, for
//! that dialogue only. Nothing is published, no running dialogue changes, and no telco can
//! reach it. Its back-office calls are real calls, as a citizen's would be.
//!
//! - `assets`: the page, its style and script, with their content types and validators.
//! - `versions`: `GET /phone/menus`, each service's versions loaded, on disk and published.
//! - `drafts`: `POST /phone/drafts` checks a pasted menu file; the versions a preview can
//!   walk, each checked as `mgov menus check` would.
//! - `preview`: the preview dialogue's callback.
//!
//! Everything but the static files answers loopback callers only (after `trusted_proxies`):
//! a preview dials as any number the page types, which only a telco may otherwise do.

mod assets;
mod drafts;
mod preview;
mod versions;

use crate::app::AppState;
use crate::error::ApiError;
use crate::http::client_ip::client_ip;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Extension, Router};
use std::net::SocketAddr;
use std::sync::Arc;

/// Largest menu file the page may paste; the repository's are a few kilobytes.
const MAX_DRAFT_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/phone", get(assets::page))
        .route("/phone/phone.css", get(assets::style))
        .route("/phone/phone.js", get(assets::script))
        .route("/phone/menus", get(versions::list))
        .route(
            "/phone/drafts",
            post(drafts::check).layer(DefaultBodyLimit::max(MAX_DRAFT_BYTES)),
        )
        .route(
            "/phone/preview/{format}/{service}/{version}",
            post(preview::callback),
        )
        .layer(Extension(Arc::new(drafts::Drafts::default())))
}

/// Refuses a caller that is not on this machine.
fn local_only(gw: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Result<(), ApiError> {
    let source = client_ip(peer.ip(), headers, &gw.config.trusted_proxies);
    if source.is_loopback() {
        return Ok(());
    }
    tracing::warn!(peer = %source, "phone page request refused: not a loopback caller");
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "loopback_only",
        "the phone page's menus and previews answer callers on the gateway's own machine only",
    ))
}
