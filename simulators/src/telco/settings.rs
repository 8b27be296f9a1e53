//! How the simulated telco behaves: credentials, report timing, the outcome mix and the
//! misbehaviours, in one [`Settings`] that the binary fills from its flags.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::backoffice::Latency;

/// A user name and its secret (an API key, a password). The secret never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            secret: secret.into(),
        }
    }

    /// Whether a request presented exactly these credentials.
    pub(crate) fn admit(&self, username: Option<&str>, secret: Option<&str>) -> bool {
        username == Some(self.username.as_str()) && secret == Some(self.secret.as_str())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What finally becomes of a message on its way to the handset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Delivered,
    /// The network tried and gave up (absent subscriber, delivery failure).
    Failed,
    /// The message waited on the SMSC until its validity ran out.
    Expired,
    /// The SMSC or the aggregator refused it outright.
    Rejected,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Delivered,
        Outcome::Failed,
        Outcome::Expired,
        Outcome::Rejected,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Failed => "failed",
            Outcome::Expired => "expired",
            Outcome::Rejected => "rejected",
        }
    }
}

/// Relative weights of the outcomes, e.g. `delivered=90,failed=5,expired=3,rejected=2`.
/// Outcomes are dealt from a shuffled deck holding each outcome as often as its weight, so
/// every full deck (the sum of the weights) holds the mix exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutcomeMix {
    /// Indexed like [`Outcome::ALL`].
    weights: [u32; 4],
}

impl OutcomeMix {
    /// Every message is delivered.
    pub const ALL_DELIVERED: OutcomeMix = OutcomeMix {
        weights: [1, 0, 0, 0],
    };

    /// The largest deck: a bound on memory and a full deck's length.
    pub const MAX_TOTAL: u32 = 1_000_000;

    pub fn new(delivered: u32, failed: u32, expired: u32, rejected: u32) -> Result<Self, String> {
        let weights = [delivered, failed, expired, rejected];
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        if total == 0 {
            return Err("the outcome weights add up to zero".to_owned());
        }
        if total > u64::from(Self::MAX_TOTAL) {
            return Err(format!(
                "the outcome weights add up to {total}, more than {}",
                Self::MAX_TOTAL
            ));
        }
        Ok(OutcomeMix { weights })
    }

    pub fn weight(&self, outcome: Outcome) -> u32 {
        self.weights[outcome as usize]
    }

    /// One deck, unshuffled: each outcome as many times as its weight.
    pub(crate) fn deck(&self) -> Vec<Outcome> {
        Outcome::ALL
            .into_iter()
            .flat_map(|outcome| std::iter::repeat_n(outcome, self.weight(outcome) as usize))
            .collect()
    }
}

impl Default for OutcomeMix {
    fn default() -> Self {
        OutcomeMix::ALL_DELIVERED
    }
}

/// `name=weight` items separated by commas; outcomes not named weigh zero.
impl FromStr for OutcomeMix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut weights = [0u32; 4];
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, weight) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: use name=weight, e.g. delivered=90"))?;
            let outcome = Outcome::ALL
                .into_iter()
                .find(|outcome| outcome.name() == name.trim())
                .ok_or_else(|| {
                    format!("unknown outcome {name:?} (expected delivered, failed, expired or rejected)")
                })?;
            weights[outcome as usize] = weight
                .trim()
                .parse()
                .map_err(|_| format!("{item}: the weight is a whole number"))?;
        }
        let [delivered, failed, expired, rejected] = weights;
        OutcomeMix::new(delivered, failed, expired, rejected)
    }
}

/// The canonical form, which parses back to the same mix.
impl fmt::Display for OutcomeMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = Outcome::ALL
            .into_iter()
            .map(|outcome| format!("{}={}", outcome.name(), self.weight(outcome)))
            .collect();
        f.write_str(&items.join(","))
    }
}

