//! Settings: built-in defaults, then an optional `mgov.toml`, then `MGOV_*` environment
//! variables (nested keys with `__`, e.g. `MGOV_RATE_LIMIT__HOPS_PER_MINUTE_PER_MSISDN`).
//! Everything is validated at start-up, and a bad setting is named in the error.

use crate::language::Language;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A value that never prints (connection strings carry passwords).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// The base URL telcos reach this gateway at, for the report URLs given with each SMS
    /// (`https://gw.example.go.tz`). Unset: `http://` and the address it listens on.
    pub public_url: Option<String>,
    /// `postgres://...` in production; unset means the embedded SQLite file `sqlite_path`.
    pub database_url: Option<Secret>,
    pub sqlite_path: PathBuf,
    /// `redis://...` in production; unset means the in-process session store.
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key, so that several gateways can share one Redis.
    pub redis_prefix: String,
    /// Seed demo agencies and loopback demo telcos, and mount the back-office simulator.
    /// Defaults to on for the embedded default and off otherwise.
    pub demo: Option<bool>,
    /// Serve the phone in the browser at `/phone`. Defaults to on for the embedded default
    /// and off otherwise.
    pub phone_page: Option<bool>,
    pub menus_dir: PathBuf,
    /// The shared USSD code whose root menu lists every service.
    pub root_code: String,
    /// Country code given to national numbers (`0754...`).
    pub default_country: String,
    pub default_language: Language,
    /// A dialogue idle this long is over and recorded as abandoned.
    pub session_idle_secs: u64,
    /// Time one hop may take, back-office calls included, before the citizen is answered.
    pub hop_budget_ms: u64,
    /// How long a back-office call that outlived its hop may go on in the background, so
    /// that what the agency did is recorded.
    pub background_call_secs: u64,
    /// How long a hop waits for a record to commit (a back-office intent before the call,
    /// an outcome or a dialogue's end after it); the hop's budget caps it.
    pub record_wait_ms: u64,
    /// How long an ended or expired dialogue is remembered, so that a late or repeated hop
    /// is told it is over instead of starting it again.
    pub tombstone_secs: u64,
    /// Live dialogues one number may hold at once.
    pub max_dialogues_per_number: u32,
    /// On SIGTERM, how long to wait for hops in flight, background calls and unwritten
    /// records before exiting.
    pub shutdown_grace_secs: u64,
    /// The smallest screen any telco has; menus must fit it.
    pub min_screen_limit: usize,
    /// Largest callback body accepted.
    pub max_callback_bytes: usize,
    /// Time a client has to send a request's headers; a kept-alive connection left idle this
    /// long is closed too.
    pub header_read_timeout_ms: u64,
    /// Time a whole request may take, body and answer included, before it is answered 408
    /// and its connection closed. Must exceed `hop_budget_ms` by at least
    /// [`REQUEST_TIMEOUT_MARGIN_MS`].
    pub request_timeout_ms: u64,
    /// Load balancers or proxies in front of the gateway (CIDRs). Only from these is
    /// `X-Forwarded-For` believed when checking a telco's source network.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub rate_limit: RateLimits,
    pub backoffice: BackOfficeLimits,
    pub sms: crate::sms::settings::SmsSettings,
    /// `text` or `json`.
    pub log_format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Hops one phone number may make per minute through one telco, on one node (a person
    /// presses keys a few times a minute). Each telco's own ceiling is a setting of the telco
    /// (`mgov telcos add/update --max-hops-per-second`), not of the gateway.
    pub hops_per_minute_per_msisdn: u32,
}

/// What one agency's back office may be asked at once, and when the gateway stops asking it
/// for a while (its circuit breaker). The same for every agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackOfficeLimits {
    /// Calls to one agency in flight at once, those finishing in the background included;
    /// a call past it fails at once.
    pub max_calls_in_flight: u32,
    /// A call still unanswered this long (or after `hop_budget_ms`, if that is shorter)
    /// counts as a failure for the breaker.
    pub slow_call_ms: u64,
    /// Failures in a row (5xx, unreachable, timed out, slow) that open the breaker.
    pub breaker_failures: u32,
    /// How long an open breaker fails the agency's actions at once before probing.
    pub breaker_open_ms: u64,
    /// Calls let through at once as probes while half-open.
    pub breaker_probes: u32,
}

