//! Kannel's smsbox as the gateway meets it: `GET /cgi-bin/sendsms` and the `dlr-url` calls
//! that follow. The answers are Kannel's own (`gw/smsbox.c`); the wire format is documented
//! on the `telco` module.

mod dlr;

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::africastalking::international_digits;
use super::http::{hold_for, Telco};
use super::ledger::Received;
use super::reports::Request;
use super::settings::Outcome;
use super::stats::Count;
use super::text::{kannel_handset_text, query_fields, Coding};
use super::Format;

use dlr::Dlr;

pub(crate) const PATH: &str = "/cgi-bin/sendsms";

/// Kannel's answers: (status, body). Kannel sends them as `text/html`.
pub(crate) const ACCEPTED: (StatusCode, &str) = (StatusCode::ACCEPTED, "0: Accepted for delivery");
pub(crate) const UNAUTHORIZED: (StatusCode, &str) =
    (StatusCode::FORBIDDEN, "Authorization failed for sendsms");
pub(crate) const THROTTLED: (StatusCode, &str) = (
    StatusCode::SERVICE_UNAVAILABLE,
    "Temporal failure, try again later.",
);
const MISSING_TO: (StatusCode, &str) =
    (StatusCode::BAD_REQUEST, "Missing receiver number, rejected");
const EMPTY_TO: (StatusCode, &str) = (
    StatusCode::BAD_REQUEST,
    "Empty receiver number not allowed, rejected",
);
/// Kannel itself would send an empty message; a gateway that sends no text has a bug.
const MISSING_TEXT: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "Missing text, rejected");
const DENIED: (StatusCode, &str) = (
    StatusCode::BAD_REQUEST,
    "Number(s) has/have been denied by white- and/or black-lists.",
);
const BAD_CODING: (StatusCode, &str) =
    (StatusCode::BAD_REQUEST, "Coding field misformed, rejected");
const BAD_DLR_MASK: (StatusCode, &str) = (
    StatusCode::BAD_REQUEST,
    "DLR-Mask field misformed, rejected",
);
const BAD_DLR_URL: (StatusCode, &str) =
    (StatusCode::BAD_REQUEST, "DLR-URL field misformed, rejected");
/// Only UTF-8 is converted here; Kannel would try any charset iconv knows.
const BAD_CHARSET: (StatusCode, &str) = (
    StatusCode::BAD_REQUEST,
    "Charset or body misformed, rejected",
);

/// The characters smsbox accepts in a receiver (`SENDSMS_DEFAULT_CHARS`, less the space
/// that separates receivers).
const NUMBER_CHARS: &str = "0123456789+-";

