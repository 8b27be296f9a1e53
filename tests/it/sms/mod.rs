//! The SMS channel over HTTP: sending, reading back, reports and the API description.

mod crash;
mod openapi;
mod send;
mod webhooks;
mod world;
