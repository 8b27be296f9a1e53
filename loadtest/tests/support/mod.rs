//! A small fake gateway that plays the water-bill menu in both wire formats, and the
//! runner's settings for it. The telco id in the path picks a behaviour:
//! - `limited`, `slow`, `garbage`, `wrong`: a misbehaviour, so every error kind can be
//!   provoked;
//! - `exactly-once`: the gateway's rules for repeated hops, kept (a repeat of the last hop
//!   gets the same bytes, an older hop the current screen, or an END once the dialogue has
//!   ended; copies at once wait for each other);
//! - anything else: a forgetful gateway that answers every request afresh, each final hop
//!   with a new control number.
//!
//! Hops are read and answered with the gateway's own adapters, so the fake speaks each wire
//! format exactly as the gateway does.
#![allow(dead_code)] // each test binary uses its own part

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use mgov::telcos::WireFormat;
use mgov::ussd::request::{UssdCallback, UssdInput, UssdReply};
use mgov_loadtest::journey::Journey;
use mgov_loadtest::runner::{Config, Formats, Load, Stop};
use mgov_simulators::aggregator::Chaos;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
pub struct Fake {
    pub control_numbers: AtomicU64,
    pub africastalking_hops: AtomicU64,
    pub hubtel_hops: AtomicU64,
    /// `exactly-once`: the last hop of each session, behind one lock so that copies sent at
    /// once are answered one after the other.
    last_hops: tokio::sync::Mutex<HashMap<String, LastHop>>,
}

/// Where a session stands at the `exactly-once` fake, and what it last answered.
struct LastHop {
    /// Africa's Talking: the cumulative text; Hubtel: the Sequence, as text.
    position: String,
    reply: (String, bool),
}

/// The screen after `inputs` inputs, and whether it ends the session.
fn screen(fake: &Fake, inputs: &[&str]) -> (String, bool) {
    match inputs {
        [] => (
            "Huduma za Serikali\n1. Maji\n2. Kesi\n3. English".into(),
            false,
        ),
        ["1"] => ("Maji - DAWASA\n1. Angalia bili\n2. Lipa bili".into(), false),
        ["1", "1"] => ("Ingiza namba ya akaunti (tarakimu 8):".into(), false),
        ["1", "1", a] if a.len() == 8 && !a.starts_with('0') => (
            "Salim Abdallah\nBili: TZS 53,000.00\nMwisho: 01/07/2026\n1. Pata namba ya malipo"
                .into(),
            false,
        ),
        ["1", "1", a, "1"] if a.len() == 8 => {
            let n = fake.control_numbers.fetch_add(1, Ordering::Relaxed);
            (
                format!("Namba ya malipo: 99{n:010}\nKiasi: TZS 53,000.00"),
                true,
            )
        }
        _ => ("Samahani, huduma haipatikani kwa sasa.".into(), true),
    }
}

/// A hop as the fake reads it: its session, its position, and the inputs it carries.
struct Hop {
    session: String,
    /// Africa's Talking: the cumulative text; Hubtel: the Sequence, as text.
    position: String,
    format: WireFormat,
    inputs: Vec<String>,
}

impl Hop {
    /// Africa's Talking: whether `position` is a strict prefix of `other` (an older text);
    /// Hubtel: whether it is a lower Sequence.
    fn is_older_than(&self, other: &str) -> bool {
        if self.format == WireFormat::Hubtel {
            let number = |s: &str| s.parse::<u64>().unwrap_or(0);
            number(&self.position) < number(other)
        } else {
            other.len() > self.position.len() && other.starts_with(&self.position)
        }
    }
}

/// Reads a hop with the gateway's own adapter for its format.
fn read_hop(format: WireFormat, headers: &HeaderMap, body: &Bytes) -> Hop {
    let Ok(UssdCallback::Hop(request)) = format.parse_ussd(headers, body, "255") else {
        panic!("the load generator sends hops only, each one well formed");
    };
    let (position, inputs) = match (request.input, request.sequence) {
        // Hubtel sends only the latest input; Sequence says how many came before.
        (UssdInput::Dial | UssdInput::Latest(_), Some(sequence)) => {
            let inputs = ["1", "1", "12345678", "1", "1"][..sequence as usize - 1]
                .iter()
                .map(|s| s.to_string())
                .collect();
            (sequence.to_string(), inputs)
        }
        (UssdInput::Cumulative(text), _) => {
            let inputs = text.split('*').map(str::to_string).collect();
            (text, inputs)
        }
        (UssdInput::Dial, None) => (String::new(), Vec::new()),
        (UssdInput::Latest(_), None) => panic!("a latest input always comes with a Sequence"),
    };
    Hop {
        session: request.session_id,
        position,
        format,
        inputs,
    }
}

async fn hop(
    State(fake): State<Arc<Fake>>,
    Path(telco): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    match telco.as_str() {
        "limited" => return (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response(),
        "slow" => tokio::time::sleep(Duration::from_millis(300)).await,
        "garbage" => return "HELLO".into_response(),
        _ => {}
    }
    let (format, counter) = if json {
        (WireFormat::Hubtel, &fake.hubtel_hops)
    } else {
        (WireFormat::AfricasTalking, &fake.africastalking_hops)
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let hop = read_hop(format, &headers, &body);
    let (mut text, ends) = if telco == "exactly-once" {
        keep_the_rules(&fake, hop).await
    } else {
        let inputs: Vec<&str> = hop.inputs.iter().map(String::as_str).collect();
        screen(&fake, &inputs)
    };
    if telco == "wrong" {
        text = "Something else entirely".into();
    }
    let reply = if ends {
        UssdReply::End(text)
    } else {
        UssdReply::Continue(text)
    };
    format.render_ussd(&reply)
}

async fn keep_the_rules(fake: &Fake, hop: Hop) -> (String, bool) {
    let mut last_hops = fake.last_hops.lock().await;
    if let Some(last) = last_hops.get(&hop.session) {
        if hop.position == last.position {
            return last.reply.clone();
        }
        if hop.is_older_than(&last.position) {
            return match last.reply {
                (_, true) => ("Mazungumzo haya yamekwisha.".into(), true),
                _ => last.reply.clone(),
            };
        }
    }
    let inputs: Vec<&str> = hop.inputs.iter().map(String::as_str).collect();
    let reply = screen(fake, &inputs);
    let last = LastHop {
        position: hop.position,
        reply: reply.clone(),
    };
    last_hops.insert(hop.session, last);
    reply
}

pub async fn fake_gateway() -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let app = axum::Router::new()
        .route("/ussd/{telco}", post(hop))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, fake)
}

pub fn config(url: &str, load: Load, stop: Stop) -> Config {
    Config {
        url: url.to_string(),
        formats: Formats::One(WireFormat::AfricasTalking),
        telco_africastalking: "africastalking".into(),
        telco_hubtel: "hubtel".into(),
        credentials: None,
        credentials_hubtel: None,
        root_code: "*152*00#".into(),
        load,
        warmup: Duration::ZERO,
        stop,
        timeout: Duration::from_secs(5),
        show_progress: false,
        chaos: Chaos::OFF,
        chaos_seed: None,
        abandon_rate: 0.0,
    }
}

pub fn water_bill() -> Vec<Journey> {
    vec![Journey::parse(include_str!("../../journeys/water-bill.toml")).unwrap()]
}