/// How the simulated telco behaves. The default accepts any credentials, never throttles,
/// delivers every message and reports at once, once, in order.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The Africa's Talking `username` and `apiKey` the gateway must present; `None`
    /// accepts any.
    pub at_credentials: Option<Credentials>,
    /// Registered sender ids: when not empty, a `from` outside them is refused per
    /// recipient with `402 InvalidSenderId`.
    pub at_sender_ids: Vec<String>,
    /// Where Africa's Talking delivery reports are posted; `None` sends none.
    pub at_report_url: Option<String>,
    /// HTTP Basic credentials for the reports, when the gateway wants them.
    pub at_report_credentials: Option<Credentials>,
    /// The reports' `networkCode` (MCC + MNC; `64002` is Tigo Tanzania).
    pub at_network_code: String,
    /// Africa's Talking bills per part: `TZS 20.0000` for a one-part message by default.
    pub at_currency: String,
    pub at_price_per_part: Decimal,
    /// The sendsms `username` and `password` the gateway must present; `None` accepts any.
    pub kannel_credentials: Option<Credentials>,
    /// From the send (or the previous report of the same message) to each report.
    pub report_delay: Latency,
    /// What becomes of accepted messages.
    pub outcomes: OutcomeMix,
    /// Send the intermediate reports before the final one: Africa's Talking `Sent` (and
    /// `Buffered` before `Expired`), Kannel type 4 before an expiry, when the mask asks.
    pub interim_reports: bool,
    /// Share (0.0 to 1.0) of messages whose reports are sent before the send is answered.
    pub early_report_rate: f64,
    /// Share (0.0 to 1.0) of reports sent a second time once the first was answered.
    pub duplicate_report_rate: f64,
    /// Share (0.0 to 1.0) of send requests refused as throttled (`429` / `503`).
    pub throttle_rate: f64,
    /// Recipients accepted per second and per format; a request that would go over is
    /// throttled. `None`: no limit.
    pub max_per_second: Option<u32>,
    /// Attempts per report, the first included, before it is given up.
    pub report_attempts: u32,
    /// Wait before the first retry of a report; doubled for each further retry.
    pub report_backoff: Duration,
    /// How long one report attempt may take before it counts as failed.
    pub report_timeout: Duration,
    /// Full records kept for `GET /messages` (the most recent); older ones leave only a hash
    /// for the duplicate check.
    pub keep_messages: usize,
    /// Seeds every random choice (outcomes, shares, delays, message ids), for repeatable runs.
    pub seed: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            at_credentials: None,
            at_sender_ids: Vec::new(),
            at_report_url: Some("http://127.0.0.1:8080/sms/africastalking/dlr".to_owned()),
            at_report_credentials: None,
            at_network_code: "64002".to_owned(),
            at_currency: "TZS".to_owned(),
            at_price_per_part: Decimal::from(20),
            kannel_credentials: None,
            report_delay: Latency::default(),
            outcomes: OutcomeMix::ALL_DELIVERED,
            interim_reports: false,
            early_report_rate: 0.0,
            duplicate_report_rate: 0.0,
            throttle_rate: 0.0,
            max_per_second: None,
            report_attempts: 4,
            report_backoff: Duration::from_secs(1),
            report_timeout: Duration::from_secs(10),
            keep_messages: 10_000,
            seed: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_every_secret() {
        let settings = Settings {
            at_credentials: Some(Credentials::new("mgov", "at-key")),
            at_report_credentials: Some(Credentials::new("dlr", "report-pass")),
            kannel_credentials: Some(Credentials::new("kannel", "smsbox-pass")),
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        for secret in ["at-key", "report-pass", "smsbox-pass"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(printed.contains("<redacted>"), "{printed}");
    }

    #[test]
    fn credentials_admit_only_the_exact_pair() {
        let expected = Credentials::new("mgov", "key");
        let cases = [
            (Some("mgov"), Some("key"), true),
            (Some("mgov"), Some("other"), false),
            (Some("other"), Some("key"), false),
            (None, Some("key"), false),
            (Some("mgov"), None, false),
        ];
        for (username, secret, admitted) in cases {
            assert_eq!(expected.admit(username, secret), admitted, "{username:?}");
        }
    }

    #[test]
    fn outcome_mixes_parse_and_print_back() {
        let cases = [
            ("delivered=90,failed=5,expired=3,rejected=2", [90, 5, 3, 2]),
            ("failed=1", [0, 1, 0, 0]),
            (" delivered = 3 , rejected=1 ", [3, 0, 0, 1]),
        ];
        for (text, weights) in cases {
            let mix: OutcomeMix = text.parse().unwrap();
            assert_eq!(mix.weights, weights, "{text}");
            assert_eq!(mix.to_string().parse::<OutcomeMix>(), Ok(mix));
        }
    }

    #[test]
    fn bad_outcome_mixes_say_what_is_wrong() {
        let cases = [
            ("", "zero"),
            ("delivered=0", "zero"),
            ("lost=3", "unknown outcome"),
            ("delivered", "name=weight"),
            ("delivered=0.5", "whole number"),
            ("delivered=1000001", "more than"),
        ];
        for (text, complaint) in cases {
            let error = text.parse::<OutcomeMix>().unwrap_err();
            assert!(error.contains(complaint), "{text}: {error}");
        }
    }

    #[test]
    fn a_deck_holds_each_outcome_as_often_as_its_weight() {
        let deck = OutcomeMix::new(3, 2, 0, 1).unwrap().deck();
        let count = |outcome| deck.iter().filter(|o| **o == outcome).count();
        assert_eq!(deck.len(), 6);
        assert_eq!(count(Outcome::Delivered), 3);
        assert_eq!(count(Outcome::Failed), 2);
        assert_eq!(count(Outcome::Expired), 0);
        assert_eq!(count(Outcome::Rejected), 1);
    }
}
