//! The `[sms]` settings: how many dispatchers a node runs and how soon failed sends and
//! unacknowledged webhooks are tried again.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    /// Dispatchers on this node, each claiming its own batches (the embedded SQLite default
    /// runs at most one: it has one writer). 0: this node sends nothing and leaves the
    /// outbox to the others (a node that only takes callbacks).
    pub dispatchers: u32,
    /// Messages a dispatcher claims at a time.
    pub batch: u32,
    /// How long a claim is held. A dispatcher that dies leaves its claims to lapse after
    /// this long; it must outlast a send (10 s at most) and a telco's rest (30 s at most).
    pub claim_lease_ms: u64,
    /// Wait before the second attempt of a send that failed for a passing reason; doubled for
    /// each further attempt, at most 10 minutes, with ±20 % jitter.
    pub first_retry_ms: u64,
    /// Wait before the second attempt of an unacknowledged webhook; doubled for each further
    /// attempt, at most an hour, with ±20 % jitter, for 24 hours.
    pub webhook_first_retry_ms: u64,
    /// The shortcodes citizens text (`15200`); keyword services are registered on one of
    /// them, the first when they do not say.
    pub shortcodes: Vec<String>,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            dispatchers: 2,
            batch: 200,
            claim_lease_ms: 60_000,
            first_retry_ms: 5_000,
            webhook_first_retry_ms: 10_000,
            shortcodes: vec!["15200".into()],
        }
    }
}

impl SmsSettings {
    pub(crate) fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if self.dispatchers > 64 {
            return Err(("sms.dispatchers", "must be between 0 and 64"));
        }
        if !(1..=2_000).contains(&self.batch) {
            return Err(("sms.batch", "must be between 1 and 2000"));
        }
        if !(1_000..=600_000).contains(&self.claim_lease_ms) {
            return Err(("sms.claim_lease_ms", "must be between 1000 and 600000"));
        }
        if !(10..=3_600_000).contains(&self.first_retry_ms) {
            return Err(("sms.first_retry_ms", "must be between 10 and 3600000"));
        }
        if !(10..=3_600_000).contains(&self.webhook_first_retry_ms) {
            return Err((
                "sms.webhook_first_retry_ms",
                "must be between 10 and 3600000",
            ));
        }
        let digits =
            |c: &String| (3..=8).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit());
        if self.shortcodes.is_empty() || !self.shortcodes.iter().all(digits) {
            return Err((
                "sms.shortcodes",
                "must list one or more shortcodes of 3 to 8 digits",
            ));
        }
        Ok(())
    }

    pub fn claim_lease(&self) -> Duration {
        Duration::from_millis(self.claim_lease_ms)
    }

    pub fn first_retry(&self) -> Duration {
        Duration::from_millis(self.first_retry_ms)
    }

    pub fn webhook_first_retry(&self) -> Duration {
        Duration::from_millis(self.webhook_first_retry_ms)
    }
}
