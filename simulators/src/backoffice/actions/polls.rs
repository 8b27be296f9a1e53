//! `polls.answer` and `polls.my_answer`: a municipality's public consultation, one answer
//! per number, and the tally the agency reads (`GET /polls/{poll_id}/results`).
//!
//! - Polls come from a fixed catalogue ([`POLLS`]); an unknown `poll_id` is `rejected`.
//! - `polls.answer` takes `poll_id` and one param per question, named by the question's id,
//!   whose value is one of its choice ids (`service=good`, `frequency=twice`). The first answer
//!   of a number is counted; another from the same number is `rejected` and counts nothing (a
//!   repeated `request_id` replays the first answer, as for every action). `data`: `poll_id`,
//!   `answers[]` (`question`, `choice`, `label` in the request's language), `answered_at`,
//!   `receipt.id` (`MN` and 6 digits, the answer's place in the poll).
//! - `polls.my_answer` takes `poll_id`: the number's counted answer, as above, or `not_found`
//!   when it has not answered.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::{rejected, required_str, rfc3339, ActionResult, Context, Outcome};

/// A text in English and Swahili.
struct Texts {
    en: &'static str,
    sw: &'static str,
}

impl Texts {
    fn get(&self, swahili: bool) -> &'static str {
        if swahili {
            self.sw
        } else {
            self.en
        }
    }
}

struct Poll {
    id: &'static str,
    agency: &'static str,
    title: Texts,
    questions: &'static [Question],
}

struct Question {
    id: &'static str,
    text: Texts,
    choices: &'static [(&'static str, Texts)],
}

/// The polls this back office runs; the demo's `menus/maoni.toml` asks the first.
const POLLS: &[Poll] = &[Poll {
    id: "kinondoni-taka-2026",
    agency: "kinondoni",
    title: Texts {
        en: "Kinondoni Municipal Council: waste collection",
        sw: "Manispaa ya Kinondoni: ukusanyaji wa taka",
    },
    questions: &[
        Question {
            id: "service",
            text: Texts {
                en: "How is waste collection in your street?",
                sw: "Huduma ya kuzoa taka mtaani kwako ikoje?",
            },
            choices: &[
                (
                    "good",
                    Texts {
                        en: "Good",
                        sw: "Nzuri",
                    },
                ),
                (
                    "fair",
                    Texts {
                        en: "Fair",
                        sw: "Ya wastani",
                    },
                ),
                (
                    "poor",
                    Texts {
                        en: "Poor",
                        sw: "Mbaya",
                    },
                ),
                (
                    "none",
                    Texts {
                        en: "There is none",
                        sw: "Hakuna huduma",
                    },
                ),
            ],
        },
        Question {
            id: "frequency",
            text: Texts {
                en: "How often should waste be collected?",
                sw: "Taka zizolewe mara ngapi?",
            },
            choices: &[
                (
                    "weekly",
                    Texts {
                        en: "Once a week",
                        sw: "Mara moja kwa wiki",
                    },
                ),
                (
                    "twice",
                    Texts {
                        en: "Twice a week",
                        sw: "Mara mbili kwa wiki",
                    },
                ),
                (
                    "daily",
                    Texts {
                        en: "Every day",
                        sw: "Kila siku",
                    },
                ),
            ],
        },
    ],
}];

/// Counted answers per poll.
#[derive(Debug, Default)]
pub(crate) struct Ballots {
    polls: Mutex<HashMap<&'static str, Tally>>,
}

#[derive(Debug, Default)]
struct Tally {
    by_number: HashMap<String, Ballot>,
    /// `counts[question][choice]`, kept as answers arrive so results cost nothing to read.
    counts: Vec<Vec<u64>>,
}

#[derive(Debug)]
struct Ballot {
    /// The chosen choice's index, per question.
    choices: Vec<usize>,
    answered_at: DateTime<Utc>,
    place: usize,
}

