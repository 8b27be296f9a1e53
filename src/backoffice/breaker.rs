//! One agency's circuit breaker: after repeated failures the gateway stops calling a back
//! office for a cool-down, so that its actions fail at once instead of holding citizens.
//!
//! - **Closed**: calls go through. Each failure (a 5xx, unreachable, timed out, or still
//!   unanswered after the slow-call threshold) adds one to a run of failures; a good answer
//!   (`ok`, `not_found`, `rejected`) ends the run. A run of `failures_to_open` opens it.
//! - **Open**: calls are refused without being sent, until `open_for` has passed; the first
//!   call after that finds it half-open.
//! - **Half-open**: up to `probes` calls go through at once as probes, the rest are refused.
//!   The first probe answered well closes it; a probe that fails opens it again. A probe
//!   still unanswered at the slow-call threshold gives its place to the next call, so a back
//!   office that recovers is noticed within one threshold, not one threshold plus a cool-down.
//!
//! Every change of state starts a new generation; the verdict of a call let through in an
//! earlier generation is ignored (it says how the back office was, not how it is). Time is
//! tokio's, so tests drive the breaker on a paused clock.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerSettings {
    pub failures_to_open: u32,
    pub open_for: Duration,
    pub probes: u32,
}

/// What the `/metrics` gauge shows: 0 closed, 1 half-open, 2 open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::HalfOpen => "half_open",
            BreakerState::Open => "open",
        }
    }
}

/// What a finished call tells the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The back office answered in the contract's terms.
    Healthy,
    /// Retryable failure: a 5xx, unreachable, timed out.
    Failed,
    /// Neither: an answer that breaks the contract (a 4xx, bad JSON, too large) says the
    /// back office is up, and nothing about whether calls will be answered well.
    Inconclusive,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: u32 },
}

#[derive(Debug)]
struct Inner {
    state: State,
    generation: u64,
}

pub struct Breaker {
    settings: BreakerSettings,
    inner: Mutex<Inner>,
    /// Told of every change of state (the `/metrics` gauge, the log); it starts closed.
    on_change: Box<dyn Fn(BreakerState) + Send + Sync>,
}

/// Leave to make one call. Tell the breaker how it went with [`Ticket::finish`] (and
/// [`Ticket::slow`] when it passes the slow-call threshold); dropped unfinished (the caller
/// gave up), it frees its probe place and counts as nothing.
pub struct Ticket {
    breaker: Arc<Breaker>,
    generation: u64,
    probe: bool,
    /// Already judged (slow), so the answer when it comes changes nothing.
    judged: bool,
}

impl Breaker {
    pub fn new(
        settings: BreakerSettings,
        on_change: impl Fn(BreakerState) + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Breaker {
            settings,
            inner: Mutex::new(Inner {
                state: State::Closed { failures: 0 },
                generation: 0,
            }),
            on_change: Box::new(on_change),
        })
    }

    /// The state as the gauge shows it: open stays open until a call comes after the
    /// cool-down.
    pub fn state(&self) -> BreakerState {
        shown(&self.lock().state)
    }

    /// A ticket for one call, or `None` when the call must not be made.
    pub fn admit(self: &Arc<Self>) -> Option<Ticket> {
        let mut inner = self.lock();
        if let State::Open { until } = inner.state {
            if Instant::now() < until {
                return None;
            }
            self.enter(&mut inner, State::HalfOpen { probing: 0 });
        }
        let probe = match &mut inner.state {
            State::Closed { .. } => false,
            State::HalfOpen { probing } if *probing < self.settings.probes => {
                *probing += 1;
                true
            }
            State::HalfOpen { .. } | State::Open { .. } => return None,
        };
        Some(Ticket {
            breaker: self.clone(),
            generation: inner.generation,
            probe,
            judged: false,
        })
    }

    fn settle(&self, ticket: &Ticket, verdict: Option<Verdict>) {
        let mut inner = self.lock();
        if ticket.generation != inner.generation {
            return;
        }
        let next = match (&mut inner.state, verdict) {
            (State::Closed { failures }, Some(Verdict::Healthy)) => {
                *failures = 0;
                None
            }
            (State::Closed { failures }, Some(Verdict::Failed)) => {
                *failures += 1;
                (*failures >= self.settings.failures_to_open).then(|| self.open_now())
            }
            (State::HalfOpen { .. }, Some(Verdict::Healthy)) if ticket.probe => {
                Some(State::Closed { failures: 0 })
            }
            (State::HalfOpen { .. }, Some(Verdict::Failed)) if ticket.probe => {
                Some(self.open_now())
            }
            (State::HalfOpen { probing }, _) if ticket.probe => {
                *probing = probing.saturating_sub(1);
                None
            }
            _ => None,
        };
        if let Some(next) = next {
            self.enter(&mut inner, next);
        }
    }

    fn open_now(&self) -> State {
        State::Open {
            until: Instant::now() + self.settings.open_for,
        }
    }

    fn enter(&self, inner: &mut Inner, state: State) {
        inner.state = state;
        inner.generation += 1;
        (self.on_change)(shown(&inner.state));
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change under this lock is a single assignment: a panic cannot tear it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn shown(state: &State) -> BreakerState {
    match state {
        State::Closed { .. } => BreakerState::Closed,
        State::Open { .. } => BreakerState::Open,
        State::HalfOpen { .. } => BreakerState::HalfOpen,
    }
}

impl Ticket {
    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// The call has passed the slow-call threshold: closed, it counts as a failure now;
    /// half-open, its probe place goes to the next call. Its answer will change nothing.
    pub fn slow(&mut self) {
        if !self.judged {
            self.judged = true;
            let verdict = (!self.probe).then_some(Verdict::Failed);
            self.breaker.settle(self, verdict);
        }
    }

    /// The call is over.
    pub fn finish(mut self, verdict: Verdict) {
        if !self.judged {
            self.judged = true;
            self.breaker.settle(&self, Some(verdict));
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.judged {
            self.breaker.settle(self, None);
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
