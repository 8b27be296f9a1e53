//! The document's webhook examples are the bodies the gateway builds for those status
//! changes, signed as it signs them, so that an agency can test its verifier against them.

use super::document;
use super::schema::resolve;
use mgov::app::DEMO_SIGNING_SECRET;
use mgov::backoffice::signature;
use mgov::sms::inbound::route::received_payload;
use mgov::sms::inbound::services::SmsService;
use mgov::sms::inbound::store::ClaimedMo;
use mgov::sms::store::events::{webhook_payload, StatusChange};
use serde_json::Value;

#[test]
fn webhook_examples_are_what_the_gateway_sends_and_signs() {
    let doc = document();
    let post = &doc["webhooks"]["messageStatus"]["post"];
    let parameters: Vec<&Value> = post["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| resolve(&doc, p))
        .collect();
    let header = |name: &str| {
        *parameters
            .iter()
            .find(|p| p["name"] == name && p["in"] == "header")
            .unwrap_or_else(|| panic!("header {name} is documented"))
    };
    let signatures = header(signature::HEADER);
    header("Mgov-Webhook-Id");

    let examples = post["requestBody"]["content"]["application/json"]["examples"]
        .as_object()
        .unwrap();
    assert!(!examples.is_empty());
    for (name, example) in examples {
        let shown = &example["value"];
        let text = |field: &str| shown[field].as_str().map(String::from);
        let change = StatusChange {
            id: text("message_id").unwrap(),
            agency_id: "dawasa".into(),
            recipient: text("recipient").unwrap(),
            parts: shown["parts"].as_i64().unwrap() as i32,
            status: text("status").unwrap(),
            telco_id: text("telco"),
            telco_message_id: None,
            callback_url: None,
            last_error: None,
            purpose: "direct".into(),
        };
        let at = chrono::DateTime::parse_from_rfc3339(shown["at"].as_str().unwrap())
            .unwrap()
            .to_utc();
        let body = webhook_payload(&change, text("detail").as_deref(), &at);
        let sent: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(&sent, shown, "example {name:?} against the gateway's body");

        let documented = signatures["examples"][name]["value"].as_str().unwrap();
        let timestamp: i64 = documented
            .strip_prefix("t=")
            .and_then(|rest| rest.split(',').next())
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("example {name:?}: {documented}"));
        let signed = signature::sign(DEMO_SIGNING_SECRET.as_bytes(), timestamp, body.as_bytes());
        assert_eq!(
            documented, signed,
            "example {name:?}: the signature of {body}"
        );
    }
}

#[test]
fn the_forwarded_message_example_is_what_the_gateway_sends_and_signs() {
    let doc = document();
    let post = &doc["webhooks"]["messageReceived"]["post"];
    let shown =
        &post["requestBody"]["content"]["application/json"]["examples"]["forwarded"]["value"];
    let text = |field: &str| shown[field].as_str().unwrap().to_string();
    let mo = ClaimedMo {
        id: text("id"),
        telco_id: text("telco"),
        sender: text("from"),
        sender_is_number: true,
        shortcode: text("to"),
        text: text("text"),
        attempts: 1,
    };
    let service = SmsService {
        id: text("service_id"),
        agency: mgov::ids::AgencyId::parse("dawasa").unwrap(),
        shortcode: text("to"),
        keyword: text("keyword"),
        spec: serde_json::from_value(
            serde_json::json!({"keyword": text("keyword"), "forward": {}}),
        )
        .unwrap(),
    };
    let body = received_payload(&mo, &service, &text("arguments"), &text("received_at"));
    assert_eq!(&serde_json::from_str::<Value>(&body).unwrap(), shown);
    let parameters = post["parameters"].as_array().unwrap();
    let documented = parameters
        .iter()
        .find(|p| p["name"] == signature::HEADER)
        .map(|p| p["examples"]["forwarded"]["value"].as_str().unwrap())
        .unwrap();
    let timestamp: i64 = documented[2..documented.find(',').unwrap()]
        .parse()
        .unwrap();
    let signed = signature::sign(DEMO_SIGNING_SECRET.as_bytes(), timestamp, body.as_bytes());
    assert_eq!(documented, signed, "the signature of {body}");
}
