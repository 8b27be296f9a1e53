//! `--since`: how far back a report looks, as a span back from now (`7d`, `24h`, `30m`) or
//! an RFC 3339 time.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "--since {value:?}: {problem}; give a span back from now like 7d, 24h or 30m, \
     or an RFC 3339 time like 2026-11-01T00:00:00Z"
)]
pub struct SinceError {
    value: String,
    problem: &'static str,
}

/// The start of the period `raw` names, counted back from `now`.
pub fn parse_since(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, SinceError> {
    let fail = |problem| SinceError {
        value: raw.chars().take(60).collect(),
        problem,
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        let at = at.with_timezone(&Utc);
        return if at > now {
            Err(fail("that time is in the future"))
        } else {
            Ok(at)
        };
    }
    let mut chars = raw.chars();
    let unit = chars.next_back();
    let count = chars.as_str();
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail("not a span or a time"));
    }
    let count: i64 = count.parse().map_err(|_| fail("too far back"))?;
    let span = match unit {
        Some('d') => Duration::try_days(count),
        Some('h') => Duration::try_hours(count),
        Some('m') => Duration::try_minutes(count),
        _ => return Err(fail("the unit must be d (days), h (hours) or m (minutes)")),
    };
    span.and_then(|span| now.checked_sub_signed(span))
        .ok_or_else(|| fail("too far back"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_times() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(parse_since("7d", now), Ok(at("2026-11-23T12:00:00Z")));
        assert_eq!(parse_since("24h", now), Ok(at("2026-11-29T12:00:00Z")));
        assert_eq!(parse_since("30m", now), Ok(at("2026-11-30T11:30:00Z")));
        assert_eq!(
            parse_since("2026-11-01T03:00:00+03:00", now),
            Ok(at("2026-11-01T00:00:00Z"))
        );
        for bad in [
            "",
            "d",
            "7",
            "7x",
            "7 d",
            "-7d",
            "+7d",
            "7D",
            "1.5h",
            "9999999999999999999d",
            "99999999999d",
            "2026-11-01",
            "2027-01-01T00:00:00Z",
            "७d",
        ] {
            let err = parse_since(bad, now).unwrap_err().to_string();
            assert!(err.starts_with("--since "), "{bad:?}: {err}");
            assert!(err.contains("7d, 24h or 30m"), "{bad:?}: {err}");
        }
        assert!(parse_since("7x", now)
            .unwrap_err()
            .to_string()
            .contains("the unit must be d (days), h (hours) or m (minutes)"));
    }
}
