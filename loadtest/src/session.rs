//! One virtual session: a fresh handset with a fresh number plays one journey through the
//! aggregator simulator's codec (the same requests its platform sends), with each hop played
//! by the shared chaos module: once, or misbehaving as `--chaos` plans and checked.

use crate::journey::{Journey, Mismatch};
use crate::runner::{Formats, Shared};
use crate::stats::{ErrorKind, Hop, SessionReport};
use mgov::cli::phone::{PhoneError, Screen};
use mgov::telcos::WireFormat;
use mgov_simulators::aggregator::chaos::{self, Plan, Raw, Transport};
use mgov_simulators::aggregator::{
    hop_request, new_session_id, parse_reply, Body, Dialogue, Format, HopError,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::Ordering;
use tokio::time::Instant;

/// One session: a fresh handset with a fresh number plays one journey to its end or its
/// first error.
pub(crate) async fn play(shared: &Shared, measured: bool) -> SessionReport {
    let msisdn = shared.msisdns.next();
    let (journey_index, format, values, walk_away_after) = {
        let mut rng = rand::rng();
        let journey_index = pick(&shared.journeys, shared.total_weight, &mut rng);
        let steps = shared.journeys[journey_index].steps.len();
        let rate = shared.config.abandon_rate;
        // Any step but the last, so that the dialogue is left open at the gateway.
        let walk_away_after = (steps >= 2 && rate > 0.0 && rng.random_bool(rate))
            .then(|| rng.random_range(0..steps - 1));
        let format = match shared.config.formats {
            Formats::One(f) => f,
            Formats::Mixed if rng.random_bool(0.5) => WireFormat::Hubtel,
            Formats::Mixed => WireFormat::AfricasTalking,
        };
        (
            journey_index,
            format,
            shared.journeys[journey_index].session_values(&msisdn, &mut rng),
            walk_away_after,
        )
    };
    // Each session plans its chaos from the run's seed and its own number, so a seeded run
    // plans the same misbehaviours for the same session numbers.
    let number = shared.sessions_begun.fetch_add(1, Ordering::Relaxed);
    let mut chaos_rng =
        StdRng::seed_from_u64(shared.chaos_seed ^ number.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let journey = &shared.journeys[journey_index];
    let c = &shared.config;
    let (telco, credentials) = match format {
        WireFormat::AfricasTalking => (&c.telco_africastalking, c.credentials.as_ref()),
        WireFormat::Hubtel => (
            &c.telco_hubtel,
            c.credentials_hubtel.as_ref().or(c.credentials.as_ref()),
        ),
        WireFormat::Kannel => unreachable!("{KANNEL_HAS_NO_USSD}"),
    };
    let gateway = Gateway {
        http: &shared.http,
        url: format!("{}/ussd/{telco}", c.url),
        credentials: credentials.map(|(user, secret)| (user.as_str(), Some(secret.as_str()))),
    };
    let wire = shared.wire(format);
    let session_id = new_session_id(wire.format);
    let mut dialogue: Option<Dialogue> = None;
    let mut hops = Vec::with_capacity(journey.steps.len());
    let mut chaos_events = Vec::new();
    shared.live.in_flight.fetch_add(1, Ordering::Relaxed);
    let outcome = async {
        let mut recorded = None;
        for (i, step) in journey.steps.iter().enumerate() {
            let keys = step.keys(&values);
            let dialogue = match &mut dialogue {
                Some(dialogue) => {
                    dialogue.press(&keys);
                    dialogue
                }
                None => dialogue.insert(Dialogue::new(
                    session_id.clone(),
                    &msisdn,
                    &keys,
                    &c.root_code,
                )),
            };
            let body = hop_request(wire, dialogue);
            let plan = c.chaos.plan(&mut chaos_rng, i);
            let older = match plan {
                Some(Plan::Replay { older }) => Some(hop_request(wire, &dialogue.as_of(older))),
                _ => None,
            };
            dialogue.sent();
            let played = chaos::play(&gateway, wire.format, &body, older.as_ref(), plan).await;
            chaos_events.extend(played.event.map(|event| (i, event)));
            let raw = played
                .delivered
                .map_err(|e| (ErrorKind::of_phone_error(&e), i, format!("{e:#}")))?;
            let screen = parse_reply(wire.format, raw.status, &raw.body)
                .map_err(|e| (ErrorKind::of_hop_error(&e), i, describe(&e, &raw)))?;
            dialogue.answered(&screen, &raw.body);
            let screen = Screen {
                text: screen.text,
                ends: screen.ends,
            };
            match step.check(&screen, &values) {
                Ok(value) => recorded = value.or(recorded),
                Err(Mismatch::WrongScreen(d)) => return Err((ErrorKind::WrongScreen, i, d)),
                Err(Mismatch::UnexpectedEnd(d)) => return Err((ErrorKind::UnexpectedEnd, i, d)),
                Err(Mismatch::UnexpectedContinue(d)) => {
                    return Err((ErrorKind::UnexpectedContinue, i, d))
                }
            }
            hops.push(Hop {
                step: i,
                latency: played.latency,
                transaction: step.transaction,
            });
            if walk_away_after == Some(i) {
                break;
            }
        }
        Ok(recorded)
    }
    .await;
    shared.live.in_flight.fetch_sub(1, Ordering::Relaxed);
    SessionReport {
        journey: journey_index,
        measured,
        session_id,
        telco: telco.clone(),
        msisdn,
        hops,
        outcome,
        walked_away: walk_away_after.is_some(),
        chaos: chaos_events,
        finished: Instant::now().into_std(),
    }
}

/// The gateway's USSD callback for one telco, as the handsets' platform posts to it.
struct Gateway<'a> {
    http: &'a reqwest::Client,
    url: String,
    credentials: Option<(&'a str, Option<&'a str>)>,
}

impl Transport for Gateway<'_> {
    /// The phone's error keeps reqwest's, so connect failures and time-outs stay apart.
    type Error = PhoneError;

    async fn post(&self, body: &Body) -> Result<Raw, PhoneError> {
        mgov_simulators::aggregator::post(self.http, &self.url, self.credentials, body)
            .await
            .map_err(|source| PhoneError::Transport {
                url: self.url.clone(),
                source,
            })
    }
}

/// A reply that is not a screen, with what came back.
fn describe(error: &HopError, raw: &Raw) -> String {
    format!("{error}: {}", chaos::excerpt(&raw.body))
}

/// The simulator's name for a wire format.
pub(crate) fn format_of(format: WireFormat) -> Format {
    match format {
        WireFormat::AfricasTalking => Format::AfricasTalking,
        WireFormat::Hubtel => Format::Hubtel,
        WireFormat::Kannel => unreachable!("{KANNEL_HAS_NO_USSD}"),
    }
}

/// Phones speak the USSD formats only: `--format` offers no other, and a Kannel telco
/// carries SMS alone.
pub(crate) const KANNEL_HAS_NO_USSD: &str = "phones never speak Kannel, which carries no USSD";

fn pick(journeys: &[Journey], total_weight: u32, rng: &mut impl Rng) -> usize {
    let mut ticket = rng.random_range(0..total_weight);
    for (i, j) in journeys.iter().enumerate() {
        if ticket < j.weight {
            return i;
        }
        ticket -= j.weight;
    }
    journeys.len() - 1
}
