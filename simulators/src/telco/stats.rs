//! Counters of the telco, served as JSON by `GET /stats` for tests and load tests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::Format;

/// A plain counter, listed in `GET /stats` under its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Count {
    /// Send requests with wrong or missing credentials (`401` / `403`).
    Unauthorized,
    /// Send requests refused as malformed (`400`).
    BadRequest,
    /// Send requests refused as throttled (`429` / `503`), by share or over the limit.
    Throttled,
    /// Recipients named in send requests that got past credentials, checks and throttling.
    Recipient,
    /// Recipients refused one by one (Africa's Talking `InvalidPhoneNumber`, `InvalidSenderId`).
    RefusedRecipient,
    /// Accepted messages never seen before (format, recipient and text).
    UniqueMessage,
    /// Accepted messages seen before: the same format, recipient and text.
    Duplicate,
    /// Kannel messages whose coding lost characters on the way to the handset.
    TextLostInCoding,
    /// Second copies of reports, sent after the first was answered.
    ReportDuplicated,
    /// Messages whose reports went out before the send was answered.
    ReportBeforeAnswer,
    /// Report attempts that got no `2xx` (refused, unreachable or timed out).
    ReportAttemptFailed,
    /// Reports given up after every attempt failed.
    ReportAbandoned,
}

impl Count {
    const ALL: [Count; 12] = [
        Count::Unauthorized,
        Count::BadRequest,
        Count::Throttled,
        Count::Recipient,
        Count::RefusedRecipient,
        Count::UniqueMessage,
        Count::Duplicate,
        Count::TextLostInCoding,
        Count::ReportDuplicated,
        Count::ReportBeforeAnswer,
        Count::ReportAttemptFailed,
        Count::ReportAbandoned,
    ];

    fn name(self) -> &'static str {
        match self {
            Count::Unauthorized => "unauthorized",
            Count::BadRequest => "bad_requests",
            Count::Throttled => "throttled",
            Count::Recipient => "recipients",
            Count::RefusedRecipient => "refused_recipients",
            Count::UniqueMessage => "unique_messages",
            Count::Duplicate => "duplicates",
            Count::TextLostInCoding => "text_lost_in_coding",
            Count::ReportDuplicated => "reports_duplicated",
            Count::ReportBeforeAnswer => "reports_before_answer",
            Count::ReportAttemptFailed => "report_attempts_failed",
            Count::ReportAbandoned => "reports_abandoned",
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Indexed like [`Count::ALL`].
    counts: [AtomicU64; Count::ALL.len()],
    /// Send requests by format, whatever became of them; indexed like [`Format::ALL`].
    requests: [AtomicU64; Format::ALL.len()],
    /// Reports answered with a `2xx`, by format and status (Kannel: the DLR type).
    reports_sent: Mutex<BTreeMap<(Format, String), u64>>,
    /// Reports scheduled and not yet sent or given up.
    reports_pending: AtomicU64,
}

impl Stats {
    pub(crate) fn count(&self, count: Count) {
        self.add(count, 1);
    }

    pub(crate) fn add(&self, count: Count, how_many: u64) {
        let index = Count::ALL.iter().position(|c| *c == count);
        let index = index.expect("every count is in ALL");
        self.counts[index].fetch_add(how_many, Ordering::Relaxed);
    }

    pub(crate) fn request(&self, format: Format) {
        self.requests[format as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn report_sent(&self, format: Format, status: &str) {
        let mut sent = self.reports_sent.lock().unwrap_or_else(|e| e.into_inner());
        *sent.entry((format, status.to_owned())).or_default() += 1;
    }

    pub(crate) fn reports_scheduled(&self, how_many: u64) {
        self.reports_pending.fetch_add(how_many, Ordering::Relaxed);
    }

    pub(crate) fn report_done(&self) {
        self.reports_pending.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn to_json(&self, messages_kept: usize) -> Value {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut body = Map::new();
        let total: u64 = self.requests.iter().map(read).sum();
        body.insert("requests".into(), total.into());
        let by_format: Map<String, Value> = Format::ALL
            .into_iter()
            .map(|format| {
                (
                    format.name().to_owned(),
                    read(&self.requests[format as usize]).into(),
                )
            })
            .collect();
        body.insert("requests_by_format".into(), by_format.into());
        for (count, counter) in Count::ALL.iter().zip(&self.counts) {
            body.insert(count.name().into(), read(counter).into());
        }
        let mut sent: Map<String, Value> = Format::ALL
            .into_iter()
            .map(|format| (format.name().to_owned(), json!({})))
            .collect();
        let reports = self.reports_sent.lock().unwrap_or_else(|e| e.into_inner());
        for ((format, status), count) in reports.iter() {
            sent[format.name()][status] = (*count).into();
        }
        body.insert("reports_sent".into(), sent.into());
        body.insert("reports_pending".into(), read(&self.reports_pending).into());
        body.insert("messages_kept".into(), messages_kept.into());
        body.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_reports_and_every_named_counter() {
        let stats = Stats::default();
        stats.request(Format::AfricasTalking);
        stats.request(Format::Kannel);
        stats.request(Format::Kannel);
        stats.count(Count::Duplicate);
        stats.add(Count::Recipient, 3);
        stats.report_sent(Format::AfricasTalking, "Success");
        stats.report_sent(Format::AfricasTalking, "Success");
        stats.report_sent(Format::Kannel, "8");
        stats.reports_scheduled(3);
        stats.report_done();
        let json = stats.to_json(7);
        assert_eq!(json["requests"], 3);
        assert_eq!(
            json["requests_by_format"],
            json!({"africastalking": 1, "kannel": 2})
        );
        assert_eq!(json["duplicates"], 1);
        assert_eq!(json["recipients"], 3);
        assert_eq!(json["throttled"], 0);
        assert_eq!(
            json["reports_sent"],
            json!({"africastalking": {"Success": 2}, "kannel": {"8": 1}})
        );
        assert_eq!(json["reports_pending"], 2);
        assert_eq!(json["messages_kept"], 7);
        for count in Count::ALL {
            assert!(json.get(count.name()).is_some(), "{}", count.name());
        }
    }
}
