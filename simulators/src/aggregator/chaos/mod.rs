//! Chaos: an aggregator that misbehaves the way real ones do, and checks that the gateway
//! copes. Shared by the simulator's handsets and by the load generator `mgov-load`.
//!
//! Each hop may be played in one of five ways instead of once ([`Behaviour`]):
//! - `duplicate`: delivered twice in a row; the copy must get the first answer, byte for byte;
//! - `retry`: given up after a short time-out (the connection is closed) and sent again; the
//!   retry must get the answer the first copy got, when it got one before the time-out;
//! - `concurrent`: two copies at once; both must get the same answer;
//! - `replay`: after the hop is answered, an older hop of the dialogue arrives late (Africa's
//!   Talking: a shorter cumulative `text`; Hubtel: a lower `Sequence`); it must be answered
//!   with the current screen, or, once the dialogue has ended, with an `END` screen;
//! - `drop`: the answer is lost on the way back and the platform sends the hop again; the
//!   retry must get the screen the lost answer had.
//!
//! [`Chaos`] holds the share of hops for each behaviour and plans hops with a caller's random
//! number generator (seed it for a repeatable run); [`play`] carries a planned hop out over
//! any [`Transport`] and reports an [`Event`], with the [`Violation`] of the gateway's rules
//! if any; [`ChaosCounts`] adds events and violations up by kind.

mod check;
mod counts;
mod play;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;

pub use check::{excerpt, Event, Violation};
pub use counts::ChaosCounts;
pub use play::{play, Played, Transport};

pub use crate::aggregator::wire::Raw;

use crate::backoffice::Latency;

/// One way of misbehaving with a hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Behaviour {
    Duplicate,
    Retry,
    Concurrent,
    Replay,
    Drop,
}

impl Behaviour {
    pub const ALL: [Behaviour; 5] = [
        Behaviour::Duplicate,
        Behaviour::Retry,
        Behaviour::Concurrent,
        Behaviour::Replay,
        Behaviour::Drop,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Duplicate => "duplicate",
            Behaviour::Retry => "retry",
            Behaviour::Concurrent => "concurrent",
            Behaviour::Replay => "replay",
            Behaviour::Drop => "drop",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What [`Chaos::plan`] decided for one hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    Duplicate,
    /// Give the first copy up after this long, then send it again.
    Retry {
        after: Duration,
    },
    Concurrent,
    /// After the hop is answered, send again the hop made when `older` inputs had been
    /// answered (0 is the dial).
    Replay {
        older: usize,
    },
    Drop,
}

impl Plan {
    pub fn behaviour(self) -> Behaviour {
        match self {
            Plan::Duplicate => Behaviour::Duplicate,
            Plan::Retry { .. } => Behaviour::Retry,
            Plan::Concurrent => Behaviour::Concurrent,
            Plan::Replay { .. } => Behaviour::Replay,
            Plan::Drop => Behaviour::Drop,
        }
    }
}

/// The share of hops (0.0 to 1.0, summing to at most 1.0) played with each behaviour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chaos {
    /// Indexed like [`Behaviour::ALL`].
    shares: [f64; 5],
    /// The longest a `retry`'s first copy is waited for; each retry draws from `0..=this`.
    pub retry_after: Duration,
}

impl Chaos {
    /// No chaos: every hop is sent once.
    pub const OFF: Chaos = Chaos {
        shares: [0.0; 5],
        retry_after: Duration::from_millis(5),
    };

    /// `--chaos default` (and `CHAOS=1` in the load scripts): a fifth of hops misbehave, so
    /// most water-bill journeys meet at least one misbehaviour.
    pub const DEFAULT: Chaos = Chaos {
        shares: [0.05, 0.05, 0.05, 0.02, 0.02],
        retry_after: Duration::from_millis(5),
    };

    pub fn share(&self, behaviour: Behaviour) -> f64 {
        self.shares[behaviour.index()]
    }

    pub fn is_off(&self) -> bool {
        self.shares.iter().all(|share| *share == 0.0)
    }

    /// Decides how to play the hop at `position` (0 for the dial, then one per input). A
    /// replay needs an older hop, so the dial is never replayed: its share goes unused there.
    pub fn plan(&self, rng: &mut impl Rng, position: usize) -> Option<Plan> {
        if self.is_off() {
            return None;
        }
        let mut ticket: f64 = rng.random();
        let behaviour = Behaviour::ALL.into_iter().find(|behaviour| {
            ticket -= self.share(*behaviour);
            ticket < 0.0
        })?;
        match behaviour {
            Behaviour::Duplicate => Some(Plan::Duplicate),
            Behaviour::Retry => {
                let max = self.retry_after.as_micros() as u64;
                let after = Duration::from_micros(rng.random_range(0..=max));
                Some(Plan::Retry { after })
            }
            Behaviour::Concurrent => Some(Plan::Concurrent),
            Behaviour::Replay if position == 0 => None,
            Behaviour::Replay => Some(Plan::Replay {
                older: rng.random_range(0..position),
            }),
            Behaviour::Drop => Some(Plan::Drop),
        }
    }
}

impl Default for Chaos {
    fn default() -> Self {
        Chaos::OFF
    }
}

/// `off`, `default`, or `name=share` items separated by commas, applied in order over
/// `off`: `duplicate=0.05,retry=0.05,concurrent=0.05,replay=0.02,drop=0.02`, or
/// `default,drop=0.1`. `retry_after=5ms` sets the longest wait before a retry.
impl FromStr for Chaos {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut chaos = Chaos::OFF;
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item.split_once('=') {
                None if item == "off" || item == "none" => chaos = Chaos::OFF,
                None if item == "default" || item == "1" || item == "on" => chaos = Chaos::DEFAULT,
                Some(("retry_after", value)) => match value.parse::<Latency>() {
                    Ok(Latency::Fixed(after)) => chaos.retry_after = after,
                    _ => return Err(format!("retry_after={value}: one duration, e.g. 5ms")),
                },
                Some((name, value)) => {
                    let behaviour = Behaviour::ALL
                        .into_iter()
                        .find(|b| b.name() == name.trim())
                        .ok_or_else(|| {
                            format!("unknown chaos behaviour {name:?} (expected {})", names())
                        })?;
                    let share = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|share| (0.0..=1.0).contains(share))
                        .ok_or_else(|| format!("{item}: a share between 0.0 and 1.0"))?;
                    chaos.shares[behaviour.index()] = share;
                }
                None => {
                    return Err(format!(
                        "{item:?}: use off, default, or name=share with name one of {}",
                        names()
                    ))
                }
            }
        }
        let total: f64 = chaos.shares.iter().sum();
        if total > 1.0 + 1e-9 {
            return Err(format!("the shares add up to {total}, more than 1.0"));
        }
        Ok(chaos)
    }
}

fn names() -> String {
    let names: Vec<&str> = Behaviour::ALL.iter().map(|b| b.name()).collect();
    names.join(", ")
}

/// The canonical spec, which parses back to the same value.
impl fmt::Display for Chaos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_off() {
            return f.write_str("off");
        }
        for behaviour in Behaviour::ALL {
            write!(f, "{}={},", behaviour.name(), self.share(behaviour))?;
        }
        let micros = self.retry_after.as_micros();
        if micros.is_multiple_of(1000) {
            write!(f, "retry_after={}ms", micros / 1000)
        } else {
            write!(f, "retry_after={micros}us")
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
