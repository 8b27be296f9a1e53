//! A phone that speaks to a gateway exactly as an aggregator does: Africa's Talking form
//! posts with cumulative text, or Hubtel-style JSON with the latest input. Used by
//! `mgov dial`, the integration tests and the load generator.

use crate::telcos::WireFormat;

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

    /// Sends the hop that carries the first `typed` inputs; Hubtel numbers it `typed + 1`.
    async fn send(&self, typed: usize) -> Result<Screen, PhoneError> {
        let input = typed.checked_sub(1).map(|last| self.typed[last].as_str());
        let s = &self.settings;
        let url = format!("{}/ussd/{}", s.url.trim_end_matches('/'), s.telco);
        let mut request = self.http.post(&url);
        if let Some((user, secret)) = &s.credentials {
            request = request.basic_auth(user, Some(secret));
        }
        let request = match s.format {
            WireFormat::Hubtel => {
                let (kind, message) = match input {
                    None => ("Initiation", self.dialled.as_str()),
                    Some(i) => ("Response", i),
                };
                request.json(&serde_json::json!({
                    "Type": kind, "Mobile": s.msisdn, "SessionId": self.session_id,
                    "ServiceCode": self.dialled, "Message": message, "Operator": "vodacom",
                    "Sequence": typed + 1, "ClientState": "",
                }))
            }
            WireFormat::AfricasTalking | WireFormat::Kannel => {
                let (service_code, text) =
                    africastalking_text(&self.dialled, &s.root_code, &self.typed[..typed]);
                request.form(&[
                    ("sessionId", self.session_id.as_str()),
                    ("serviceCode", service_code.as_str()),
                    (
                        "phoneNumber",
                        &format!("+{}", s.msisdn.trim_start_matches('+')),
                    ),
                    ("networkCode", "63902"),
                    ("text", text.as_str()),
                ])
            }
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
}

fn parse_reply(format: WireFormat, body: &str) -> Result<Screen, PhoneError> {
    match format {
        WireFormat::Hubtel => {
            let v: serde_json::Value = serde_json::from_str(body)
                .map_err(|e| PhoneError::BadReply(format!("not JSON: {e}")))?;
            let text = v["Message"].as_str().unwrap_or_default().to_string();
            Ok(Screen {
                text,
                ends: v["Type"] == "Release",
            })
        }
        WireFormat::AfricasTalking | WireFormat::Kannel => {
            if let Some(text) = body.strip_prefix("CON ") {
                Ok(Screen {
                    text: text.to_string(),
                    ends: false,
                })
            } else if let Some(text) = body.strip_prefix("END ") {
                Ok(Screen {
                    text: text.to_string(),
                    ends: true,
                })
            } else {
                Err(PhoneError::BadReply(format!(
                    "neither CON nor END: {body:?}"
                )))
            }
        }
    }
}

/// Africa's Talking sends the registered code and everything typed, joined by `*`,
/// including the extension of a longer dial string.
fn africastalking_text(dialled: &str, root: &str, typed: &[String]) -> (String, String) {
    let root_stem = root.trim_end_matches('#');
    let mut parts: Vec<String> = Vec::new();
    let service_code = match dialled.trim_end_matches('#').strip_prefix(root_stem) {
        Some(rest) if rest.starts_with('*') => {
            parts.extend(rest[1..].split('*').map(str::to_string));
            root.to_string()
        }
        _ => dialled.to_string(),
    };
    parts.extend(typed.iter().cloned());
    (service_code, parts.join("*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_become_the_root_code_plus_inputs() {
        let typed = vec!["12345678".to_string()];
        assert_eq!(
            africastalking_text("*152*00#", "*152*00#", &[]),
            ("*152*00#".into(), "".into())
        );
        assert_eq!(
            africastalking_text("*152*00*1*1#", "*152*00#", &typed),
            ("*152*00#".into(), "1*1*12345678".into())
        );
        assert_eq!(
            africastalking_text("*150*01#", "*152*00#", &[]),
            ("*150*01#".into(), "".into())
        );
    }

    #[test]
    fn replies_are_read_per_format() {
        let con = parse_reply(WireFormat::AfricasTalking, "CON Menu\n1. A").unwrap();
        assert_eq!(
            con,
            Screen {
                text: "Menu\n1. A".into(),
                ends: false
            }
        );
        assert!(
            parse_reply(WireFormat::AfricasTalking, "END Bye")
                .unwrap()
                .ends
        );
        assert!(parse_reply(WireFormat::AfricasTalking, "Bye").is_err());
        let release =
            parse_reply(WireFormat::Hubtel, r#"{"Type":"Release","Message":"Bye"}"#).unwrap();
        assert_eq!(
            release,
            Screen {
                text: "Bye".into(),
                ends: true
            }
        );
    }
}
