//! What the telco received: a hash of every message ever accepted (format, recipient and
//! text), to tell a repeated send from a new one, and full records of the most recent ones
//! for `GET /messages`. Memory stays bounded over a million-message run: eight bytes and a
//! little per hash, and at most `keep` records.

use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::settings::Outcome;
use super::text::Coding;
use super::Format;

/// One accepted message to one recipient.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) format: Format,
    /// E.164 digits, without `+`.
    pub(crate) to: String,
    pub(crate) from: Option<String>,
    /// As the handset shows it.
    pub(crate) text: String,
    pub(crate) coding: Coding,
    pub(crate) parts: usize,
    /// Africa's Talking's `messageId`; Kannel answers none.
    pub(crate) message_id: Option<String>,
    pub(crate) outcome: Outcome,
    /// Kannel's `dlr-mask` and `dlr-url` as sent.
    pub(crate) dlr_mask: Option<u32>,
    pub(crate) dlr_url: Option<String>,
}

#[derive(Debug)]
struct Kept {
    /// 1 for the first message received, then one more each.
    sequence: u64,
    duplicate: bool,
    message: Received,
}

#[derive(Debug)]
pub(crate) struct Ledger {
    keep: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashSet<u64>,
    recent: VecDeque<Kept>,
    received: u64,
}

impl Ledger {
    pub(crate) fn new(keep: usize) -> Self {
        Ledger {
            keep,
            inner: Mutex::default(),
        }
    }

    /// Records `message`; true when the same format, recipient and text came before.
    pub(crate) fn record(&self, message: Received) -> bool {
        let key = {
            let mut hasher = DefaultHasher::new();
            (message.format, &message.to, &message.text).hash(&mut hasher);
            hasher.finish()
        };
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let duplicate = !inner.seen.insert(key);
        inner.received += 1;
        if self.keep > 0 {
            if inner.recent.len() == self.keep {
                inner.recent.pop_front();
            }
            let sequence = inner.received;
            inner.recent.push_back(Kept {
                sequence,
                duplicate,
                message,
            });
        }
        duplicate
    }

    /// The kept records for `to` (with or without `+`), or all of them, oldest first.
    pub(crate) fn list(&self, to: Option<&str>) -> Vec<Value> {
        let to = to.map(|to| to.trim().trim_start_matches('+'));
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .recent
            .iter()
            .filter(|kept| to.is_none_or(|to| kept.message.to == to))
            .map(Kept::to_json)
            .collect()
    }

    pub(crate) fn kept(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .recent
            .len()
    }
}

impl Kept {
    fn to_json(&self) -> Value {
        let message = &self.message;
        json!({
            "sequence": self.sequence,
            "format": message.format.name(),
            "to": message.to,
            "from": message.from,
            "text": message.text,
            "coding": message.coding.name(),
            "parts": message.parts,
            "message_id": message.message_id,
            "outcome": message.outcome.name(),
            "duplicate": self.duplicate,
            "dlr_mask": message.dlr_mask,
            "dlr_url": message.dlr_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(format: Format, to: &str, text: &str) -> Received {
        Received {
            format,
            to: to.to_owned(),
            from: None,
            text: text.to_owned(),
            coding: Coding::Gsm7,
            parts: 1,
            message_id: None,
            outcome: Outcome::Delivered,
            dlr_mask: None,
            dlr_url: None,
        }
    }

    #[test]
    fn a_repeat_is_the_same_format_recipient_and_text() {
        let ledger = Ledger::new(10);
        let cases = [
            (Format::AfricasTalking, "255754123456", "Habari", false),
            (Format::AfricasTalking, "255754123456", "Habari", true),
            (Format::Kannel, "255754123456", "Habari", false),
            (Format::AfricasTalking, "255754000000", "Habari", false),
            (Format::AfricasTalking, "255754123456", "Habari!", false),
        ];
        for (format, to, text, duplicate) in cases {
            assert_eq!(
                ledger.record(message(format, to, text)),
                duplicate,
                "{to} {text}"
            );
        }
    }

    #[test]
    fn lists_by_number_and_keeps_only_the_most_recent() {
        let ledger = Ledger::new(3);
        for n in 1..=5 {
            let to = if n % 2 == 0 {
                "255754000002"
            } else {
                "255754000001"
            };
            ledger.record(message(Format::Kannel, to, &format!("text {n}")));
        }
        assert_eq!(ledger.kept(), 3);
        let all: Vec<u64> = ledger
            .list(None)
            .iter()
            .map(|record| record["sequence"].as_u64().unwrap())
            .collect();
        assert_eq!(all, [3, 4, 5]);
        let odd = ledger.list(Some("+255754000001"));
        let texts: Vec<&str> = odd.iter().map(|r| r["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["text 3", "text 5"]);
        // The hashes outlive the records: an old message still counts as a repeat.
        assert!(ledger.record(message(Format::Kannel, "255754000001", "text 1")));
    }

    #[test]
    fn keeping_nothing_still_tells_repeats() {
        let ledger = Ledger::new(0);
        assert!(!ledger.record(message(Format::Kannel, "255754000001", "a")));
        assert!(ledger.record(message(Format::Kannel, "255754000001", "a")));
        assert!(ledger.list(None).is_empty());
    }
}
