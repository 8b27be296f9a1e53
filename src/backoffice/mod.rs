//! Signed calls to agencies' back offices (`client`) within each agency's cap on calls in
//! flight and circuit breaker (`limits`, `breaker`), the contract's standard actions
//! (`catalogue`), signatures (`signature`) and what the transaction log keeps (`summary`).

pub mod breaker;
pub mod catalogue;
pub mod client;
pub mod limits;
pub mod signature;
pub mod store;
pub mod summary;
