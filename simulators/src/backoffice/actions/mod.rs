//! The standard actions of the back-office contract, as pure functions of the request's
//! params, its language and the current time, plus the identifier sequences they draw from.
//!
//! Everything a test may want to predict is derived from the input (see each action's docs),
//! control numbers included (one bill, one number); only issued identifiers (booking
//! references, case ids) come from sequences, and only what citizens took for themselves
//! (booked slots, poll answers) is remembered.

mod applications;
mod appointments;
mod bills;
mod cases;
mod control_numbers;
mod payments;
mod polls;
mod property_tax;

pub(crate) use polls::results as poll_results;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::ids::Sequence;

/// One of the standard actions; the envelope's `action` field names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Action {
    BillsFetch,
    PaymentsControlNumber,
    CasesStatus,
    AppointmentsSlots,
    AppointmentsBook,
    ApplicationsSubmit,
    PaymentsLookup,
    PropertyTaxFetch,
    PollsAnswer,
    PollsMyAnswer,
}

impl Action {
    pub(crate) const ALL: [Action; 10] = [
        Action::BillsFetch,
        Action::PaymentsControlNumber,
        Action::CasesStatus,
        Action::AppointmentsSlots,
        Action::AppointmentsBook,
        Action::ApplicationsSubmit,
        Action::PaymentsLookup,
        Action::PropertyTaxFetch,
        Action::PollsAnswer,
        Action::PollsMyAnswer,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::BillsFetch => "bills.fetch",
            Action::PaymentsControlNumber => "payments.control_number",
            Action::CasesStatus => "cases.status",
            Action::AppointmentsSlots => "appointments.slots",
            Action::AppointmentsBook => "appointments.book",
            Action::ApplicationsSubmit => "applications.submit",
            Action::PaymentsLookup => "payments.lookup",
            Action::PropertyTaxFetch => "property_tax.fetch",
            Action::PollsAnswer => "polls.answer",
            Action::PollsMyAnswer => "polls.my_answer",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.name() == name)
    }

    /// Position in [`Action::ALL`], for per-action counters.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// What an action answers, always with HTTP 200.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Outcome {
    Ok(Value),
    NotFound(String),
    Rejected(String),
}

impl Outcome {
    /// The reply body: `{"status":"ok","data":...}` or `{"status":...,"message":...}`.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Outcome::Ok(data) => json!({ "status": "ok", "data": data }),
            Outcome::NotFound(message) => json!({ "status": "not_found", "message": message }),
            Outcome::Rejected(message) => json!({ "status": "rejected", "message": message }),
        }
    }
}

/// Sequences for the identifiers the back office issues; keyed randomly per instance.
#[derive(Debug)]
pub(crate) struct Issuer {
    /// 8 Crockford base-32 characters, after `BK`.
    booking_refs: Sequence,
    /// 7 digits, before a `1` and a check digit.
    case_numbers: Sequence,
}

impl Default for Issuer {
    fn default() -> Self {
        Issuer {
            booking_refs: Sequence::random(32 * 32 * 32 * 32),
            // 3162² is just under 10⁷: every number fits 7 digits.
            case_numbers: Sequence::random(3_162),
        }
    }
}

/// What citizens took for themselves, which others must not take again: booked slots and
/// poll answers.
#[derive(Debug, Default)]
pub(crate) struct Records {
    bookings: appointments::Bookings,
    pub(crate) ballots: polls::Ballots,
}

/// What an action may read besides its params.
pub(crate) struct Context<'a> {
    /// `sw` or `en` (anything else is answered in English).
    pub(crate) language: &'a str,
    /// The citizen the gateway asks for, as the envelope names them.
    pub(crate) msisdn: &'a str,
    pub(crate) now: DateTime<Utc>,
    pub(crate) issuer: &'a Issuer,
    pub(crate) records: &'a Records,
}

impl Context<'_> {
    /// Tanzania's offset: dates and office hours are local (EAT, UTC+3, no daylight saving).
    fn local_offset() -> FixedOffset {
        FixedOffset::east_opt(3 * 3600).expect("UTC+3 is a valid offset")
    }

    fn today(&self) -> NaiveDate {
        self.now.with_timezone(&Self::local_offset()).date_naive()
    }

    fn swahili(&self) -> bool {
        self.language.eq_ignore_ascii_case("sw")
    }
}

/// Runs `action` on `params`.
pub(crate) fn perform(action: Action, params: &Map<String, Value>, context: &Context) -> Outcome {
    let result = match action {
        Action::BillsFetch => bills::fetch(params, context),
        Action::PaymentsControlNumber => payments::control_number(params, context),
        Action::CasesStatus => cases::status(params, context),
        Action::AppointmentsSlots => appointments::slots(params, context),
        Action::AppointmentsBook => appointments::book(params, context),
        Action::ApplicationsSubmit => applications::submit(params, context),
        Action::PaymentsLookup => payments::lookup(params, context),
        Action::PropertyTaxFetch => property_tax::fetch(params, context),
        Action::PollsAnswer => polls::answer(params, context),
        Action::PollsMyAnswer => polls::my_answer(params, context),
    };
    result.unwrap_or_else(|outcome| outcome)
}

/// Actions return `Err` for early exits (`rejected`, `not_found`), so `?` reads naturally.
type ActionResult = Result<Outcome, Outcome>;

fn rejected(message: impl Into<String>) -> Outcome {
    Outcome::Rejected(message.into())
}

/// A required string param, trimmed and non-empty.
fn required_str<'a>(params: &'a Map<String, Value>, name: &str) -> Result<&'a str, Outcome> {
    match params.get(name) {
        None | Some(Value::Null) => Err(rejected(format!("missing param `{name}`"))),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.trim()),
        Some(Value::String(_)) => Err(rejected(format!("param `{name}` is empty"))),
        Some(_) => Err(rejected(format!("param `{name}` must be a string"))),
    }
}

/// An optional string param: absent or null is `None`, any other non-string is rejected.
fn optional_str<'a>(
    params: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, Outcome> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => required_str(params, name).map(Some),
    }
}

fn rfc3339<Tz: chrono::TimeZone>(time: DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// 2025-06-02 07:00 UTC, 10:00 in Dar es Salaam.
    pub(crate) fn fixed_now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-02T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    pub(crate) fn run(action: Action, params: Value, language: &str) -> Outcome {
        let issuer = Issuer::default();
        let context = Context {
            language,
            msisdn: "255754123456",
            now: fixed_now(),
            issuer: &issuer,
            records: &Records::default(),
        };
        perform(action, params.as_object().expect("params object"), &context)
    }

    pub(crate) fn ok_data(outcome: Outcome) -> Value {
        match outcome {
            Outcome::Ok(data) => data,
            other => panic!("expected ok, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.name()), Some(action));
            assert_eq!(Action::ALL[action.index()], action);
        }
        assert_eq!(Action::parse("bills.pay"), None);
    }

    #[test]
    fn outcomes_render_as_the_contract_envelope() {
        assert_eq!(
            Outcome::Ok(json!({"a": 1})).to_json(),
            json!({"status": "ok", "data": {"a": 1}})
        );
        assert_eq!(
            Outcome::NotFound("no".into()).to_json(),
            json!({"status": "not_found", "message": "no"})
        );
        assert_eq!(
            Outcome::Rejected("bad".into()).to_json(),
            json!({"status": "rejected", "message": "bad"})
        );
    }
}
