//! One virtual session: a fresh phone with a fresh number plays one journey, timing each
//! hop around `Phone::dial`/`Phone::press`, and reports what happened.

use crate::journey::{Journey, Mismatch};
use crate::runner::{Formats, Shared};
use crate::stats::{ErrorKind, Hop, SessionReport};
use mgov::cli::phone::{Phone, PhoneSettings};
use mgov::telcos::WireFormat;
use rand::Rng;
use std::sync::atomic::Ordering;
use tokio::time::Instant;

/// One session: a fresh phone with a fresh number plays one journey to its end or its
/// first error.
pub(crate) async fn play(shared: &Shared, measured: bool) -> SessionReport {
    let msisdn = shared.msisdns.next();
    let (journey_index, format, values) = {
        let mut rng = rand::rng();
        let journey_index = pick(&shared.journeys, shared.total_weight, &mut rng);
        let format = match shared.config.formats {
            Formats::One(f) => f,
            Formats::Mixed if rng.random_bool(0.5) => WireFormat::Hubtel,
            Formats::Mixed => WireFormat::AfricasTalking,
        };
        (
            journey_index,
            format,
            shared.journeys[journey_index].session_values(&msisdn, &mut rng),
        )
    };
    let journey = &shared.journeys[journey_index];
    let c = &shared.config;
    let telco = match format {
        WireFormat::AfricasTalking => c.telco_africastalking.clone(),
        WireFormat::Hubtel => c.telco_hubtel.clone(),
    };
    let settings = PhoneSettings {
        url: c.url.clone(),
        telco,
        format,
        msisdn: msisdn.clone(),
        root_code: c.root_code.clone(),
        credentials: c.credentials.clone(),
    };
    let mut phone = Phone::new(settings, shared.http.clone());
    let mut hops = Vec::with_capacity(journey.steps.len());
    shared.live.in_flight.fetch_add(1, Ordering::Relaxed);
    let outcome = async {
        let mut recorded = None;
        for (i, step) in journey.steps.iter().enumerate() {
            let keys = step.keys(&values);
            let sent = Instant::now();
            let answer = if i == 0 {
                phone.dial(&keys).await
            } else {
                phone.press(&keys).await
            };
            let latency = sent.elapsed();
            let screen =
                answer.map_err(|e| (ErrorKind::of_phone_error(&e), i, format!("{e:#}")))?;
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
                latency,
                transaction: step.transaction,
            });
        }
        Ok(recorded)
    }
    .await;
    shared.live.in_flight.fetch_sub(1, Ordering::Relaxed);
    SessionReport {
        journey: journey_index,
        measured,
        session_id: phone.session_id().to_string(),
        msisdn,
        hops,
        outcome,
        finished: Instant::now().into_std(),
    }
}

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
