//! Calls to agencies' back offices under the contract of `BACKOFFICE.md`: one signed JSON
//! envelope per action, retried with the same `request_id` while the hop's budget allows.

use super::signature;
use crate::agencies::Agency;
use crate::ids::TransactionId;
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
    /// No usable answer: timed out, unreachable, 5xx after retries, 4xx, or not the contract.
    Failed {
        timed_out: bool,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct CallReport {
    pub outcome: CallOutcome,
    pub attempts: u32,
    pub latency: Duration,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: serde_json::Value,
    #[serde(default)]
    message: Option<String>,
}

/// Shared HTTP client with connection pooling; cheap to clone.
#[derive(Clone)]
pub struct BackOfficeClient {
    http: reqwest::Client,
}

impl Default for BackOfficeClient {
    fn default() -> Self {
        Self::new()
    }
}

impl BackOfficeClient {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(256)
            .user_agent(concat!("mgov-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client's settings are static and valid");
        Self { http }
    }

    /// Runs the call, retrying what the contract calls retryable, and gives up at `deadline`.
    pub async fn call(&self, call: &ActionCall, deadline: Instant) -> CallReport {
        let started = Instant::now();
        let body = serde_json::to_vec(&serde_json::json!({
            "request_id": call.transaction.as_str(),
            "action": call.action,
            "msisdn": call.msisdn.as_str(),
            "language": call.language.code(),
            "params": call.params,
        }))
        .expect("a JSON object of strings always serialises");
        let mut attempts = 0;
        let outcome = loop {
            attempts += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break timed_out();
            }
            match tokio::time::timeout(remaining, self.attempt(call, &body)).await {
                Err(_) => break timed_out(),
                Ok(Attempt::Done(outcome)) => break outcome,
                Ok(Attempt::Retryable(reason)) => {
                    let time_left =
                        deadline.saturating_duration_since(Instant::now()) > RETRY_PAUSE * 2;
                    if attempts >= MAX_ATTEMPTS || !time_left {
                        break CallOutcome::Failed {
                            timed_out: false,
                            reason,
                        };
                    }
                    tokio::time::sleep(RETRY_PAUSE * attempts).await;
                }
            }
        };
        CallReport {
            outcome,
            attempts,
            latency: started.elapsed(),
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
        match response.json::<Envelope>().await {
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
