//! The flags that pace a load, the same for phones (USSD) and agencies' clients (SMS): a
//! closed loop of `--concurrency` workers, or an open loop of `--rate` arrivals a second.

use crate::runner::Load;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct PacingArgs {
    /// Closed loop: this many workers (phones, or agencies' clients), each starting its next
    /// session or request when its last one ends.
    #[arg(long, conflicts_with = "rate")]
    pub concurrency: Option<usize>,
    /// Open loop: this many new sessions (or requests) per second, on schedule, whatever the
    /// gateway does.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Open loop: sessions (or requests) allowed in flight; arrivals beyond are dropped (and
    /// counted).
    #[arg(long, default_value_t = 1000, requires = "rate")]
    pub max_in_flight: usize,
    /// Open loop: an arrival starting later than this behind schedule is counted late.
    #[arg(long, default_value = "50ms", value_parser = humantime::parse_duration, requires = "rate")]
    pub late_after: Duration,
}

impl PacingArgs {
    /// The load the flags ask for: `--rate` makes an open loop, otherwise a closed loop of
    /// `--concurrency` (`default_concurrency` when not given).
    pub fn load(&self, default_concurrency: usize) -> anyhow::Result<Load> {
        if let Some(rate) = self.rate {
            anyhow::ensure!(
                rate > 0.0 && rate.is_finite(),
                "--rate must be a positive number"
            );
            anyhow::ensure!(self.max_in_flight > 0, "--max-in-flight must be at least 1");
            return Ok(Load::Open {
                rate,
                max_in_flight: self.max_in_flight,
                late_after: self.late_after,
            });
        }
        let concurrency = self.concurrency.unwrap_or(default_concurrency);
        anyhow::ensure!(concurrency > 0, "--concurrency must be at least 1");
        Ok(Load::Closed { concurrency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        pacing: PacingArgs,
    }

    fn load(args: &[&str]) -> anyhow::Result<Load> {
        let argv = std::iter::once("load").chain(args.iter().copied());
        Cli::try_parse_from(argv)?.pacing.load(7)
    }

    #[test]
    fn flags_make_a_closed_or_an_open_loop() {
        let open = |rate, max_in_flight, ms| Load::Open {
            rate,
            max_in_flight,
            late_after: Duration::from_millis(ms),
        };
        let cases: [(&[&str], Load); 4] = [
            (&[], Load::Closed { concurrency: 7 }),
            (&["--concurrency", "64"], Load::Closed { concurrency: 64 }),
            (&["--rate", "50"], open(50.0, 1000, 50)),
            (
                &[
                    "--rate",
                    "2.5",
                    "--max-in-flight",
                    "9",
                    "--late-after",
                    "1s",
                ],
                open(2.5, 9, 1000),
            ),
        ];
        for (args, expected) in cases {
            assert_eq!(load(args).unwrap(), expected, "{args:?}");
        }
        for bad in [
            &["--rate", "0"][..],
            &["--rate", "-1"],
            &["--concurrency", "0"],
            &["--concurrency", "2", "--rate", "5"],
            &["--max-in-flight", "5"],
            &["--rate", "5", "--max-in-flight", "0"],
        ] {
            assert!(load(bad).is_err(), "{bad:?}");
        }
    }
}
