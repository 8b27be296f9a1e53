//! How values look on a screen: plain values, money and dates, per language.

use crate::language::Language;
use chrono::Datelike;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;
use std::str::FromStr;

/// Separators and date layouts per language. Swahili and English in Tanzania both write
/// `45,000.00` and day-first dates; a new language adds one row.
struct Locale {
    language: &'static str,
    thousands: char,
    decimal: char,
    date: &'static str,
    date_time: &'static str,
    /// Day and month, for a date in the coming days where the weekday says more than a year.
    day_month: &'static str,
    /// Monday first, as [`chrono::Weekday::num_days_from_monday`] counts.
    weekdays: [&'static str; 7],
}

const LOCALES: &[Locale] = &[
    Locale {
        language: "sw",
        thousands: ',',
        decimal: '.',
        date: "%d/%m/%Y",
        date_time: "%d/%m/%Y %H:%M",
        day_month: "%d/%m",
        weekdays: [
            "Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi", "Jumapili",
        ],
    },
    Locale {
        language: "en",
        thousands: ',',
        decimal: '.',
        date: "%d/%m/%Y",
        date_time: "%d/%m/%Y %H:%M",
        day_month: "%d/%m",
        weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    },
];

fn locale(language: Language) -> &'static Locale {
    LOCALES
        .iter()
        .find(|l| l.language == language.code())
        .unwrap_or(&LOCALES[1])
}

/// A JSON value as text: strings bare, `null` and containers empty (a screen has no use for
/// raw JSON).
pub(crate) fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// `45000` or `"45000.5"` → `45,000.50`; text that is not a number is shown as it is.
pub(crate) fn money(text: &str, language: Language) -> String {
    let Ok(amount) = Decimal::from_str(text.trim()) else {
        return text.to_string();
    };
    let l = locale(language);
    let mut amount = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    amount.rescale(2);
    let digits = amount.abs().to_string();
    let (whole, cents) = digits.split_once('.').unwrap_or((&digits, "00"));
    let mut out = String::new();
    if amount.is_sign_negative() && !amount.is_zero() {
        out.push('-');
    }
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(l.thousands);
        }
        out.push(c);
    }
    out.push(l.decimal);
    out.push_str(cents);
    out
}

/// RFC 3339 → `24/11/2026 09:30` in the offset it was given in (the agency's local time);
/// `2026-11-24` → `24/11/2026`; anything else is shown as it is.
pub(crate) fn date(text: &str, language: Language) -> String {
    let l = locale(language);
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
        return t.format(l.date_time).to_string();
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return d.format(l.date).to_string();
    }
    text.to_string()
}

/// A date in the coming days with its weekday: RFC 3339 → `Jumatatu 07/12 09:00` (`Mon 07/12
/// 09:00`) in the offset it was given in; `2026-12-07` → `Jumatatu 07/12`; anything else is
/// shown as it is. Swahili weekdays are written out (abbreviations are not in common use).
pub(crate) fn day(text: &str, language: Language) -> String {
    let l = locale(language);
    let weekday = |d: chrono::NaiveDate| l.weekdays[d.weekday().num_days_from_monday() as usize];
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
        let date = t.date_naive();
        return format!(
            "{} {} {}",
            weekday(date),
            date.format(l.day_month),
            t.format("%H:%M")
        );
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return format!("{} {}", weekday(d), d.format(l.day_month));
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_with_two_places() {
        let en = Language::ENGLISH;
        assert_eq!(money("45000.00", en), "45,000.00");
        assert_eq!(money("45000", Language::SWAHILI), "45,000.00");
        assert_eq!(money("1234567.5", en), "1,234,567.50");
        assert_eq!(money("999", en), "999.00");
        assert_eq!(money("0.005", en), "0.01");
        assert_eq!(money("-1500", en), "-1,500.00");
        assert_eq!(money("n/a", en), "n/a");
    }

    #[test]
    fn dates_are_day_first_in_their_own_offset() {
        let sw = Language::SWAHILI;
        assert_eq!(date("2026-11-24T09:30:00+03:00", sw), "24/11/2026 09:30");
        assert_eq!(
            date("2026-11-24T06:30:00Z", Language::ENGLISH),
            "24/11/2026 06:30"
        );
        assert_eq!(date("2026-11-24", sw), "24/11/2026");
        assert_eq!(date("soon", sw), "soon");
    }

    #[test]
    fn days_carry_their_weekday_in_each_language() {
        let sw = Language::SWAHILI;
        let en = Language::ENGLISH;
        // 7 December 2026 is a Monday; a week covers every name once.
        let week: Vec<String> = (7..=13)
            .map(|d| day(&format!("2026-12-{d:02}T09:00:00+03:00"), sw))
            .collect();
        assert_eq!(
            week,
            [
                "Jumatatu 07/12 09:00",
                "Jumanne 08/12 09:00",
                "Jumatano 09/12 09:00",
                "Alhamisi 10/12 09:00",
                "Ijumaa 11/12 09:00",
                "Jumamosi 12/12 09:00",
                "Jumapili 13/12 09:00",
            ]
        );
        assert_eq!(day("2026-12-07T09:00:00+03:00", en), "Mon 07/12 09:00");
        assert_eq!(day("2026-12-13T14:30:00+03:00", en), "Sun 13/12 14:30");
        // The weekday is the one where the time was given, not UTC's: 01:30 EAT is 22:30 UTC on Sunday.
        assert_eq!(day("2026-12-07T01:30:00+03:00", sw), "Jumatatu 07/12 01:30");
        assert_eq!(day("2026-12-09", sw), "Jumatano 09/12");
        assert_eq!(day("2026-12-09", en), "Wed 09/12");
        assert_eq!(day("kesho", sw), "kesho");
    }

    #[test]
    fn plain_values() {
        assert_eq!(plain(&serde_json::json!(12)), "12");
        assert_eq!(plain(&serde_json::json!(null)), "");
        assert_eq!(plain(&serde_json::json!("x")), "x");
    }
}
