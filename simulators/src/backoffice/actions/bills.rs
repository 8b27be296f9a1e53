//! `bills.fetch`: the outstanding bill of an account.
//!
//! - Not exactly 8 digits: `rejected`.
//! - Starting with `0`: `not_found` (BBPS's "customer not found").
//! - Otherwise exactly one bill, every field derived from the account number: customer name,
//!   amount (whole shillings, 5,000 to 250,000 in steps of 500), payment option, description,
//!   and a due date 1 to 30 days after today (Dar es Salaam time). `bill_id` is `BL<account>`.
//!
//! Accounts worth quoting in tests and demos (held stable by a unit test):
//! - `12345678`: Salim Abdallah, 53000.00 TZS, `FULL`.
//! - `12345679`: Emmanuel Massawe, 30500.00 TZS, `PARTIAL`, at least 7500.00.
//! - `12345682`: Rehema Kombo, 175000.00 TZS, `EXACT`.

use chrono::Days;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::{rejected, required_str, ActionResult, Context, Outcome};
use crate::backoffice::ids::seed;

/// Also the owners of parcels in `property_tax`.
pub(super) const CUSTOMER_NAMES: &[&str] = &[
    "Amina Juma",
    "Baraka Mwakyusa",
    "Neema Mushi",
    "Juma Hassan",
    "Rehema Kombo",
    "Emmanuel Massawe",
    "Zawadi Mrema",
    "Salim Abdallah",
    "Grace Mollel",
    "Hamisi Said",
    "Upendo Lyimo",
    "Daudi Mwita",
];

const DESCRIPTIONS: &[&str] = &[
    "Water bill",
    "Property rate",
    "Business licence renewal",
    "Land rent",
    "Refuse collection fee",
    "Market stall levy",
];

const PAYMENT_OPTIONS: [&str; 3] = ["FULL", "PARTIAL", "EXACT"];

pub(super) fn fetch(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let account = required_str(params, "account")?;
    if account.len() != 8 || !account.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(rejected("account must be exactly 8 digits"));
    }
    if account.starts_with('0') {
        return Err(Outcome::NotFound(format!(
            "no customer with account {account}"
        )));
    }

    // Different bits of one seed for each field, so the fields vary independently.
    let seed = seed(account);
    let pick = |shift: u32, count: usize| ((seed >> shift) % count as u64) as usize;
    let shillings = 5_000 + ((seed >> 8) % 491) as i64 * 500;
    let payment_option = PAYMENT_OPTIONS[pick(20, PAYMENT_OPTIONS.len())];
    let min_shillings = match payment_option {
        // At least a quarter of the bill, in whole 500s.
        "PARTIAL" => shillings / 4 / 500 * 500,
        _ => shillings,
    };
    let due_date = context.today() + Days::new(1 + (seed >> 32) % 30);

    Ok(Outcome::Ok(json!({
        "account": account,
        "customer_name": CUSTOMER_NAMES[pick(0, CUSTOMER_NAMES.len())],
        "bills": [{
            "bill_id": format!("BL{account}"),
            "description": DESCRIPTIONS[pick(24, DESCRIPTIONS.len())],
            "amount": shillings_to_string(shillings),
            "currency": "TZS",
            "due_date": due_date.format("%Y-%m-%d").to_string(),
            "payment_option": payment_option,
            "min_amount": shillings_to_string(min_shillings),
        }],
    })))
}

/// The id of the bill of the 8-digit `account`.
pub(super) fn bill_id(account: u64) -> String {
    format!("BL{account:08}")
}

/// The account a bill id names, when it names one.
pub(super) fn account_of(bill_id: &str) -> Option<&str> {
    bill_id
        .strip_prefix("BL")
        .filter(|account| account.len() == 8 && account.bytes().all(|b| b.is_ascii_digit()))
}

