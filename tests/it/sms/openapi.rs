//! The OpenAPI document at `/v1/openapi.json` is true of the running gateway: it describes
//! exactly the `/v1` routes the router serves, every request example is answered with a
//! status the document gives for it, every JSON answer and example has the shape its schema
//! says, and the webhook examples are what the gateway sends and signs.
//!
//! Examples pair by name: a request is assembled from the body example and the parameter
//! examples of one name (a parameter without one takes its `example`, if any), and must be
//! answered with a status whose response has an example of that name; a refusal (4xx) must
//! be that example to the letter. An operation's examples are sent in name order, so
//! `idempotent` comes before `key_reused`, and each operation that takes a key is also sent
//! without one. The message the `found` example reads is stored first, as the document
//! shows it.

mod schema;
mod webhooks;

use crate::support::gateway::{embedded, TestGateway};
use mgov::agencies::keys::issue;
use mgov::ids::AgencyId;
use mgov::msisdn::Msisdn;
use mgov::sms::api::openapi::DOCUMENT;
use mgov::sms::api::ROUTES;
use mgov::sms::broadcasts::store::{create, Broadcast};
use mgov::sms::encoding::part_count;
use mgov::sms::inbound::services::SmsService;
use mgov::sms::inbound::services_store::{save_service, ServiceWrite};
use mgov::sms::message::{MessageId, Purpose};
use mgov::sms::store::accept::{accept, NewMessage};
use mgov::sms::subscriptions::store::{save_topic, TopicWrite};
use mgov::sms::subscriptions::Topic;
use schema::{departures, resolve};
use serde_json::Value;
use std::collections::BTreeSet;

/// The methods probed on every documented path.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("the document is JSON")
}

/// Every (path, method, operation) under `paths`, method in lower case.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                found.push((path.clone(), method.to_string(), op.clone()));
            }
        }
    }
    found
}

#[test]
fn the_document_lists_exactly_the_routes_the_router_serves() {
    let documented: BTreeSet<(String, String)> = operations(&document())
        .into_iter()
        .map(|(path, method, _)| (method.to_uppercase(), path))
        .collect();
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(
        documented, routed,
        "the document's operations against ROUTES"
    );

    // axum cannot list its routes, so the router's own source is read: every path it
    // routes must be in ROUTES (methods on those paths are probed by the next test).
    let source = include_str!("../../../src/sms/api/mod.rs");
    let literal = regex::Regex::new(r#"\.route\(\s*"([^"]*)""#).unwrap();
    let paths: BTreeSet<&str> = literal
        .captures_iter(source)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(
        literal.find_iter(source).count(),
        source.matches(".route(").count(),
        "every route in src/sms/api/mod.rs names its path as a literal"
    );
    let listed: BTreeSet<&str> = ROUTES.iter().map(|(_, path)| *path).collect();
    assert_eq!(
        paths, listed,
        "paths routed in src/sms/api/mod.rs against ROUTES"
    );
}

#[tokio::test]
async fn methods_the_document_does_not_list_are_refused_405() {
    let gw = embedded().await;
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let documented = METHODS.iter().find_map(|m| item.get(*m)).unwrap();
        let concrete = &calls(&doc, path, documented)[0].path;
        for method in METHODS.iter().filter(|m| item.get(**m).is_none()) {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = gw
                .http
                .request(method.clone(), gw.url(concrete))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 405, "{method} {path} is not documented");
        }
    }
    gw.stop().await;
}

