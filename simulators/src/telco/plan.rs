//! Every random choice the telco makes, from one generator seeded by `Settings::seed`, so a
//! run with the same seed and the same sequence of sends makes the same choices.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::settings::{Outcome, OutcomeMix};
use crate::backoffice::Latency;

pub(crate) struct Planner {
    draws: Mutex<Draws>,
}

struct Draws {
    rng: StdRng,
    /// The current deck of outcomes, shuffled, dealt from the end.
    deck: Vec<Outcome>,
    mix: OutcomeMix,
}

impl Planner {
    pub(crate) fn new(seed: Option<u64>, mix: OutcomeMix) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        Planner {
            draws: Mutex::new(Draws {
                rng,
                deck: Vec::new(),
                mix,
            }),
        }
    }

    fn with<T>(&self, draw: impl FnOnce(&mut Draws) -> T) -> T {
        // A panic while drawing cannot leave the generator half-written.
        let mut draws = self.draws.lock().unwrap_or_else(|e| e.into_inner());
        draw(&mut draws)
    }

    /// The next outcome from the deck; a fresh shuffled deck when it runs out.
    pub(crate) fn outcome(&self) -> Outcome {
        self.with(|draws| {
            if draws.deck.is_empty() {
                let mut deck = draws.mix.deck();
                deck.shuffle(&mut draws.rng);
                draws.deck = deck;
            }
            draws.deck.pop().expect("a mix has a positive total")
        })
    }

    /// True with probability `rate`; a zero rate draws nothing.
    pub(crate) fn chance(&self, rate: f64) -> bool {
        rate > 0.0 && self.with(|draws| draws.rng.random::<f64>() < rate)
    }

    pub(crate) fn delay(&self, latency: &Latency) -> Duration {
        match latency {
            Latency::Fixed(delay) => *delay,
            uniform => self.with(|draws| uniform.sample_with(&mut draws.rng)),
        }
    }

    pub(crate) fn pick(&self, options: &[&'static str]) -> &'static str {
        self.with(|draws| options[draws.rng.random_range(0..options.len())])
    }

    /// 32 lower-case hex digits, for message ids.
    pub(crate) fn hex_id(&self) -> String {
        format!("{:032x}", self.with(|draws| draws.rng.random::<u128>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_full_deck_holds_the_mix_exactly() {
        let planner = Planner::new(Some(7), OutcomeMix::new(5, 3, 1, 1).unwrap());
        for _ in 0..3 {
            let dealt: Vec<Outcome> = (0..10).map(|_| planner.outcome()).collect();
            let count = |outcome| dealt.iter().filter(|o| **o == outcome).count();
            assert_eq!(count(Outcome::Delivered), 5);
            assert_eq!(count(Outcome::Failed), 3);
            assert_eq!(count(Outcome::Expired), 1);
            assert_eq!(count(Outcome::Rejected), 1);
        }
    }

    #[test]
    fn the_same_seed_makes_the_same_choices() {
        let run = |seed| {
            let planner = Planner::new(Some(seed), OutcomeMix::new(1, 1, 1, 1).unwrap());
            let outcomes: Vec<Outcome> = (0..20).map(|_| planner.outcome()).collect();
            let chances: Vec<bool> = (0..20).map(|_| planner.chance(0.5)).collect();
            (outcomes, chances, planner.hex_id())
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }

    #[test]
    fn rates_at_the_ends_are_certain() {
        let planner = Planner::new(None, OutcomeMix::ALL_DELIVERED);
        assert!((0..100).all(|_| planner.chance(1.0)));
        assert!((0..100).all(|_| !planner.chance(0.0)));
        assert!((0..100).all(|_| planner.outcome() == Outcome::Delivered));
    }

    #[test]
    fn delays_stay_within_the_range() {
        let planner = Planner::new(Some(3), OutcomeMix::ALL_DELIVERED);
        let range: Latency = "20ms..80ms".parse().unwrap();
        for _ in 0..100 {
            let delay = planner.delay(&range);
            assert!((20..=80).contains(&delay.as_millis()), "{delay:?}");
        }
        let fixed: Latency = "2s".parse().unwrap();
        assert_eq!(planner.delay(&fixed), Duration::from_secs(2));
        assert_eq!(planner.hex_id().len(), 32);
    }
}
