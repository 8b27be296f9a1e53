//! Kannel's smsbox, for operators whose SMPP links already run through Kannel: the
//! `sendsms` interface and the `dlr-url` it calls back ([`sms`]). It carries no USSD.

pub mod sms;
