//! What a transaction record keeps of an answer: the amount, its currency and the reference
//! the citizen was given (control number, booking, case), wherever the action puts them.

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub reference: Option<String>,
}

const REFERENCE_FIELDS: &[&str] = &["control_number", "booking_ref", "case_id"];

pub fn summarise(data: &Value) -> Summary {
    // A bill lookup carries its money inside the first bill; other actions at the top.
    let money_holder = match data.get("bills").and_then(|b| b.get(0)) {
        Some(bill) if data.get("amount").is_none() => bill,
        _ => data,
    };
    let amount = money_holder.get("amount").and_then(|v| match v {
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None, // money is never a JSON number in the contract; a float is not trusted
    });
    let currency = money_holder
        .get("currency")
        .and_then(Value::as_str)
        .map(str::to_string);
    let reference = REFERENCE_FIELDS
        .iter()
        .find_map(|f| data.get(*f).and_then(Value::as_str))
        .or_else(|| data.pointer("/receipt/id").and_then(Value::as_str))
        .map(str::to_string);
    Summary {
        amount,
        currency,
        reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_number_answer() {
        let s = summarise(
            &json!({"control_number": "991234567890", "amount": "45000.00", "currency": "TZS"}),
        );
        assert_eq!(s.amount, Some(Decimal::from_str("45000.00").unwrap()));
        assert_eq!(s.currency.as_deref(), Some("TZS"));
        assert_eq!(s.reference.as_deref(), Some("991234567890"));
    }

    #[test]
    fn bill_lookup_answer_uses_the_first_bill() {
        let s = summarise(&json!({"bills": [{"amount": "1500.50", "currency": "TZS"}]}));
        assert_eq!(s.amount, Some(Decimal::from_str("1500.50").unwrap()));
        assert_eq!(s.reference, None);
    }

    #[test]
    fn float_amounts_are_not_trusted() {
        assert_eq!(summarise(&json!({"amount": 0.1})).amount, None);
    }
}
