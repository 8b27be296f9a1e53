//! How long the simulated back office takes to answer: fixed, or drawn uniformly per request,
//! and [`LatencyControl`], which replaces it for a while at run time (slow-agency drills).

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

/// Delay added before every answer, so tests can exercise time-outs and retries.
///
/// Parses from the command-line forms `0`, `50ms`, `2s`, `1m`, `500us` and `20ms..80ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Latency {
    Fixed(Duration),
    /// Drawn per request from `min..=max`.
    Uniform {
        min: Duration,
        max: Duration,
    },
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Fixed(Duration::ZERO)
    }
}

impl Latency {
    /// The delay for one request.
    pub fn sample(&self) -> Duration {
        self.sample_with(&mut rand::rng())
    }

    /// The delay for one request, drawn from `rng` (a seeded one makes a run repeatable).
    pub fn sample_with(&self, rng: &mut impl Rng) -> Duration {
        match *self {
            Latency::Fixed(delay) => delay,
            Latency::Uniform { min, max } if min >= max => min,
            Latency::Uniform { min, max } => rng.random_range(min..=max),
        }
    }

    /// Sleeps for one sampled delay (on tokio's clock, so a paused clock skips it).
    pub async fn wait(&self) {
        let delay = self.sample();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// The latency set at start-up, which an operator may replace at run time, for good or for a
/// while (`POST /admin/latency`). A request takes the latency in force when it arrives.
#[derive(Debug)]
pub struct LatencyControl {
    configured: Latency,
    replaced: Mutex<Option<Replacement>>,
}

#[derive(Debug, Clone)]
struct Replacement {
    latency: Latency,
    /// When the configured latency comes back; `None` keeps the replacement until reset.
    until: Option<Instant>,
}

impl LatencyControl {
    pub fn new(configured: Latency) -> Self {
        LatencyControl {
            configured,
            replaced: Mutex::new(None),
        }
    }

    /// Answers take `latency` from now on, or only for the next `lasting` if given.
    pub fn replace(&self, latency: Latency, lasting: Option<Duration>) {
        let until = lasting.map(|lasting| Instant::now() + lasting);
        *self.lock() = Some(Replacement { latency, until });
    }

    /// Back to the latency set at start-up.
    pub fn reset(&self) {
        *self.lock() = None;
    }

    /// The latency in force now, and for how much longer if it is a timed replacement.
    pub fn current(&self) -> (Latency, Option<Duration>) {
        let mut replaced = self.lock();
        match replaced.clone() {
            Some(Replacement {
                until: Some(until), ..
            }) if Instant::now() >= until => {
                *replaced = None;
                (self.configured.clone(), None)
            }
            Some(Replacement { latency, until }) => (
                latency,
                until.map(|until| until.saturating_duration_since(Instant::now())),
            ),
            None => (self.configured.clone(), None),
        }
    }

    /// Sleeps for one delay drawn from the latency in force now.
    pub async fn wait(&self) {
        let (latency, _) = self.current();
        latency.wait().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Replacement>> {
        // A panic while holding this lock cannot leave the value half-written.
        self.replaced.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A latency string that is not `50ms`, `2s` or `20ms..80ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLatencyError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for ParseLatencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid latency {:?}: {} (expected e.g. 0ms, 50ms, 2s or 20ms..80ms)",
            self.input, self.reason
        )
    }
}

impl std::error::Error for ParseLatencyError {}

impl FromStr for Latency {
    type Err = ParseLatencyError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = |reason| ParseLatencyError {
            input: input.to_owned(),
            reason,
        };
        match input.split_once("..") {
            None => parse_duration(input).map(Latency::Fixed).map_err(error),
            Some((min, max)) => {
                let min = parse_duration(min).map_err(error)?;
                let max = parse_duration(max).map_err(error)?;
                if min > max {
                    return Err(error("the minimum is above the maximum"));
                }
                Ok(Latency::Uniform { min, max })
            }
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Latency::Fixed(delay) => write_duration(f, *delay),
            Latency::Uniform { min, max } => {
                write_duration(f, *min)?;
                f.write_str("..")?;
                write_duration(f, *max)
            }
        }
    }
}

/// `0`, `500us`, `50ms`, `2s` or `1m`; the error says what is wrong.
pub fn parse_duration(text: &str) -> Result<Duration, &'static str> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or("a unit is needed (us, ms, s or m)")?;
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().map_err(|_| "a whole number is needed")?;
    match unit {
        "us" => Ok(Duration::from_micros(number)),
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => number
            .checked_mul(60)
            .map(Duration::from_secs)
            .ok_or("too long"),
        _ => Err("unknown unit (use us, ms, s or m)"),
    }
}

fn write_duration(f: &mut fmt::Formatter<'_>, delay: Duration) -> fmt::Result {
    let micros = delay.as_micros();
    if micros.is_multiple_of(1_000_000) {
        write!(f, "{}s", micros / 1_000_000)
    } else if micros.is_multiple_of(1_000) {
        write!(f, "{}ms", micros / 1_000)
    } else {
        write!(f, "{micros}us")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn parses_fixed_and_uniform_latencies() {
        let cases = [
            ("0", Latency::Fixed(Duration::ZERO)),
            ("0ms", Latency::Fixed(Duration::ZERO)),
            ("50ms", Latency::Fixed(MS(50))),
            ("2s", Latency::Fixed(MS(2_000))),
            ("1m", Latency::Fixed(MS(60_000))),
            ("500us", Latency::Fixed(Duration::from_micros(500))),
            (
                "20ms..80ms",
                Latency::Uniform {
                    min: MS(20),
                    max: MS(80),
                },
            ),
            (
                "1s..2s",
                Latency::Uniform {
                    min: MS(1_000),
                    max: MS(2_000),
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(input.parse::<Latency>(), Ok(expected), "{input}");
        }
    }

    #[test]
    fn rejects_malformed_latencies() {
        for input in [
            "",
            "50",
            "ms",
            "-5ms",
            "1.5s",
            "5h",
            "80ms..20ms",
            "20ms..",
            "..5ms",
        ] {
            let error = input.parse::<Latency>().expect_err(input);
            assert!(error.to_string().contains("expected e.g."), "{error}");
        }
    }

    #[test]
    fn display_round_trips() {
        for input in ["0s", "50ms", "2s", "1500ms", "250us", "20ms..80ms"] {
            let latency: Latency = input.parse().unwrap();
            assert_eq!(latency.to_string(), input);
        }
    }

    #[test]
    fn uniform_samples_stay_within_bounds() {
        let latency = Latency::Uniform {
            min: MS(20),
            max: MS(80),
        };
        for _ in 0..1_000 {
            let delay = latency.sample();
            assert!((MS(20)..=MS(80)).contains(&delay), "{delay:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_timed_replacement_ends_by_itself() {
        let control = LatencyControl::new(Latency::Fixed(MS(20)));
        control.replace(Latency::Fixed(MS(6_000)), Some(MS(10_000)));
        assert_eq!(
            control.current(),
            (Latency::Fixed(MS(6_000)), Some(MS(10_000)))
        );
        tokio::time::advance(MS(9_999)).await;
        assert_eq!(control.current(), (Latency::Fixed(MS(6_000)), Some(MS(1))));
        tokio::time::advance(MS(1)).await;
        assert_eq!(control.current(), (Latency::Fixed(MS(20)), None));
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_replacement_lasts_until_reset() {
        let control = LatencyControl::new(Latency::default());
        control.replace(Latency::Fixed(MS(6_000)), None);
        tokio::time::advance(MS(3_600_000)).await;
        let started = Instant::now();
        control.wait().await;
        assert_eq!(started.elapsed(), MS(6_000));
        control.reset();
        assert_eq!(control.current(), (Latency::default(), None));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_sleeps_on_tokio_clock() {
        let started = tokio::time::Instant::now();
        Latency::Fixed(MS(1_500)).wait().await;
        assert_eq!(started.elapsed(), MS(1_500));
    }
}
