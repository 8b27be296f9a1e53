//! The subscription words citizens text to a shortcode, and what the gateway answers:
//! `JIUNGE <topic>` (Swahili) or `SUBSCRIBE <topic>` (English) joins a topic and answers in
//! that language; `STOP <topic>` leaves one; `STOP` (or `STOP` and any word that is no topic)
//! leaves every topic and holds back every message the citizen did not ask for. Each answer is one reply, and the change is written
//! with the message's routing, once.

use super::store::Change;
use super::topics::Topic;
use crate::language::Language;
use crate::sms::encoding::part_count;
use crate::sms::inbound::keywords::normalise;
use crate::sms::inbound::replies::in_language;
use crate::sms::inbound::route::{reply_to, RouteContext};
use crate::sms::inbound::store::{ClaimedMo, Routed};

/// The topic list takes at most this many parts; topics that do not fit are left out.
const LIST_PARTS: usize = 2;

/// Routes a message whose first word is `JIUNGE`, `SUBSCRIBE` or `STOP`; `rest` are the
/// words after it, `language` the citizen's remembered one.
pub fn route(
    mo: &ClaimedMo,
    command: &str,
    rest: &[&str],
    language: Language,
    cx: &RouteContext<'_>,
) -> Routed {
    let topic_word = rest.first().map(|w| normalise(w));
    let topic = topic_word.as_ref().and_then(|w| cx.topics.get(w));
    let msisdn = mo.sender.clone();
    let mut routed = Routed {
        keyword: Some(command.to_string()),
        ..Default::default()
    };
    let (text, outcome, detail, change) = match (command, topic) {
        // STOP with any word that is no topic (STOP ALL, STOP YOTE, a typo) stops everything:
        // whoever texts STOP wants less, never more.
        ("STOP", None) => (
            in_language(
                language,
                format!("Umejiondoa kwenye tahadhari zote za {0}. Tuma JIUNGE <mada> kujiunga tena.", mo.shortcode),
                format!("You will get no more alerts or unrequested messages from {0}. Send SUBSCRIBE <topic> to join again.", mo.shortcode),
            ),
            "stopped",
            match &topic_word {
                Some(word) => format!("no topic {word:?}: opted out of everything"),
                None => "opted out of everything".to_string(),
            },
            Some(Change::StopAll { msisdn }),
        ),
        ("STOP", Some(topic)) => {
            routed.agency_id = Some(topic.agency.to_string());
            (
                in_language(
                    language,
                    format!("Umejiondoa kwenye {0}. Tuma JIUNGE {0} kujiunga tena.", topic.name),
                    format!("You have left {0}. Send SUBSCRIBE {0} to join again.", topic.name),
                ),
                "unsubscribed",
                format!("left {}", topic.name),
                Some(Change::Leave { topic_id: topic.id.clone(), msisdn }),
            )
        }
        (_, Some(topic)) => {
            // The word chosen says the language: JIUNGE is Swahili, SUBSCRIBE English.
            let language = if command == "SUBSCRIBE" { Language::ENGLISH } else { Language::SWAHILI };
            routed.agency_id = Some(topic.agency.to_string());
            (
                in_language(
                    language,
                    format!("Umejiunga na {0}: {1}. Tuma STOP {0} kujiondoa.", topic.name, topic.describe(language)),
                    format!("You are subscribed to {0}: {1}. Send STOP {0} to leave.", topic.name, topic.describe(language)),
                ),
                "subscribed",
                format!("joined {}", topic.name),
                Some(Change::Join { topic_id: topic.id.clone(), msisdn, language, channel: "sms" }),
            )
        }
        (_, None) => {
            let language = match command {
                "SUBSCRIBE" => Language::ENGLISH,
                "JIUNGE" => Language::SWAHILI,
                _ => language,
            };
            let opening = topic_word.as_ref().map(|word| {
                let word: String = word.chars().take(20).collect();
                in_language(language, format!("Hatujui mada \"{word}\"."), format!("We know no topic \"{word}\"."))
            });
            let detail = match &topic_word {
                Some(word) => format!("no topic {word:?}"),
                None => "asked for the topics".to_string(),
            };
            (topic_list(language, cx, opening), "help", detail, None)
        }
    };
    routed.outcome = outcome;
    routed.detail = Some(detail);
    routed.reply = reply_to(mo, cx, text);
    routed.subscription = change;
    routed
}

/// The topics on offer, one line each, as many as fit in two parts.
fn topic_list(language: Language, cx: &RouteContext<'_>, opening: Option<String>) -> String {
    let mut text = opening.map(|o| format!("{o} ")).unwrap_or_default();
    if cx.topics.is_empty() {
        return text
            + &in_language(
                language,
                "Hakuna mada za kujiunga kwa sasa.".into(),
                "No topics to subscribe to right now.".into(),
            );
    }
    text += &in_language(
        language,
        "Tuma JIUNGE <mada>:".into(),
        "Send SUBSCRIBE <topic>:".into(),
    );
    let mut topics: Vec<&Topic> = cx.topics.values().map(|t| &**t).collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    for topic in topics {
        let line = format!("\n{} - {}", topic.name, topic.describe(language));
        if part_count(&format!("{text}{line}")).1 > LIST_PARTS {
            break;
        }
        text += &line;
    }
    text
}
