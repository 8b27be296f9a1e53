//! `payments.control_number` and `payments.lookup`: GePG-style control numbers for the bills
//! the other actions answer (`bills.fetch`, `property_tax.fetch`).
//!
//! - `payments.control_number` takes a `bill_id` and an `amount`. An unknown or settled bill
//!   is `not_found`; an amount the bill does not allow (more than is due, less than its
//!   minimum) is `rejected`. The number is derived from the bill (see `control_numbers`), so
//!   asking again, with any `request_id`, gives the same number.
//! - `payments.lookup` takes a `control_number`: its bill, payee and amount due; `rejected`
//!   when the bill is already paid; `not_found` when no bill has that number.
//!
//! A number stays payable until the end of the 7th day after today (Dar es Salaam time).
//! Last month's water bill of any account is paid: for `12345678` its number is
//! `996282742831` (held stable by a unit test).

use std::str::FromStr;

use chrono::{Days, NaiveTime};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::control_numbers::{decode, encode, Kind};
use super::{bills, property_tax, rejected, required_str, rfc3339, ActionResult, Context, Outcome};

/// Days an issued control number stays payable after today.
const VALIDITY_DAYS: u64 = 7;

/// An unpaid bill as the control number needs it.
struct Bill {
    kind: Kind,
    key: u64,
    bill: Value,
    payee: &'static str,
    description: String,
}

pub(super) fn control_number(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let bill_id = required_str(params, "bill_id")?;
    let amount = parse_amount(params)?;
    let Bill {
        kind, key, bill, ..
    } = unpaid_bill(bill_id, context)
        .ok_or_else(|| Outcome::NotFound(format!("no unpaid bill {bill_id}")))?;
    let due = decimal(&bill["amount"]);
    let min = bill.get("min_amount").map_or(due, decimal);
    if amount > due || amount < min {
        return Err(rejected(format!(
            "amount {amount} is outside what bill {bill_id} allows ({min} to {due})"
        )));
    }
    Ok(Outcome::Ok(json!({
        "control_number": encode(kind, key),
        "bill_id": bill_id,
        "amount": amount.to_string(),
        "currency": "TZS",
        "expires_at": expires_at(context),
        "status": "ISSUED",
    })))
}

pub(super) fn lookup(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let number = required_str(params, "control_number")?;
    let not_found = || Outcome::NotFound(format!("no bill has control number {number}"));
    let (kind, key) = decode(number).ok_or_else(not_found)?;
    let bill_id = match kind {
        Kind::WaterPaid => {
            return Err(rejected(format!("control number {number} is already paid")))
        }
        Kind::Water => bills::bill_id(key),
        Kind::PropertyTax => property_tax::bill_id(key, context.financial_year()),
        Kind::PropertyTaxArrears => property_tax::bill_id(key, context.financial_year() - 1),
    };
    let Bill {
        bill,
        payee,
        description,
        ..
    } = unpaid_bill(&bill_id, context).ok_or_else(not_found)?;
    Ok(Outcome::Ok(json!({
        "control_number": number,
        "bill_id": bill_id,
        "payee": payee,
        "description": description,
        "amount": bill["amount"],
        "currency": "TZS",
        "expires_at": expires_at(context),
        "status": "ISSUED",
    })))
}

/// The unpaid bill `bill_id` names, as the action that lists it answers it today.
fn unpaid_bill(bill_id: &str, context: &Context) -> Option<Bill> {
    if let Some(account) = bills::account_of(bill_id) {
        let data = answer(bills::fetch(&params("account", account), context))?;
        return Some(Bill {
            kind: Kind::Water,
            key: account.parse().ok()?,
            bill: data["bills"][0].clone(),
            payee: "DAWASA",
            description: if context.swahili() {
                "Bili ya maji"
            } else {
                "Water bill"
            }
            .to_owned(),
        });
    }
    let (parcel, year) = property_tax::parcel_of(bill_id)?;
    let data = answer(property_tax::fetch(&params("parcel", parcel), context))?;
    let bill = data["dues"]
        .as_array()?
        .iter()
        .find(|due| due["bill_id"] == bill_id)?
        .clone();
    let kind = if year == context.financial_year() {
        Kind::PropertyTax
    } else {
        Kind::PropertyTaxArrears
    };
    Some(Bill {
        kind,
        key: parcel.parse().ok()?,
        description: bill["description"].as_str().unwrap_or_default().to_owned(),
        bill,
        payee: property_tax::payee(context),
    })
}

fn params(name: &str, value: &str) -> Map<String, Value> {
    Map::from_iter([(name.to_owned(), Value::String(value.to_owned()))])
}

fn answer(result: ActionResult) -> Option<Value> {
    match result {
        Ok(Outcome::Ok(data)) => Some(data),
        _ => None,
    }
}

fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .and_then(|text| Decimal::from_str(text).ok())
        .unwrap_or_default()
}

/// The end of the 7th day after today, local time: the same all day, so that a number
/// asked for twice is answered the same.
fn expires_at(context: &Context) -> String {
    let day = context.today() + Days::new(VALIDITY_DAYS);
    let end = day
        .and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time"))
        .and_local_timezone(Context::local_offset())
        .single()
        .expect("a fixed offset has no gaps");
    rfc3339(end)
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

    use super::super::control_numbers::{encode, Kind};
    use super::super::test_support::{ok_data, run};
    use super::super::{Action, Outcome};

    fn issue(params: serde_json::Value) -> Outcome {
        run(Action::PaymentsControlNumber, params, "en")
    }

    fn lookup(number: &str, language: &str) -> Outcome {
        run(
            Action::PaymentsLookup,
            json!({ "control_number": number }),
            language,
        )
    }

    #[test]
    fn one_unpaid_bill_has_one_control_number() {
        let params = json!({"bill_id": "BL12345678", "amount": "53000.00"});
        let data = ok_data(issue(params.clone()));
        let number = data["control_number"].as_str().unwrap();
        assert_eq!(number.len(), 12, "{number}");
        assert!(number.starts_with("99") && number.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(data["amount"], "53000.00");
        assert_eq!(data["status"], "ISSUED");
        // 2025-06-02 is today in the test context: the end of 9 June, Dar es Salaam time.
        assert_eq!(data["expires_at"], "2025-06-09T23:59:59+03:00");
        assert_eq!(ok_data(issue(params)), data, "asked again: the same answer");
    }

    #[test]
    fn different_bills_never_share_a_number() {
        let numbers: HashSet<String> = (10_000_001..10_020_001)
            .map(|account: u32| {
                let bill = ok_data(run(
                    Action::BillsFetch,
                    json!({ "account": account.to_string() }),
                    "en",
                ))["bills"][0]
                    .clone();
                let data = ok_data(issue(
                    json!({"bill_id": bill["bill_id"], "amount": bill["amount"]}),
                ));
                data["control_number"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(numbers.len(), 20_000);
    }

    #[test]
    fn a_number_shows_its_bill_and_payee() {
        let number = ok_data(issue(
            json!({"bill_id": "BL12345678", "amount": "53000.00"}),
        ))["control_number"]
            .as_str()
            .unwrap()
            .to_owned();
        let data = ok_data(lookup(&number, "sw"));
        assert_eq!(data["bill_id"], "BL12345678");
        assert_eq!(data["payee"], "DAWASA");
        assert_eq!(data["amount"], "53000.00");
        assert_eq!(data["status"], "ISSUED");
    }

    #[test]
    fn paid_and_unknown_numbers() {
        // Quoted in the module docs.
        assert_eq!(encode(Kind::WaterPaid, 12_345_678), "996282742831");
        assert!(matches!(lookup("996282742831", "en"), Outcome::Rejected(_)));
        assert!(matches!(lookup("996282742830", "en"), Outcome::NotFound(_)));
        assert!(matches!(lookup("123", "en"), Outcome::NotFound(_)));
        // A well-formed number for an account that has no bill.
        let no_account = encode(Kind::Water, 1_234_567);
        assert!(matches!(lookup(&no_account, "en"), Outcome::NotFound(_)));
    }

    #[test]
    fn unknown_bills_and_amounts_out_of_range() {
        assert!(matches!(
            issue(json!({"bill_id": "BL1", "amount": "10.00"})),
            Outcome::NotFound(_)
        ));
        assert!(matches!(
            issue(json!({"bill_id": "BL02345678", "amount": "10.00"})),
            Outcome::NotFound(_)
        ));
        // 12345679 owes 30500.00 and may pay part of it, at least 7500.00.
        let partial = |amount: &str| issue(json!({"bill_id": "BL12345679", "amount": amount}));
        assert!(matches!(partial("10000.00"), Outcome::Ok(_)));
        assert!(matches!(partial("7000.00"), Outcome::Rejected(_)));
        assert!(matches!(partial("30500.50"), Outcome::Rejected(_)));
    }

    #[test]
    fn rejects_missing_or_bad_amounts() {
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
            let outcome = issue(json!({"bill_id": "BL12345678", "amount": amount}));
            assert!(matches!(outcome, Outcome::Rejected(_)), "{amount}");
        }
        let no_bill = issue(json!({"amount": "10.00"}));
        assert!(matches!(no_bill, Outcome::Rejected(_)));
    }

    #[test]
    fn amounts_are_normalised_to_two_places() {
        for given in ["53000", "53000.0", "53000.000"] {
            let data = ok_data(issue(json!({"bill_id": "BL12345678", "amount": given})));
            assert_eq!(data["amount"], "53000.00");
        }
    }
}
