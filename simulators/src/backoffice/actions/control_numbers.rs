//! Control numbers derived from the bill they pay: one unpaid bill has one control number
//! however often it is asked for, and a number leads back to its bill.
//!
//! `99`, a kind digit, the bill's 8-digit key through a fixed permutation (so that numbers
//! of neighbouring accounts do not look alike), and a Luhn check digit: 12 digits. A
//! mistyped number fails the check and is not found.

use crate::backoffice::ids::{luhn_digit, luhn_valid, Permutation};

/// What a control number pays, by its third digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// The current water bill of an account (`BL<account>`).
    Water = 1,
    /// A parcel's property tax for the current financial year.
    PropertyTax = 2,
    /// A parcel's property tax for the year before (arrears).
    PropertyTaxArrears = 3,
    /// Last month's water bill of an account, already paid.
    WaterPaid = 6,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::Water,
        Kind::PropertyTax,
        Kind::PropertyTaxArrears,
        Kind::WaterPaid,
    ];
}

/// Keys are 8 digits: an account or a parcel number.
const KEYS: u64 = 100_000_000;

fn permutation() -> Permutation {
    // Fixed keys: the same bill gets the same number on every run and every instance.
    Permutation::new(10_000, [0x6d67_6f76, 0x6b6f_6469, 0x6d61_6a69, 0x6b65_7369])
}

/// The control number of the bill of `kind` with 8-digit `key`.
pub(super) fn encode(kind: Kind, key: u64) -> String {
    debug_assert!(key < KEYS);
    let payload = format!("99{}{:08}", kind as u8, permutation().apply(key));
    let check = luhn_digit(&payload);
    format!("{payload}{check}")
}

/// The kind and key `number` was issued for, or `None` when no bill has it.
pub(super) fn decode(number: &str) -> Option<(Kind, u64)> {
    if number.len() != 12 || !number.starts_with("99") || !luhn_valid(number) {
        return None;
    }
    let kind = Kind::ALL
        .into_iter()
        .find(|k| number.as_bytes()[2] == b'0' + *k as u8)?;
    let permuted: u64 = number[3..11].parse().ok()?;
    Some((kind, permutation().invert(permuted)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lead_back_to_their_bill() {
        for key in [0, 12_345_678, 99_999_999, 40_000_001] {
            for kind in Kind::ALL {
                let number = encode(kind, key);
                assert_eq!(number.len(), 12, "{number}");
                assert!(number.starts_with("99"), "{number}");
                assert_eq!(decode(&number), Some((kind, key)), "{number}");
            }
        }
    }

    #[test]
    fn a_mistyped_number_is_no_bill() {
        let number = encode(Kind::Water, 12_345_678);
        let mut typo = number.clone().into_bytes();
        typo[7] = if typo[7] == b'9' { b'0' } else { typo[7] + 1 };
        assert_eq!(decode(std::str::from_utf8(&typo).unwrap()), None);
        assert_eq!(decode(&number[..11]), None);
        assert_eq!(decode(&format!("98{}", &number[2..])), None);
    }
}
