//! Notifications from agencies' back offices (`POST /v1/notifications`): an event for one
//! citizen (a payment received, a case decided, an appointment coming) sent as one SMS from
//! a template the agency registered (`/v1/templates`), in the citizen's language, once per
//! event however often the back office repeats it.
//!
//! - `templates`: what a template is, its checks, and rendering with the menus' engine.
//! - `values`: a notification's variables, checked against their declared kinds.
//! - `store`: templates and notifications in the durable store.

pub mod store;
pub mod templates;
pub mod values;
