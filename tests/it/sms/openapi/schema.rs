//! A small structural check of JSON against the document's schemas (types, `required`,
//! `properties`, `items`, `enum`, `const`, `pattern`, bounds, `date-time`, `$ref`, `allOf`),
//! enough to keep the document true without a validator crate; and the check that every
//! example fits its schema.

use super::{document, operations};
use serde_json::{json, Value};

/// `value` with its `$ref` followed, within `doc`.
pub fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .expect("a reference within the document");
            let target = doc.pointer(pointer);
            resolve(
                doc,
                target.unwrap_or_else(|| panic!("{reference} is not in the document")),
            )
        }
        None => value,
    }
}

/// `schema` with its `$ref` followed and its `allOf` merged into one object schema.
fn flatten(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
        return schema.clone();
    };
    let mut merged = json!({ "type": "object", "required": [], "properties": {} });
    for part in parts {
        let part = flatten(doc, part);
        if let Some(required) = part["required"].as_array() {
            merged["required"]
                .as_array_mut()
                .unwrap()
                .extend(required.iter().cloned());
        }
        if let Some(properties) = part["properties"].as_object() {
            let into = merged["properties"].as_object_mut().unwrap();
            into.extend(properties.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    merged
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("type {other} is not checked by this test"),
    }
}

/// Where `value` departs from `schema`, each as "where: what", added to `out`. An object
/// whose schema lists `properties` is closed unless it says `additionalProperties`, so that
/// an answer cannot carry what the document does not describe.
pub fn departures(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let schema = flatten(doc, schema);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(name) => vec![name],
        Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| has_type(value, t)) {
        out.push(format!("{at}: {value} is not of type {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            out.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if schema.get("const").is_some_and(|c| c != value) {
        out.push(format!("{at}: {value} is not {}", schema["const"]));
    }
    if let (Some(pattern), Some(text)) = (schema["pattern"].as_str(), value.as_str()) {
        if !regex::Regex::new(pattern).unwrap().is_match(text) {
            out.push(format!("{at}: {text:?} does not match {pattern}"));
        }
    }
    if let (Some("date-time"), Some(text)) = (schema["format"].as_str(), value.as_str()) {
        if chrono::DateTime::parse_from_rfc3339(text).is_err() {
            out.push(format!("{at}: {text:?} is not an RFC 3339 time"));
        }
    }
    if let Some(number) = value.as_f64() {
        let below = schema["minimum"].as_f64().is_some_and(|min| number < min);
        let above = schema["maximum"].as_f64().is_some_and(|max| number > max);
        if below || above {
            out.push(format!("{at}: {number} is out of bounds"));
        }
    }
    match value {
        Value::Object(fields) => {
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                if !fields.contains_key(name) {
                    out.push(format!("{at}: required property {name:?} is missing"));
                }
            }
            let Some(properties) = schema["properties"].as_object() else {
                return;
            };
            let open = schema["additionalProperties"].as_bool() == Some(true);
            for (name, field) in fields {
                match properties.get(name) {
                    Some(property) => {
                        departures(doc, property, field, &format!("{at}.{name}"), out)
                    }
                    None if !open => out.push(format!("{at}: property {name:?} is not documented")),
                    None => {}
                }
            }
        }
        Value::Array(items) if schema.get("items").is_some() => {
            for (i, item) in items.iter().enumerate() {
                departures(doc, &schema["items"], item, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The examples of `examples`, as (name, value).
fn examples(examples: &Value) -> Vec<(&String, &Value)> {
    let named = examples.as_object().into_iter().flatten();
    named
        .map(|(name, example)| (name, &example["value"]))
        .collect()
}

/// Every response example fits its response's schema; every request example that is to be
/// answered 2xx (body and parameters) fits the request's schemas. Webhooks included.
#[test]
fn every_example_fits_its_schema() {
    let doc = document();
    let webhooks = doc["webhooks"].as_object().expect("webhooks");
    let mut all = operations(&doc);
    for (name, item) in webhooks {
        all.push((
            format!("webhook {name}"),
            "post".into(),
            item["post"].clone(),
        ));
    }
    let mut wrong = Vec::new();
    for (path, method, op) in all {
        let mut accepted = Vec::new();
        for (status, response) in op["responses"].as_object().unwrap() {
            let response = resolve(&doc, response);
            for (media, content) in response["content"].as_object().into_iter().flatten() {
                for (name, value) in examples(&content["examples"]) {
                    let at = format!("{method} {path} {status} {media} example {name:?}");
                    departures(&doc, &content["schema"], value, &at, &mut wrong);
                    if status.starts_with('2') {
                        accepted.push(name.clone());
                    }
                }
            }
        }
        let webhook = path.starts_with("webhook");
        let answered_2xx = |name: &String| webhook || accepted.contains(name);
        let body = &op["requestBody"]["content"]["application/json"];
        for (name, value) in examples(&body["examples"])
            .into_iter()
            .filter(|(n, _)| answered_2xx(n))
        {
            let at = format!("{method} {path} request example {name:?}");
            departures(&doc, &body["schema"], value, &at, &mut wrong);
        }
        for parameter in op["parameters"].as_array().into_iter().flatten() {
            let parameter = resolve(&doc, parameter);
            for (name, value) in examples(&parameter["examples"])
                .into_iter()
                .filter(|(n, _)| answered_2xx(n))
            {
                let at = format!(
                    "{method} {path} parameter {} example {name:?}",
                    parameter["name"]
                );
                departures(&doc, &parameter["schema"], value, &at, &mut wrong);
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "examples that do not fit:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_finds_what_departs_from_a_schema() {
    let doc = document();
    let message = json!({ "$ref": "#/components/schemas/AcceptedMessage" });
    let good =
        json!({ "id": "msg_01JXHM57XR4TFF59TDWH9EDD1R", "to": "255754123456", "status": "queued" });
    let cases = [
        (good.clone(), 0),
        (
            json!({ "id": "msg_01JXHM57XR4TFF59TDWH9EDD1R", "to": "255754123456" }),
            1,
        ),
        (
            json!({ "id": "msg_1", "to": "255754123456", "status": "queued" }),
            1,
        ),
        (
            json!({ "id": "msg_01JXHM57XR4TFF59TDWH9EDD1R", "to": 255754123456_u64, "status": "sent" }),
            2,
        ),
        (
            json!({ "id": "msg_01JXHM57XR4TFF59TDWH9EDD1R", "to": "255754123456", "status": "queued", "cost": 1 }),
            1,
        ),
    ];
    for (value, count) in cases {
        let mut found = Vec::new();
        departures(&doc, &message, &value, "message", &mut found);
        assert_eq!(found.len(), count, "{value}: {found:?}");
    }
}
