//! `cases.status`: where an application stands, and the decision once there is one.
//!
//! - A case number is 9 digits, the last a Luhn check digit (as `applications.submit`
//!   issues them). Anything else is `rejected`; 9 digits that fail the check are `not_found`,
//!   as a mistyped number would be.
//! - The 8th digit picks the status, so tests can choose one: 1 and 7 `RECEIVED`, 2 and 8
//!   `IN_REVIEW`, 3 and 9 `NEEDS_DOCUMENTS` (which ones in `documents`), 4 `APPROVED`,
//!   5 `REJECTED` (why in `reason`), 6 and 0 `READY_FOR_COLLECTION`. `decision` is `APPROVED` or
//!   `REJECTED` once decided, else null. Issued cases have 1 there, so a new case reads
//!   `RECEIVED`.
//! - `status_text` says it all in the request's language, decision and reason included.
//! - `updated_at` is derived from the digits: 1 to 20 days ago, during office hours.
//!
//! Case numbers worth quoting (held stable by a unit test): `250417615` received,
//! `250417649` approved, `250417656` rejected, `250417664` ready, `250417610` not found.

use chrono::{Days, NaiveTime};
use serde_json::{json, Map, Value};

use super::{rejected, required_str, rfc3339, ActionResult, Context, Outcome};
use crate::backoffice::ids::{luhn_valid, seed};

/// One status: its code, the decision it carries, and its text in English and Swahili.
struct Status {
    code: &'static str,
    decision: Option<&'static str>,
    english: &'static str,
    swahili: &'static str,
}

/// Indexed by `(8th digit + 5) % 6`.
const STATUSES: [Status; 6] = [
    Status {
        code: "RECEIVED",
        decision: None,
        english: "Received, waiting for review.",
        swahili: "Limepokelewa, linasubiri kukaguliwa.",
    },
    Status {
        code: "IN_REVIEW",
        decision: None,
        english: "Being reviewed by an officer.",
        swahili: "Linashughulikiwa na afisa.",
    },
    Status {
        code: "NEEDS_DOCUMENTS",
        decision: None,
        english: "More documents needed: bring a copy of a parent's ID to the office.",
        swahili: "Nyaraka zaidi zinahitajika: leta nakala ya kitambulisho cha mzazi ofisini.",
    },
    Status {
        code: "APPROVED",
        decision: Some("APPROVED"),
        english:
            "Approved. Your document is being prepared; check here until it is ready to collect.",
        swahili: "Limekubaliwa. Hati yako inaandaliwa; fuatilia hapa hadi iwe tayari kuchukuliwa.",
    },
    Status {
        code: "REJECTED",
        decision: Some("REJECTED"),
        english:
            "Rejected: the names differ from the register. Apply again with the correct names.",
        swahili: "Limekataliwa: majina hayalingani na rejista. Omba upya ukiwa na majina sahihi.",
    },
    Status {
        code: "READY_FOR_COLLECTION",
        decision: Some("APPROVED"),
        english: "Ready: collect your document at the office with your receipt.",
        swahili: "Tayari: chukua hati yako ofisini ukiwa na risiti yako.",
    },
];

/// Why a rejected case was rejected, in English and Swahili.
const REJECTION_REASON: (&str, &str) = (
    "the names differ from the register",
    "majina hayalingani na rejista",
);

/// What a case needing documents still needs, in English and Swahili.
const MISSING_DOCUMENTS: (&str, &str) = (
    "a copy of a parent's ID",
    "nakala ya kitambulisho cha mzazi",
);

