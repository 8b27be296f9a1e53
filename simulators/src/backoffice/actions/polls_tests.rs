use serde_json::{json, Value};

use super::super::test_support::{fixed_now, ok_data};
use super::super::{perform, Action, Context, Issuer, Outcome, Records};
use super::results;

const POLL: &str = "kinondoni-taka-2026";

/// One back office, asked by several numbers.
#[derive(Default)]
struct Council {
    issuer: Issuer,
    records: Records,
}

impl Council {
    fn ask(&self, msisdn: &str, language: &str, action: Action, params: Value) -> Outcome {
        let context = Context {
            language,
            msisdn,
            now: fixed_now(),
            issuer: &self.issuer,
            records: &self.records,
        };
        perform(action, params.as_object().expect("params object"), &context)
    }

    fn vote(&self, msisdn: &str, service: &str, frequency: &str) -> Outcome {
        let params = json!({ "poll_id": POLL, "service": service, "frequency": frequency });
        self.ask(msisdn, "sw", Action::PollsAnswer, params)
    }

    fn my_answer(&self, msisdn: &str, language: &str) -> Outcome {
        let params = json!({ "poll_id": POLL });
        self.ask(msisdn, language, Action::PollsMyAnswer, params)
    }

    fn counts(&self) -> Vec<Vec<u64>> {
        let tally = results(&self.records.ballots, POLL, "en").expect("a known poll");
        tally["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                q["choices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["count"].as_u64().unwrap())
                    .collect()
            })
            .collect()
    }
}

#[test]
fn an_answer_is_counted_once_per_number() {
    let council = Council::default();
    assert!(matches!(
        council.my_answer("255754000001", "sw"),
        Outcome::NotFound(_)
    ));
    let first = ok_data(council.vote("255754000001", "good", "twice"));
    assert_eq!(
        first["answers"],
        json!([
            { "question": "service", "choice": "good", "label": "Nzuri" },
            { "question": "frequency", "choice": "twice", "label": "Mara mbili kwa wiki" },
        ])
    );
    assert_eq!(first["receipt"]["id"], "MN000001");
    assert_eq!(first["answered_at"], "2025-06-02T10:00:00+03:00");

    let Outcome::Rejected(message) = council.vote("255754000001", "poor", "daily") else {
        panic!("a second answer from one number must be refused");
    };
    assert!(message.contains("already answered"), "{message}");
    // What the number answered, in the language asked; the refused answer changed nothing.
    assert_eq!(ok_data(council.my_answer("255754000001", "sw")), first);
    assert_eq!(
        ok_data(council.my_answer("255754000001", "en"))["answers"][1]["label"],
        "Twice a week"
    );

    assert_eq!(
        ok_data(council.vote("255754000002", "poor", "twice"))["receipt"]["id"],
        "MN000002"
    );
    assert_eq!(council.counts(), [vec![1, 0, 1, 0], vec![0, 2, 0]]);
}

#[test]
fn results_name_every_choice_in_the_language_asked() {
    let council = Council::default();
    ok_data(council.vote("255754000001", "none", "daily"));
    let tally = results(&council.records.ballots, POLL, "sw").unwrap();
    assert_eq!(tally["agency"], "kinondoni");
    assert_eq!(tally["respondents"], 1);
    assert_eq!(
        tally["questions"][0]["text"],
        "Huduma ya kuzoa taka mtaani kwako ikoje?"
    );
    assert_eq!(
        tally["questions"][0]["choices"][3],
        json!({ "id": "none", "label": "Hakuna huduma", "count": 1 })
    );
    assert_eq!(
        results(&Records::default().ballots, POLL, "en").unwrap()["respondents"],
        0
    );
    assert_eq!(
        results(&council.records.ballots, "no-such-poll", "en"),
        None
    );
}

#[test]
fn malformed_answers_are_rejected_and_count_nothing() {
    let council = Council::default();
    for params in [
        json!({ "poll_id": POLL, "service": "good" }),
        json!({ "poll_id": POLL, "service": "great", "frequency": "daily" }),
        json!({ "poll_id": POLL, "service": "good", "frequency": "daily", "colour": "red" }),
        json!({ "poll_id": "no-such-poll", "service": "good", "frequency": "daily" }),
        json!({ "service": "good", "frequency": "daily" }),
    ] {
        let outcome = council.ask("255754000001", "en", Action::PollsAnswer, params.clone());
        assert!(
            matches!(outcome, Outcome::Rejected(_)),
            "{params}: {outcome:?}"
        );
    }
    assert_eq!(council.counts(), [vec![0, 0, 0, 0], vec![0, 0, 0]]);
    // Still free to answer properly.
    ok_data(council.vote("255754000001", "fair", "weekly"));
}
