//! Signed calls to agencies' back offices (`client`) within each agency's cap on calls in
//! flight and circuit breaker (`limits`, `breaker`), the contract's standard actions
//! (`catalogue`), signatures (`signature`), the transaction log (`store`, with its pending
//! intents in `pending`), what it keeps of an answer (`summary`), and the reconciler that
//! finishes calls whose answer never came (`reconcile`); results that follow by SMS
//! (`follow_up`, with their store in `follow_up_store`).

pub mod breaker;
pub mod catalogue;
pub mod client;
pub mod follow_up;
pub mod follow_up_store;
pub mod limits;
pub mod pending;
pub mod reconcile;
mod record;
pub mod signature;
pub mod store;
pub mod summary;
