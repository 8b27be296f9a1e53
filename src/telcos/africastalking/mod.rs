//! Africa's Talking: USSD hops and replies ([`ussd`]); its SMS send API and delivery
//! reports ([`sms`]); incoming SMS ([`inbound`]).

pub mod inbound;
pub mod sms;
pub mod ussd;
