//! Signed calls to agencies back offices, and the transaction log.

pub mod catalogue;
