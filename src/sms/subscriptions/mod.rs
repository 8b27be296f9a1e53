//! Subscriptions: the topics agencies offer (flood alerts, water cuts), citizens joining and
//! leaving them by SMS (`JIUNGE <topic>`, `STOP <topic>`, `STOP`) or from a USSD menu, and the
//! rule that keeps a STOP: a message a citizen did not ask for (an agency's direct send, a
//! broadcast) is checked against it just before it is sent, so that a STOP also holds back
//! what was queued before it.
//!
//! - `topics`: what an agency registers, checked.
//! - `store`: topics, subscribers and opt-outs in the durable store.
//! - `commands`: the words citizens text, and the gateway's answers.
//! - `held_back`: which claimed messages a STOP holds back.
//! - `ussd`: the gateway's own menu actions `subscriptions.join` and `subscriptions.leave`.

pub mod commands;
pub mod held_back;
pub mod store;
pub mod topics;
pub mod ussd;

pub use topics::{Topic, TopicSpec};
