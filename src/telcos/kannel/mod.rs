//! Kannel's smsbox, for operators whose SMPP links already run through Kannel: the
//! `sendsms` interface and the `dlr-url` it calls back ([`sms`]), and the `get-url` of its sms-service ([`inbound`]). It carries no USSD.

pub mod inbound;
pub mod sms;
