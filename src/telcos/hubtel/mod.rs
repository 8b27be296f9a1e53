//! Hubtel-style JSON: USSD only ([`ussd`]); telcos of this format carry no SMS.

pub mod ussd;
