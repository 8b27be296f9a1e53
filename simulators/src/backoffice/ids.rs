//! Deterministic seeds for "data" derived from an input, and identifier sequences that look
//! varied yet never collide.
//!
//! A sequence is an atomic counter passed through a keyed permutation of its number space
//! (a small Feistel network): distinct counters give distinct identifiers by construction, so
//! uniqueness holds without remembering every identifier issued.

use std::sync::atomic::{AtomicU64, Ordering};

/// A well-mixed 64-bit value for `value` (the splitmix64 finaliser).
pub(crate) fn mix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable seed for a text (FNV-1a, then mixed). `std`'s hasher is not stable across Rust
/// releases, and the answers derived from these seeds must not change with the toolchain.
pub(crate) fn seed(text: &str) -> u64 {
    let hash = text.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3)
    });
    mix64(hash)
}

const ROUNDS: usize = 4;

/// A keyed bijection on `0..half * half`: a balanced Feistel network over base-`half` pairs.
#[derive(Debug)]
pub(crate) struct Permutation {
    half: u64,
    keys: [u64; ROUNDS],
}

impl Permutation {
    pub(crate) fn new(half: u64, keys: [u64; ROUNDS]) -> Self {
        assert!(
            half >= 2 && half <= u64::from(u32::MAX),
            "half out of range: {half}"
        );
        Permutation { half, keys }
    }

    pub(crate) fn domain(&self) -> u64 {
        self.half * self.half
    }

    pub(crate) fn apply(&self, value: u64) -> u64 {
        debug_assert!(value < self.domain());
        let (mut left, mut right) = (value / self.half, value % self.half);
        // Each round maps (L, R) to (R, L + F(R)); it is undone by L = R' - F(L'), so the
        // whole network is a bijection whatever F is.
        for key in self.keys {
            let next = (left + mix64(right ^ key) % self.half) % self.half;
            left = right;
            right = next;
        }
        left * self.half + right
    }

    /// The value that [`Permutation::apply`] maps to `image`.
    pub(crate) fn invert(&self, image: u64) -> u64 {
        debug_assert!(image < self.domain());
        let (mut left, mut right) = (image / self.half, image % self.half);
        for key in self.keys.iter().rev() {
            let previous = (right + self.half - mix64(left ^ key) % self.half) % self.half;
            right = left;
            left = previous;
        }
        left * self.half + right
    }
}

/// Issues `0, 1, 2, ...` permuted: unique numbers in `0..domain` that do not look sequential.
#[derive(Debug)]
pub(crate) struct Sequence {
    next: AtomicU64,
    permutation: Permutation,
}

impl Sequence {
    pub(crate) fn new(permutation: Permutation) -> Self {
        Sequence {
            next: AtomicU64::new(0),
            permutation,
        }
    }

    /// With random keys, so a restarted simulator does not reissue yesterday's numbers.
    pub(crate) fn random(half: u64) -> Self {
        Sequence::new(Permutation::new(half, rand::random()))
    }

    /// The next number, or `None` once the whole domain has been issued.
    pub(crate) fn next(&self) -> Option<u64> {
        let counter = self.next.fetch_add(1, Ordering::Relaxed);
        (counter < self.permutation.domain()).then(|| self.permutation.apply(counter))
    }
}

/// The Luhn check digit of `digits` (ASCII digits), so that a mistyped identifier (one wrong
/// digit, most swaps of neighbours) is told apart from an issued one.
pub(crate) fn luhn_digit(digits: &str) -> char {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match (i % 2 == 0, d * 2) {
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
                (false, _) => d,
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// Whether `number` (ASCII digits) ends in the Luhn check digit of the rest.
pub(crate) fn luhn_valid(number: &str) -> bool {
    number.len() >= 2
        && number.bytes().all(|b| b.is_ascii_digit())
        && number.ends_with(luhn_digit(&number[..number.len() - 1]))
}

/// `value` as exactly `width` digits in the Crockford base-32 alphabet (no I, L, O, U),
/// which reads well over the phone and in an SMS.
pub(crate) fn crockford(mut value: u64, width: usize) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut digits = vec![b'0'; width];
    for digit in digits.iter_mut().rev() {
        *digit = ALPHABET[(value % 32) as usize];
        value /= 32;
    }
    String::from_utf8(digits).expect("the alphabet is ASCII")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn permutation_is_a_bijection() {
        for keys in [[0; ROUNDS], [1, 2, 3, 4], rand::random()] {
            let permutation = Permutation::new(37, keys);
            let images: HashSet<u64> = (0..permutation.domain())
                .map(|value| permutation.apply(value))
                .collect();
            assert_eq!(images, (0..permutation.domain()).collect());
            for value in 0..permutation.domain() {
                assert_eq!(permutation.invert(permutation.apply(value)), value);
            }
        }
    }

    #[test]
    fn luhn_catches_one_wrong_digit() {
        assert_eq!(luhn_digit("7992739871"), '3');
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398714") && !luhn_valid("79927398613"));
        assert!(!luhn_valid("7") && !luhn_valid("7a"));
    }

    #[test]
    fn sequence_never_repeats_and_stops_at_the_end_of_its_domain() {
        let sequence = Sequence::random(10);
        let issued: HashSet<u64> = std::iter::from_fn(|| sequence.next()).collect();
        assert_eq!(issued.len(), 100);
        assert_eq!(sequence.next(), None);
    }

    #[test]
    fn consecutive_numbers_do_not_look_sequential() {
        let sequence = Sequence::new(Permutation::new(100_000, [7, 11, 13, 17]));
        let first: Vec<u64> = (0..20).map(|_| sequence.next().unwrap()).collect();
        let close_pairs = first
            .windows(2)
            .filter(|w| w[0].abs_diff(w[1]) < 1_000)
            .count();
        assert!(close_pairs < 3, "{first:?}");
    }

    #[test]
    fn seeds_are_stable() {
        // Answers (names, amounts, statuses) are derived from these; changing them changes
        // what tests and demos see.
        assert_eq!(seed("12345678"), seed("12345678"));
        assert_ne!(seed("12345678"), seed("12345679"));
        assert_eq!(seed(""), mix64(0xCBF2_9CE4_8422_2325));
    }

    #[test]
    fn crockford_pads_and_avoids_ambiguous_letters() {
        assert_eq!(crockford(0, 4), "0000");
        assert_eq!(crockford(31, 2), "0Z");
        assert_eq!(crockford(32 * 32 - 1, 2), "ZZ");
        let all: String = (0..32).map(|value| crockford(value, 1)).collect();
        assert!(!all.contains(['I', 'L', 'O', 'U']));
    }
}