/// One request an operation's examples make.
#[derive(Debug)]
struct Call {
    /// The examples' name; `None` for an operation that takes no input.
    name: Option<String>,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

/// The requests `op`'s examples make, in name order.
fn calls(doc: &Value, path: &str, op: &Value) -> Vec<Call> {
    let parameters: Vec<&Value> = op["parameters"]
        .as_array()
        .map(|ps| ps.iter().map(|p| resolve(doc, p)).collect())
        .unwrap_or_default();
    let bodies = &op["requestBody"]["content"]["application/json"]["examples"];
    let mut names: BTreeSet<String> = example_names(bodies);
    for parameter in &parameters {
        names.extend(example_names(&parameter["examples"]));
    }
    let names: Vec<Option<String>> = if names.is_empty() {
        vec![None]
    } else {
        names.into_iter().map(Some).collect()
    };
    names
        .into_iter()
        .map(|name| {
            let mut call = Call {
                path: path.to_string(),
                query: Vec::new(),
                headers: Vec::new(),
                body: name
                    .as_ref()
                    .map(|n| &bodies[n]["value"])
                    .filter(|b| !b.is_null())
                    .cloned(),
                name: name.clone(),
            };
            for parameter in &parameters {
                let value = name
                    .as_ref()
                    .map(|n| &parameter["examples"][n]["value"])
                    .filter(|v| !v.is_null())
                    .or_else(|| parameter.get("example"));
                let Some(value) = value else { continue };
                let parameter_name = parameter["name"].as_str().unwrap().to_string();
                let value = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                match parameter["in"].as_str().unwrap() {
                    "path" => {
                        call.path = call.path.replace(&format!("{{{parameter_name}}}"), &value)
                    }
                    "query" => call.query.push((parameter_name, value)),
                    "header" => call.headers.push((parameter_name, value)),
                    other => panic!("parameters in {other} are not sent by this test"),
                }
            }
            assert!(
                !call.path.contains('{'),
                "{path}: no example for {}",
                call.path
            );
            call
        })
        .collect()
}

fn example_names(examples: &Value) -> BTreeSet<String> {
    examples
        .as_object()
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default()
}

/// The statuses whose response has an example `name`, or no body to show one (any 2xx for
/// a call without a name).
fn documented_statuses(doc: &Value, op: &Value, name: Option<&str>) -> Vec<u16> {
    let responses = op["responses"].as_object().expect("responses");
    responses
        .iter()
        .filter(|(status, response)| {
            let content = resolve(doc, response)["content"].as_object();
            match name {
                Some(name) => {
                    content.is_some_and(|c| c.values().any(|m| m["examples"].get(name).is_some()))
                        // A success without a body (204) has no example to name.
                        || (content.is_none() && status.starts_with('2'))
                }
                None => true,
            }
        })
        .filter_map(|(status, _)| status.parse().ok())
        .filter(|status: &u16| name.is_some() || (200..300).contains(status))
        .collect()
}

/// Sends `call` (with `key` as its bearer, if any); what is wrong with the answer, if any.
async fn send_and_check(
    gw: &TestGateway,
    doc: &Value,
    method: &str,
    op: &Value,
    call: &Call,
    key: Option<&str>,
    expected: &[u16],
) -> Vec<String> {
    let what = format!(
        "{} {} example {:?}{}",
        method.to_uppercase(),
        call.path,
        call.name.as_deref().unwrap_or("(none)"),
        if key.is_some() { "" } else { " without a key" }
    );
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut request = gw
        .http
        .request(method, gw.url(&call.path))
        .query(&call.query);
    for (name, value) in &call.headers {
        request = request.header(name, value);
    }
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = &call.body {
        request = request.json(body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let text = answer.text().await.unwrap();
    if !expected.contains(&status) {
        return vec![format!(
            "{what}: answered {status} {text}; the document gives {expected:?}"
        )];
    }
    let response = resolve(doc, &op["responses"][status.to_string()]);
    let mut wrong = Vec::new();
    if let Some(documented) = response["headers"].as_object() {
        for (name, header) in documented {
            let header = resolve(doc, header);
            let value = headers.get(name).and_then(|v| v.to_str().ok());
            match (value, header["required"].as_bool() == Some(true)) {
                (None, true) => wrong.push(format!("{what}: header {name} missing")),
                (Some(value), _) => departures(
                    doc,
                    &header["schema"],
                    &Value::String(value.into()),
                    &format!("{what}: header {name}"),
                    &mut wrong,
                ),
                (None, false) => {}
            }
        }
    }
    let Some(content) = response["content"].as_object() else {
        return wrong;
    };
    let media = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("");
    let Some(documented) = content.get(media) else {
        wrong.push(format!(
            "{what}: answered {media:?}; the document gives {:?}",
            content.keys()
        ));
        return wrong;
    };
    let body = match media {
        "application/json" => match serde_json::from_str::<Value>(&text) {
            Ok(body) => body,
            Err(e) => return vec![format!("{what}: answer is not JSON ({e}): {text}")],
        },
        _ => Value::String(text),
    };
    departures(
        doc,
        &documented["schema"],
        &body,
        &format!("{what}: answer"),
        &mut wrong,
    );
    // A refusal holds no generated id or time, so it must be one of its examples to the
    // letter: the one of the call's name where there is one.
    if (400..500).contains(&status) {
        let examples = documented["examples"]
            .as_object()
            .expect("refusals have examples");
        let shown: Vec<&Value> = match call.name.as_ref().and_then(|n| examples.get(n)) {
            Some(example) => vec![&example["value"]],
            None => examples.values().map(|e| &e["value"]).collect(),
        };
        if !shown.contains(&&body) {
            wrong.push(format!(
                "{what}: answered {body}; the document shows {shown:?}"
            ));
        }
    }
    wrong
}

/// Stores the message the `found` example of `GET /v1/messages/{id}` reads, as the
/// document shows it, so that the example is answered 200.
async fn store_found_example(gw: &TestGateway, doc: &Value, agency: &AgencyId) {
    let shown = &doc["paths"]["/v1/messages/{id}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["examples"]["found"]["value"];
    let text = shown["text"].as_str().unwrap().to_string();
    let (encoding, parts) = part_count(&text);
    let message = NewMessage {
        id: MessageId::parse(shown["id"].as_str().unwrap()).expect("a message id"),
        recipient: Msisdn::parse(shown["to"].as_str().unwrap(), "255").unwrap(),
        sender_id: shown["from"].as_str().map(String::from),
        text,
        encoding,
        parts: parts as u32,
        callback_url: None,
        expires_ms: mgov::sessions::now_ms() + 3_600_000,
        purpose: Purpose::Direct,
    };
    let now = mgov::sessions::now_ms();
    accept(&gw.running.gateway.db, agency, &[message], None, now)
        .await
        .expect("the example message is stored");
}

/// Registers the service the `found` example of `GET /v1/services/sms/{id}` reads, as the
/// document shows it (the `taken` example of `POST /v1/services/sms` then collides with it).
async fn store_found_service(gw: &TestGateway, doc: &Value, agency: &AgencyId) {
    let shown = &doc["paths"]["/v1/services/sms/{id}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["examples"]["found"]["value"];
    let spec = serde_json::json!({
        "keyword": shown["keyword"],
        "aliases": shown["aliases"],
        "description": shown["description"],
        "forward": shown["forward"],
    });
    let service = SmsService {
        id: shown["id"].as_str().unwrap().to_string(),
        agency: agency.clone(),
        shortcode: shown["shortcode"].as_str().unwrap().to_string(),
        keyword: shown["keyword"].as_str().unwrap().to_string(),
        spec: serde_json::from_value(spec).expect("the example is a service"),
    };
    let saved = save_service(&gw.running.gateway.db, &service, false)
        .await
        .expect("the example service is stored");
    assert!(matches!(saved, ServiceWrite::Done(_)), "{saved:?}");
}

/// Stores the topics and the broadcast the examples of `/v1/topics/{id}` and
/// `/v1/broadcasts/{id}` read, as the document shows them (the `deleted` example deletes
/// the second topic).
async fn store_subscription_examples(gw: &TestGateway, doc: &Value, agency: &AgencyId) {
    let db = &gw.running.gateway.db;
    let example = |path: &str, method: &str, name: &str| {
        let parameters = doc["paths"][path][method]["parameters"].as_array().unwrap();
        let id = parameters.iter().find(|p| p["name"] == "id").unwrap();
        id["examples"][name]["value"].as_str().unwrap().to_string()
    };
    let shown = &doc["paths"]["/v1/topics/{id}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["examples"]["found"]["value"];
    let topics = [
        (example("/v1/topics/{id}", "get", "found"), "MVUA"),
        (
            example("/v1/topics/{id}", "delete", "deleted"),
            "KIPINDUPINDU",
        ),
    ];
    for (id, name) in topics.clone() {
        let topic = Topic {
            id,
            agency: agency.clone(),
            name: name.into(),
            description: serde_json::from_value(shown["description"].clone()).unwrap(),
        };
        let saved = save_topic(db, &topic, false).await.unwrap();
        assert!(matches!(saved, TopicWrite::Done), "{saved:?}");
    }
    gw.running.gateway.refresh_directories().await.unwrap();
    let broadcast = Broadcast {
        id: example("/v1/broadcasts/{id}", "get", "found"),
        agency_id: agency.to_string(),
        topic_id: topics[0].0.clone(),
        texts: r#"{"sw":"Tahadhari"}"#.into(),
        sender_id: None,
        status: "queued".into(),
        cursor_msisdn: String::new(),
        queued: 0,
        estimated_parts: 0,
        expires_ms: mgov::sessions::now_ms() + 3_600_000,
        created_at: mgov::db::Timestamp::now(),
    };
    create(db, &broadcast, None).await.unwrap();
}

#[tokio::test]
async fn every_request_example_is_answered_as_the_document_says() {
    let gw = embedded().await;
    let agency = AgencyId::parse("dawasa").unwrap();
    let (key, _) = issue(&gw.running.gateway.db, &agency).await.unwrap();

    let served = gw
        .http
        .get(gw.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200, "the document needs no key");
    let doc: Value = served.json().await.unwrap();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc, document(), "served as embedded");
    store_found_example(&gw, &doc, &agency).await;
    store_found_service(&gw, &doc, &agency).await;
    store_subscription_examples(&gw, &doc, &agency).await;

    let mut wrong = Vec::new();
    for (path, method, op) in operations(&doc) {
        let secured = op
            .get("security")
            .unwrap_or(&doc["security"])
            .as_array()
            .is_some_and(|s| !s.is_empty());
        let calls = calls(&doc, &path, &op);
        for call in &calls {
            let expected = documented_statuses(&doc, &op, call.name.as_deref());
            let key = secured.then_some(key.as_str());
            wrong.extend(send_and_check(&gw, &doc, &method, &op, call, key, &expected).await);
        }
        if secured {
            let refused = send_and_check(&gw, &doc, &method, &op, &calls[0], None, &[401]).await;
            wrong.extend(refused);
        }
    }

    // The example `too_large` has no request in the document (it would be 256 KiB long).
    let send = &doc["paths"]["/v1/messages"]["post"];
    let too_large = Call {
        name: Some("too_large".into()),
        path: "/v1/messages".into(),
        query: Vec::new(),
        headers: Vec::new(),
        body: Some(serde_json::json!({ "to": ["255754123456"], "text": "a".repeat(300 * 1024) })),
    };
    let expected = documented_statuses(&doc, send, Some("too_large"));
    wrong.extend(send_and_check(&gw, &doc, "post", send, &too_large, Some(&key), &expected).await);

    gw.stop().await;
    assert!(
        wrong.is_empty(),
        "the document is not true of the gateway:\n{}",
        wrong.join("\n")
    );
}
