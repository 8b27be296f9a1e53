//! The SMS channel over HTTP: sending, reading back, reports and the API description.

mod crash;
mod inbound;
mod notifications;
mod openapi;
mod routing;
mod send;
mod shared_pace;
mod webhooks;
mod world;
