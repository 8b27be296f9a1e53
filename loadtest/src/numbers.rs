//! Phone numbers for virtual phones: a different one for every session, because the gateway
//! rate-limits per MSISDN. Numbers walk a random permutation of 50 million Tanzanian mobile
//! numbers (`2557` + one of 1/4/5/6/8 + 7 digits), so they look random yet never repeat
//! within a run of fewer than 50 million sessions.

use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

/// Second digits after `2557`: Tigo (71), Vodacom (74, 75, 76), Airtel (78).
const OPERATORS: [u8; 5] = [1, 4, 5, 6, 8];
const PER_OPERATOR: u64 = 10_000_000;
/// 5 × 10^7 = 2^7 × 5^8: a stride that is odd and not a multiple of 5 visits every number.
const SPACE: u64 = OPERATORS.len() as u64 * PER_OPERATOR;

pub struct Msisdns {
    offset: u64,
    stride: u64,
    next: AtomicU64,
}

impl Msisdns {
    pub fn new(rng: &mut impl Rng) -> Self {
        let mut stride = rng.random_range(1_000_000..SPACE);
        while stride % 2 == 0 || stride % 5 == 0 {
            stride += 1;
        }
        Msisdns {
            offset: rng.random_range(0..SPACE),
            stride,
            next: AtomicU64::new(0),
        }
    }

    /// The next unused number, E.164 digits without `+` (`255754123456`).
    pub fn next(&self) -> String {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.nth(i)
    }

    fn nth(&self, i: u64) -> String {
        let n = ((self.offset as u128 + i as u128 * self.stride as u128) % SPACE as u128) as u64;
        let operator = OPERATORS[(n / PER_OPERATOR) as usize];
        format!("2557{operator}{:07}", n % PER_OPERATOR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn numbers_are_tanzanian_mobiles_and_do_not_repeat() {
        let numbers = Msisdns::new(&mut rand::rng());
        let mut seen = HashSet::new();
        for _ in 0..200_000 {
            let n = numbers.next();
            assert_eq!(n.len(), 12, "{n}");
            assert!(
                n.starts_with("2557") && OPERATORS.contains(&(n.as_bytes()[4] - b'0')),
                "{n}"
            );
            assert!(seen.insert(n));
        }
    }

    #[test]
    fn the_walk_is_a_permutation() {
        let numbers = Msisdns {
            offset: 7,
            stride: 3,
            next: AtomicU64::new(0),
        };
        assert_eq!(numbers.nth(0), "255710000007");
        assert_eq!(numbers.nth(SPACE), numbers.nth(0));
        assert_ne!(numbers.nth(1), numbers.nth(0));
    }
}
