//! Hop rate limits, checked before a hop touches anything: each telco's own ceiling
//! ([`Telco::max_hops_per_second`]) and each citizen's hops per minute. Both are counted on
//! this node.
//!
//! A citizen is counted per telco and number. A telco that floods or replays one number, by
//! fault or by malice, spends that number's allowance on that telco only; the citizen's
//! dialogues through other telcos go on. A number normally reaches the gateway through one
//! telco, so an honest citizen gets no more than the per-number allowance either way.

use crate::ids::TelcoId;
use crate::msisdn::Msisdn;
use crate::telcos::Telco;
use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;

type Direct<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;
type Keyed<K, C> =
    RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The limit a refused hop ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Telco,
    Citizen,
}

pub struct HopLimits<C: Clock = DefaultClock> {
    clock: C,
    /// Each telco's bucket with the ceiling it was made for: a telco whose ceiling changed
    /// (the directory is refreshed from the database) gets a new bucket.
    per_telco: DashMap<TelcoId, (NonZeroU32, Direct<C>)>,
    per_citizen: Keyed<(TelcoId, Msisdn), C>,
}

impl HopLimits {
    pub fn new(hops_per_minute_per_msisdn: NonZeroU32) -> Self {
        Self::with_clock(hops_per_minute_per_msisdn, DefaultClock::default())
    }
}

impl<C: Clock + Clone> HopLimits<C> {
    pub fn with_clock(hops_per_minute_per_msisdn: NonZeroU32, clock: C) -> Self {
        let per_minute = Quota::per_minute(hops_per_minute_per_msisdn);
        Self {
            per_telco: DashMap::new(),
            per_citizen: RateLimiter::dashmap_with_clock(per_minute, clock.clone()),
            clock,
        }
    }

    /// Counts one hop of `msisdn` through `telco`, or says which limit refuses it.
    pub fn check(&self, telco: &Telco, msisdn: &Msisdn) -> Result<(), Limited> {
        self.check_telco(telco)?;
        self.per_citizen
            .check_key(&(telco.id.clone(), msisdn.clone()))
            .map_err(|_| Limited::Citizen)
    }

    fn check_telco(&self, telco: &Telco) -> Result<(), Limited> {
        let ceiling = telco.max_hops_per_second;
        let outcome = |bucket: &Direct<C>| bucket.check().map_err(|_| Limited::Telco);
        if let Some(current) = self.per_telco.get(&telco.id).filter(|c| c.0 == ceiling) {
            return outcome(&current.1);
        }
        let fresh = || {
            let quota = Quota::per_second(ceiling);
            (
                ceiling,
                RateLimiter::direct_with_clock(quota, self.clock.clone()),
            )
        };
        let mut slot = self.per_telco.entry(telco.id.clone()).or_insert_with(fresh);
        if slot.0 != ceiling {
            *slot = fresh();
        }
        outcome(&slot.1)
    }

    /// Forgets numbers whose allowance is full again, so that the table holds only the
    /// numbers active in the last minute however many have called.
    pub fn forget_idle(&self) {
        self.per_citizen.retain_recent();
        self.per_citizen.shrink_to_fit();
    }

    /// Numbers (per telco) currently remembered.
    #[cfg(test)]
    fn citizens_remembered(&self) -> usize {
        self.per_citizen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telcos::{WireFormat, DEFAULT_MAX_HOPS_PER_SECOND};
    use governor::clock::FakeRelativeClock;
    use std::time::Duration;

    fn telco(id: &str, per_second: u32) -> Telco {
        Telco {
            id: TelcoId::parse(id).unwrap(),
            wire_format: WireFormat::AfricasTalking,
            credentials: None,
            allowed_networks: vec![],
            screen_limit: 182,
            max_hops_per_second: NonZeroU32::new(per_second).unwrap(),
            sms: None,
        }
    }

    fn number(n: u32) -> Msisdn {
        Msisdn::parse(&format!("2557540{n:05}"), "255").unwrap()
    }

    fn limits(per_minute: u32) -> (HopLimits<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let per_minute = NonZeroU32::new(per_minute).unwrap();
        (HopLimits::with_clock(per_minute, clock.clone()), clock)
    }

    #[test]
    fn a_telco_over_its_own_ceiling_does_not_slow_another() {
        let (limits, clock) = limits(60);
        let (slow, busy) = (telco("slow", 3), telco("busy", 1_000));
        for n in 0..3 {
            assert_eq!(limits.check(&slow, &number(n)), Ok(()));
        }
        assert_eq!(limits.check(&slow, &number(3)), Err(Limited::Telco));
        for n in 0..100 {
            assert_eq!(limits.check(&busy, &number(n)), Ok(()), "{n}");
        }
        clock.advance(Duration::from_secs(1));
        assert_eq!(limits.check(&slow, &number(4)), Ok(()));
    }

    #[test]
    fn a_changed_ceiling_applies_at_once() {
        let (limits, _clock) = limits(60);
        assert_eq!(limits.check(&telco("t", 1), &number(0)), Ok(()));
        assert_eq!(
            limits.check(&telco("t", 1), &number(1)),
            Err(Limited::Telco)
        );
        assert_eq!(limits.check(&telco("t", 2), &number(2)), Ok(()));
        assert_eq!(limits.check(&telco("t", 2), &number(3)), Ok(()));
        assert_eq!(
            limits.check(&telco("t", 2), &number(4)),
            Err(Limited::Telco)
        );
    }

    #[test]
    fn a_number_is_counted_per_telco() {
        let (limits, clock) = limits(2);
        let flood = telco("flood", DEFAULT_MAX_HOPS_PER_SECOND.get());
        let other = telco("other", DEFAULT_MAX_HOPS_PER_SECOND.get());
        let citizen = number(7);
        assert_eq!(limits.check(&flood, &citizen), Ok(()));
        assert_eq!(limits.check(&flood, &citizen), Ok(()));
        assert_eq!(limits.check(&flood, &citizen), Err(Limited::Citizen));
        assert_eq!(limits.check(&flood, &number(8)), Ok(()));
        assert_eq!(limits.check(&other, &citizen), Ok(()));
        // Two a minute: one more after half a minute.
        clock.advance(Duration::from_secs(30));
        assert_eq!(limits.check(&flood, &citizen), Ok(()));
        assert_eq!(limits.check(&flood, &citizen), Err(Limited::Citizen));
    }

    #[test]
    fn idle_numbers_are_forgotten() {
        let (limits, clock) = limits(60);
        let t = telco("t", 1_000);
        for n in 0..500 {
            limits.check(&t, &number(n)).unwrap();
        }
        assert_eq!(limits.citizens_remembered(), 500);
        limits.forget_idle();
        assert_eq!(limits.citizens_remembered(), 500, "all used this second");
        clock.advance(Duration::from_secs(5));
        limits.forget_idle();
        assert_eq!(limits.citizens_remembered(), 0);
    }
}
