//! Callbacks the gateway must refuse, and telcos' end-of-dialogue notices.

use crate::support::gateway::{embedded, msisdn, production};
use mgov::telcos::WireFormat;
use mgov::ussd::store::{recent_session_records, EndReason};
use reqwest::StatusCode;

fn at_form(session: &str, phone: &str, text: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sessionId", session.to_string()),
        ("serviceCode", "*152*00#".into()),
        ("phoneNumber", phone.to_string()),
        ("networkCode", "63902".into()),
        ("text", text.to_string()),
    ]
}

#[tokio::test]
async fn unknown_and_unauthenticated_callers_touch_no_session() {
    let gw = production().await;
    let url = gw.url("/ussd/africastalking");
    let form = at_form("s-1", "+255754000111", "");

    let unknown = gw
        .http
        .post(gw.url("/ussd/nosuchtelco"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let anonymous = gw.http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Basic realm=\"mgov-gateway\""
    );
    let why: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(
        why["message"],
        "telco africastalking authenticates with HTTP Basic; no Authorization header was sent"
    );

    let wrong = gw
        .http
        .post(&url)
        .basic_auth("africastalking", Some("guess"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let why: serde_json::Value = wrong.json().await.unwrap();
    // Which half was wrong is never said.
    assert_eq!(
        why["message"],
        "wrong username or password for telco africastalking"
    );

    // The other telco's credentials do not open this telco's callback.
    let (user, secret) = gw.credentials["hubtel"].clone();
    let crossed = gw
        .http
        .post(&url)
        .basic_auth(user, Some(secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(crossed.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(
        gw.running.gateway.dialogues.sessions.count().await.unwrap(),
        0
    );
    assert!(gw.redis.as_ref().unwrap().keys().await.is_empty());

    let (user, secret) = gw.credentials["africastalking"].clone();
    let right = gw
        .http
        .post(&url)
        .basic_auth(user, Some(secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.unwrap().starts_with("CON "));
    gw.stop().await;
}

#[tokio::test]
async fn malformed_callbacks_get_a_4xx_with_a_reason() {
    let gw = embedded().await;
    let url = gw.url("/ussd/africastalking");
    let missing = gw
        .http
        .post(&url)
        .form(&[("phoneNumber", "+255754000111"), ("text", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("sessionId"),
        "{body}"
    );

    let bad_number = gw
        .http
        .post(&url)
        .form(&at_form("s-2", "not-a-number", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_number.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = bad_number.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("phone"),
        "{body}"
    );

    let huge = "x".repeat(20_000);
    let too_large = gw
        .http
        .post(&url)
        .form(&at_form("s-3", "+255754000111", &huge))
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let hubtel = gw.url("/ussd/hubtel");
    let not_json = gw
        .http
        .post(&hubtel)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let wrong_type = gw
        .http
        .post(&hubtel)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(
        gw.running.gateway.dialogues.sessions.count().await.unwrap(),
        0
    );
    gw.stop().await;
}

#[tokio::test]
async fn telcos_end_notices_are_recorded() {
    let gw = production().await;
    let (user, secret) = gw.credentials["africastalking"].clone();
    let number = msisdn();
    let mut phone = gw.phone(WireFormat::AfricasTalking, &number);
    phone.dial("*152*00#").await.unwrap();
    let notice = [
        ("sessionId", phone.session_id().to_string()),
        ("serviceCode", "*152*00#".into()),
        ("phoneNumber", format!("+{number}")),
        ("networkCode", "63902".into()),
        ("status", "Incomplete".into()),
        ("hopsCount", "1".into()),
        ("durationInMillis", "20000".into()),
    ];
    let ack = gw
        .http
        .post(gw.url("/ussd/africastalking"))
        .basic_auth(&user, Some(&secret))
        .form(&notice)
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), StatusCode::OK);

    let number = msisdn();
    let mut hubtel = gw.phone(WireFormat::Hubtel, &number);
    hubtel.dial("*152*00#").await.unwrap();
    let (user, secret) = gw.credentials["hubtel"].clone();
    let release = serde_json::json!({
        "Type": "Release", "Mobile": number, "SessionId": hubtel.session_id(),
        "ServiceCode": "*152*00#", "Message": "", "Operator": "vodacom", "Sequence": 2,
    });
    let ack = gw
        .http
        .post(gw.url("/ussd/hubtel"))
        .basic_auth(&user, Some(&secret))
        .json(&release)
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), StatusCode::OK);

    let mut reasons: Vec<_> = recent_session_records(&gw.running.gateway.db, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.end_reason)
        .collect();
    reasons.sort_by_key(|r| r.as_str());
    assert_eq!(reasons, [EndReason::TelcoTimeout, EndReason::UserCancelled]);
    assert_eq!(
        gw.running.gateway.dialogues.sessions.count().await.unwrap(),
        0
    );
    gw.stop().await;
}

#[tokio::test]
async fn an_answer_to_a_dialogue_that_is_over_is_not_applied_elsewhere() {
    let gw = embedded().await;
    let late = serde_json::json!({
        "Type": "Response", "Mobile": "255754000333", "SessionId": "long-gone",
        "ServiceCode": "*152*00#", "Message": "1", "Operator": "vodacom", "Sequence": 3,
    });
    let reply = gw
        .http
        .post(gw.url("/ussd/hubtel"))
        .json(&late)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["Type"], "Release");
    assert!(
        body["Message"].as_str().unwrap().contains("piga tena"),
        "{body}"
    );
    assert_eq!(
        gw.running.gateway.dialogues.sessions.count().await.unwrap(),
        0
    );
    gw.stop().await;
}

/// The value of one counter on `/metrics` (0 before it is first counted).
async fn counter(gw: &crate::support::gateway::TestGateway, series: &str) -> f64 {
    let metrics = gw.http.get(gw.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn bodies_over_the_limit_get_the_json_refusal_and_are_counted() {
    let gw = embedded().await;
    let limit = gw.running.gateway.config.max_callback_bytes;
    let series = "mgov_callbacks_refused_total{reason=\"body_too_large\"}";
    let before = counter(&gw, series).await;
    // One byte over, and far over: neither reaches an adapter, both are refused alike.
    for size in [limit + 1, 20_000] {
        let reply = gw
            .http
            .post(gw.url("/ussd/africastalking"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("x".repeat(size))
            .send()
            .await
            .unwrap();
        assert_eq!(
            reply.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "{size} bytes"
        );
        let body: serde_json::Value = reply.json().await.unwrap();
        assert_eq!(body["error"], "body_too_large", "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains(&limit.to_string()),
            "{body}"
        );
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    }
    let after = counter(&gw, series).await;
    // Other tests in this process may count refusals too, so at least these two.
    assert!(after >= before + 2.0, "{before} then {after}");
    assert_eq!(
        gw.running.gateway.dialogues.sessions.count().await.unwrap(),
        0
    );
    gw.stop().await;
}
