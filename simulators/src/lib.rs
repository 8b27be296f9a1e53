//! mgov-simulators: stand-ins for the systems the gateway talks to, so that tests, demos and
//! load tests run without any agency's real system.
//!
//! The back-office simulator implements the contract in `docs/backoffice.md`: one signed
//! JSON-over-HTTP endpoint for every action, deterministic answers that tests can rely on, and
//! configurable latency and failure rate. Mount it in-process with
//! `Router::nest("/simulators/backoffice", backoffice::router(settings))`, start it on a free
//! port with [`backoffice::spawn`], or run the `backoffice-sim` binary.
//!
//! The aggregator simulator stands between handsets and the gateway as a telco aggregator's
//! USSD platform does, speaking Africa's Talking or Hubtel-style JSON (`docs/telcos.md`) with
//! network latency, lost replies, reply and idle timeouts and end-of-session notices, and in
//! chaos mode duplicated, retried, concurrent, replayed and dropped hops whose answers it
//! checks. Tests and load generators drive handsets through its JSON API; start it with
//! [`aggregator::spawn`] or run the `aggregator-sim` binary.
//!
//! The telco simulator takes the gateway's SMS sends as Africa's Talking and Kannel's smsbox
//! do, records what each number received, and calls the gateway back with delivery reports
//! (late, early, twice, refused and retried, in a seeded outcome mix). Mount it in-process
//! with `Router::nest("/simulators/telco", telco::router(settings))`, start it with
//! [`telco::spawn`], or run the `telco-sim` binary.
//!
//! # Layout
//! - [`backoffice`]: `Settings`, the router (`POST /`, `GET /healthz`, `GET /stats`) and `spawn`.
//! - `backoffice::http`: handlers: latency, signature check, envelope parsing, faults, replies.
//! - `backoffice::actions`: one file per action family, pure functions of params and time.
//! - [`backoffice::signature`]: the `Mgov-Signature` header: signing and verification.
//! - [`backoffice::latency`]: fixed or uniform latency, parsed from `50ms` or `20ms..80ms`.
//! - `backoffice::ids`: deterministic seeds and collision-free identifier sequences.
//! - `backoffice::idempotency`: remembered answers, so a repeated `request_id` gets the same bytes.
//! - `backoffice::stats`: request counters served as JSON by `GET /stats`.
//! - [`aggregator`]: `Settings`, `Format`, the handset router, `spawn` and the idle sweeper.
//! - `aggregator::http`: the handset API (`dial`, `press`, `hangup`, `/stats`, `/healthz`).
//! - `aggregator::platform`: per-handset dialogues, hops with latency, drops and timeouts,
//!   end notices, the idle cut-off.
//! - `aggregator::wire`: which of a dialogue's facts fill each format's hop and end notice
//!   (the formats themselves are the `mgov-wire` crate's), posting them, reading the replies.
//! - `aggregator::dialogue`: one dialogue's state; dial strings split against the root code.
//! - [`aggregator::chaos`]: misbehaving hops (planned, played over any transport, checked
//!   against the gateway's rules, counted), shared with the load generator `mgov-load`.
//! - `aggregator::stats`: hop, session, ending and callback-error counters.
//! - [`cli`]: value parsers for the binaries' flags (rates, single durations).
//! - [`telco`]: the SMS side of Africa's Talking and Kannel: `Settings`, the router and
//!   `spawn`; its module doc is the wire format the gateway's senders are written against.
//! - `telco::africastalking`, `telco::kannel`: each format's send, answers and reports.
//! - `telco::reports`: the background task that sends, repeats and retries reports.
//! - `telco::ledger`, `telco::stats`: what each number received, duplicates, counters.
//! - `telco::plan`, `telco::throttle`, `telco::text`: seeded choices, the per-second limit,
//!   GSM 7-bit and UCS-2 texts and Kannel's URL coding.
#![forbid(unsafe_code)]

pub mod aggregator;
pub mod backoffice;
pub mod cli;
pub mod telco;

/// Logs to stdout (`RUST_LOG` filters, default `info`), in colour only at a terminal, so a
/// log file holds plain text.
pub fn init_logging() {
    let colour = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(colour)
        .init();
}

/// Serves `router` on `listener` until Ctrl-C (both simulator binaries run this way).
pub async fn serve_until_interrupted(
    listener: tokio::net::TcpListener,
    router: axum::Router,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            // If the signal handler cannot be installed, run until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
}
