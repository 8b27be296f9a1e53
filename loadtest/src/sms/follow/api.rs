//! Following dispatch through the agency's own API, for a gateway whose database is out of
//! reach: `GET /v1/messages?status=...` pages (newest first) down to the run's first id.
//! Each poll counts the messages not yet final; the end reads every page once for the
//! statuses, delivery times and the audit. The API shows no history, so the checks on
//! events are left to `--database-url`, and the `sent` times are those of the polls.

use super::Seen;
use crate::sms::figures::{Audit, Dispatch, Percentiles, Span};
use chrono::DateTime;
use hdrhistogram::Histogram;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest page the API serves.
const PAGE: u32 = 1000;
const NOT_FINAL: [&str; 3] = ["queued", "sending", "sent"];
const ALL: [&str; 6] = [
    "queued",
    "sending",
    "sent",
    "delivered",
    "failed",
    "expired",
];

#[derive(Deserialize)]
struct Page {
    messages: Vec<Listed>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Listed {
    id: String,
    created_at: String,
    updated_at: String,
}

pub struct ApiWatch {
    http: reqwest::Client,
    url: String,
    api_key: String,
    lower_id: String,
    start_epoch: f64,
    /// The accepted ids, once submitting is over.
    ids: Option<HashSet<String>>,
    seen: Seen,
    /// Poll times (seconds from the first request) at which the telco had taken some, and
    /// then all, of the accepted messages.
    sent_first: Option<f64>,
    sent_last: Option<f64>,
}

impl ApiWatch {
    pub fn new(url: &str, api_key: &str, lower_id: String, start_epoch: f64) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .expect("a client with these settings builds");
        ApiWatch {
            http,
            url: url.to_string(),
            api_key: api_key.to_string(),
            lower_id,
            start_epoch,
            ids: None,
            seen: Seen::default(),
            sent_first: None,
            sent_last: None,
        }
    }

    /// The run's messages in `status`: (id, created_at, updated_at) of each, as listed.
    async fn list(&self, status: &str) -> anyhow::Result<Vec<Listed>> {
        let mut found = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("status", status.to_string()), ("limit", PAGE.to_string())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let page: Page = self
                .http
                .get(format!("{}/v1/messages", self.url))
                .bearer_auth(&self.api_key)
                .query(&query)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let older = page.messages.iter().any(|m| m.id < self.lower_id);
            found.extend(page.messages.into_iter().filter(|m| m.id >= self.lower_id));
            match page.next_cursor {
                Some(next) if !older => cursor = Some(next),
                _ => return Ok(found),
            }
        }
    }

    /// Counts the messages not yet final; `accepted` is how many were accepted so far.
    pub async fn progress(&mut self, accepted: u64) -> anyhow::Result<Seen> {
        let mut pending = [0u64; 3];
        for (n, status) in pending.iter_mut().zip(NOT_FINAL) {
            *n = self.list(status).await?.len() as u64;
        }
        let [queued, sending, sent] = pending;
        let taken = accepted.saturating_sub(queued + sending);
        self.seen = Seen {
            taken,
            finals: taken.saturating_sub(sent),
            delivered: taken.saturating_sub(sent),
        };
        let now = now_epoch() - self.start_epoch;
        if taken > 0 && self.sent_first.is_none() {
            self.sent_first = Some(now);
        }
        let all = self.ids.as_ref().map(|ids| ids.len() as u64);
        if all.is_some_and(|all| taken >= all) && self.sent_last.is_none() {
            self.sent_last = Some(now);
        }
        Ok(self.seen)
    }

    pub fn load(&mut self, ids: &[String]) {
        self.ids = Some(ids.iter().cloned().collect());
    }

    /// Accepted messages not yet final (those the API does not list are found by the audit).
    pub async fn unsettled(&mut self) -> anyhow::Result<u64> {
        let total = self.ids.as_ref().map_or(0, |ids| ids.len() as u64);
        let seen = self.progress(total).await?;
        Ok(total - seen.finals)
    }

    pub async fn figures(&mut self) -> anyhow::Result<(Dispatch, Audit)> {
        let ids = self.ids.clone().unwrap_or_default();
        let mut status_of: HashMap<String, &str> = HashMap::new();
        let mut listed_twice = 0u64;
        // Microseconds, as every latency of the load generator.
        let mut latency: Histogram<u64> = crate::stats::histogram();
        let mut delivered = Span::default();
        for status in ALL {
            for m in self.list(status).await? {
                if !ids.contains(&m.id) {
                    continue;
                }
                if status_of.insert(m.id.clone(), status).is_some() {
                    listed_twice += 1;
                }
                if status == "delivered" {
                    let (created, updated) = (epoch_of(&m.created_at)?, epoch_of(&m.updated_at)?);
                    latency.saturating_record(((updated - created) * 1e6).max(1.0) as u64);
                    let at = updated - self.start_epoch;
                    delivered.first_s = if delivered.count == 0 {
                        at
                    } else {
                        delivered.first_s.min(at)
                    };
                    delivered.last_s = delivered.last_s.max(at);
                    delivered.count += 1;
                }
            }
        }
        let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
        for status in status_of.values() {
            *statuses.entry(status.to_string()).or_default() += 1;
        }
        let missing = ids.len() as u64 - status_of.len() as u64;
        if missing > 0 {
            statuses.insert("missing".into(), missing);
        }
        let non_final = NOT_FINAL
            .iter()
            .map(|s| statuses.get(*s).copied().unwrap_or(0))
            .sum();
        let sent = Span {
            count: self.seen.taken,
            first_s: self.sent_first.unwrap_or(0.0),
            last_s: self.sent_last.unwrap_or(0.0),
        };
        let dispatch = Dispatch {
            source: "api".into(),
            statuses,
            sent,
            delivered,
            latency: Percentiles {
                count: latency.len(),
                p50: ms(latency.value_at_quantile(0.5)),
                p90: ms(latency.value_at_quantile(0.9)),
                p99: ms(latency.value_at_quantile(0.99)),
                max: ms(latency.max()),
            },
            ..Dispatch::default()
        };
        let audit = Audit {
            accepted: ids.len() as u64,
            missing,
            non_final,
            several_final_events: Some(listed_twice),
            ..Audit::default()
        };
        Ok((dispatch, audit))
    }
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Unix seconds of an RFC 3339 time as the API writes them.
fn epoch_of(rfc3339: &str) -> anyhow::Result<f64> {
    let t = DateTime::parse_from_rfc3339(rfc3339)?;
    Ok(t.timestamp_millis() as f64 / 1000.0)
}

pub fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_times_read_to_the_millisecond() {
        let cases = [
            ("2026-12-01T10:00:00.250Z", 1_796_119_200.25),
            ("2026-12-01T13:00:00.000+03:00", 1_796_119_200.0),
        ];
        for (text, epoch) in cases {
            assert_eq!(epoch_of(text).unwrap(), epoch, "{text}");
        }
        assert!(epoch_of("yesterday").is_err());
    }
}
