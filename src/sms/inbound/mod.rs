//! Incoming SMS (MO) on the gateway's shortcodes, and the keyword services agencies register
//! for them.
//!
//! - `receive`: `/sms/{telco}/inbound`, storing each message before the telco is answered.
//! - `keywords`: how a text's first words name a service, whatever their case and accents.
//! - `services`, `services_store`: what an agency registers, checked, and its rows.
//! - `route`, `replies`, `answer`: where a message goes, what the gateway answers itself,
//!   and services that answer with a back-office action.
//! - `store`, `worker`: the stored messages, and the router that claims and routes them.

pub mod answer;
pub mod keywords;
pub mod receive;
pub mod replies;
pub mod route;
pub mod services;
pub mod services_store;
pub mod store;
pub mod worker;