fn reply((status, body): (StatusCode, &'static str)) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html")], body).into_response()
}

/// A sendsms request that passed smsbox's checks.
struct SendSms {
    receivers: Vec<String>,
    denied: usize,
    from: Option<String>,
    text: Vec<u8>,
    coding: u32,
    utf8: bool,
    dlr_mask: u32,
    dlr_url: Option<String>,
}

pub(crate) async fn send(State(telco): State<Arc<Telco>>, RawQuery(query): RawQuery) -> Response {
    telco.stats.request(Format::Kannel);
    let request = match parse(&telco, query.as_deref().unwrap_or_default()) {
        Ok(request) => request,
        Err((count, answer)) => {
            telco.stats.count(count);
            return reply(answer);
        }
    };
    if telco.throttled(Format::Kannel, request.receivers.len()) {
        return reply(THROTTLED);
    }
    telco.stats.add(
        Count::Recipient,
        (request.receivers.len() + request.denied) as u64,
    );
    telco
        .stats
        .add(Count::RefusedRecipient, request.denied as u64);
    let mut held = Vec::new();
    for receiver in &request.receivers {
        held.extend(accept(&telco, &request, receiver));
    }
    hold_for(held).await;
    reply(ACCEPTED)
}

/// smsbox's checks, in its order: credentials, `to`, then the fields.
fn parse(telco: &Telco, query: &str) -> Result<SendSms, (Count, (StatusCode, &'static str))> {
    let fields = query_fields(query);
    let field = |name: &str| {
        let value = fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        value.map(|value| String::from_utf8_lossy(value).into_owned())
    };
    let bad = |answer| (Count::BadRequest, answer);
    if let Some(expected) = &telco.settings.kannel_credentials {
        let (username, password) = (field("username"), field("password"));
        if !expected.admit(username.as_deref(), password.as_deref()) {
            return Err((Count::Unauthorized, UNAUTHORIZED));
        }
    }
    let to = field("to").ok_or(bad(MISSING_TO))?;
    if to.is_empty() {
        return Err(bad(EMPTY_TO));
    }
    let text = fields
        .iter()
        .find(|(n, _)| n == "text")
        .map(|(_, v)| v.clone());
    let text = text.ok_or(bad(MISSING_TEXT))?;
    let number = |name, max| match field(name) {
        None => Ok(0),
        Some(value) => value
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or(()),
    };
    let coding = number("coding", 2).map_err(|()| bad(BAD_CODING))?;
    let dlr_mask = number("dlr-mask", 63).map_err(|()| bad(BAD_DLR_MASK))?;
    let dlr_url = field("dlr-url").filter(|url| !url.is_empty());
    let web = |url: &String| url.starts_with("http://") || url.starts_with("https://");
    if dlr_url.as_ref().is_some_and(|url| !web(url)) {
        return Err(bad(BAD_DLR_URL));
    }
    let utf8 = match field("charset") {
        None => false,
        Some(charset) if ["utf-8", "utf8"].contains(&charset.to_ascii_lowercase().as_str()) => true,
        Some(_) => return Err(bad(BAD_CHARSET)),
    };
    let (receivers, denied): (Vec<String>, Vec<String>) = to
        .split_whitespace()
        .map(str::to_owned)
        .partition(|receiver| receiver.chars().all(|c| NUMBER_CHARS.contains(c)));
    if receivers.is_empty() {
        return Err(bad(DENIED));
    }
    Ok(SendSms {
        receivers,
        denied: denied.len(),
        from: field("from").filter(|from| !from.is_empty()),
        text,
        coding,
        utf8,
        dlr_mask,
        dlr_url,
    })
}

/// Accepts the message for one receiver and plans its DLRs; what to wait on when they go
/// before the answer.
fn accept(
    telco: &Telco,
    request: &SendSms,
    receiver: &str,
) -> Option<tokio::sync::oneshot::Receiver<()>> {
    let coding = match request.coding {
        1 => Coding::EightBit,
        2 => Coding::Ucs2,
        _ => Coding::Gsm7,
    };
    let (text, lost) = kannel_handset_text(&request.text, coding, request.utf8);
    if lost {
        telco.stats.count(Count::TextLostInCoding);
    }
    let digits = international_digits(&receiver.replace('-', ""));
    // A receiver smsbox lets through but that is no number is refused by the SMSC.
    let outcome = match digits {
        Some(_) => telco.planner.outcome(),
        None => Outcome::Rejected,
    };
    let foreign_id = telco.planner.hex_id()[..16].to_owned();
    let internal_id = uuid_like(&telco.planner.hex_id());
    let at = Utc::now();
    let mut reports = Vec::new();
    if let Some(pattern) = &request.dlr_url {
        let settings = &telco.settings;
        for dlr_type in dlr::types(outcome, request.dlr_mask, settings.interim_reports) {
            let dlr = Dlr {
                dlr_type,
                outcome,
                receiver,
                sender: request.from.as_deref().unwrap_or_default(),
                foreign_id: &foreign_id,
                internal_id: &internal_id,
                coding: request.coding,
                text: &text,
                at,
            };
            let url = dlr.fill(pattern);
            reports.push((dlr_type.to_string(), Request::Get { url }));
        }
    }
    let received = Received {
        format: Format::Kannel,
        to: digits.unwrap_or_else(|| receiver.to_owned()),
        from: request.from.clone(),
        parts: coding.parts(&text),
        text,
        coding,
        message_id: None,
        outcome,
        dlr_mask: Some(request.dlr_mask),
        dlr_url: request.dlr_url.clone(),
    };
    telco.accept(received, reports)
}

/// 32 hex digits as Kannel prints a message's uuid (`%I`): 8-4-4-4-12.
fn uuid_like(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
