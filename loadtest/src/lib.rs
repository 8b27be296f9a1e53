//! mgov-load: the load generator that measures the gateway. Many virtual phones play
//! scripted USSD journeys against a running gateway exactly as aggregators do (Africa's
//! Talking form posts or Hubtel-style JSON), through the gateway's own [`mgov::cli::phone`].
//!
//! # Layout
//! - [`journey`]: journey files (dial, keys, expected screens, placeholders) and matching.
//! - [`placeholders`]: `[vars]` generators and `{name}` placeholders in journey files.
//! - [`numbers`]: a distinct random MSISDN for every session.
//! - [`runner`]: the closed loop (`--concurrency`) and the open loop (`--rate`).
//! - [`stats`]: HDR latency histograms and counters, one set per collector, merged at the end.
//! - [`progress`]: the live progress bar.
//! - [`report`]: the table on stdout, the JSON file, the CSV of completed journeys.
#![forbid(unsafe_code)]

pub mod journey;
pub mod numbers;
pub mod placeholders;
pub mod progress;
pub mod report;
pub mod runner;
mod session;
pub mod stats;
