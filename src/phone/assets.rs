//! The page's three files, compiled into the binary so the page works from the gateway alone.
//! Each answer carries a strong `ETag` of its content and `Cache-Control: no-cache`: a browser
//! keeps its copy but asks again each time, getting a 304 until the gateway is upgraded, so an
//! old script never talks to a new gateway. The Content-Security-Policy lets the page load
//! nothing and talk to nothing but the gateway itself.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: LazyLock<HeaderValue>,
}

macro_rules! asset {
    ($file:literal, $content_type:literal) => {
        Asset {
            body: include_str!($file),
            content_type: $content_type,
            etag: LazyLock::new(|| etag_of(include_str!($file))),
        }
    };
}

static PAGE: Asset = asset!("assets/phone.html", "text/html; charset=utf-8");
static STYLE: Asset = asset!("assets/phone.css", "text/css; charset=utf-8");
static SCRIPT: Asset = asset!("assets/phone.js", "text/javascript; charset=utf-8");

const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

fn etag_of(body: &str) -> HeaderValue {
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    HeaderValue::from_str(&format!("\"{}\"", &digest[..16])).expect("hex is a valid header")
}

pub(super) async fn page(headers: HeaderMap) -> Response {
    serve(&PAGE, &headers)
}

pub(super) async fn style(headers: HeaderMap) -> Response {
    serve(&STYLE, &headers)
}

pub(super) async fn script(headers: HeaderMap) -> Response {
    serve(&SCRIPT, &headers)
}

fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let etag = &*asset.etag;
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let mut response = (
        StatusCode::OK,
        common,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        asset.body,
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    response
}