pub(super) fn status(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let digits = required_str(params, "case_id")?;
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(rejected("case_id must be 9 digits"));
    }
    if !luhn_valid(digits) {
        return Err(Outcome::NotFound(format!("no case {digits}")));
    }
    let status_digit = digits.as_bytes()[7] - b'0';
    let status = &STATUSES[usize::from(status_digit + 5) % STATUSES.len()];
    let pick = |(english, swahili): (&'static str, &'static str)| {
        if context.swahili() {
            swahili
        } else {
            english
        }
    };

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
        "case_id": digits,
        "status": status.code,
        "decision": status.decision,
        "reason": (status.code == "REJECTED").then(|| pick(REJECTION_REASON)),
        "documents": (status.code == "NEEDS_DOCUMENTS").then(|| pick(MISSING_DOCUMENTS)),
        "status_text": pick((status.english, status.swahili)),
        "updated_at": rfc3339(updated_at),
    })))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{ok_data, run};
    use super::super::{Action, Outcome};
    use crate::backoffice::ids::luhn_digit;

    fn status(case_id: &str, language: &str) -> Outcome {
        run(Action::CasesStatus, json!({ "case_id": case_id }), language)
    }

    /// A valid case number with `status_digit` in 8th place.
    fn case(status_digit: char) -> String {
        let payload = format!("2504176{status_digit}");
        format!("{payload}{}", luhn_digit(&payload))
    }

    #[test]
    fn the_eighth_digit_picks_the_status() {
        let expected = [
            ('1', "RECEIVED", None),
            ('2', "IN_REVIEW", None),
            ('3', "NEEDS_DOCUMENTS", None),
            ('4', "APPROVED", Some("APPROVED")),
            ('5', "REJECTED", Some("REJECTED")),
            ('6', "READY_FOR_COLLECTION", Some("APPROVED")),
            ('7', "RECEIVED", None),
            ('0', "READY_FOR_COLLECTION", Some("APPROVED")),
        ];
        for (digit, want, decision) in expected {
            let data = ok_data(status(&case(digit), "en"));
            assert_eq!(data["status"], want, "{digit}");
            assert_eq!(data["decision"], json!(decision), "{digit}");
            assert_eq!(data["case_id"], case(digit));
        }
    }

    #[test]
    fn quoted_cases_stay_stable() {
        assert_eq!(
            ["1", "4", "5", "6"].map(|d| case(d.chars().next().unwrap())),
            ["250417615", "250417649", "250417656", "250417664"]
        );
        assert!(matches!(status("250417610", "en"), Outcome::NotFound(_)));
    }

    #[test]
    fn a_decision_says_what_was_decided() {
        let rejected = ok_data(status(&case('5'), "sw"));
        assert_eq!(rejected["reason"], "majina hayalingani na rejista");
        assert!(rejected["status_text"]
            .as_str()
            .unwrap()
            .starts_with("Limekataliwa: majina"));
        let approved = ok_data(status(&case('4'), "en"));
        assert!(approved["status_text"]
            .as_str()
            .unwrap()
            .starts_with("Approved."));
        let documents = ok_data(status(&case('3'), "en"));
        assert_eq!(documents["documents"], "a copy of a parent's ID");
    }

    #[test]
    fn updated_at_is_deterministic_recent_and_local() {
        let updated = ok_data(status(&case('2'), "en"))["updated_at"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(updated, ok_data(status(&case('2'), "sw"))["updated_at"]);
        assert!(updated.ends_with("+03:00"), "{updated}");
        assert!(
            ("2025-05-13".."2025-06-02").contains(&&updated[..10]),
            "{updated}"
        );
    }

    #[test]
    fn a_failed_check_digit_is_not_found_and_bad_ids_rejected() {
        let mut typo = case('2').into_bytes();
        typo[8] = if typo[8] == b'9' { b'0' } else { typo[8] + 1 };
        let typo = String::from_utf8(typo).unwrap();
        assert!(matches!(status(&typo, "en"), Outcome::NotFound(_)));
        for case_id in ["CS250417612", "25041761", "2504176120", "25041761a", ""] {
            assert!(
                matches!(status(case_id, "en"), Outcome::Rejected(_)),
                "{case_id}"
            );
        }
    }
}
