//! SMS: messages agencies send (`/v1/messages`), the durable outbox and the dispatcher that
//! sends it through telcos, delivery reports, and signed webhooks to agencies.
//!
//! - `api`: the agencies' `/v1` endpoints, with their API keys.
//! - `message`, `channel`: ids and statuses; what adapters in `telcos/` are handed and give.
//! - `encoding`: GSM-7 or UCS-2, and how many parts a text takes.
//! - `store`: the outbox in the durable store.
//! - `dispatch`: claiming, routing, pacing, sending and settling messages.
//! - `reports`: `/sms/{telco}/dlr`.
//! - `inbound`: `/sms/{telco}/inbound`, keyword services and the router of incoming SMS.
//! - `subscriptions`: topics, `JIUNGE`/`STOP`, and the opt-outs checked before each send.
//! - `broadcasts`: one text to every subscriber of a topic, queued in chunks.
//! - `notifications`: agencies' templates and the notifications sent from them.
//! - `webhooks`: signed status calls to agencies, retried until acknowledged.
//! - `state`: what each node keeps for the channel; `settings`: the `[sms]` settings.

pub mod api;
pub mod broadcasts;
pub mod channel;
pub mod dispatch;
pub mod encoding;
pub mod inbound;
pub mod message;
pub mod notifications;
pub mod reports;
pub mod settings;
pub mod state;
pub mod store;
pub mod subscriptions;
pub mod webhooks;

pub use state::SmsState;

use crate::app::AppState;
use axum::routing::post;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/sms/{telco}/dlr",
            post(reports::receive).get(reports::receive),
        )
        .route(
            "/sms/{telco}/inbound",
            post(inbound::receive::receive).get(inbound::receive::receive),
        )
        .merge(api::router())
}
