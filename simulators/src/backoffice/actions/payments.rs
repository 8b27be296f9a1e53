//! `payments.control_number`: issues a GePG-style control number for a bill.
//!
//! Control numbers are `99` followed by 10 digits from a permuted counter: unique for the
//! life of the simulator, never sequential-looking. Repeats of a `request_id` are answered
//! from the idempotency store before this runs, so a retry never issues a second number.

use std::str::FromStr;

use chrono::Duration;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::{rejected, required_str, rfc3339, ActionResult, Context, Outcome};

/// How long an issued control number stays payable.
const VALIDITY_DAYS: i64 = 7;

pub(super) fn control_number(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let bill_id = required_str(params, "bill_id")?;
    let amount = parse_amount(params)?;
    let number = context
        .issuer
        .control_numbers
        .next()
        .ok_or_else(|| rejected("control numbers exhausted"))?;
    Ok(Outcome::Ok(json!({
        "control_number": format!("99{number:010}"),
        "bill_id": bill_id,
        "amount": amount.to_string(),
        "currency": "TZS",
        "expires_at": rfc3339(context.now + Duration::days(VALIDITY_DAYS)),
        "status": "ISSUED",
    })))
}

/// A positive decimal string with at most 2 places, rescaled to exactly 2 (`"500"` →
/// `"500.00"`). Numbers are refused: money never travels as a float.
fn parse_amount(params: &Map<String, Value>) -> Result<Decimal, Outcome> {
    let text = match params.get("amount") {
        Some(Value::Number(_)) => {
            return Err(rejected("amount must be a decimal string, not a number"))
        }
        _ => required_str(params, "amount")?,
    };
    let mut amount = Decimal::from_str(text)
        .map_err(|_| rejected(format!("amount {text:?} is not a decimal number")))?;
    if amount <= Decimal::ZERO {
        return Err(rejected("amount must be positive"));
    }
    if amount.normalize().scale() > 2 {
        return Err(rejected("amount has more than 2 decimal places"));
    }
    amount.rescale(2);
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::super::test_support::{fixed_now, ok_data};
    use super::super::{perform, Action, Context, Issuer, Outcome};

    fn issue(issuer: &Issuer, params: serde_json::Value) -> Outcome {
        let context = Context {
            language: "en",
            msisdn: "255754123456",
            now: fixed_now(),
            issuer,
            records: &Default::default(),
        };
        perform(
            Action::PaymentsControlNumber,
            params.as_object().unwrap(),
            &context,
        )
    }

    #[test]
    fn issues_a_12_digit_control_number_starting_with_99() {
        let issuer = Issuer::default();
        let data = ok_data(issue(
            &issuer,
            json!({"bill_id": "BL12345678", "amount": "45000"}),
        ));
        let number = data["control_number"].as_str().unwrap();
        assert_eq!(number.len(), 12, "{number}");
        assert!(number.starts_with("99") && number.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(data["amount"], "45000.00");
        assert_eq!(data["currency"], "TZS");
        assert_eq!(data["status"], "ISSUED");
        assert_eq!(data["expires_at"], "2025-06-09T07:00:00Z");
    }

    #[test]
    fn control_numbers_are_unique_over_100k_requests() {
        let issuer = Issuer::default();
        let params = json!({"bill_id": "BL12345678", "amount": "1000.50"});
        let numbers: HashSet<String> = (0..100_000)
            .map(|_| {
                let data = ok_data(issue(&issuer, params.clone()));
                data["control_number"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(numbers.len(), 100_000);
        assert!(numbers.iter().all(|n| n.len() == 12 && n.starts_with("99")));
    }

    #[test]
    fn rejects_missing_or_bad_amounts() {
        let issuer = Issuer::default();
        for amount in [
            json!(null),
            json!(45000),
            json!(45000.5),
            json!(""),
            json!("abc"),
            json!("0"),
            json!("-5.00"),
            json!("10.001"),
        ] {
            let outcome = issue(&issuer, json!({"bill_id": "BL1", "amount": amount}));
            assert!(matches!(outcome, Outcome::Rejected(_)), "{amount}");
        }
        let no_bill = issue(&issuer, json!({"amount": "10.00"}));
        assert!(matches!(no_bill, Outcome::Rejected(_)));
    }

    #[test]
    fn amounts_are_normalised_to_two_places() {
        let issuer = Issuer::default();
        for (given, expected) in [
            ("500", "500.00"),
            ("500.5", "500.50"),
            ("500.500", "500.50"),
        ] {
            let data = ok_data(issue(&issuer, json!({"bill_id": "BL1", "amount": given})));
            assert_eq!(data["amount"], expected);
        }
    }
}
