//! A phone that speaks to a gateway exactly as an aggregator does: Africa's Talking form
//! posts with cumulative text, or Hubtel-style JSON with the latest input, written and read
//! by `mgov_wire`. Used by `mgov dial`, the integration tests and the load generator.

use crate::telcos::WireFormat;
use mgov_wire::{africastalking, hubtel, Body};

/// Why a hop got no screen.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    /// No HTTP answer: refused, reset, timed out.
    #[error("cannot reach the gateway at {url}: {source}")]
    Transport { url: String, source: reqwest::Error },
    /// The gateway answered, but not with 2xx.
    #[error("the gateway answered {status}: {body}")]
    Status {
        status: reqwest::StatusCode,
        body: String,
    },
    /// A 2xx that is not a screen in the telco's format.
    #[error("the gateway's answer is not a screen: {0}")]
    BadReply(String),
}

#[derive(Debug, Clone)]
pub struct PhoneSettings {
    /// The gateway's base URL, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// The telco id registered at the gateway (the callback is `/ussd/{telco}`).
    pub telco: String,
    pub format: WireFormat,
    pub msisdn: String,
    /// The shared code; a longer dial string starting with it is sent as that code plus
    /// inputs, as Africa's Talking does.
    pub root_code: String,
    /// HTTP Basic credentials of the telco, when it has them.
    pub credentials: Option<(String, String)>,
}

/// One screen as the phone shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub text: String,
    pub ends: bool,
}

#[derive(Clone)]
pub struct Phone {
    settings: PhoneSettings,
    http: reqwest::Client,
    session_id: String,
    dialled: String,
    typed: Vec<String>,
}

impl Phone {
    pub fn new(settings: PhoneSettings, http: reqwest::Client) -> Self {
        Self {
            settings,
            http,
            session_id: String::new(),
            dialled: String::new(),
            typed: Vec::new(),
        }
    }

    /// Starts a new dialogue with a fresh session id.
    pub async fn dial(&mut self, code: &str) -> Result<Screen, PhoneError> {
        self.session_id = format!("ph-{}", ulid::Ulid::new());
        self.dialled = code.to_string();
        self.typed.clear();
        self.send_hop(0).await
    }

    pub async fn press(&mut self, key: &str) -> Result<Screen, PhoneError> {
        self.typed.push(key.to_string());
        self.send_hop(self.typed.len()).await
    }

    /// Sends the last hop again, as a telco that retries or delivers twice does.
    pub async fn resend(&self) -> Result<Screen, PhoneError> {
        self.send_hop(self.typed.len()).await
    }

    /// Sends hop `hop` of this dialogue again as it was first sent: 0 is the dial, `k` the
    /// hop carrying the `k`-th input (a late or replayed delivery when `k` is not the last).
    pub async fn send_hop(&self, hop: usize) -> Result<Screen, PhoneError> {
        self.send(hop.min(self.typed.len())).await
    }

    /// The same dialogue under another number: a telco that reuses a session id.
    pub fn as_number(&self, msisdn: &str) -> Phone {
        let mut other = self.clone();
        other.settings.msisdn = msisdn.to_string();
        other
    }

    /// Sends the next hops to another gateway node, as a load balancer may.
    pub fn set_url(&mut self, url: &str) {
        self.settings.url = url.to_string();
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Sends the hop that carries the first `typed` inputs.
    async fn send(&self, typed: usize) -> Result<Screen, PhoneError> {
        let s = &self.settings;
        let url = format!("{}/ussd/{}", s.url.trim_end_matches('/'), s.telco);
        let mut request = self.http.post(&url);
        if let Some((user, secret)) = &s.credentials {
            request = request.basic_auth(user, Some(secret));
        }
        let request = match self.hop(typed) {
            Body::Form(fields) => request.form(&fields),
            Body::Json(value) => request.json(&value),
        };
        let response = request
            .send()
            .await
            .map_err(|source| PhoneError::Transport {
                url: url.clone(),
                source,
            })?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|source| PhoneError::Transport {
                url: url.clone(),
                source,
            })?;
        if !status.is_success() {
            return Err(PhoneError::Status { status, body });
        }
        parse_reply(s.format, &body)
    }

    /// The hop carrying the first `typed` inputs, as this phone's telco sends it: Africa's
    /// Talking on network `63902`; Hubtel from `vodacom`, with the dial string as its
    /// `ServiceCode`, numbering the hop `typed + 1` and echoing no `ClientState`.
    fn hop(&self, typed: usize) -> Body {
        let s = &self.settings;
        match s.format.into() {
            mgov_wire::Format::Hubtel => {
                let session = hubtel::Session {
                    session_id: &self.session_id,
                    mobile: &s.msisdn,
                    service_code: &self.dialled,
                    operator: "vodacom",
                    client_state: "",
                };
                let latest = typed.checked_sub(1).map(|last| self.typed[last].as_str());
                hubtel::hop(&session, &self.dialled, latest, typed as u64 + 1)
            }
            mgov_wire::Format::AfricasTalking => {
                let (service_code, extension) =
                    africastalking::split_dial(&self.dialled, &s.root_code);
                let session = africastalking::Session {
                    session_id: &self.session_id,
                    service_code: &service_code,
                    msisdn: &s.msisdn,
                    network_code: "63902",
                };
                let text = africastalking::text(&extension, &self.typed[..typed]);
                africastalking::hop(&session, &text)
            }
        }
    }
}

