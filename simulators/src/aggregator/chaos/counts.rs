//! Chaos events and violations added up by kind, with a few samples of what went wrong.
//! Plain counters: the load generator keeps one per collector and merges them; the
//! simulator keeps one behind a lock.

use serde_json::{json, Map, Value};

use super::check::{Event, Violation};
use super::Behaviour;

/// Violation samples kept, so a run that breaks rules shows how without flooding.
const SAMPLES: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChaosCounts {
    /// Indexed like [`Behaviour::ALL`].
    events: [u64; Behaviour::ALL.len()],
    /// Retries whose first copy was given up before its answer came.
    abandoned: u64,
    /// By behaviour, then by [`Violation::ALL`].
    violations: [[u64; Violation::ALL.len()]; Behaviour::ALL.len()],
    samples: Vec<String>,
}

impl ChaosCounts {
    /// Counts `event`; `context` (say, the session and step) opens its sample if it broke a
    /// rule.
    pub fn record(&mut self, event: &Event, context: &str) {
        let b = event.behaviour as usize;
        self.events[b] += 1;
        self.abandoned += u64::from(event.abandoned);
        if let Some((violation, detail)) = &event.violation {
            self.violations[b][*violation as usize] += 1;
            if self.samples.len() < SAMPLES {
                let kind = violation.kind(event.behaviour);
                self.samples.push(format!("{kind} {context}: {detail}"));
            }
        }
    }

    pub fn merge(&mut self, other: &ChaosCounts) {
        for (mine, theirs) in self.events.iter_mut().zip(other.events) {
            *mine += theirs;
        }
        self.abandoned += other.abandoned;
        for (mine, theirs) in self.violations.iter_mut().zip(other.violations) {
            mine.iter_mut().zip(theirs).for_each(|(m, t)| *m += t);
        }
        let room = SAMPLES.saturating_sub(self.samples.len());
        self.samples
            .extend(other.samples.iter().take(room).cloned());
    }

    pub fn events(&self, behaviour: Behaviour) -> u64 {
        self.events[behaviour as usize]
    }

    pub fn events_total(&self) -> u64 {
        self.events.iter().sum()
    }

    pub fn violations(&self, behaviour: Behaviour, violation: Violation) -> u64 {
        self.violations[behaviour as usize][violation as usize]
    }

    pub fn violations_total(&self) -> u64 {
        self.violations.iter().flatten().sum()
    }

    pub fn samples(&self) -> &[String] {
        &self.samples
    }

    /// `{"events": {"duplicate": n, ...}, "abandoned_retries": n, "violations":
    /// {"duplicate_mismatch": n, ...}, "violations_total": n, "samples": [...]}`, with every
    /// kind present, zeros included, so scripts can read any of them.
    pub fn to_json(&self) -> Value {
        let events: Map<String, Value> = Behaviour::ALL
            .iter()
            .map(|b| (b.name().to_owned(), self.events(*b).into()))
            .collect();
        let mut violations = Map::new();
        for behaviour in Behaviour::ALL {
            for violation in Violation::ALL {
                if violation.applies_to(behaviour) {
                    let count = self.violations(behaviour, violation);
                    violations.insert(violation.kind(behaviour), count.into());
                }
            }
        }
        json!({
            "events": events,
            "events_total": self.events_total(),
            "abandoned_retries": self.abandoned,
            "violations": violations,
            "violations_total": self.violations_total(),
            "samples": self.samples,
        })
    }
}
