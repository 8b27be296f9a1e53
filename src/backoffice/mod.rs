//! Signed calls to agencies' back offices (`client`), the contract's standard actions
//! (`catalogue`), signatures (`signature`) and what the transaction log keeps (`summary`).

pub mod catalogue;
pub mod client;
pub mod signature;
pub mod store;
pub mod summary;
