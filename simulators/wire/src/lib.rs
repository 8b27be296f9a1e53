//! mgov-wire: the telco's side of the gateway's USSD wire formats (`docs/telcos.md`), written
//! once: the request an aggregator posts for each hop and at the end of a dialogue, and how it
//! reads the gateway's reply.
//!
//! `mgov dial` and the gateway's tests (`mgov::cli::phone`), the aggregator simulator and the
//! load generator all build their requests and read the replies here; the gateway's own side
//! of the same formats is its adapters (`mgov::telcos`). Everything is a pure function of
//! plain values: the caller posts the [`Body`] with whatever HTTP client it has, which is why
//! a production build of the gateway can carry this crate without the simulators.
//!
//! # Layout
//! - [`africastalking`]: form posts whose `text` carries every input so far, `CON`/`END`
//!   replies, the end-of-session notification, and dial strings split against the code.
//! - [`hubtel`]: JSON requests carrying the latest input and a `Sequence`,
//!   `Response`/`Release` replies, the `Release`/`Timeout` end notices.
//! - Here: the [`Format`] names, the [`Body`] of a request, and reading a reply into a
//!   [`Screen`].

pub mod africastalking;
pub mod hubtel;

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// A USSD wire format as a telco or aggregator speaks it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Form posts with cumulative `text`, `CON`/`END` replies, a notification with `status`.
    #[default]
    AfricasTalking,
    /// JSON with `Type` `Initiation`/`Response`/`Release`/`Timeout` and the latest input only.
    Hubtel,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::AfricasTalking => "africastalking",
            Format::Hubtel => "hubtel",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Format::AfricasTalking, Format::Hubtel]
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("unknown format {text:?} (expected africastalking or hubtel)"))
    }
}

/// A request body for the gateway's USSD callback.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// `application/x-www-form-urlencoded` (Africa's Talking), fields in the order sent.
    Form(Vec<(&'static str, String)>),
    /// `application/json` (Hubtel).
    Json(Value),
}

impl Body {
    pub fn content_type(&self) -> &'static str {
        match self {
            Body::Form(_) => "application/x-www-form-urlencoded",
            Body::Json(_) => "application/json",
        }
    }

    /// The bytes on the wire, as an HTTP client's form and JSON encoders write them.
    pub fn encode(&self) -> String {
        match self {
            Body::Form(fields) => {
                serde_urlencoded::to_string(fields).expect("pairs of strings always encode")
            }
            Body::Json(value) => value.to_string(),
        }
    }
}

/// A screen the gateway sent back, as the handset shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Screen {
    pub text: String,
    /// The gateway ended the dialogue with this screen.
    pub ends: bool,
    /// Hubtel's `ClientState`, to echo on the next request; empty for Africa's Talking.
    pub client_state: String,
}

/// Why the body of a 2xx reply is not a screen in its format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyError {
    /// Africa's Talking: the body starts with neither `CON` nor `END`.
    NeitherConNorEnd,
    /// Hubtel: the body is not JSON.
    NotJson,
    /// Hubtel: `Type` is missing, or neither `Response` nor `Release`.
    UnknownType,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReplyError::NeitherConNorEnd => "neither CON nor END",
            ReplyError::NotJson => "not JSON",
            ReplyError::UnknownType => "Type is neither Response nor Release",
        })
    }
}

impl std::error::Error for ReplyError {}

/// Reads the body of the gateway's 2xx answer to a hop in `format`.
pub fn read_reply(format: Format, body: &str) -> Result<Screen, ReplyError> {
    match format {
        Format::AfricasTalking => africastalking::read_reply(body),
        Format::Hubtel => hubtel::read_reply(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_from_their_names() {
        #[rustfmt::skip]
        let cases = [
            ("africastalking", Ok(Format::AfricasTalking)),
            ("Hubtel", Ok(Format::Hubtel)),
            (" hubtel ", Ok(Format::Hubtel)),
            ("truroute", Err("unknown format \"truroute\" (expected africastalking or hubtel)".to_owned())),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Format>(), want, "{text}");
        }
        assert_eq!(Format::Hubtel.to_string(), "hubtel");
        assert_eq!(Format::default(), Format::AfricasTalking);
    }

    #[test]
    fn bodies_name_their_content_type() {
        let form = Body::Form(vec![("text", "1*2".to_owned())]);
        let json = Body::Json(serde_json::json!({ "Type": "Response" }));
        assert_eq!(
            (form.content_type(), form.encode().as_str()),
            ("application/x-www-form-urlencoded", "text=1*2")
        );
        assert_eq!(
            (json.content_type(), json.encode().as_str()),
            ("application/json", r#"{"Type":"Response"}"#)
        );
    }
}
