//! `applications.submit`: accepts any service-specific fields and acknowledges receipt.
//!
//! The case id is 7 digits from a permuted counter, a `1` and a Luhn check digit, so
//! `cases.status` finds it and reports `RECEIVED`. The receipt number is `RC` and 8 digits, a
//! fixed permutation of the counter, so receipts are unique too. The receipt's digest is the hex SHA-256 of the params as
//! canonical JSON (object keys sorted, no whitespace), so either side can recompute it.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{rejected, rfc3339, ActionResult, Context, Outcome};
use crate::backoffice::ids::{luhn_digit, Permutation};

pub(super) fn submit(params: &Map<String, Value>, context: &Context) -> ActionResult {
    if params.is_empty() {
        return Err(rejected("nothing to submit: params is empty"));
    }
    let number = context
        .issuer
        .case_numbers
        .next()
        .ok_or_else(|| rejected("case numbers exhausted"))?;
    let payload = format!("{number:07}1");
    let case_id = format!("{payload}{}", luhn_digit(&payload));
    let receipt = Permutation::new(10_000, [0x7269_7461, 0x7265_6369, 0x7074_7321, 0x6d67_6f76])
        .apply(number);
    let mut canonical = String::new();
    write_canonical(&mut canonical, &Value::Object(params.clone()));
    Ok(Outcome::Ok(json!({
        "case_id": case_id,
        "receipt": {
            "id": format!("RC{receipt:08}"),
            "issued_at": rfc3339(context.now),
            "digest": hex::encode(Sha256::digest(canonical.as_bytes())),
        },
    })))
}

/// Canonical JSON written by hand rather than relying on `serde_json`'s map order, which
/// changes if any crate in the build enables its `preserve_order` feature.
fn write_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(out, value);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sha2::{Digest, Sha256};

    use super::super::test_support::{fixed_now, ok_data, run};
    use super::super::{perform, Action, Context, Issuer, Outcome};
    use super::write_canonical;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value = json!({"b": [{"z": 1, "a": "x"}], "a": {"d": null, "c": true}});
        let mut out = String::new();
        write_canonical(&mut out, &value);
        assert_eq!(out, r#"{"a":{"c":true,"d":null},"b":[{"a":"x","z":1}]}"#);
    }

    #[test]
    fn receipt_digest_covers_the_canonical_params() {
        let params = json!({"service": "birth_certificate", "child_name": "Neema"});
        let data = ok_data(run(Action::ApplicationsSubmit, params, "en"));
        let expected = Sha256::digest(br#"{"child_name":"Neema","service":"birth_certificate"}"#);
        assert_eq!(data["receipt"]["digest"], hex::encode(expected));
        assert_eq!(data["receipt"]["issued_at"], "2025-06-02T07:00:00Z");
    }

    #[test]
    fn issued_cases_are_found_as_received() {
        let issuer = Issuer::default();
        let context = Context {
            language: "en",
            msisdn: "255754123456",
            now: fixed_now(),
            issuer: &issuer,
            records: &Default::default(),
        };
        let params = json!({"service": "passport"});
        let first = ok_data(perform(
            Action::ApplicationsSubmit,
            params.as_object().unwrap(),
            &context,
        ));
        let second = ok_data(perform(
            Action::ApplicationsSubmit,
            params.as_object().unwrap(),
            &context,
        ));
        assert_ne!(first["case_id"], second["case_id"]);
        let case_id = first["case_id"].as_str().unwrap();
        assert_eq!(case_id.len(), 9, "{case_id}");
        let receipt = first["receipt"]["id"].as_str().unwrap();
        assert!(
            receipt.starts_with("RC") && receipt.len() == 10,
            "{receipt}"
        );
        assert_ne!(receipt, second["receipt"]["id"]);
        let status = ok_data(run(
            Action::CasesStatus,
            json!({ "case_id": case_id }),
            "en",
        ));
        assert_eq!(status["status"], "RECEIVED");
    }

    #[test]
    fn empty_submissions_are_rejected() {
        assert!(matches!(
            run(Action::ApplicationsSubmit, json!({}), "en"),
            Outcome::Rejected(_)
        ));
    }
}
