//! `cases.status`: where an application stands.
//!
//! - Case ids are `CS` followed by 1 to 12 digits, or the digits alone (what a citizen types
//!   on a keypad); both name the same case. Anything else is `rejected`.
//! - Ids ending in `0` are `not_found`.
//! - The last digit picks the status, so tests can choose one: 1 and 6 `RECEIVED`, 2 and 7
//!   `IN_REVIEW`, 3 and 8 `NEEDS_DOCUMENTS`, 4 and 9 `DECIDED`, 5 `READY_FOR_COLLECTION`.
//!   Cases issued by `applications.submit` end in 1, so a new case reads `RECEIVED`.
//! - `updated_at` is derived from the digits: 1 to 20 days ago, during office hours.

use chrono::{Days, NaiveTime};
use serde_json::{json, Map, Value};

use super::{rejected, required_str, rfc3339, ActionResult, Context, Outcome};
use crate::backoffice::ids::seed;

/// (status, English text, Swahili text), indexed by `(last digit - 1) % 5`.
const STATUSES: [(&str, &str, &str); 5] = [
    (
        "RECEIVED",
        "Your application has been received and is waiting for review.",
        "Ombi lako limepokelewa na linasubiri kukaguliwa.",
    ),
    (
        "IN_REVIEW",
        "Your application is being reviewed.",
        "Ombi lako linashughulikiwa.",
    ),
    (
        "NEEDS_DOCUMENTS",
        "More documents are needed. Please bring them to the office.",
        "Nyaraka zaidi zinahitajika. Tafadhali ziwasilishe ofisini.",
    ),
    (
        "DECIDED",
        "A decision has been made on your application.",
        "Uamuzi umefanyika kuhusu ombi lako.",
    ),
    (
        "READY_FOR_COLLECTION",
        "Your document is ready for collection.",
        "Hati yako iko tayari kuchukuliwa.",
    ),
];

pub(super) fn status(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let case_id = required_str(params, "case_id")?;
    let digits = case_id.strip_prefix("CS").unwrap_or(case_id);
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(rejected("case_id must be CS followed by up to 12 digits"));
    }
    let last_digit = digits.as_bytes()[digits.len() - 1] - b'0';
    if last_digit == 0 {
        return Err(Outcome::NotFound(format!("no case {case_id}")));
    }
    let (status, english, swahili) = STATUSES[usize::from(last_digit - 1) % STATUSES.len()];

    let seed = seed(digits);
    let day = context.today() - Days::new(1 + seed % 20);
    let minute_of_day = 8 * 60 + (seed >> 16) % (9 * 60); // 08:00 to 16:59, local time
    let updated_at = day
        .and_time(
            NaiveTime::from_num_seconds_from_midnight_opt(minute_of_day as u32 * 60, 0)
                .expect("within a day"),
        )
        .and_local_timezone(Context::local_offset())
        .single()
        .expect("a fixed offset has no gaps");

    Ok(Outcome::Ok(json!({
        "case_id": format!("CS{digits}"),
        "status": status,
        "status_text": if context.swahili() { swahili } else { english },
        "updated_at": rfc3339(updated_at),
    })))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{ok_data, run};
    use super::super::{Action, Outcome};

    fn status(case_id: &str, language: &str) -> Outcome {
        run(Action::CasesStatus, json!({ "case_id": case_id }), language)
    }

    #[test]
    fn last_digit_picks_the_status() {
        let expected = [
            ("CS1001", "RECEIVED"),
            ("CS1002", "IN_REVIEW"),
            ("CS1003", "NEEDS_DOCUMENTS"),
            ("CS1004", "DECIDED"),
            ("CS1005", "READY_FOR_COLLECTION"),
            ("CS1006", "RECEIVED"),
            ("4419", "DECIDED"),
        ];
        for (case_id, want) in expected {
            assert_eq!(ok_data(status(case_id, "en"))["status"], want, "{case_id}");
        }
    }

    #[test]
    fn plain_digits_and_cs_prefix_name_the_same_case() {
        assert_eq!(
            ok_data(status("123457", "en")),
            ok_data(status("CS123457", "en"))
        );
        assert_eq!(ok_data(status("123457", "en"))["case_id"], "CS123457");
    }

    #[test]
    fn status_text_follows_the_language() {
        let english = ok_data(status("CS77", "en"));
        let swahili = ok_data(status("CS77", "sw"));
        assert_eq!(english["status"], swahili["status"]);
        assert_eq!(
            english["status_text"],
            "Your application is being reviewed."
        );
        assert_eq!(swahili["status_text"], "Ombi lako linashughulikiwa.");
    }

    #[test]
    fn updated_at_is_deterministic_recent_and_local() {
        let updated = ok_data(status("CS98765431", "en"))["updated_at"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(updated, ok_data(status("CS98765431", "sw"))["updated_at"]);
        assert!(updated.ends_with("+03:00"), "{updated}");
        assert!(
            ("2025-05-13".."2025-06-02").contains(&&updated[..10]),
            "{updated}"
        );
    }

    #[test]
    fn zero_endings_are_not_found_and_bad_ids_rejected() {
        assert!(matches!(status("CS120", "en"), Outcome::NotFound(_)));
        assert!(matches!(status("0", "en"), Outcome::NotFound(_)));
        for case_id in ["CS", "XY123", "CS12a", "1234567890123", "CS-12"] {
            assert!(
                matches!(status(case_id, "en"), Outcome::Rejected(_)),
                "{case_id}"
            );
        }
    }
}