pub(super) fn answer(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let poll = find_poll(required_str(params, "poll_id")?)?;
    if let Some(unknown) = params
        .keys()
        .find(|name| *name != "poll_id" && !poll.questions.iter().any(|q| q.id == *name))
    {
        return Err(rejected(format!(
            "poll {} has no question {unknown:?}",
            poll.id
        )));
    }
    let choices = poll
        .questions
        .iter()
        .map(|question| {
            let chosen = required_str(params, question.id)?;
            question
                .choices
                .iter()
                .position(|(id, _)| *id == chosen)
                .ok_or_else(|| {
                    let known: Vec<&str> = question.choices.iter().map(|(id, _)| *id).collect();
                    rejected(format!(
                        "{chosen:?} is not a choice of question {}; choices: {}",
                        question.id,
                        known.join(", ")
                    ))
                })
        })
        .collect::<Result<Vec<usize>, Outcome>>()?;

    let mut polls = context.records.ballots.polls.lock().expect("ballots lock");
    let tally = polls.entry(poll.id).or_default();
    if tally.by_number.contains_key(context.msisdn) {
        return Err(rejected(format!(
            "this number has already answered poll {}",
            poll.id
        )));
    }
    if tally.counts.is_empty() {
        tally.counts = poll
            .questions
            .iter()
            .map(|q| vec![0; q.choices.len()])
            .collect();
    }
    for (question, choice) in choices.iter().enumerate() {
        tally.counts[question][*choice] += 1;
    }
    let ballot = Ballot {
        choices,
        answered_at: context.now,
        place: tally.by_number.len() + 1,
    };
    let data = ballot_json(poll, &ballot, context.swahili());
    tally.by_number.insert(context.msisdn.to_owned(), ballot);
    Ok(Outcome::Ok(data))
}

pub(super) fn my_answer(params: &Map<String, Value>, context: &Context) -> ActionResult {
    let poll = find_poll(required_str(params, "poll_id")?)?;
    let polls = context.records.ballots.polls.lock().expect("ballots lock");
    match polls
        .get(poll.id)
        .and_then(|t| t.by_number.get(context.msisdn))
    {
        Some(ballot) => Ok(Outcome::Ok(ballot_json(poll, ballot, context.swahili()))),
        None => Err(Outcome::NotFound(format!(
            "this number has not answered poll {}",
            poll.id
        ))),
    }
}

/// The tally of `poll_id` with texts in English, or in Swahili for `sw`; `None` for a poll
/// this back office does not run.
pub(crate) fn results(ballots: &Ballots, poll_id: &str, language: &str) -> Option<Value> {
    let poll = POLLS.iter().find(|p| p.id == poll_id)?;
    let swahili = language.eq_ignore_ascii_case("sw");
    let polls = ballots.polls.lock().expect("ballots lock");
    let tally = polls.get(poll.id);
    let questions: Vec<Value> = poll
        .questions
        .iter()
        .enumerate()
        .map(|(q, question)| {
            let choices: Vec<Value> = question
                .choices
                .iter()
                .enumerate()
                .map(|(c, (id, label))| {
                    let count = tally
                        .and_then(|t| t.counts.get(q)?.get(c).copied())
                        .unwrap_or(0);
                    json!({ "id": id, "label": label.get(swahili), "count": count })
                })
                .collect();
            json!({ "id": question.id, "text": question.text.get(swahili), "choices": choices })
        })
        .collect();
    Some(json!({
        "poll_id": poll.id,
        "agency": poll.agency,
        "title": poll.title.get(swahili),
        "respondents": tally.map_or(0, |t| t.by_number.len()),
        "questions": questions,
    }))
}

fn find_poll(poll_id: &str) -> Result<&'static Poll, Outcome> {
    POLLS
        .iter()
        .find(|p| p.id == poll_id)
        .ok_or_else(|| rejected(format!("no poll {poll_id:?}")))
}

fn ballot_json(poll: &Poll, ballot: &Ballot, swahili: bool) -> Value {
    let answers: Vec<Value> = poll
        .questions
        .iter()
        .zip(&ballot.choices)
        .map(|(question, choice)| {
            let (id, label) = &question.choices[*choice];
            json!({ "question": question.id, "choice": id, "label": label.get(swahili) })
        })
        .collect();
    json!({
        "poll_id": poll.id,
        "answers": answers,
        "answered_at": rfc3339(ballot.answered_at.with_timezone(&Context::local_offset())),
        "receipt": { "id": format!("MN{:06}", ballot.place) },
    })
}

#[cfg(test)]
#[path = "polls_tests.rs"]
mod tests;
