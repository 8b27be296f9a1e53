//! The SMS channel over HTTP: sending, reading back, reports and the API description.

mod crash;
mod follow_up;
mod inbound;
mod notifications;
mod openapi;
mod reports;
mod routing;
mod send;
mod shared_pace;
mod subscriptions;
mod webhooks;
mod world;