/// The USSD wire format spoken to a telco of `format`. Kannel carries no USSD: a phone pointed
/// at a Kannel telco speaks Africa's Talking, which the gateway refuses.
impl From<WireFormat> for mgov_wire::Format {
    fn from(format: WireFormat) -> Self {
        match format {
            WireFormat::AfricasTalking | WireFormat::Kannel => mgov_wire::Format::AfricasTalking,
            WireFormat::Hubtel => mgov_wire::Format::Hubtel,
        }
    }
}

fn parse_reply(format: WireFormat, body: &str) -> Result<Screen, PhoneError> {
    let screen = mgov_wire::read_reply(format.into(), body)
        .map_err(|e| PhoneError::BadReply(format!("{e}: {body:?}")))?;
    Ok(Screen {
        text: screen.text,
        ends: screen.ends,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A phone of `format` that dialled `dialled` and typed `typed`, as its hops go out.
    fn phone(format: WireFormat, dialled: &str, typed: &[&str]) -> Phone {
        let settings = PhoneSettings {
            url: "http://127.0.0.1:8080".into(),
            telco: format.as_str().into(),
            format,
            msisdn: "255754000001".into(),
            root_code: "*152*00#".into(),
            credentials: None,
        };
        let mut phone = Phone::new(settings, reqwest::Client::new());
        phone.session_id = "ph-1".into();
        phone.dialled = dialled.into();
        phone.typed = typed.iter().map(|t| t.to_string()).collect();
        phone
    }

    #[test]
    fn hops_on_the_wire() {
        let (at, hub) = (WireFormat::AfricasTalking, WireFormat::Hubtel);
        let form = |code: &str, text: &str| {
            format!("sessionId=ph-1&serviceCode={code}&phoneNumber=%2B255754000001&networkCode=63902&text={text}")
        };
        let json = |kind: &str, code: &str, message: &str, sequence: u32| {
            format!(
                r#"{{"ClientState":"","Message":"{message}","Mobile":"255754000001","Operator":"vodacom","Sequence":{sequence},"ServiceCode":"{code}","SessionId":"ph-1","Type":"{kind}"}}"#
            )
        };
        #[rustfmt::skip]
        let cases = [
            (phone(at, "*152*00#", &[]), 0, form("*152*00%23", "")),
            (phone(at, "*152*00#", &["1", "1", "12345678"]), 3, form("*152*00%23", "1*1*12345678")),
            // An older hop carries only the inputs typed by then.
            (phone(at, "*152*00#", &["1", "1", "12345678"]), 1, form("*152*00%23", "1")),
            (phone(at, "*152*00*1*1#", &["12345678"]), 1, form("*152*00%23", "1*1*12345678")),
            (phone(at, "*150*01#", &[]), 0, form("*150*01%23", "")),
            (phone(hub, "*152*00#", &[]), 0, json("Initiation", "*152*00#", "*152*00#", 1)),
            (phone(hub, "*152*00*1*1#", &["12345678"]), 0, json("Initiation", "*152*00*1*1#", "*152*00*1*1#", 1)),
            (phone(hub, "*152*00*1*1#", &["12345678"]), 1, json("Response", "*152*00*1*1#", "12345678", 2)),
            (phone(hub, "*152*00#", &["1", "2"]), 2, json("Response", "*152*00#", "2", 3)),
        ];
        for (phone, typed, want) in cases {
            assert_eq!(phone.hop(typed).encode(), want, "{:?}", phone.typed);
        }
    }

    #[test]
    fn replies_are_read_per_format() {
        let (at, hub) = (WireFormat::AfricasTalking, WireFormat::Hubtel);
        let screen = |text: &str, ends| {
            Some(Screen {
                text: text.into(),
                ends,
            })
        };
        #[rustfmt::skip]
        let cases = [
            (at, "CON Menu\n1. A", screen("Menu\n1. A", false)),
            (at, "END Bye", screen("Bye", true)),
            (at, "Bye", None),
            (hub, r#"{"Type":"Release","Message":"Bye"}"#, screen("Bye", true)),
            (hub, r#"{"Type":"Response","Message":"Menu"}"#, screen("Menu", false)),
            (hub, "END Bye", None),
        ];
        for (format, body, want) in cases {
            assert_eq!(parse_reply(format, body).ok(), want, "{body}");
        }
    }
}
