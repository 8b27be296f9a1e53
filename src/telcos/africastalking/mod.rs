//! Africa's Talking: USSD hops and replies ([`ussd`]); its SMS send API and delivery
//! reports ([`sms`]).

pub mod sms;
pub mod ussd;
