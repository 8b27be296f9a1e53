//! mgov-load: the load generator that measures the gateway. Many virtual phones play
//! scripted USSD journeys against a running gateway exactly as aggregators do (Africa's
//! Talking form posts or Hubtel-style JSON), through the aggregator simulator's codec
//! (`mgov_simulators::aggregator`). With `--chaos` the hops misbehave as a hostile
//! aggregator's would (`mgov_simulators::aggregator::chaos`) and every repeated hop's answer
//! is checked against the gateway's rules. `mgov-load sms` sends agencies' SMS through
//! `/v1/messages` and follows their dispatch to the delivery reports.
//!
//! # Layout
//! - [`journey`]: journey files (dial, keys, expected screens, placeholders) and matching.
//! - `session`: one session's hops, each played once or with chaos, and checked.
//! - [`placeholders`]: `[vars]` generators and `{name}` placeholders in journey files.
//! - [`numbers`]: a distinct random MSISDN for every session.
//! - [`runner`]: the closed loop (`--concurrency`) and the open loop (`--rate`).
//! - [`pacing`]: the flags that choose between them, for USSD and SMS alike.
//! - [`stats`]: HDR latency histograms and counters, one set per collector, merged at the end.
//! - [`progress`]: the live progress bar.
//! - [`report`]: the table on stdout, the JSON file, the CSV of completed journeys.
//! - [`sms`]: the SMS load: requests, dispatch followed, the exactly-once audit.
//! - [`target`]: only this machine is a target unless a run says otherwise.
#![forbid(unsafe_code)]

pub mod journey;
pub mod numbers;
pub mod pacing;
pub mod placeholders;
pub mod progress;
pub mod report;
pub mod runner;
mod session;
pub mod sms;
pub mod stats;
pub mod target;
