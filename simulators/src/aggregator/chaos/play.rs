//! Carrying out a planned hop over whatever posts requests to the gateway: the simulator's
//! platform (with its network latency) or the load generator's HTTP client.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::check::{current_screen, same_answer, screen, Event, Violation};
use super::Plan;
use crate::aggregator::wire::{Body, Raw};
use crate::aggregator::Format;

/// Posts one request to the gateway's callback and returns its reply, whatever the status.
/// An error is a request that got no reply at all.
pub trait Transport: Sync {
    type Error: Display + Send;

    fn post(&self, body: &Body) -> impl Future<Output = Result<Raw, Self::Error>> + Send;
}

/// What the handset gets from a hop played by [`play`].
#[derive(Debug)]
pub struct Played<E> {
    /// The reply passed on to the handset (for `drop` and `retry`, the second copy's).
    pub delivered: Result<Raw, E>,
    /// How long the delivered copy took, from sending it to its reply.
    pub latency: Duration,
    /// The misbehaviour carried out and its verdict; `None` for a hop sent once.
    pub event: Option<Event>,
}

/// Sends `hop` as `plan` says and checks the gateway's answers. `older` is the request a
/// `replay` sends after the hop's answer; without it the replay is skipped. A replay whose
/// hop got no screen is skipped too, as there is no current screen to compare with.
pub async fn play<T: Transport>(
    transport: &T,
    format: Format,
    hop: &Body,
    older: Option<&Body>,
    plan: Option<Plan>,
) -> Played<T::Error> {
    let event = |behaviour, abandoned, violation| {
        Some(Event {
            behaviour,
            abandoned,
            violation,
        })
    };
    let Some(plan) = plan else {
        let (delivered, latency) = timed(transport, hop).await;
        return Played {
            delivered,
            latency,
            event: None,
        };
    };
    let behaviour = plan.behaviour();
    match plan {
        Plan::Duplicate => {
            let (first, latency) = timed(transport, hop).await;
            let copy = transport.post(hop).await;
            let violation = same_answer(format, &first, &copy);
            Played {
                delivered: first,
                latency,
                event: event(behaviour, false, violation),
            }
        }
        Plan::Concurrent => {
            let ((first, latency), (copy, _)) =
                tokio::join!(timed(transport, hop), timed(transport, hop));
            let violation = same_answer(format, &first, &copy);
            Played {
                delivered: first,
                latency,
                event: event(behaviour, false, violation),
            }
        }
        Plan::Drop => {
            let lost = transport.post(hop).await;
            let (retry, latency) = timed(transport, hop).await;
            let violation = same_answer(format, &lost, &retry);
            Played {
                delivered: retry,
                latency,
                event: event(behaviour, false, violation),
            }
        }
        Plan::Retry { after } => {
            // Dropping the first request closes its connection, as a platform that timed out
            // does; the gateway may still be working on it when the retry arrives.
            let first = tokio::time::timeout(after, transport.post(hop)).await;
            let (retry, latency) = timed(transport, hop).await;
            let (abandoned, violation) = match first {
                Ok(first) => (false, same_answer(format, &first, &retry)),
                Err(_) => {
                    let unanswered = screen(format, &retry).err();
                    let violation =
                        unanswered.map(|why| (Violation::NoAnswer, format!("retry: {why}")));
                    (true, violation)
                }
            };
            Played {
                delivered: retry,
                latency,
                event: event(behaviour, abandoned, violation),
            }
        }
        Plan::Replay { .. } => {
            let (delivered, latency) = timed(transport, hop).await;
            let current = screen(format, &delivered);
            let event = match (older, current) {
                (Some(older), Ok(current)) => {
                    let late = transport.post(older).await;
                    event(behaviour, false, current_screen(format, &current, &late))
                }
                _ => None,
            };
            Played {
                delivered,
                latency,
                event,
            }
        }
    }
}

async fn timed<T: Transport>(transport: &T, body: &Body) -> (Result<Raw, T::Error>, Duration) {
    let sent = Instant::now();
    let reply = transport.post(body).await;
    (reply, sent.elapsed())
}
