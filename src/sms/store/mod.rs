//! The outbox in the durable store: accepted messages, their claims and settlements,
//! delivery reports, history, and the webhooks that follow status changes.

pub mod accept;
pub mod dispatch;
pub mod events;
pub mod read;
pub mod reports;
mod settle_pg;
pub mod webhooks;
