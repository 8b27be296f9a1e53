//! Broadcasts: one text, in each subscriber's language, to every subscriber of one of the
//! agency's topics. A broadcast is stored at once; its subscribers are then queued as
//! messages in chunks, in order of number, each chunk in one transaction with the point
//! reached, so that a node that stops mid-way leaves the rest to any other and nobody is
//! queued twice. Its messages are paced like any other and checked against STOP just before
//! each is sent. Cancelling holds back every message not yet handed to a telco.
//!
//! - `store`: broadcasts, their estimates, progress and cancellation.
//! - `worker`: queues subscribers of new broadcasts.

pub mod store;
pub mod worker;

use crate::language::Language;
use crate::sms::encoding::{part_count, Encoding};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The body of `POST /v1/broadcasts` (and of `/v1/broadcasts/estimate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BroadcastRequest {
    /// The topic's name (`MAFURIKO`) or id.
    pub topic: String,
    /// The text by language; a subscriber whose language has none gets the Swahili one,
    /// else the first.
    pub text: BTreeMap<Language, String>,
    /// A sender id registered for the agency.
    #[serde(default)]
    pub from: Option<String>,
    /// Seconds each message may wait to be sent; past that it is `expired`.
    #[serde(default)]
    pub validity: Option<u64>,
}

/// The text a subscriber in `language` gets, and the language it is in.
pub fn text_for(
    texts: &BTreeMap<Language, String>,
    language: Language,
) -> Option<(Language, &str)> {
    crate::language::pick(texts, language).map(|(l, text)| (l, text.as_str()))
}

/// What a broadcast will cost before it starts: subscribers and parts, by language.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Estimate {
    pub recipients: i64,
    pub parts: i64,
    pub by_language: BTreeMap<String, LanguageEstimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LanguageEstimate {
    pub recipients: i64,
    /// Which text they get, and its encoding and parts per message.
    pub text_language: String,
    pub encoding: Encoding,
    pub parts_each: usize,
}

/// The estimate for subscribers counted by language.
pub fn estimate(texts: &BTreeMap<Language, String>, subscribers: &[(Language, i64)]) -> Estimate {
    let mut estimate = Estimate::default();
    for (language, count) in subscribers {
        let Some((text_language, text)) = text_for(texts, *language) else {
            continue;
        };
        let (encoding, parts_each) = part_count(text);
        estimate.recipients += count;
        estimate.parts += count * parts_each as i64;
        estimate.by_language.insert(
            language.to_string(),
            LanguageEstimate {
                recipients: *count,
                text_language: text_language.to_string(),
                encoding,
                parts_each,
            },
        );
    }
    estimate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_get_their_language_else_swahili_and_parts_add_up() {
        let texts = BTreeMap::from([
            (
                Language::SWAHILI,
                "Tahadhari: mvua kubwa leo Jangwani.".to_string(),
            ),
            (
                Language::ENGLISH,
                format!("Flood warning: {}", "x".repeat(150)),
            ),
        ]);
        let fr = Language::parse("fr").unwrap();
        let counts = [(Language::SWAHILI, 10), (Language::ENGLISH, 3), (fr, 2)];
        let estimate = estimate(&texts, &counts);
        assert_eq!(estimate.recipients, 15);
        // Swahili fits one part; the English text takes two.
        assert_eq!(estimate.parts, 10 + 3 * 2 + 2);
        assert_eq!(estimate.by_language["fr"].text_language, "sw");
        assert_eq!(estimate.by_language["en"].parts_each, 2);
        assert_eq!(
            text_for(&texts, fr).map(|(l, _)| l),
            Some(Language::SWAHILI)
        );
    }
}
