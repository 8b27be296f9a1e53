//! Hubtel-style JSON as the aggregator speaks it: every request carries its `Type`, the
//! latest input in `Message` (the whole dial string on `Initiation`), a `Sequence` counting
//! the dialogue's requests from 1, and the `ClientState` of the gateway's last reply. Replies
//! are JSON with `Type` `Response` (continue) or `Release` (end).

use serde_json::{json, Value};

use crate::{Body, ReplyError, Screen};

/// What every request of one dialogue carries.
#[derive(Clone, Copy, Debug)]
pub struct Session<'a> {
    pub session_id: &'a str,
    /// The citizen's number, sent as given.
    pub mobile: &'a str,
    pub service_code: &'a str,
    /// The citizen's network by name (`vodacom`).
    pub operator: &'a str,
    /// The `ClientState` of the gateway's last reply, echoed; empty before the first.
    pub client_state: &'a str,
}

/// The request numbered `sequence`: the dial (`Initiation`, carrying `dialled`) when
/// nothing is typed yet, else the `Response` carrying the `latest` input.
pub fn hop(session: &Session, dialled: &str, latest: Option<&str>, sequence: u64) -> Body {
    let (kind, message) = match latest {
        None => ("Initiation", dialled),
        Some(input) => ("Response", input),
    };
    request(session, kind, message, sequence)
}

/// How the dialogue ended on the platform's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The citizen hung up.
    Release,
    /// The citizen left a screen unanswered.
    Timeout,
}

/// The end notice numbered `sequence`, after the dialogue's last hop.
pub fn end_notice(session: &Session, end: End, sequence: u64) -> Body {
    let kind = match end {
        End::Release => "Release",
        End::Timeout => "Timeout",
    };
    request(session, kind, "", sequence)
}

fn request(session: &Session, kind: &str, message: &str, sequence: u64) -> Body {
    Body::Json(json!({
        "Type": kind,
        "Mobile": session.mobile,
        "SessionId": session.session_id,
        "ServiceCode": session.service_code,
        "Message": message,
        "Operator": session.operator,
        "Sequence": sequence,
        "ClientState": session.client_state,
    }))
}

/// Reads a 2xx reply: `Type` `Response` continues, `Release` ends (in any case).
pub fn read_reply(body: &str) -> Result<Screen, ReplyError> {
    let reply: Value = serde_json::from_str(body).map_err(|_| ReplyError::NotJson)?;
    let ends = match reply["Type"].as_str() {
        Some(kind) if kind.eq_ignore_ascii_case("Response") => false,
        Some(kind) if kind.eq_ignore_ascii_case("Release") => true,
        _ => return Err(ReplyError::UnknownType),
    };
    let text = |field: &str| reply[field].as_str().unwrap_or_default().to_owned();
    Ok(Screen {
        text: text("Message"),
        ends,
        client_state: text("ClientState"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: Session = Session {
        session_id: "sess-1",
        mobile: "255754123456",
        service_code: "*152*00#",
        operator: "vodacom",
        client_state: "",
    };

    /// The JSON as sent: serde_json writes the keys in order.
    fn wire(kind: &str, message: &str, sequence: u64, state: &str) -> String {
        format!(
            r#"{{"ClientState":"{state}","Message":"{message}","Mobile":"255754123456","Operator":"vodacom","Sequence":{sequence},"ServiceCode":"*152*00#","SessionId":"sess-1","Type":"{kind}"}}"#
        )
    }

    #[test]
    fn hops_on_the_wire() {
        let echoing = Session {
            client_state: "menu-2",
            ..SESSION
        };
        #[rustfmt::skip]
        let cases = [
            (SESSION, "*152*00#", None, 1, wire("Initiation", "*152*00#", 1, "")),
            // The initiation carries the whole dial string.
            (SESSION, "*152*00*1*1#", None, 1, wire("Initiation", "*152*00*1*1#", 1, "")),
            (SESSION, "*152*00#", Some("1"), 2, wire("Response", "1", 2, "")),
            (SESSION, "*152*00#", Some("12*34"), 3, wire("Response", "12*34", 3, "")),
            (SESSION, "*152*00#", Some(""), 3, wire("Response", "", 3, "")),
            (echoing, "*152*00#", Some("2"), 3, wire("Response", "2", 3, "menu-2")),
        ];
        for (session, dialled, latest, sequence, want) in cases {
            assert_eq!(
                hop(&session, dialled, latest, sequence).encode(),
                want,
                "{latest:?}"
            );
        }
    }

    #[test]
    fn end_notices_on_the_wire() {
        #[rustfmt::skip]
        let cases = [
            (End::Release, 4, wire("Release", "", 4, "")),
            (End::Timeout, 2, wire("Timeout", "", 2, "")),
        ];
        for (end, sequence, want) in cases {
            assert_eq!(
                end_notice(&SESSION, end, sequence).encode(),
                want,
                "{end:?}"
            );
        }
    }

    #[test]
    fn replies_as_the_handset_sees_them() {
        let screen = |text: &str, ends, state: &str| {
            Ok(Screen {
                text: text.into(),
                ends,
                client_state: state.into(),
            })
        };
        #[rustfmt::skip]
        let cases = [
            (r#"{"Type":"Response","Message":"Karibu","ClientState":"s1"}"#, screen("Karibu", false, "s1")),
            (r#"{"Type":"Release","Message":"Asante"}"#, screen("Asante", true, "")),
            (r#"{"Type":"release","Message":"Asante","ClientState":""}"#, screen("Asante", true, "")),
            (r#"{"Type":"Response"}"#, screen("", false, "")),
            (r#"{"Type":"Hangup","Message":"x"}"#, Err(ReplyError::UnknownType)),
            (r#"{"Message":"x"}"#, Err(ReplyError::UnknownType)),
            ("END Asante", Err(ReplyError::NotJson)),
            ("", Err(ReplyError::NotJson)),
        ];
        for (body, want) in cases {
            assert_eq!(read_reply(body), want, "{body}");
        }
    }
}
