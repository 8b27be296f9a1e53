//! `from` and `to` of `GET /v1/reports/sms`: the period `[from, to)` an agency asks about,
//! as RFC 3339 times or UTC dates. A date as `from` is the start of that day; as `to`, the
//! end of it, so `from=2026-11-01&to=2026-11-30` is all of November. Without `to` the period
//! ends now; without `from` it starts 24 hours before its end.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The longest period one request may cover: a month, so that one request reads a bounded
/// share of an agency's history.
pub const MAX_RANGE_DAYS: i64 = 31;

/// The period looked at when `from` is not given: the day before `to`.
const DEFAULT_SPAN_HOURS: i64 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRange {
    /// Inclusive.
    pub from: DateTime<Utc>,
    /// Exclusive.
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error(
        "{name} {value:?} is not an RFC 3339 time (2026-11-01T00:00:00Z) or a date (2026-11-01)"
    )]
    NotATime { name: &'static str, value: String },
    #[error("from ({from}) must be before to ({to})")]
    Reversed { from: String, to: String },
    #[error(
        "from ({from}) to ({to}) is longer than {MAX_RANGE_DAYS} days; ask for shorter periods"
    )]
    TooLong { from: String, to: String },
}

/// Which end of the period a value gives: a date means the start of the period's first day,
/// or the end of its last day.
#[derive(Clone, Copy)]
enum End {
    From,
    To,
}

impl ReportRange {
    /// The period `from` and `to` name, the defaults counted from `now`.
    pub fn parse(
        from_raw: Option<&str>,
        to_raw: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self, RangeError> {
        let to = match to_raw {
            Some(raw) => parse_end(raw, End::To)?,
            None => now,
        };
        let from = match from_raw {
            Some(raw) => parse_end(raw, End::From)?,
            None => to - Duration::hours(DEFAULT_SPAN_HOURS),
        };
        // Errors repeat what was given, or what it defaulted to.
        let shown = |raw: Option<&str>, t: DateTime<Utc>| match raw {
            Some(raw) => raw.to_string(),
            None => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        };
        let (from_shown, to_shown) = (shown(from_raw, from), shown(to_raw, to));
        if from >= to {
            return Err(RangeError::Reversed {
                from: from_shown,
                to: to_shown,
            });
        }
        if to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(RangeError::TooLong {
                from: from_shown,
                to: to_shown,
            });
        }
        Ok(ReportRange { from, to })
    }
}

fn parse_end(raw: &str, end: End) -> Result<DateTime<Utc>, RangeError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
    let day = match end {
        End::From => day,
        End::To => day.and_then(|d| d.succ_opt()),
    };
    day.and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| RangeError::NotATime {
            name: match end {
                End::From => "from",
                End::To => "to",
            },
            value: raw.chars().take(60).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn range(from: &str, to: &str) -> ReportRange {
        ReportRange {
            from: at(from),
            to: at(to),
        }
    }

    #[test]
    fn times_dates_and_defaults() {
        let now = at("2026-11-30T12:00:00Z");
        let parse = |from, to| ReportRange::parse(from, to, now);
        assert_eq!(
            parse(None, None),
            Ok(range("2026-11-29T12:00:00Z", "2026-11-30T12:00:00Z"))
        );
        assert_eq!(
            parse(Some("2026-11-01"), Some("2026-11-30")),
            Ok(range("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")),
            "a date as `to` is the end of that day"
        );
        assert_eq!(
            parse(Some("2026-11-30"), Some("2026-11-30")),
            Ok(range("2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z")),
            "one day"
        );
        assert_eq!(
            parse(Some("2026-11-30T09:00:00+03:00"), None),
            Ok(range("2026-11-30T06:00:00Z", "2026-11-30T12:00:00Z"))
        );
        assert_eq!(
            parse(None, Some("2026-11-10T00:00:00Z")),
            Ok(range("2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z"))
        );
        assert_eq!(
            parse(Some("2026-11-30T11:00:00Z"), Some("2026-12-01T00:00:00Z")),
            Ok(range("2026-11-30T11:00:00Z", "2026-12-01T00:00:00Z")),
            "a period may end in the future"
        );
        assert_eq!(
            parse(Some("2026-12-01"), Some("2026-12-31")),
            Ok(range("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")),
            "31 days is allowed"
        );
    }

    #[test]
    fn bad_periods_are_named() {
        let now = at("2026-11-30T12:00:00Z");
        let message = |from, to| ReportRange::parse(from, to, now).unwrap_err().to_string();
        assert_eq!(
            message(Some("yesterday"), None),
            "from \"yesterday\" is not an RFC 3339 time (2026-11-01T00:00:00Z) or a date (2026-11-01)"
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-11-31",
            "30/11/2026",
            "2026-11-01T00:00:00",
        ] {
            assert!(
                message(None, Some(bad)).starts_with(&format!("to {bad:?} is not an RFC 3339")),
                "{bad:?}"
            );
        }
        assert_eq!(
            message(Some("2026-11-02"), Some("2026-11-01")),
            "from (2026-11-02) must be before to (2026-11-01)"
        );
        assert_eq!(
            message(Some("2026-12-01T00:00:00Z"), None),
            "from (2026-12-01T00:00:00Z) must be before to (2026-11-30T12:00:00Z)",
            "a start in the future, ending now"
        );
        assert_eq!(
            message(
                Some("2026-11-30T12:00:00Z"),
                Some("2026-11-30T15:00:00+03:00")
            ),
            "from (2026-11-30T12:00:00Z) must be before to (2026-11-30T15:00:00+03:00)",
            "the same instant: an empty period"
        );
        assert_eq!(
            message(Some("2026-10-01"), Some("2026-11-30")),
            "from (2026-10-01) to (2026-11-30) is longer than 31 days; \
             ask for shorter periods"
        );
        assert_eq!(
            message(
                Some("2026-10-01T00:00:00Z"),
                Some("2026-11-01T00:00:00.001Z")
            ),
            "from (2026-10-01T00:00:00Z) to (2026-11-01T00:00:00.001Z) is longer than 31 days; \
             ask for shorter periods"
        );
    }
}
