//! What the gateway answered one `POST /v1/messages`: the messages it accepted (with their
//! ids), the recipients it refused, or why the request as a whole failed.

use serde::Deserialize;

/// Why a request got no `202` with a readable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestError {
    /// The TCP connection could not be made.
    Connect,
    /// No complete answer within `--timeout`; its messages may or may not be stored.
    Timeout,
    /// The connection broke mid-request.
    Transport,
    /// An answer other than `202` (the status is kept with it).
    Status(u16),
    /// A `202` whose body is not the answer the API documents.
    BadAnswer,
}

impl RequestError {
    pub fn name(self) -> String {
        match self {
            RequestError::Connect => "connect".into(),
            RequestError::Timeout => "timeout".into(),
            RequestError::Transport => "transport".into(),
            RequestError::Status(status) => format!("http_{status}"),
            RequestError::BadAnswer => "bad_answer".into(),
        }
    }

    pub fn of(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            RequestError::Timeout
        } else if error.is_connect() {
            RequestError::Connect
        } else {
            RequestError::Transport
        }
    }
}

/// The `202` answer: ids of the accepted messages and how many recipients were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub ids: Vec<String>,
    pub rejected: u32,
    pub parts: u32,
}

#[derive(Deserialize)]
struct Body {
    messages: Vec<Message>,
    rejected: Vec<serde_json::Value>,
    parts: u32,
}

#[derive(Deserialize)]
struct Message {
    id: String,
    status: String,
}

/// Reads an answer of status `status` with body `body`.
pub fn read(status: u16, body: &[u8]) -> Result<Accepted, RequestError> {
    if status != 202 {
        return Err(RequestError::Status(status));
    }
    let body: Body = serde_json::from_slice(body).map_err(|_| RequestError::BadAnswer)?;
    if body
        .messages
        .iter()
        .any(|m| m.status != "queued" || !m.id.starts_with("msg_"))
    {
        return Err(RequestError::BadAnswer);
    }
    Ok(Accepted {
        ids: body.messages.into_iter().map(|m| m.id).collect(),
        rejected: body.rejected.len() as u32,
        parts: body.parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_into_ids_or_an_error() {
        let good = br#"{"messages":[{"id":"msg_01A","to":"255754000001","status":"queued"},
            {"id":"msg_01B","to":"255754000002","status":"queued"}],
            "rejected":[{"index":2,"to":"12","error":"too short"}],"encoding":"gsm7","parts":1}"#;
        let cases: [(u16, &[u8], Result<Accepted, RequestError>); 5] = [
            (
                202,
                good,
                Ok(Accepted {
                    ids: vec!["msg_01A".into(), "msg_01B".into()],
                    rejected: 1,
                    parts: 1,
                }),
            ),
            (
                503,
                br#"{"error":"unavailable"}"#,
                Err(RequestError::Status(503)),
            ),
            (202, b"<html>", Err(RequestError::BadAnswer)),
            (
                202,
                br#"{"messages":[{"id":"msg_01A","status":"sent"}],"rejected":[],"parts":1}"#,
                Err(RequestError::BadAnswer),
            ),
            (
                202,
                br#"{"messages":[{"id":"ATXid_1","status":"queued"}],"rejected":[],"parts":1}"#,
                Err(RequestError::BadAnswer),
            ),
        ];
        for (status, body, expected) in cases {
            assert_eq!(
                read(status, body),
                expected,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn errors_have_stable_names() {
        let names: Vec<String> = [
            RequestError::Connect,
            RequestError::Timeout,
            RequestError::Transport,
            RequestError::Status(429),
            RequestError::BadAnswer,
        ]
        .into_iter()
        .map(RequestError::name)
        .collect();
        assert_eq!(
            names,
            ["connect", "timeout", "transport", "http_429", "bad_answer"]
        );
    }
}
