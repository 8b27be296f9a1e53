//! Router assembly: every capability's routes merged, the operator endpoints, and the
//! in-process back-office simulator of the embedded demo.

pub mod client_ip;
mod ops;

use crate::app::{AppState, Gateway};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use std::sync::Arc;

pub fn router(gateway: Arc<Gateway>) -> Router {
    let mut app = Router::new()
        .merge(crate::ussd::router())
        .merge(ops::router());
    if gateway.config.demo_enabled() {
        let settings = mgov_simulators::backoffice::Settings {
            secret: Some(crate::app::DEMO_SIGNING_SECRET.to_string()),
            ..Default::default()
        };
        app = app.nest_service(
            crate::app::SIMULATOR_PATH,
            mgov_simulators::backoffice::router(settings),
        );
    }
    // A little room over the callback limit so the handler can answer 413 with a reason.
    let limit = gateway.config.max_callback_bytes + 1;
    app.layer(DefaultBodyLimit::max(limit))
        .with_state::<()>(gateway as AppState)
}