impl Default for BackOfficeLimits {
    fn default() -> Self {
        Self {
            max_calls_in_flight: 256,
            slow_call_ms: 3_000,
            breaker_failures: 5,
            breaker_open_ms: 5_000,
            breaker_probes: 1,
        }
    }
}

impl BackOfficeLimits {
    fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !(1..=100_000).contains(&self.max_calls_in_flight) {
            return Err((
                "backoffice.max_calls_in_flight",
                "must be between 1 and 100000",
            ));
        }
        if !(100..=60_000).contains(&self.slow_call_ms) {
            return Err(("backoffice.slow_call_ms", "must be between 100 and 60000"));
        }
        if !(1..=1_000).contains(&self.breaker_failures) {
            return Err(("backoffice.breaker_failures", "must be between 1 and 1000"));
        }
        if !(100..=600_000).contains(&self.breaker_open_ms) {
            return Err((
                "backoffice.breaker_open_ms",
                "must be between 100 and 600000",
            ));
        }
        if !(1..=100).contains(&self.breaker_probes) {
            return Err(("backoffice.breaker_probes", "must be between 1 and 100"));
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            database_url: None,
            sqlite_path: PathBuf::from("mgov.db"),
            redis_url: None,
            redis_prefix: "mgov:".into(),
            demo: None,
            phone_page: None,
            menus_dir: PathBuf::from("menus"),
            root_code: "*152*00#".into(),
            default_country: "255".into(),
            default_language: Language::SWAHILI,
            session_idle_secs: 180,
            hop_budget_ms: 5_000,
            background_call_secs: 30,
            record_wait_ms: 1_000,
            tombstone_secs: 300,
            max_dialogues_per_number: 3,
            shutdown_grace_secs: 30,
            min_screen_limit: 160,
            max_callback_bytes: 8 * 1024,
            header_read_timeout_ms: 10_000,
            request_timeout_ms: 15_000,
            trusted_proxies: Vec::new(),
            rate_limit: RateLimits {
                hops_per_minute_per_msisdn: 60,
            },
            backoffice: BackOfficeLimits::default(),
            sms: Default::default(),
            log_format: "text".into(),
        }
    }
}

/// How much longer than the hop budget a request may take: a hop past its budget still
/// waits for its records (up to a second) and the session store.
pub const REQUEST_TIMEOUT_MARGIN_MS: u64 = 2_000;

