//! Value parsers shared by the simulator binaries' flags.

use std::time::Duration;

use crate::backoffice::Latency;

/// A probability from 0.0 to 1.0.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("{text:?} is not a probability between 0.0 and 1.0")),
    }
}

/// A single duration in the latency syntax (`500ms`, `10s`, `1m`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match text.parse::<Latency>() {
        Ok(Latency::Fixed(duration)) => Ok(duration),
        Ok(Latency::Uniform { .. }) => Err(format!("{text:?}: one duration, not a range")),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_probabilities() {
        assert_eq!(parse_rate("0.25"), Ok(0.25));
        assert_eq!(parse_rate("1"), Ok(1.0));
        for bad in ["-0.1", "1.5", "half", "NaN"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_are_single() {
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("1s..2s")
            .unwrap_err()
            .contains("not a range"));
        assert!(parse_duration("soon").is_err());
    }
}
