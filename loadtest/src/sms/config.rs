//! The settings of one SMS run, as the command line gives them to [`super::run`].

use super::texts::Texts;
use crate::runner::Load;
use std::time::Duration;

/// When submitting stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// After this many messages (recipients) were submitted.
    Messages(u64),
    /// After this long.
    Elapsed(Duration),
}

/// Where dispatch is followed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The gateway's database: exact counts, event times and the exactly-once audit.
    Database { url: String },
    /// `GET /v1/messages?status=...` with the same API key: statuses and times of the
    /// messages, but not their history.
    Api,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The gateway's base URL, without a trailing `/`.
    pub url: String,
    /// `mgk_...`, sent as `Authorization: Bearer`.
    pub api_key: String,
    /// Recipients named in each request (1 to 1000).
    pub recipients: u32,
    pub texts: Texts,
    /// A sender id registered for the agency.
    pub from: Option<String>,
    /// `concurrency` clients each sending when their last request was answered, or `rate`
    /// requests per second on schedule (an arrival finding `max_in_flight` unanswered is
    /// dropped, one later than `late_after` counted late).
    pub pacing: Load,
    pub until: Until,
    /// Per-request timeout.
    pub timeout: Duration,
    pub source: Source,
    /// The telco simulator's base URL, for its `/stats`.
    pub telco_sim: Option<String>,
    /// How long to wait, once submitting ended, for every message to reach a final status.
    pub drain_timeout: Duration,
    /// How often dispatch is polled.
    pub poll_every: Duration,
    /// Print a progress line on stderr at every poll.
    pub show_progress: bool,
}
