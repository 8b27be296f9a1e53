//! Each telco's sending pace: its parts-per-second limit on this node (governor) and, when
//! Redis is configured, across all nodes ([`super::shared_pace`]); and a rest after it says
//! "throttled" or "queue full", longer each time it says so again.

use super::shared_pace::{SharedLimits, SharedPace};
use crate::ids::TelcoId;
use dashmap::DashMap;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const FIRST_REST: Duration = Duration::from_secs(1);
const LONGEST_REST: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Paces {
    telcos: DashMap<TelcoId, Arc<Pace>>,
    shared: Option<SharedLimits>,
}

impl Paces {
    /// Paces whose limits also hold across every node sharing `limits`.
    pub fn shared(limits: SharedLimits) -> Self {
        Self {
            telcos: DashMap::new(),
            shared: Some(limits),
        }
    }

    /// The pace of `telco` at `parts_per_second` (started afresh when its limit changed).
    pub fn of(&self, telco: &TelcoId, parts_per_second: NonZeroU32) -> Arc<Pace> {
        if let Some(pace) = self.telcos.get(telco) {
            if pace.rate == parts_per_second {
                return pace.clone();
            }
        }
        let shared = self
            .shared
            .clone()
            .map(|limits| SharedPace::new(limits, telco.clone(), parts_per_second));
        let pace = Arc::new(Pace::new(parts_per_second, shared));
        self.telcos.insert(telco.clone(), pace.clone());
        pace
    }
}

pub struct Pace {
    rate: NonZeroU32,
    limiter: DefaultDirectRateLimiter,
    shared: Option<SharedPace>,
    rest: Mutex<Rest>,
}

#[derive(Default)]
struct Rest {
    until: Option<Instant>,
    next: Option<Duration>,
}

impl Pace {
    fn new(rate: NonZeroU32, shared: Option<SharedPace>) -> Self {
        // A burst of one second's worth, and at least one whole ten-part message.
        let burst = rate.max(NonZeroU32::new(10).unwrap());
        Self {
            rate,
            limiter: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            shared,
            rest: Mutex::new(Rest::default()),
        }
    }

    /// Waits until `parts` more parts may go out.
    pub async fn ready_for(&self, parts: u32) {
        let parts = NonZeroU32::new(parts).unwrap_or(NonZeroU32::MIN);
        // Cannot fail: the burst holds the largest message.
        let _ = self.limiter.until_n_ready(parts).await;
        if let Some(shared) = &self.shared {
            shared.ready_for(parts.get()).await;
        }
    }

    /// When the telco's rest ends, if it is resting now.
    pub fn resting_until(&self) -> Option<Instant> {
        let rest = self.rest.lock().unwrap_or_else(|e| e.into_inner());
        rest.until.filter(|until| *until > Instant::now())
    }

    /// The telco asked us to slow down: rest (1 s, then twice as long each time, up to
    /// 30 s). Returns when the rest ends.
    pub fn throttled(&self) -> Instant {
        let mut rest = self.rest.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some(until) = rest.until.filter(|until| *until > now) {
            return until; // already resting: the sends in flight said so too
        }
        let length = rest.next.unwrap_or(FIRST_REST);
        rest.next = Some((length * 2).min(LONGEST_REST));
        let until = now + length;
        rest.until = Some(until);
        until
    }

    /// The telco took a message: the next throttle starts with a short rest again.
    pub fn took_one(&self) {
        let mut rest = self.rest.lock().unwrap_or_else(|e| e.into_inner());
        if rest.until.is_none_or(|until| until <= Instant::now()) {
            rest.next = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rests_grow_while_the_telco_keeps_throttling_and_reset_after() {
        let pace = Pace::new(NonZeroU32::new(100).unwrap(), None);
        let start = Instant::now();
        assert_eq!(pace.resting_until(), None);
        assert_eq!(pace.throttled(), start + Duration::from_secs(1));
        // More answers from the same moment do not stretch the rest.
        assert_eq!(pace.throttled(), start + Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(pace.throttled(), Instant::now() + Duration::from_secs(2));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(pace.throttled(), Instant::now() + Duration::from_secs(4));
        tokio::time::advance(Duration::from_secs(4)).await;
        pace.took_one();
        assert_eq!(pace.throttled(), Instant::now() + Duration::from_secs(1));
    }

    #[test]
    fn a_changed_limit_starts_a_new_pace() {
        let paces = Paces::default();
        let telco = TelcoId::parse("vodacom").unwrap();
        let ten = NonZeroU32::new(10).unwrap();
        let a = paces.of(&telco, ten);
        assert!(Arc::ptr_eq(&a, &paces.of(&telco, ten)));
        let b = paces.of(&telco, NonZeroU32::new(20).unwrap());
        assert!(!Arc::ptr_eq(&a, &b));
    }
}
