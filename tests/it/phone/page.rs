//! `/phone` and its files: served with their content types and validators on the embedded
//! default, and outside it only when enabled.

use crate::support::gateway::{embedded, embedded_with, production_with};
use mgov_simulators::backoffice as simulator;
use reqwest::header;
use reqwest::StatusCode;

#[tokio::test]
async fn the_page_and_its_files_have_their_types_and_validators() {
    let gw = embedded().await;
    for (path, content_type, marker) in [
        ("/phone", "text/html; charset=utf-8", "<pre id=\"screen\""),
        ("/phone/phone.css", "text/css; charset=utf-8", ".screen"),
        (
            "/phone/phone.js",
            "text/javascript; charset=utf-8",
            "/ussd/",
        ),
    ] {
        let response = gw.http.get(gw.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], content_type, "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
            "{csp}"
        );
        let etag = headers[header::ETAG].clone();
        let body = response.text().await.unwrap();
        assert!(body.contains(marker), "{path} holds {marker:?}");
        // Nothing is loaded from anywhere but the gateway.
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path}"
        );

        let again = gw
            .http
            .get(gw.url(path))
            .header(header::IF_NONE_MATCH, etag.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            again.status(),
            StatusCode::NOT_MODIFIED,
            "{path} revalidates"
        );
        assert_eq!(again.headers()[header::ETAG], etag);
    }
    gw.stop().await;
}

#[tokio::test]
async fn the_page_is_not_served_when_disabled() {
    let gw = embedded_with(|c| c.phone_page = Some(false)).await;
    for path in ["/phone", "/phone/phone.js", "/phone/menus"] {
        let status = gw.http.get(gw.url(path)).send().await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn outside_the_embedded_default_the_page_is_served_only_when_enabled() {
    let off = production_with(simulator::Settings::default(), |_| {}).await;
    let status = off
        .http
        .get(off.url("/phone"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
    off.stop().await;

    let on = production_with(simulator::Settings::default(), |c| {
        c.phone_page = Some(true)
    })
    .await;
    let status = on.http.get(on.url("/phone")).send().await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
    // It lists what it can dial: the production telcos, each service's published version.
    let listing: serde_json::Value = on
        .http
        .get(on.url("/phone/menus"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let telcos = listing["telcos"].as_array().unwrap();
    assert!(telcos.iter().all(|t| t["open"] == false), "{telcos:?}");
    let maji = listing["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "maji")
        .expect("maji is listed");
    let current = &maji["versions"][0];
    assert_eq!(current["version"], maji["current"]);
    assert!(current["loaded"] == true && current["on_disk"] == true);
    assert!(current["published_at"].is_string(), "{current}");
    on.stop().await;
}
