//! Previews: a menu version not yet published (pasted into the page, or a file under
//! `menus/` changed but not reloaded) walked in a dialogue only the phone page can reach,
//! checked first as `mgov menus check` would.

use crate::support::gateway::{base_config, embedded_with, msisdn, TestGateway};
use mgov::db::Db;
use mgov::reports::{build_report, ReportQuery};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A service of its own at a root position no demo service takes.
pub(super) const DRAFT: &str = r#"
[service]
id = "jaribio"
agency = "dawasa"
title = { sw = "Jaribio", en = "Trial" }
start = "home"
position = 8

[states.home]
end = { sw = "Hili ni jaribio la menyu mpya.", en = "This is a trial of a new menu." }
"#;
pub(super) const DRAFT_SCREEN: &str = "Hili ni jaribio la menyu mpya.";

async fn paste(gw: &TestGateway, toml: &str) -> (StatusCode, Value) {
    let response = gw
        .http
        .post(gw.url("/phone/drafts"))
        .json(&json!({ "toml": toml }))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// One Africa's Talking hop to `path`: `(status, body)`.
async fn at_hop(gw: &TestGateway, path: &str, session: &str, text: &str) -> (StatusCode, String) {
    let number = format!("+{}", msisdn());
    let form = [
        ("sessionId", session),
        ("serviceCode", "*152*00#"),
        ("phoneNumber", number.as_str()),
        ("networkCode", "63902"),
        ("text", text),
    ];
    let response = gw.http.post(gw.url(path)).form(&form).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A Hubtel `Initiation` of `dialled` to `path`: `(status, body)`.
async fn hubtel_dial(gw: &TestGateway, path: &str, dialled: &str) -> (StatusCode, Value) {
    let hop = json!({
        "Type": "Initiation", "Mobile": msisdn(), "SessionId": format!("h-{}", ulid::Ulid::new()),
        "ServiceCode": "*152*00#", "Message": dialled, "Operator": "vodacom", "Sequence": 1,
    });
    let response = gw.http.post(gw.url(path)).json(&hop).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_pasted_draft_is_walked_by_its_preview_and_by_no_telco() {
    let gw = embedded_with(|_| {}).await;
    let (status, draft) = paste(&gw, DRAFT).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["service"], "jaribio");
    let version = draft["version"].as_str().unwrap();
    assert_eq!(version.len(), 12);

    // The preview's root menu lists the draft beside the published services.
    let at = format!("/phone/preview/africastalking/jaribio/{version}");
    let (status, root) = at_hop(&gw, &at, "p-1", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        root.starts_with("CON ") && root.contains("8. Jaribio"),
        "{root}"
    );
    assert!(root.contains("Maji"), "{root}");
    let (status, end) = at_hop(&gw, &at, "p-2", "8").await;
    assert_eq!(
        (status, end.as_str()),
        (StatusCode::OK, format!("END {DRAFT_SCREEN}").as_str())
    );
    let hubtel = format!("/phone/preview/hubtel/jaribio/{version}");
    let (status, end) = hubtel_dial(&gw, &hubtel, "*152*00*8#").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(end["Type"], "Release");
    assert_eq!(end["Message"], DRAFT_SCREEN);

    // A telco's citizen dialling the same thing never sees it.
    let (status, real) = at_hop(&gw, "/ussd/africastalking", "r-1", "8").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !real.contains(DRAFT_SCREEN) && !real.contains("Jaribio"),
        "{real}"
    );
    let menus = gw.running.gateway.menus.current();
    assert!(menus
        .services_by_position()
        .iter()
        .all(|m| m.id().as_str() != "jaribio"));

    // Previews are recorded, under their own telco, and kept out of the agencies' reports.
    let db = gw.running.gateway.db.clone();
    gw.stop().await;
    let Db::Sqlite(pool) = &db else {
        panic!("the embedded default runs on SQLite")
    };
    let previews: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ussd_sessions WHERE telco_id = 'phone-preview'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(previews, 2);
    let report = build_report(
        &db,
        &ReportQuery {
            agency: None,
            since: chrono::Utc::now() - chrono::Duration::hours(1),
        },
    )
    .await
    .unwrap();
    assert!(report.agencies.is_empty(), "{report:?}");
}

#[tokio::test]
async fn a_draft_with_problems_is_refused_with_every_message() {
    let gw = embedded_with(|_| {}).await;
    let broken = DRAFT
        .replace("agency = \"dawasa\"", "agency = \"hakuna\"")
        .replace("start = \"home\"", "start = \"nyumbani\"");
    let (status, refused) = paste(&gw, &broken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let problems: Vec<&str> = refused["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(!problems.is_empty());
    assert!(
        problems.iter().all(|p| p.starts_with("draft.toml")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("nyumbani")),
        "{problems:?}"
    );

    let unregistered = DRAFT.replace("agency = \"dawasa\"", "agency = \"hakuna\"");
    let (status, refused) = paste(&gw, &unregistered).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["problems"].to_string().contains("hakuna"),
        "{refused}"
    );

    let clash = DRAFT.replace("position = 8", "position = 1");
    let (status, refused) = paste(&gw, &clash).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["problems"]
            .to_string()
            .contains("position 1 is already taken"),
        "{refused}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn files_changed_on_disk_are_listed_and_previewed_before_a_reload() {
    let menus = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(base_config().menus_dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, menus.path().join(path.file_name().unwrap())).unwrap();
    }
    let dir = menus.path().to_path_buf();
    let gw = embedded_with(|c| c.menus_dir = dir).await;
    // Written after the gateway loaded its menus, and not reloaded.
    std::fs::write(menus.path().join("jaribio.toml"), DRAFT).unwrap();
    std::fs::write(
        menus.path().join("vunjika.toml"),
        "[service]\nid = \"vunjika\"\n",
    )
    .unwrap();

    let listing: Value = gw
        .http
        .get(gw.url("/phone/menus"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let service = |id: &str| -> Value {
        listing["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} is listed: {listing}"))
    };
    let jaribio = service("jaribio");
    let draft = &jaribio["versions"][0];
    assert!(jaribio["current"].is_null(), "{jaribio}");
    assert!(
        draft["on_disk"] == true && draft["loaded"] == false,
        "{draft}"
    );
    assert_eq!(draft["problems"], json!([]));
    let broken = service("vunjika");
    let problems = broken["versions"][0]["problems"].as_array().unwrap();
    assert!(
        !problems.is_empty() && problems[0].as_str().unwrap().contains("vunjika.toml"),
        "{broken}"
    );
    assert_eq!(listing["root_code"], "*152*00#");

    let version = draft["version"].as_str().unwrap();
    let (status, end) = hubtel_dial(
        &gw,
        &format!("/phone/preview/hubtel/jaribio/{version}"),
        "*152*00*8#",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(end["Message"], DRAFT_SCREEN);

    let broken_version = broken["versions"][0]["version"].as_str().unwrap();
    let (status, refused) = hubtel_dial(
        &gw,
        &format!("/phone/preview/hubtel/vunjika/{broken_version}"),
        "*152*00#",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused["problems"].as_array().unwrap().len(),
        problems.len()
    );

    let (status, unknown) = hubtel_dial(
        &gw,
        "/phone/preview/hubtel/jaribio/000000000000",
        "*152*00#",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    gw.stop().await;
}

#[tokio::test]
async fn menus_and_previews_answer_only_callers_on_the_same_machine() {
    let gw = embedded_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let remote = "203.0.113.7";
    let listing = gw
        .http
        .get(gw.url("/phone/menus"))
        .header("x-forwarded-for", remote)
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), StatusCode::FORBIDDEN);
    let pasted = gw
        .http
        .post(gw.url("/phone/drafts"))
        .header("x-forwarded-for", remote)
        .json(&json!({ "toml": DRAFT }))
        .send()
        .await
        .unwrap();
    assert_eq!(pasted.status(), StatusCode::FORBIDDEN);
    let body: Value = pasted.json().await.unwrap();
    assert_eq!(body["error"], "loopback_only");
    // Another site cannot make the operator's browser post a preview or read the menus.
    let maji = gw.running.gateway.menus.current();
    let version = maji
        .services_by_position()
        .into_iter()
        .find(|m| m.id().as_str() == "maji")
        .unwrap()
        .version()
        .to_string();
    let preview = gw.url(&format!("/phone/preview/africastalking/maji/{version}"));
    let form = [
        ("sessionId", "csrf-1"),
        ("serviceCode", "*152*00#"),
        ("phoneNumber", "+255754000999"),
        ("networkCode", "63902"),
        ("text", ""),
    ];
    let own_page = gw
        .http
        .post(&preview)
        .header("origin", gw.base_url.as_str())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(own_page.status(), StatusCode::OK);
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("host", "evil.example:8080"),
        ("x-real-ip", "127.0.0.1"),
    ] {
        let forged = gw
            .http
            .post(&preview)
            .header(name, value)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    // The page itself is only files, and served to anyone it is enabled for.
    let page = gw
        .http
        .get(gw.url("/phone"))
        .header("x-forwarded-for", remote)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    gw.stop().await;
}
