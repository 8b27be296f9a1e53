//! Calls to agencies' back offices under the contract of `docs/backoffice.md`: one signed JSON
//! envelope per action, retried with the same `request_id` while the hop's budget allows,
//! within the agency's cap on calls in flight and past its circuit breaker ([`super::limits`]).

use super::breaker::{BreakerState, Verdict};
use super::limits::{AgencyLimits, Refusal};
use super::signature;
use crate::agencies::Agency;
use crate::config::Config;
use crate::ids::{AgencyId, TransactionId};
use crate::language::Language;
use crate::msisdn::Msisdn;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Attempts per call, the first included; a retry needs time left in the budget too.
const MAX_ATTEMPTS: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_millis(50);
/// Largest answer read: the contract's answers are a few kilobytes.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// One action to run for a citizen. Owned, so that a call can outlive the hop that made it.
pub struct ActionCall {
    pub agency: Arc<Agency>,
    pub transaction: TransactionId,
    pub action: String,
    pub msisdn: Msisdn,
    pub language: Language,
    pub params: BTreeMap<String, String>,
}

/// What the back office answered, in the contract's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutcome {
    Ok(serde_json::Value),
    NotFound(Option<String>),
    Rejected(Option<String>),
    /// No usable answer: timed out, unreachable, 5xx after retries, 4xx, not the contract,
    /// or not asked at all (see [`CallReport::refused`]).
    Failed {
        timed_out: bool,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct CallReport {
    pub outcome: CallOutcome,
    /// Requests sent; 0 when the call was refused.
    pub attempts: u32,
    pub latency: Duration,
    /// `Some` when the call was not made (breaker open, cap full): the back office never saw
    /// this request id, so nothing can have happened there. The outcome is then `Failed`.
    pub refused: Option<Refusal>,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: serde_json::Value,
    #[serde(default)]
    message: Option<String>,
}

/// Shared HTTP client with connection pooling and each agency's limits; cheap to clone.
#[derive(Clone)]
pub struct BackOfficeClient {
    http: reqwest::Client,
    limits: Arc<AgencyLimits>,
}

impl Default for BackOfficeClient {
    fn default() -> Self {
        Self::new(&Config::default())
    }
}

impl BackOfficeClient {
    /// With the agencies' limits of `config` (`backoffice.*`, `hop_budget_ms`).
    pub fn new(config: &Config) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(256)
            .user_agent(concat!("mgov-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client's settings are static and valid");
        Self {
            http,
            limits: Arc::new(AgencyLimits::new(config)),
        }
    }

    /// The state of an agency's breaker, once the agency has been called.
    pub fn breaker_state(&self, agency: &AgencyId) -> Option<BreakerState> {
        self.limits.breaker_state(agency)
    }

    /// Runs the call, retrying what the contract calls retryable, and gives up at `deadline`.
    /// A call the agency's limits refuse returns at once, `Failed` with `refused` set.
    pub async fn call(&self, call: &ActionCall, deadline: Instant) -> CallReport {
        let started = Instant::now();
        let mut admission = match self.limits.admit(&call.agency.id) {
            Ok(admission) => admission,
            Err(refusal) => {
                tracing::debug!(agency = %call.agency.id, action = call.action, %refusal, "back-office call refused");
                return CallReport {
                    outcome: failed(format!(
                        "not sent to the back office of {}: {refusal}",
                        call.agency.id
                    )),
                    attempts: 0,
                    latency: started.elapsed(),
                    refused: Some(refusal),
                };
            }
        };
        let attempts = self.attempts(call, deadline);
        tokio::pin!(attempts);
        let slow_at = started + self.limits.slow_call;
        let (outcome, attempts, verdict) = tokio::select! {
            done = &mut attempts => done,
            _ = tokio::time::sleep_until(slow_at) => {
                admission.slow();
                attempts.await
            }
        };
        admission.finish(verdict);
        CallReport {
            outcome,
            attempts,
            latency: started.elapsed(),
            refused: None,
        }
    }

    /// Sends the call until an answer, a permanent failure, the last attempt or `deadline`.
    async fn attempts(&self, call: &ActionCall, deadline: Instant) -> (CallOutcome, u32, Verdict) {
        let body = serde_json::to_vec(&serde_json::json!({
            "request_id": call.transaction.as_str(),
            "action": call.action,
            "msisdn": call.msisdn.as_str(),
            "language": call.language.code(),
            "params": call.params,
        }))
        .expect("a JSON object of strings always serialises");
        let mut attempts = 0;
        loop {
            attempts += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return (timed_out(), attempts, Verdict::Failed);
            }
            match tokio::time::timeout(remaining, self.attempt(call, &body)).await {
                Err(_) => return (timed_out(), attempts, Verdict::Failed),
                Ok(Attempt::Done(outcome)) => {
                    let verdict = match outcome {
                        CallOutcome::Failed { .. } => Verdict::Inconclusive,
                        _ => Verdict::Healthy,
                    };
                    return (outcome, attempts, verdict);
                }
                Ok(Attempt::Retryable(reason)) => {
                    let time_left =
                        deadline.saturating_duration_since(Instant::now()) > RETRY_PAUSE * 2;
                    if attempts >= MAX_ATTEMPTS || !time_left {
                        return (failed(reason), attempts, Verdict::Failed);
                    }
                    tokio::time::sleep(RETRY_PAUSE * attempts).await;
                }
            }
        }
    }

    async fn attempt(&self, call: &ActionCall, body: &[u8]) -> Attempt {
        let now = chrono::Utc::now().timestamp();
        let signature = signature::sign(call.agency.signing_secret.as_bytes(), now, body);
        let sent = self
            .http
            .post(&call.agency.backoffice_url)
            .header(signature::HEADER, signature)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::Retryable(format!("back office unreachable: {e}")),
        };
        let status = response.status();
        if status.is_server_error() {
            return Attempt::Retryable(format!("back office answered {status}"));
        }
        if !status.is_success() {
            return Attempt::Done(failed(format!("back office answered {status}")));
        }
        let answer = match read_limited(response).await {
            Ok(answer) => answer,
            Err(ReadError::TooLarge) => {
                return Attempt::Done(failed(format!(
                    "back office answer is larger than {} KiB",
                    MAX_ANSWER_BYTES / 1024
                )))
            }
            Err(ReadError::Broken(e)) => {
                return Attempt::Retryable(format!("back office answer cut off: {e}"))
            }
        };
        match serde_json::from_slice::<Envelope>(&answer) {
            Ok(envelope) => Attempt::Done(match envelope.status.as_str() {
                "ok" => CallOutcome::Ok(envelope.data),
                "not_found" => CallOutcome::NotFound(envelope.message),
                "rejected" => CallOutcome::Rejected(envelope.message),
                other => failed(format!("back office answered unknown status {other:?}")),
            }),
            Err(e) => Attempt::Done(failed(format!(
                "back office answer is not the contract's JSON: {e}"
            ))),
        }
    }
}

enum ReadError {
    TooLarge,
    Broken(reqwest::Error),
}

/// The answer's body, read a chunk at a time and abandoned past [`MAX_ANSWER_BYTES`] (the
/// connection is then dropped rather than drained).
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|declared| declared > MAX_ANSWER_BYTES as u64)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Broken)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

enum Attempt {
    Done(CallOutcome),
    Retryable(String),
}

fn failed(reason: String) -> CallOutcome {
    CallOutcome::Failed {
        timed_out: false,
        reason,
    }
}

fn timed_out() -> CallOutcome {
    CallOutcome::Failed {
        timed_out: true,
        reason: "hop time budget exhausted".into(),
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
