//! Africa's Talking: USSD hops and replies ([`ussd`]); its SMS API follows in [`sms`] when
//! that channel lands.

pub mod ussd;
