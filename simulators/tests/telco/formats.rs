//! Each format's answers and reports, as the gateway meets them.

use axum::http::StatusCode;
use mgov_simulators::telco::Credentials;
use serde_json::{json, Value};

use crate::rig::Rig;
use crate::{at_form, kannel_query, NUMBER};

#[tokio::test]
async fn africastalking_answers_201_and_reports_with_the_message_id() {
    let mut rig = Rig::start(&[], |settings, _| {
        settings.at_credentials = Some(Credentials::new("mgov", "at-key"));
        settings.at_report_credentials = Some(Credentials::new("dlr", "s3cret"));
    })
    .await;
    let (status, body) = rig.at_send("at-key", &at_form(NUMBER, "Habari")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let data = &body["SMSMessageData"];
    assert_eq!(data["Message"], "Sent to 1/1 Total Cost: TZS 20.0000");
    let recipient = &data["Recipients"][0];
    assert_eq!(recipient["statusCode"], 101);
    assert_eq!(recipient["status"], "Success");
    assert_eq!(recipient["number"], NUMBER);
    assert_eq!(recipient["cost"], "TZS 20.0000");
    let message_id = recipient["messageId"].as_str().unwrap();
    assert!(message_id.starts_with("ATXid_"), "{message_id}");

    let report = rig.next_report().await;
    assert_eq!(
        (report.method.as_str(), report.path.as_str()),
        ("POST", "/sms/africastalking/dlr")
    );
    assert_eq!(report.field("id"), message_id);
    assert_eq!(report.field("status"), "Success");
    assert_eq!(report.field("phoneNumber"), NUMBER);
    assert_eq!(report.field("networkCode"), "64002");
    assert_eq!(report.field("retryCount"), "0");
    assert!(!report.fields.contains_key("failureReason"));
    // "dlr:s3cret" in base64.
    assert_eq!(
        report.authorization.as_deref(),
        Some("Basic ZGxyOnMzY3JldA==")
    );

    let messages = rig.get("/messages?to=%2B255754123456").await;
    let expected = json!({
        "sequence": 1, "format": "africastalking", "to": "255754123456", "from": "MGOV",
        "text": "Habari", "coding": "gsm7", "parts": 1, "message_id": message_id,
        "outcome": "delivered", "duplicate": false, "dlr_mask": null, "dlr_url": null,
    });
    assert_eq!(messages["messages"], json!([expected]));
}

#[tokio::test]
async fn kannel_answers_202_and_gets_the_dlr_url_for_each_type_in_the_mask() {
    let mut rig = Rig::start(&[], |_, _| {}).await;
    let dlr_url = format!(
        "{}/sms/kannel/dlr?id=out-7&type=%d&to=%p&from=%P&reply=%A",
        rig.gateway
    );
    let (status, body) = rig
        .kannel_send(&kannel_query("Habari", "9", &dlr_url))
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::ACCEPTED, "0: Accepted for delivery")
    );

    let reports = rig.reports(2).await;
    let fields = |name: &str| -> Vec<&str> { reports.iter().map(|r| r.field(name)).collect() };
    assert!(reports
        .iter()
        .all(|r| r.method == "GET" && r.path == "/sms/kannel/dlr"));
    assert_eq!(fields("id"), ["out-7", "out-7"]);
    assert_eq!(fields("type"), ["8", "1"]);
    assert_eq!(fields("to"), [NUMBER, NUMBER]);
    assert_eq!(fields("from"), ["15200", "15200"]);
    assert_eq!(reports[0].field("reply"), "ACK/");
    let receipt = reports[1].field("reply");
    assert!(
        receipt.contains("stat:DELIVRD err:000 text:Habari"),
        "{receipt}"
    );
    let stats = rig.settled_stats().await;
    assert_eq!(stats["reports_sent"]["kannel"], json!({"1": 1, "8": 1}));
}

#[tokio::test]
async fn wrong_credentials_are_refused_as_each_format_refuses_them() {
    let rig = Rig::start(&[], |settings, _| {
        settings.at_credentials = Some(Credentials::new("mgov", "at-key"));
        settings.kannel_credentials = Some(Credentials::new("kannel", "smsbox"));
    })
    .await;
    let unauthorized = (
        StatusCode::UNAUTHORIZED,
        "The supplied authentication is invalid".to_owned(),
    );
    assert_eq!(
        rig.at_send("wrong", &at_form(NUMBER, "a")).await,
        unauthorized
    );
    let mut nobody = at_form(NUMBER, "a");
    nobody.retain(|(name, _)| *name != "username");
    assert_eq!(rig.at_send("at-key", &nobody).await, unauthorized);
    let mut query = kannel_query("a", "0", "");
    query[1].1 = "wrong";
    let forbidden = (
        StatusCode::FORBIDDEN,
        "Authorization failed for sendsms".to_owned(),
    );
    assert_eq!(rig.kannel_send(&query).await, forbidden);
    let stats = rig.get("/stats").await;
    assert_eq!(
        (stats["unauthorized"].clone(), stats["recipients"].clone()),
        (json!(3), json!(0))
    );
}

