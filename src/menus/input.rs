//! What an input state accepts, and the value it stores.

use regex::Regex;
use rust_decimal::Decimal;
use std::str::FromStr;

#[derive(Debug)]
pub(crate) struct InputRule {
    pub save_as: String,
    /// Anchored at load (`^(?:...)$`): a clerk's `[0-9]{8}` must not accept nine digits.
    pub pattern: Option<Regex>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub numeric: Option<(Option<i64>, Option<i64>)>,
    pub money: Option<(Option<Decimal>, Option<Decimal>)>,
}

impl InputRule {
    /// The value to store for `raw`, or `None` when the citizen must try again. Money is
    /// stored as a decimal string with two places (`"45000.00"`), as the back office expects.
    pub fn accept(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        let length = raw.chars().count();
        if raw.is_empty()
            || self.min_length.is_some_and(|min| length < min)
            || self.max_length.is_some_and(|max| length > max)
            || self.pattern.as_ref().is_some_and(|p| !p.is_match(raw))
        {
            return None;
        }
        if let Some((min, max)) = self.numeric {
            if !raw.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: i64 = raw.parse().ok()?;
            if min.is_some_and(|min| n < min) || max.is_some_and(|max| n > max) {
                return None;
            }
        }
        if let Some((min, max)) = self.money {
            return accept_money(raw, min, max);
        }
        Some(raw.to_string())
    }
}

/// Digits with up to two decimals; `*` stands for the point, which keypads lack.
fn accept_money(raw: &str, min: Option<Decimal>, max: Option<Decimal>) -> Option<String> {
    let text = raw.replace('*', ".");
    let (whole, cents) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(cents)
        || cents.len() > 2
        || text.ends_with('.')
    {
        return None;
    }
    let mut amount = Decimal::from_str(&text).ok()?;
    if amount <= Decimal::ZERO || min.is_some_and(|m| amount < m) || max.is_some_and(|m| amount > m)
    {
        return None;
    }
    amount.rescale(2);
    Some(amount.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> InputRule {
        InputRule {
            save_as: "x".into(),
            pattern: None,
            min_length: None,
            max_length: None,
            numeric: None,
            money: None,
        }
    }

    #[test]
    fn patterns_match_the_whole_input() {
        let r = InputRule {
            pattern: Some(Regex::new("^(?:[0-9]{8})$").unwrap()),
            ..rule()
        };
        assert_eq!(r.accept(" 12345678 ").as_deref(), Some("12345678"));
        assert_eq!(r.accept("123456789"), None);
        assert_eq!(r.accept("1234567a"), None);
    }

    #[test]
    fn lengths_and_numbers() {
        let r = InputRule {
            min_length: Some(2),
            max_length: Some(3),
            numeric: Some((Some(10), Some(150))),
            ..rule()
        };
        assert_eq!(r.accept("42").as_deref(), Some("42"));
        assert_eq!(r.accept("9"), None);
        assert_eq!(r.accept("151"), None);
        assert_eq!(r.accept("4a"), None);
        assert_eq!(rule().accept(""), None);
    }

    #[test]
    fn money_is_stored_with_two_places() {
        let r = InputRule {
            money: Some((Some(Decimal::from(500)), Some(Decimal::from(1_000_000)))),
            ..rule()
        };
        assert_eq!(r.accept("45000").as_deref(), Some("45000.00"));
        assert_eq!(r.accept("500*5").as_deref(), Some("500.50"));
        assert_eq!(r.accept("499"), None);
        assert_eq!(r.accept("1000001"), None);
        assert_eq!(r.accept("12.345"), None);
        assert_eq!(r.accept("12."), None);
        assert_eq!(r.accept(".5"), None);
    }
}
