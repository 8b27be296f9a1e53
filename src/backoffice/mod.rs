//! Signed calls to agencies' back offices (`client`), the contract's standard actions
//! (`catalogue`), signatures (`signature`), the transaction log (`store`, with its pending
//! intents in `pending`), what it keeps of an answer (`summary`), and the reconciler that
//! finishes calls whose answer never came (`reconcile`).

pub mod catalogue;
pub mod client;
pub mod pending;
pub mod reconcile;
mod record;
pub mod signature;
pub mod store;
pub mod summary;