/// `MGOV_*` variables that belong to the tools around the gateway (tests, `mgov dial`,
/// `mgov agencies add`, the load generator), not to its settings; any other unknown
/// `MGOV_*` variable is refused as a likely typo.
const NOT_SETTINGS: &[&str] = &[
    "test_database_url",
    "test_redis_url",
    "dial_username",
    "dial_secret",
    "agency_signing_secret",
    "load_username",
    "load_secret",
    "load_hubtel_username",
    "load_hubtel_secret",
    "load_api_key",
    "load_database_url",
    "telco_sms_secret",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(#[from] Box<figment::Error>),
    #[error("configuration: setting `{setting}`: {problem}")]
    Invalid {
        setting: &'static str,
        problem: String,
    },
}

impl Config {
    /// Defaults, then `file` if it exists, then `MGOV_*` variables.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        Self::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::file(file)),
        )
    }

    /// Like [`Config::load`] with a figment that callers (tests) prepared.
    pub fn from_figment(base: Figment) -> Result<Self, ConfigError> {
        let config: Config = base
            .merge(Env::prefixed("MGOV_").split("__").ignore(NOT_SETTINGS))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// The embedded default: no database or Redis configured.
    pub fn is_embedded(&self) -> bool {
        self.database_url.is_none()
    }

    /// See [`Config::public_url`]; `build` fills it in from the bound address when unset.
    pub fn public_url(&self) -> &str {
        self.public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'))
            .unwrap_or("http://127.0.0.1:8080")
    }

    pub fn demo_enabled(&self) -> bool {
        self.demo.unwrap_or(self.is_embedded())
    }

    pub fn phone_page_enabled(&self) -> bool {
        self.phone_page.unwrap_or(self.is_embedded())
    }

    /// The durable store's URL: Postgres when configured, else the SQLite file.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_string(),
            None => format!("sqlite:{}", self.sqlite_path.display()),
        }
    }

    pub fn record_wait(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.record_wait_ms)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting, problem: &str| {
            Err(ConfigError::Invalid {
                setting,
                problem: problem.to_string(),
            })
        };
        if let Some(url) = &self.database_url {
            let url = url.expose();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return invalid(
                    "database_url",
                    "must start with postgres:// (leave it unset for the embedded SQLite file)",
                );
            }
        }
        if self.demo == Some(true) && self.database_url.is_some() {
            // Demo telcos take callbacks without credentials and the demo agencies sign with
            // a published secret: never next to production data.
            return invalid(
                "demo",
                "the demo world runs only on the embedded default; unset demo or database_url",
            );
        }
        if self.demo_enabled() && !cfg!(feature = "demo") {
            return invalid(
                "demo",
                "this mgov was built without the demo back office (cargo feature `demo`): set database_url for production, or demo = false",
            );
        }
        if let Some(url) = &self.redis_url {
            if !(url.expose().starts_with("redis://") || url.expose().starts_with("rediss://")) {
                return invalid("redis_url", "must start with redis:// or rediss://");
            }
        }
        let code = self.root_code.as_bytes();
        let code_ok = code.len() >= 3
            && code[0] == b'*'
            && code[code.len() - 1] == b'#'
            && code[1..code.len() - 1]
                .iter()
                .all(|b| b.is_ascii_digit() || *b == b'*');
        if !code_ok {
            return invalid("root_code", "must look like *152*00#");
        }
        if !crate::msisdn::is_country_code(&self.default_country) {
            return invalid(
                "default_country",
                "must be an assigned country code, e.g. 255",
            );
        }
        if !(10..=3_600).contains(&self.session_idle_secs) {
            return invalid("session_idle_secs", "must be between 10 and 3600");
        }
        if !(100..=30_000).contains(&self.hop_budget_ms) {
            return invalid("hop_budget_ms", "must be between 100 and 30000");
        }
        if !(100..=60_000).contains(&self.header_read_timeout_ms) {
            return invalid("header_read_timeout_ms", "must be between 100 and 60000");
        }
        if self.request_timeout_ms < self.hop_budget_ms + REQUEST_TIMEOUT_MARGIN_MS
            || self.request_timeout_ms > 120_000
        {
            return invalid(
                "request_timeout_ms",
                &format!(
                    "must be at least hop_budget_ms + {REQUEST_TIMEOUT_MARGIN_MS} and at most 120000"
                ),
            );
        }
        if !(1..=300).contains(&self.background_call_secs) {
            return invalid("background_call_secs", "must be between 1 and 300");
        }
        if !(1..=30_000).contains(&self.record_wait_ms) {
            return invalid("record_wait_ms", "must be between 1 and 30000");
        }
        if !(10..=86_400).contains(&self.tombstone_secs) {
            return invalid("tombstone_secs", "must be between 10 and 86400");
        }
        if self.max_dialogues_per_number == 0 {
            return invalid("max_dialogues_per_number", "must be at least 1");
        }
        if self.shutdown_grace_secs > 3_600 {
            return invalid("shutdown_grace_secs", "must be at most 3600");
        }
        if !(60..=1_000).contains(&self.min_screen_limit) {
            return invalid("min_screen_limit", "must be between 60 and 1000");
        }
        if !(512..=crate::telcos::MAX_BODY_BYTES).contains(&self.max_callback_bytes) {
            // Real hops are a few hundred bytes; the adapters refuse anything over 8 KiB.
            return invalid("max_callback_bytes", "must be between 512 and 8192");
        }
        if self.rate_limit.hops_per_minute_per_msisdn == 0 {
            return invalid(
                "rate_limit.hops_per_minute_per_msisdn",
                "must be at least 1",
            );
        }
        if let Err((setting, problem)) = self.sms.validate() {
            return invalid(setting, problem);
        }
        if let Err((setting, problem)) = self.backoffice.validate() {
            return invalid(setting, problem);
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return invalid("log_format", "must be text or json");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(toml: &str) -> Result<Config, ConfigError> {
        Config::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml)),
        )
    }

    #[test]
    fn defaults_are_the_embedded_default() {
        let c = with("").unwrap();
        assert!(c.is_embedded());
        assert!(c.demo_enabled());
        assert!(c.phone_page_enabled());
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.effective_database_url(), "sqlite:mgov.db");
    }

    #[test]
    fn bad_settings_are_named() {
        let err = with("hop_budget_ms = 5").unwrap_err().to_string();
        assert!(err.contains("hop_budget_ms"), "{err}");
        let err = with("database_url = \"mysql://x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_url"), "{err}");
        let err = with("root_code = \"152\"").unwrap_err().to_string();
        assert!(err.contains("root_code"), "{err}");
        let err = with("session_idle_secs = \"soon\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("session_idle_secs"), "{err}");
        let err = with("listne = \"1.2.3.4:5\"").unwrap_err().to_string();
        assert!(err.contains("listne"), "{err}");
        let err = with("default_country = \"259\"").unwrap_err().to_string();
        assert!(err.contains("default_country"), "{err}");
    }

    #[test]
    fn a_request_may_always_outlast_its_hop() {
        let err = with("hop_budget_ms = 14000").unwrap_err().to_string();
        assert!(err.contains("request_timeout_ms"), "{err}");
        assert!(with("hop_budget_ms = 14000\nrequest_timeout_ms = 16000").is_ok());
        let err = with("header_read_timeout_ms = 0").unwrap_err().to_string();
        assert!(err.contains("header_read_timeout_ms"), "{err}");
        let c = with("").unwrap();
        assert!(c.request_timeout_ms >= c.hop_budget_ms + REQUEST_TIMEOUT_MARGIN_MS);
    }

    #[test]
    fn back_office_limits_are_checked() {
        let c = with("[backoffice]\nbreaker_failures = 3").unwrap();
        assert_eq!(c.backoffice.breaker_failures, 3);
        assert_eq!(
            c.backoffice.max_calls_in_flight, 256,
            "the rest keep their defaults"
        );
        for (toml, setting) in [
            (
                "[backoffice]\nmax_calls_in_flight = 0",
                "backoffice.max_calls_in_flight",
            ),
            ("[backoffice]\nslow_call_ms = 10", "backoffice.slow_call_ms"),
            (
                "[backoffice]\nbreaker_failures = 0",
                "backoffice.breaker_failures",
            ),
            (
                "[backoffice]\nbreaker_open_ms = 10",
                "backoffice.breaker_open_ms",
            ),
            (
                "[backoffice]\nbreaker_probes = 0",
                "backoffice.breaker_probes",
            ),
            ("[backoffice]\nbreaker_probs = 2", "breaker_probs"),
        ] {
            let err = with(toml).unwrap_err().to_string();
            assert!(err.contains(setting), "{toml}: {err}");
        }
    }

    #[test]
    fn the_demo_world_never_runs_next_to_production_data() {
        let err = with("demo = true\ndatabase_url = \"postgres://db/x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("demo"), "{err}");
        assert!(with("demo = false").is_ok());
    }

    #[test]
    fn secrets_do_not_print() {
        let c = with("database_url = \"postgres://u:hunter2@db/x\"").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.demo_enabled());
        assert!(
            !c.phone_page_enabled(),
            "the phone page is served there only when enabled"
        );
    }
}
