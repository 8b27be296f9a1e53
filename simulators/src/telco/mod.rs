//! The telco simulator: the SMS side of an aggregator (Africa's Talking) and of an operator's
//! Kannel smsbox, for the gateway's tests, its embedded demo and load tests. It takes the
//! gateway's sends, answers them as the real services do, records what each number received,
//! and calls the gateway back with delivery reports: late, early, twice, refused and retried,
//! as configured in [`Settings`].
//!
//! Routes, relative to wherever the router is mounted:
//! - `POST /version1/messaging`: Africa's Talking bulk SMS;
//! - `GET /cgi-bin/sendsms`: Kannel smsbox;
//! - `GET /stats`: counters (below);
//! - `GET /messages?to=255754123456` (`+` optional; without `to`, everything kept): what the
//!   number received, oldest first, as `{"messages": [{"sequence", "format", "to", "from",
//!   "text", "coding" (gsm7, 8bit, ucs2), "parts", "message_id", "outcome", "duplicate",
//!   "dlr_mask", "dlr_url"}]}`; `text` is what the handset shows;
//! - `GET /healthz`: `{"status":"ok"}`.
//!
//! # Africa's Talking
//! `POST /version1/messaging`, form fields `username`, `to` (comma-separated international
//! numbers, `+255754123456`), `message`, `from` (optional sender id), `bulkSMSMode`,
//! `enqueue` (read, not checked); header `apiKey`; header `Accept: application/json`.
//! - Wrong `username` or `apiKey` (when [`Settings::at_credentials`] is set): `401`,
//!   `text/plain` `The supplied authentication is invalid`.
//! - No `Accept: application/json`: `406` with a short text. (Africa's Talking answers XML
//!   then; this simulator speaks JSON only, so the mistake shows.)
//! - No `to` or no `message`, or a body that is not a form: `400` with a short text.
//! - Throttled: `429`, `text/plain` `Too Many Requests`.
//! - Otherwise `201`, JSON:
//!   `{"SMSMessageData":{"Message":"Sent to 1/1 Total Cost: TZS 20.0000","Recipients":[
//!   {"statusCode":101,"number":"+255754123456","status":"Success","cost":"TZS 20.0000",
//!   "messageId":"ATXid_<32 hex>"}]}}`. The cost is the price per part times the parts.
//!   A recipient refused on its own has `"cost":"0"`, `"messageId":"None"` and
//!   `403 InvalidPhoneNumber` (not 8 to 15 digits after an optional `+`, or starting with
//!   `0`) or `402 InvalidSenderId` (sender ids configured and `from` not one of them); when
//!   none was sent the summary reads `Sent to 0/1 Total Cost: 0`.
//!
//! Delivery reports: form `POST`s to [`Settings::at_report_url`] (HTTP Basic when
//! [`Settings::at_report_credentials`] is set), one after another per message: `id` (the
//! `messageId`), `status`, `phoneNumber` (`+255...`), `networkCode`, `failureReason` (only
//! with `Failed`: `AbsentSubscriber` or `DeliveryFailure`; `Rejected`: `UserInBlackList` or
//! `UserDoesNotExist`), `retryCount` (`0`). Final statuses: `Success`, `Failed`, `Expired`,
//! `Rejected`; with [`Settings::interim_reports`] `Sent` comes first, and `Buffered` before
//! `Expired`.
//!
//! # Kannel
//! `GET /cgi-bin/sendsms?username&password&from&to&text&coding&charset&dlr-mask&dlr-url`.
//! Receivers in `to` are separated by spaces; `coding` is 0 (GSM 7-bit, the default), 1
//! (8-bit) or 2 (UCS-2, with the text as UTF-8 and `charset=UTF-8`). Kannel's answers, all
//! `text/html`:
//! - `202` `0: Accepted for delivery` (no message id: the gateway puts its own in `dlr-url`);
//! - `403` `Authorization failed for sendsms` (checked first);
//! - `400` `Missing receiver number, rejected`, `Empty receiver number not allowed,
//!   rejected`, `Missing text, rejected` (this one is the simulator's: Kannel would send an
//!   empty message), `Coding field misformed, rejected`, `DLR-Mask field misformed,
//!   rejected`, `DLR-URL field misformed, rejected` (not `http://` or `https://`), `Charset
//!   or body misformed, rejected` (a charset other than UTF-8), `Number(s) has/have been
//!   denied by white- and/or black-lists.` (no receiver made only of `0-9 + -`);
//! - throttled (Kannel's answer when its queue is full): `503` `Temporal failure, try again
//!   later.`
//!
//! The handset sees what Kannel makes of the coding: with coding 0, a character outside
//! the GSM alphabet becomes `?`; with coding 2 and no charset the bytes are read as
//! UTF-16BE. Such losses are counted as `text_lost_in_coding`.
//!
//! Delivery reports: a `GET` of the `dlr-url` with Kannel's escapes filled in, once per DLR
//! type the mask asks for, in order: `8` (accepted by the SMSC) then `1` (delivered) or `2`
//! (failed or expired), `4` (buffered) before an expiry with interim reports, `16` (rejected
//! by the SMSC) alone, sent when the mask has 16 or 2 (as Kannel does). Escapes: `%d` the
//! type; `%p` the receiver (the handset, as sent in `to`) and `%P` the sender (`from`):
//! in a DLR Kannel leaves the MT's fields unswapped; `%q`/`%Q` the same with a leading
//! `00` as `+`; `%A` the SMSC's reply (`ACK/`, `NACK/0x0000000b/Invalid Destination
//! Address`, or an SMPP receipt `id:... sub:001 dlvrd:001 submit date:YYMMDDhhmm done
//! date:... stat:DELIVRD err:000 text:...`), URL-encoded; `%F` the SMSC's message id;
//! `%T` unix time and `%t` `YYYY-MM-DD+hh:mm:ss` (when the message was accepted); `%i`
//! the SMSC id; `%I` a uuid; `%c` the coding; `%%` a percent sign. Values are encoded as
//! Kannel does: a space as `+`, `+` as `%2B`.
//!
//! # Behaviour
//! Every accepted message gets an outcome dealt from the [`OutcomeMix`] deck. Each report
//! waits [`Settings::report_delay`] after the previous one; a share of messages report
//! before the send is answered ([`Settings::early_report_rate`]: the answer is held until
//! the reports were answered or one attempt failed), a share of reports go twice, a report
//! that gets no `2xx` is retried with back-off ([`Settings::report_attempts`]). Requests are
//! throttled by share and by [`Settings::max_per_second`] recipients per format. With
//! [`Settings::seed`] the choices repeat from run to run.
//!
//! `GET /stats`: `requests`, `requests_by_format`, `unauthorized`, `bad_requests`,
//! `throttled`, `recipients`, `refused_recipients`, `unique_messages`, `duplicates` (the same
//! format, recipient and text again), `text_lost_in_coding`, `reports_sent` (answered `2xx`,
//! by format and status or DLR type), `reports_duplicated`, `reports_before_answer`,
//! `report_attempts_failed`, `reports_abandoned`, `reports_pending`, `messages_kept`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mgov_simulators::telco::{spawn, Settings};
//!
//! let settings = Settings {
//!     at_report_url: Some("http://127.0.0.1:8080/sms/africastalking/dlr".to_owned()),
//!     report_delay: "1s..5s".parse().expect("valid delay"),
//!     outcomes: "delivered=90,failed=5,expired=3,rejected=2".parse().expect("valid mix"),
//!     ..Settings::default()
//! };
//! let (address, _server) = spawn(settings).await?;
//! println!("Africa's Talking at http://{address}/version1/messaging");
//! # Ok(())
//! # }
//! ```

