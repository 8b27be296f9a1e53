//! A telco simulator on a free port and a recording stand-in for the gateway's report
//! endpoints: every request it gets arrives on a channel, so tests wait on events.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Router};
use mgov_simulators::telco::{self, Settings};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One request the stand-in gateway received.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    /// The query (Kannel) or the form (Africa's Talking), decoded.
    pub fields: HashMap<String, String>,
}

impl Arrival {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// Replies given in order; when none is left, `200`.
struct Gateway {
    arrivals: mpsc::UnboundedSender<Arrival>,
    replies: Mutex<VecDeque<u16>>,
    /// Every event of a test in order, for comparing when things happened.
    events: Arc<Mutex<Vec<String>>>,
}

async fn record(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap().to_owned());
    let Query(mut fields) = Query::<HashMap<String, String>>::try_from_uri(request.uri()).unwrap();
    if method == "POST" {
        let Form(form) = Form::<HashMap<String, String>>::from_request(request, &())
            .await
            .unwrap();
        fields.extend(form);
    }
    let reply = gateway.replies.lock().unwrap().pop_front().unwrap_or(200);
    gateway
        .events
        .lock()
        .unwrap()
        .push(format!("report {path}"));
    let arrival = Arrival {
        method,
        path,
        authorization,
        fields,
    };
    let _ = gateway.arrivals.send(arrival);
    StatusCode::from_u16(reply).unwrap().into_response()
}

pub struct Rig {
    /// The simulator's base URL.
    pub telco: String,
    /// The stand-in gateway's base URL.
    pub gateway: String,
    pub http: reqwest::Client,
    pub server: JoinHandle<()>,
    pub events: Arc<Mutex<Vec<String>>>,
    arrivals: mpsc::UnboundedReceiver<Arrival>,
}

impl Rig {
    /// Starts both; `adjust` gets the settings and the stand-in gateway's base URL. The
    /// stand-in answers with `replies` in order, then `200`.
    pub async fn start(replies: &[u16], adjust: impl FnOnce(&mut Settings, &str)) -> Rig {
        let (sender, arrivals) = mpsc::unbounded_channel();
        let events = Arc::new(Mutex::new(Vec::new()));
        let gateway = Arc::new(Gateway {
            arrivals: sender,
            replies: Mutex::new(replies.iter().copied().collect()),
            events: Arc::clone(&events),
        });
        let app = Router::new().fallback(record).with_state(gateway);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let mut settings = Settings {
            at_report_url: Some(format!("{gateway_url}/sms/africastalking/dlr")),
            report_backoff: Duration::ZERO,
            ..Settings::default()
        };
        adjust(&mut settings, &gateway_url);
        let (address, server) = telco::spawn(settings).await.unwrap();
        Rig {
            telco: format!("http://{address}"),
            gateway: gateway_url,
            http: reqwest::Client::new(),
            server,
            events,
            arrivals,
        }
    }

    /// The next request the stand-in gateway received (failing after a minute, not hanging).
    pub async fn next_report(&mut self) -> Arrival {
        let arrival = tokio::time::timeout(Duration::from_secs(60), self.arrivals.recv());
        arrival
            .await
            .expect("a report in time")
            .expect("the gateway runs")
    }

    pub async fn reports(&mut self, count: usize) -> Vec<Arrival> {
        let mut reports = Vec::with_capacity(count);
        for _ in 0..count {
            reports.push(self.next_report().await);
        }
        reports
    }

    /// Whether a report arrived that was not yet taken.
    pub fn report_waiting(&mut self) -> bool {
        !self.arrivals.is_empty()
    }

    /// An Africa's Talking send with `apiKey` and `Accept: application/json`.
    pub async fn at_send(&self, api_key: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}/version1/messaging", self.telco))
            .header("apiKey", api_key)
            .header(header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// A Kannel sendsms with `query`.
    pub async fn kannel_send(&self, query: &[(&str, &str)]) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}/cgi-bin/sendsms", self.telco))
            .query(query)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> Value {
        let response = self.http.get(format!("{}{path}", self.telco)).send().await;
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.unwrap()
    }

    /// The counters once every scheduled report was sent or given up.
    pub async fn settled_stats(&self) -> Value {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let stats = self.get("/stats").await;
                if stats["reports_pending"] == 0 {
                    return stats;
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the reports settle in time")
    }
}
