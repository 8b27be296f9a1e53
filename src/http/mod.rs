//! Router assembly: every capability's routes merged, the operator endpoints, and the
//! in-process back-office simulator of the embedded demo; and the listener that serves them
//! (`server`), which bounds how long a client may take.

pub mod client_ip;
mod ops;
pub mod server;

use crate::app::{AppState, Gateway};
use crate::error::ApiError;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;

/// The demo back office lives inside the gateway, so what it remembers is the gateway's
/// memory: it replays answers for ten minutes rather than the contract's 24 hours (the
/// gateway retries a call for at most `background_call_secs`), and keeps at most about
/// 40,000 of them (some 20 MB) however hard a load test drives it.
#[cfg(feature = "demo")]
const DEMO_IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(10 * 60);
#[cfg(feature = "demo")]
const DEMO_MAX_REMEMBERED: usize = 20_000;

pub fn router(gateway: Arc<Gateway>) -> Router {
    let mut app = Router::new()
        .merge(crate::ussd::router())
        .merge(crate::sms::router())
        .merge(ops::router());
    if gateway.config.phone_page_enabled() {
        app = app.merge(crate::phone::router());
    }
    // Without the feature, the configuration refuses the demo world before it gets here.
    #[cfg(feature = "demo")]
    if gateway.config.demo_enabled() {
        let settings = mgov_simulators::backoffice::Settings {
            secret: Some(crate::app::DEMO_SIGNING_SECRET.to_string()),
            idempotency_window: DEMO_IDEMPOTENCY_WINDOW,
            max_remembered: Some(DEMO_MAX_REMEMBERED),
            ..Default::default()
        };
        app = app.nest_service(
            crate::app::SIMULATOR_PATH,
            mgov_simulators::backoffice::router(settings),
        );
        app = app.nest_service(crate::app::TELCO_SIMULATOR_PATH, demo_telco(&gateway));
    }
    let budget = Duration::from_millis(gateway.config.request_timeout_ms);
    // Bodies past the limit are not read; the callback handler answers them 413.
    app.layer(DefaultBodyLimit::max(gateway.config.max_callback_bytes))
        .layer(middleware::from_fn(move |request, next| {
            within(budget, request, next)
        }))
        .with_state::<()>(gateway as AppState)
}

/// The SMS side of the demo telcos: every message delivered, its report a moment later.
#[cfg(feature = "demo")]
fn demo_telco(gateway: &Gateway) -> Router {
    use mgov_simulators::telco::{Credentials, Latency, Settings};
    let public = gateway.config.public_url();
    let credentials = Credentials::new(crate::app::DEMO_SMS_USERNAME, crate::app::DEMO_SMS_SECRET);
    mgov_simulators::telco::router(Settings {
        at_credentials: Some(credentials.clone()),
        kannel_credentials: Some(credentials),
        at_report_url: Some(format!("{public}/sms/africastalking/dlr")),
        report_delay: Latency::Uniform {
            min: Duration::from_millis(200),
            max: Duration::from_millis(800),
        },
        ..Default::default()
    })
}

/// Answers 408 and closes the connection when a request (its body included) is not done
/// within `budget`, so that a client trickling its body cannot hold a connection. Hops end
/// well inside it: the budget is validated to exceed the hop budget by a wide margin.
async fn within(budget: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(budget, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let message = format!("request not completed within {} ms", budget.as_millis());
            let mut response =
                ApiError::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", message)
                    .into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}