/// `45000` → `"45000.00"`: money travels as a decimal string with two places.
pub(super) fn shillings_to_string(shillings: i64) -> String {
    Decimal::new(shillings * 100, 2).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::super::test_support::{ok_data, run};
    use super::super::{Action, Outcome};

    fn fetch(account: &str) -> Outcome {
        run(Action::BillsFetch, json!({ "account": account }), "en")
    }

    #[test]
    fn an_account_always_gets_the_same_single_bill() {
        let data = ok_data(fetch("12345678"));
        assert_eq!(data, ok_data(fetch("12345678")));
        let bills = data["bills"].as_array().unwrap();
        assert_eq!(bills.len(), 1);
        let bill = &bills[0];
        assert_eq!(bill["bill_id"], "BL12345678");
        assert_eq!(bill["currency"], "TZS");
        assert!(data["customer_name"].as_str().unwrap().contains(' '));
        // 2025-06-02 is "today" in the test context; due dates fall in the next 30 days.
        let due = bill["due_date"].as_str().unwrap();
        assert!(("2025-06-03"..="2025-07-02").contains(&due), "{due}");
    }

    #[test]
    fn amounts_are_whole_shillings_in_range_as_two_place_strings() {
        let mut options = HashSet::new();
        for account in (10_000_000..10_000_400).map(|n: u32| n.to_string()) {
            let data = ok_data(fetch(&account));
            let bill = &data["bills"][0];
            let amount = bill["amount"].as_str().unwrap();
            let (whole, cents) = amount.split_once('.').unwrap();
            assert_eq!(cents, "00", "{amount}");
            let whole: u32 = whole.parse().unwrap();
            assert!((5_000..=250_000).contains(&whole), "{amount}");
            let min: f64 = bill["min_amount"].as_str().unwrap().parse().unwrap();
            let option = bill["payment_option"].as_str().unwrap();
            match option {
                "PARTIAL" => assert!(min > 0.0 && min < f64::from(whole)),
                "FULL" | "EXACT" => assert_eq!(min, f64::from(whole)),
                other => panic!("unexpected option {other}"),
            }
            options.insert(option.to_owned());
        }
        assert_eq!(options.len(), 3, "every payment option shows up");
    }

    #[test]
    fn known_answers_stay_stable() {
        // Quoted in the module docs, so demos and the gateway's tests can rely on them.
        for (account, name, amount, option, min_amount) in KNOWN_ACCOUNTS {
            let data = ok_data(fetch(account));
            let bill = &data["bills"][0];
            assert_eq!(data["customer_name"], name, "{account}");
            assert_eq!(bill["amount"], amount, "{account}");
            assert_eq!(bill["payment_option"], option, "{account}");
            assert_eq!(bill["min_amount"], min_amount, "{account}");
        }
    }

    const KNOWN_ACCOUNTS: [(&str, &str, &str, &str, &str); 3] = [
        ("12345678", "Salim Abdallah", "53000.00", "FULL", "53000.00"),
        (
            "12345679",
            "Emmanuel Massawe",
            "30500.00",
            "PARTIAL",
            "7500.00",
        ),
        (
            "12345682",
            "Rehema Kombo",
            "175000.00",
            "EXACT",
            "175000.00",
        ),
    ];

    #[test]
    fn leading_zero_is_not_found_and_bad_accounts_are_rejected() {
        assert!(matches!(fetch("01234567"), Outcome::NotFound(_)));
        for account in ["1234567", "123456789", "1234567a", "", "  "] {
            assert!(
                matches!(fetch(account), Outcome::Rejected(_)),
                "{account:?}"
            );
        }
        let number = run(Action::BillsFetch, json!({ "account": 12345678 }), "en");
        assert!(matches!(number, Outcome::Rejected(_)));
        let missing = run(Action::BillsFetch, json!({}), "en");
        assert_eq!(
            missing,
            Outcome::Rejected("missing param `account`".to_owned())
        );
    }
}
