//! What each agency's back office may be asked at once: a cap on calls in flight and a
//! circuit breaker ([`super::breaker`]), kept per agency so that one slow or failing back
//! office cannot hold the citizens of another, with their gauges and counters.
//!
//! A call that finds the cap full is refused at once rather than queued: a full cap means the
//! back office already answers more slowly than calls arrive, so a queued call would hold
//! its citizen for most of the hop and then most likely fail all the same.

use super::breaker::{Breaker, BreakerSettings, BreakerState, Ticket, Verdict};
use crate::config::Config;
use crate::ids::AgencyId;
use crate::telemetry::names;
use dashmap::DashMap;
use metrics::{Counter, Gauge};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a call was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The agency's breaker is open, or half-open with its probes already out.
    BreakerOpen,
    /// The agency already has its cap of calls in flight.
    AtCapacity,
}

impl Refusal {
    /// The `reason` label of the refused-calls counter.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::BreakerOpen => "breaker_open",
            Refusal::AtCapacity => "at_capacity",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::BreakerOpen => "its circuit breaker is open after repeated failures",
            Refusal::AtCapacity => "it already has as many calls in flight as it may",
        })
    }
}

/// The limits of every agency called so far; each agency's are made at its first call.
pub struct AgencyLimits {
    max_in_flight: usize,
    /// A call still unanswered this long counts as a failure for the breaker: the setting,
    /// or the hop budget if that is shorter (a call slower than a hop has failed its citizen).
    pub slow_call: Duration,
    breaker: BreakerSettings,
    gates: DashMap<AgencyId, Arc<Gate>>,
}

struct Gate {
    breaker: Arc<Breaker>,
    slots: Arc<Semaphore>,
    in_flight: Gauge,
    refused_open: Counter,
    refused_full: Counter,
}

/// Leave to make one call: a place under the cap and the breaker's ticket. Dropping it
/// frees the place (and, unfinished, the ticket counts for nothing).
pub struct Admission {
    ticket: Option<Ticket>,
    gate: Arc<Gate>,
    _slot: OwnedSemaphorePermit,
}

impl AgencyLimits {
    pub fn new(config: &Config) -> Self {
        let settings = &config.backoffice;
        Self {
            max_in_flight: settings.max_calls_in_flight as usize,
            slow_call: Duration::from_millis(settings.slow_call_ms.min(config.hop_budget_ms)),
            breaker: BreakerSettings {
                failures_to_open: settings.breaker_failures,
                open_for: Duration::from_millis(settings.breaker_open_ms),
                probes: settings.breaker_probes,
            },
            gates: DashMap::new(),
        }
    }

    /// Leave to call `agency` now, or why not (counted in `/metrics`).
    pub fn admit(&self, agency: &AgencyId) -> Result<Admission, Refusal> {
        let gate = self.gate(agency);
        let Some(ticket) = gate.breaker.admit() else {
            gate.refused_open.increment(1);
            return Err(Refusal::BreakerOpen);
        };
        let Ok(slot) = gate.slots.clone().try_acquire_owned() else {
            gate.refused_full.increment(1);
            return Err(Refusal::AtCapacity); // the unused ticket frees its probe place
        };
        gate.in_flight.increment(1.0);
        Ok(Admission {
            ticket: Some(ticket),
            gate,
            _slot: slot,
        })
    }

    /// The breaker's state, for an agency that has been called.
    pub fn breaker_state(&self, agency: &AgencyId) -> Option<BreakerState> {
        self.gates.get(agency).map(|gate| gate.breaker.state())
    }

    fn gate(&self, agency: &AgencyId) -> Arc<Gate> {
        if let Some(gate) = self.gates.get(agency) {
            return gate.clone();
        }
        self.gates
            .entry(agency.clone())
            .or_insert_with(|| Arc::new(Gate::new(agency, self.max_in_flight, &self.breaker)))
            .clone()
    }
}

