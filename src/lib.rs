//! mgov-gateway: one USSD code and one SMS shortcode through which every public institution
//! reaches citizens on feature phones.
//!
//! # Layout
//! - [`config`]: settings from built-in defaults, `mgov.toml` and `MGOV_*` variables.
//! - [`app`]: assembles the gateway's state (what every capability shares, and each one's
//!   own) and serves HTTP.
//! - [`http`]: router assembly and operator endpoints (`/healthz`, `/readyz`, `/metrics`).
//! - [`telcos`]: telco records, callback authentication, one adapter per wire format.
//! - [`ussd`]: the hop handler: repeats and late hops, back-office calls exactly once, ends;
//!   the dialogues' lifecycle (leases, rate limits, records, the reaper).
//! - [`sessions`]: live dialogue state, hop leases and tombstones, in Redis or in-process.
//! - [`menus`]: menu files: parsing, checking, templates and screen rendering; the registry
//!   of versions a node serves.
//! - [`backoffice`]: signed calls to agencies' back offices, the transaction log with its
//!   pending intents, and the reconciler that finishes them.
//! - [`agencies`]: agency records and their back-office settings.
//! - [`db`]: the durable store (Postgres or SQLite), its migrations, and the journal that
//!   group-commits records and never drops one.
//! - [`directory`]: in-memory copies of small tables (telcos, agencies) for the hot path.
//! - [`sms`]: outgoing SMS (the `/v1/messages` API, the outbox and its dispatcher, delivery
//!   reports, signed webhooks to agencies) and incoming SMS (keyword services, topics with
//!   JIUNGE/STOP and broadcasts, notifications from agencies' templates).
//! - [`reports`]: `mgov report`: dialogues, funnels and transactions per agency and service;
//!   SMS figures per agency (also `GET /v1/reports/sms`).
//! - [`cli`]: the `mgov` command line (serve, migrate, menus check, dial, admin).
//! - [`phone`]: the phone in the browser at `/phone`, and previews of unpublished menus.
//! - [`msisdn`], [`ids`], [`language`]: the small types everything else speaks in.
//! - [`telemetry`]: logs with masked phone numbers, and Prometheus metrics.
#![forbid(unsafe_code)]

pub mod agencies;
pub mod app;
pub mod backoffice;
pub mod cli;
pub mod config;
pub mod db;
pub mod directory;
pub mod error;
pub mod http;
pub mod ids;
pub mod language;
pub mod menus;
pub mod msisdn;
pub mod phone;
pub mod reports;
pub mod sessions;
pub mod sms;
pub mod telcos;
pub mod telemetry;
pub mod ussd;