mod africastalking;
mod http;
mod kannel;
mod ledger;
mod plan;
mod reports;
mod settings;
mod stats;
mod text;
mod throttle;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use crate::backoffice::Latency;
pub use reports::StopGuard;
pub use settings::{Credentials, Outcome, OutcomeMix, Settings};
pub use text::Coding;

/// The wire format a send or a report used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    AfricasTalking,
    Kannel,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::AfricasTalking, Format::Kannel];

    pub fn name(self) -> &'static str {
        match self {
            Format::AfricasTalking => "africastalking",
            Format::Kannel => "kannel",
        }
    }
}

/// The simulator's routes with their state applied, ready to serve or to mount with
/// `Router::nest("/simulators/telco", router(settings))`. Each call is an independent telco.
/// Called inside a Tokio runtime, it starts the task that sends delivery reports; that task
/// stops, dropping pending reports, once the router and all its clones are dropped.
pub fn router(settings: Settings) -> Router {
    http::router(Arc::new(http::Telco::new(settings)))
}

/// [`router`], and a guard that stops the delivery reports when dropped, for a host whose
/// router clones may outlive its shutdown (connections still open).
pub fn router_with_stop(settings: Settings) -> (Router, StopGuard) {
    let telco = Arc::new(http::Telco::new(settings));
    let stop = telco.stop_guard();
    (http::router(telco), stop)
}

/// Serves a fresh simulator on `127.0.0.1` at a free port, for tests. Aborting the handle
/// (or dropping the runtime) stops it, pending reports included.
pub async fn spawn(settings: Settings) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    let (app, stop) = router_with_stop(settings);
    let server = tokio::spawn(async move {
        let _stop_reports_with_the_server = stop;
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "telco simulator stopped");
        }
    });
    Ok((address, server))
}