impl Gate {
    fn new(agency: &AgencyId, max_in_flight: usize, settings: &BreakerSettings) -> Self {
        let label = agency.to_string();
        let state = metrics::gauge!(names::BACKOFFICE_BREAKER_STATE, "agency" => label.clone());
        state.set(BreakerState::Closed as u8 as f64);
        let id = agency.clone();
        let breaker = Breaker::new(settings.clone(), move |now| {
            state.set(now as u8 as f64);
            match now {
                BreakerState::Open => {
                    tracing::warn!(agency = %id, "back-office circuit breaker opened: calls refused")
                }
                BreakerState::HalfOpen => {
                    tracing::info!(agency = %id, "back-office circuit breaker half-open: probing")
                }
                BreakerState::Closed => {
                    tracing::info!(agency = %id, "back-office circuit breaker closed")
                }
            }
        });
        let refused = |reason: Refusal| {
            metrics::counter!(names::BACKOFFICE_CALLS_REFUSED,
                "agency" => label.clone(), "reason" => reason.as_str())
        };
        Self {
            breaker,
            slots: Arc::new(Semaphore::new(max_in_flight)),
            in_flight: metrics::gauge!(names::BACKOFFICE_CALLS_IN_FLIGHT, "agency" => label.clone()),
            refused_open: refused(Refusal::BreakerOpen),
            refused_full: refused(Refusal::AtCapacity),
        }
    }
}

impl Admission {
    /// The call has been unanswered for [`AgencyLimits::slow_call`].
    pub fn slow(&mut self) {
        if let Some(ticket) = &mut self.ticket {
            ticket.slow();
        }
    }

    /// The call is over; `verdict` is what it says of the back office's health.
    pub fn finish(mut self, verdict: Verdict) {
        if let Some(ticket) = self.ticket.take() {
            ticket.finish(verdict);
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.gate.in_flight.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BackOfficeLimits;
    use metrics_exporter_prometheus::PrometheusBuilder;

    #[tokio::test(start_paused = true)]
    async fn the_cap_and_the_breaker_refuse_and_metrics_show_it() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let limits = AgencyLimits::new(&Config {
            backoffice: BackOfficeLimits {
                max_calls_in_flight: 1,
                breaker_failures: 1,
                ..BackOfficeLimits::default()
            },
            ..Config::default()
        });
        let dawasa = AgencyId::parse("dawasa").unwrap();
        // The agency's gauges and counters are made at its first call, with this recorder.
        metrics::with_local_recorder(&recorder, || {
            let first = limits.admit(&dawasa).expect("a free place");
            assert_eq!(limits.admit(&dawasa).err(), Some(Refusal::AtCapacity));
            first.finish(Verdict::Failed);
            assert_eq!(limits.admit(&dawasa).err(), Some(Refusal::BreakerOpen));
        });
        assert_eq!(limits.breaker_state(&dawasa), Some(BreakerState::Open));
        let shown = recorder.handle().render();
        for line in [
            r#"mgov_backoffice_breaker_state{agency="dawasa"} 2"#,
            r#"mgov_backoffice_calls_in_flight{agency="dawasa"} 0"#,
            r#"mgov_backoffice_calls_refused_total{agency="dawasa",reason="at_capacity"} 1"#,
            r#"mgov_backoffice_calls_refused_total{agency="dawasa",reason="breaker_open"} 1"#,
        ] {
            assert!(shown.lines().any(|l| l == line), "{line} in:\n{shown}");
        }
        assert_eq!(
            limits.breaker_state(&AgencyId::parse("rita").unwrap()),
            None
        );
    }

    #[test]
    fn a_call_slower_than_a_hop_is_slow_whatever_the_setting() {
        let config = |hop_budget_ms| Config {
            hop_budget_ms,
            ..Config::default()
        };
        let slow = |hop_budget_ms| AgencyLimits::new(&config(hop_budget_ms)).slow_call;
        assert_eq!(slow(5_000), Duration::from_millis(3_000));
        assert_eq!(slow(400), Duration::from_millis(400));
    }
}
