//! `property_tax.fetch`: what a parcel owes the city council in property tax.
//!
//! - Not exactly 8 digits: `rejected`.
//! - Starting with `0`: `not_found` (no such parcel in the valuation roll).
//! - Ending with `0`: the parcel owes nothing (`dues` is empty).
//! - Otherwise the current financial year's tax (July to June, due 30 June), and for about a
//!   third of parcels the previous year's too, as arrears. Owner, street and amounts
//!   (whole shillings, 20,000 to 500,000 in steps of 1,000) are derived from the number.
//!   A due's `bill_id` is `PT<parcel>-<first year>`, payable with `payments.control_number`.
//!
//! Parcels worth quoting (held stable by a unit test; the years follow today's date):
//! - `20250415`: Salim Abdallah, Kisutu: this year's tax, TZS 152,000.00.
//! - `20250417`: Zawadi Mrema, Mchikichini: this year's TZS 113,000.00 and last year's
//!   arrears of TZS 373,000.00.
//! - `20250410`: nothing due.

use chrono::{Datelike, NaiveDate};
use serde_json::{json, Map, Value};

use super::bills::{shillings_to_string, CUSTOMER_NAMES};
use super::{rejected, required_str, ActionResult, Context, Outcome};
use crate::backoffice::ids::seed;

/// Streets of Ilala, where the demo's parcels stand.
const STREETS: &[&str] = &[
    "Kariakoo",
    "Upanga",
    "Buguruni",
    "Tabata",
    "Vingunguti",
    "Mchikichini",
    "Gerezani",
    "Kisutu",
];

pub(super) fn fetch(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let parcel = required_str(params, "parcel")?;
    if parcel.len() != 8 || !parcel.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(rejected("parcel must be exactly 8 digits"));
    }
    if parcel.starts_with('0') {
        return Err(Outcome::NotFound(format!("no parcel {parcel}")));
    }
    let seed = seed(parcel);
    let pick = |shift: u32, count: usize| ((seed >> shift) % count as u64) as usize;
    let year = context.financial_year();
    let mut dues = Vec::new();
    if !parcel.ends_with('0') {
        dues.push(due(
            parcel,
            year,
            20_000 + (seed >> 8) % 481 * 1_000,
            false,
            context,
        ));
        if (seed >> 40).is_multiple_of(3) {
            dues.push(due(
                parcel,
                year - 1,
                20_000 + (seed >> 48) % 481 * 1_000,
                true,
                context,
            ));
        }
    }
    Ok(Outcome::Ok(json!({
        "parcel": parcel,
        "owner_name": CUSTOMER_NAMES[pick(0, CUSTOMER_NAMES.len())],
        "location": STREETS[pick(24, STREETS.len())],
        "dues": dues,
    })))
}

fn due(parcel: &str, year: i32, shillings: u64, arrears: bool, context: &Context) -> Value {
    let years = format!("{year}/{:02}", (year + 1) % 100);
    let description = match (context.swahili(), arrears) {
        (true, false) => format!("Kodi {years}"),
        (true, true) => format!("Malimbikizo {years}"),
        (false, false) => format!("Tax {years}"),
        (false, true) => format!("Arrears {years}"),
    };
    let due_date = NaiveDate::from_ymd_opt(year + 1, 6, 30).expect("30 June exists");
    let amount = shillings_to_string(shillings as i64);
    json!({
        "bill_id": bill_id(parcel.parse().expect("8 digits"), year),
        "description": description,
        "year": years,
        "amount": amount,
        "currency": "TZS",
        "due_date": due_date.format("%Y-%m-%d").to_string(),
        "min_amount": amount,
    })
}

/// The id of a parcel's property tax for the financial year starting in July of `year`.
pub(super) fn bill_id(parcel: u64, year: i32) -> String {
    format!("PT{parcel:08}-{year}")
}

/// The parcel and first year a bill id names, when it names one.
pub(super) fn parcel_of(bill_id: &str) -> Option<(&str, i32)> {
    let (parcel, year) = bill_id.strip_prefix("PT")?.split_once('-')?;
    let digits = parcel.len() == 8 && parcel.bytes().all(|b| b.is_ascii_digit());
    digits.then_some(())?;
    Some((parcel, year.parse().ok()?))
}

/// Who a property-tax control number pays.
pub(super) fn payee(context: &Context) -> &'static str {
    if context.swahili() {
        "Jiji la Ilala"
    } else {
        "Ilala City Council"
    }
}

impl Context<'_> {
    /// The year the current financial year (July to June) started in.
    pub(super) fn financial_year(&self) -> i32 {
        let today = self.today();
        if today.month() >= 7 {
            today.year()
        } else {
            today.year() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{ok_data, run};
    use super::super::{Action, Outcome};

    fn fetch(parcel: &str) -> Outcome {
        run(Action::PropertyTaxFetch, json!({ "parcel": parcel }), "en")
    }

    #[test]
    fn quoted_parcels_stay_stable() {
        let one = ok_data(fetch("20250415"));
        assert_eq!(
            (&one["owner_name"], &one["location"]),
            (&json!("Salim Abdallah"), &json!("Kisutu"))
        );
        assert_eq!(one["dues"].as_array().unwrap().len(), 1);
        assert_eq!(one["dues"][0]["amount"], "152000.00");
        assert_eq!(one["dues"][0]["description"], "Tax 2024/25");
        let two = ok_data(fetch("20250417"));
        let dues: Vec<_> = two["dues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["description"].as_str().unwrap(),
                    d["amount"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            dues,
            [
                ("Tax 2024/25", "113000.00"),
                ("Arrears 2023/24", "373000.00")
            ]
        );
        assert_eq!(ok_data(fetch("20250410"))["dues"], json!([]));
    }

    #[test]
    fn dues_are_payable_by_control_number() {
        let data = ok_data(fetch("20250415"));
        let due = &data["dues"][0];
        let issued = ok_data(run(
            Action::PaymentsControlNumber,
            json!({"bill_id": due["bill_id"], "amount": due["amount"]}),
            "en",
        ));
        let shown = ok_data(run(
            Action::PaymentsLookup,
            json!({"control_number": issued["control_number"]}),
            "sw",
        ));
        assert_eq!(shown["payee"], "Jiji la Ilala");
        assert_eq!(shown["amount"], due["amount"]);
        assert_eq!(shown["description"], "Kodi 2024/25");
    }

    #[test]
    fn unknown_and_bad_parcels() {
        assert!(matches!(fetch("01234567"), Outcome::NotFound(_)));
        for parcel in ["1234567", "123456789", "1234567a", ""] {
            assert!(matches!(fetch(parcel), Outcome::Rejected(_)), "{parcel:?}");
        }
    }
}
