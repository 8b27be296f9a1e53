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
    // Bodies past the limit are not read; the callback handler answers them 413.
    app.layer(DefaultBodyLimit::max(gateway.config.max_callback_bytes))
        .with_state::<()>(gateway as AppState)
}
