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

pub use preview::PREVIEW_TELCO;

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

/// Refuses a caller that is not on this machine, and a request another site made the
/// operator's browser send: a preview dials as any number, so a page elsewhere must not be
/// able to post one (cross-site forms) or read the menus (DNS rebinding puts another name
/// in `Host`). A proxy in front, even on this machine, is refused too: its callers are not.
fn local_only(gw: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Result<(), ApiError> {
    let source = client_ip(peer.ip(), headers, &gw.config.trusted_proxies);
    let refusal = if !source.is_loopback() {
        Some("not a loopback caller")
    } else if ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h))
    {
        Some("came through a proxy")
    } else if !header(headers, "host").is_some_and(is_loopback_authority) {
        Some("Host is not a loopback name")
    } else if header(headers, "origin").is_some_and(|origin| {
        !origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(is_loopback_authority)
    }) {
        Some("Origin is another site")
    } else if header(headers, "sec-fetch-site")
        .is_some_and(|site| site != "same-origin" && site != "none")
    {
        Some("sent on behalf of another site")
    } else {
        None
    };
    let Some(why) = refusal else {
        return Ok(());
    };
    tracing::warn!(peer = %source, why, "phone page request refused");
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "loopback_only",
        format!("the phone page's menus and previews answer the gateway's own machine only, from its own page ({why})"),
    ))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_authority;

    #[test]
    fn loopback_authorities() {
        for ok in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:80",
            "[::1]:8080",
            "127.0.0.2",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.1:8080",
            "127.0.0.1.evil.example",
            "",
        ] {
            assert!(!is_loopback_authority(refused), "{refused}");
        }
    }
}