#[tokio::test]
async fn kannel_refuses_what_smsbox_refuses() {
    let rig = Rig::start(&[], |_, _| {}).await;
    let cases: [(&[(&str, &str)], &str); 7] = [
        (&[("text", "a")], "Missing receiver number, rejected"),
        (
            &[("to", ""), ("text", "a")],
            "Empty receiver number not allowed, rejected",
        ),
        (&[("to", NUMBER)], "Missing text, rejected"),
        (
            &[("to", NUMBER), ("text", "a"), ("coding", "3")],
            "Coding field misformed, rejected",
        ),
        (
            &[("to", NUMBER), ("text", "a"), ("dlr-mask", "x")],
            "DLR-Mask field misformed, rejected",
        ),
        (
            &[("to", NUMBER), ("text", "a"), ("dlr-url", "ftp://x")],
            "DLR-URL field misformed, rejected",
        ),
        (
            &[("to", "abc"), ("text", "a")],
            "Number(s) has/have been denied by white- and/or black-lists.",
        ),
    ];
    for (query, body) in cases {
        let answer = rig.kannel_send(query).await;
        assert_eq!(
            answer,
            (StatusCode::BAD_REQUEST, body.to_owned()),
            "{query:?}"
        );
    }
    assert_eq!(rig.get("/stats").await["bad_requests"], 7);
}

#[tokio::test]
async fn each_recipient_is_refused_on_its_own() {
    let rig = Rig::start(&[], |settings, _| {
        settings.at_sender_ids = vec!["MGOV".into()]
    })
    .await;
    let (_, body) = rig
        .at_send("key", &at_form(&format!("{NUMBER},hello"), "a"))
        .await;
    let body: Value = serde_json::from_str(&body).unwrap();
    let lines: Vec<(&Value, &Value)> = body["SMSMessageData"]["Recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (&r["statusCode"], &r["messageId"]))
        .collect();
    assert_eq!(lines[1], (&json!(403), &json!("None")));
    assert_eq!(lines[0].0, &json!(101));
    let mut other_sender = at_form(NUMBER, "a");
    other_sender[3].1 = "OTHER";
    let (_, body) = rig.at_send("key", &other_sender).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["SMSMessageData"]["Recipients"][0]["status"],
        "InvalidSenderId"
    );
    assert_eq!(
        body["SMSMessageData"]["Message"],
        "Sent to 0/1 Total Cost: 0"
    );
}

#[tokio::test]
async fn the_handset_shows_what_kannel_makes_of_the_coding() {
    let rig = Rig::start(&[], |_, _| {}).await;
    let text = "Asante “sana”";
    let cases = [
        (
            vec![("coding", "2"), ("charset", "UTF-8")],
            "Asante “sana”",
            "ucs2",
        ),
        (vec![], "Asante ?sana?", "gsm7"),
    ];
    for (extra, shown, coding) in cases {
        let mut query = vec![("to", NUMBER), ("text", text)];
        query.extend(extra);
        assert_eq!(rig.kannel_send(&query).await.0, StatusCode::ACCEPTED);
        let messages = rig.get("/messages?to=255754123456").await;
        let last = messages["messages"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(
            (last["text"].as_str(), last["coding"].as_str()),
            (Some(shown), Some(coding))
        );
    }
    assert_eq!(rig.get("/stats").await["text_lost_in_coding"], 1);
}

#[tokio::test]
async fn africastalking_refuses_what_it_cannot_read() {
    let rig = Rig::start(&[], |_, _| {}).await;
    let url = format!("{}/version1/messaging", rig.telco);
    let without_accept = rig.http.post(&url).form(&at_form(NUMBER, "a")).send().await;
    assert_eq!(without_accept.unwrap().status(), StatusCode::NOT_ACCEPTABLE);
    let cases = [
        (vec![("to", NUMBER)], StatusCode::BAD_REQUEST),
        (vec![("message", "a")], StatusCode::BAD_REQUEST),
        (
            vec![("to", " , "), ("message", "a")],
            StatusCode::BAD_REQUEST,
        ),
        (vec![("to", NUMBER), ("message", "a")], StatusCode::CREATED),
    ];
    for (form, status) in cases {
        assert_eq!(rig.at_send("key", &form).await.0, status, "{form:?}");
    }
    assert_eq!(rig.get("/stats").await["bad_requests"], 4);
}

#[tokio::test]
async fn the_router_mounts_under_a_prefix() {
    let settings = mgov_simulators::telco::Settings {
        at_report_url: None,
        ..Default::default()
    };
    let app = axum::Router::new().nest(
        "/simulators/telco",
        mgov_simulators::telco::router(settings),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/simulators/telco", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    let sent = http
        .get(format!("{base}/cgi-bin/sendsms"))
        .query(&[("to", NUMBER), ("text", "Habari")])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let stats: Value = http
        .get(format!("{base}/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests_by_format"]["kannel"], 1);
}
