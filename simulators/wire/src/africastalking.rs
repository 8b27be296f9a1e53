//! Africa's Talking as the aggregator speaks it: a form post per hop whose `text` carries
//! every input so far joined by `*` (a longer dial string's extension included), answered
//! `CON <screen>` or `END <screen>`; when the dialogue is over, a notification to the same
//! URL, told apart by its `status`.

use crate::{Body, ReplyError, Screen};

/// What every request of one dialogue carries.
#[derive(Clone, Copy, Debug)]
pub struct Session<'a> {
    pub session_id: &'a str,
    /// The registered code the dial string extends, or the dial string itself
    /// ([`split_dial`]).
    pub service_code: &'a str,
    /// The citizen's number in E.164 digits, with or without `+`; sent with it.
    pub msisdn: &'a str,
    /// The citizen's network, MCC + MNC (`64004` is Vodacom Tanzania).
    pub network_code: &'a str,
}

/// The hop whose `text` is `text`: every input so far joined by `*` ([`text`]), empty for
/// the dial.
pub fn hop(session: &Session, text: &str) -> Body {
    Body::Form(vec![
        ("sessionId", session.session_id.to_owned()),
        ("serviceCode", session.service_code.to_owned()),
        ("phoneNumber", phone_number(session.msisdn)),
        ("networkCode", session.network_code.to_owned()),
        ("text", text.to_owned()),
    ])
}

/// The notification's `status`: how the dialogue ended on the platform's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The gateway ended it.
    Success,
    /// The citizen left it: hung up, or let a screen time out.
    Incomplete,
    /// A hop failed: no reply, or not one the platform could read.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "Success",
            Status::Incomplete => "Incomplete",
            Status::Failed => "Failed",
        }
    }
}

/// The facts of an ending that the notification reports besides the session's own.
#[derive(Clone, Copy, Debug)]
pub struct Ending<'a> {
    pub status: Status,
    /// What the dialogue cost, with its currency (`TZS 0.00`).
    pub cost: &'a str,
    /// `YYYY-MM-DD hh:mm:ss`.
    pub date: &'a str,
    /// Everything typed: the last hop's `text`.
    pub input: &'a str,
    /// Hops sent to the gateway.
    pub hops_count: u32,
    /// Why it failed, empty when it did not.
    pub error_message: &'a str,
    /// The gateway's last reply, `CON …` or `END …` as it came.
    pub last_app_response: &'a str,
    pub duration_ms: u128,
}

/// The end-of-session notification.
pub fn end_notice(session: &Session, ending: &Ending) -> Body {
    Body::Form(vec![
        ("sessionId", session.session_id.to_owned()),
        ("serviceCode", session.service_code.to_owned()),
        ("networkCode", session.network_code.to_owned()),
        ("phoneNumber", phone_number(session.msisdn)),
        ("status", ending.status.as_str().to_owned()),
        ("cost", ending.cost.to_owned()),
        ("date", ending.date.to_owned()),
        ("input", ending.input.to_owned()),
        ("hopsCount", ending.hops_count.to_string()),
        ("errorMessage", ending.error_message.to_owned()),
        ("lastAppResponse", ending.last_app_response.to_owned()),
        ("durationInMillis", ending.duration_ms.to_string()),
    ])
}

fn phone_number(msisdn: &str) -> String {
    format!("+{}", msisdn.trim_start_matches('+'))
}

/// Splits a dial string against the registered code, as Africa's Talking does:
/// `*152*00*1*1#` with root `*152*00#` is `(*152*00#, [1, 1])`. A code that does not extend
/// the root (`*150#`, or `*152*001#`) is its own service code with no extension.
pub fn split_dial(dialled: &str, root_code: &str) -> (String, Vec<String>) {
    let stem = root_code.trim_end_matches('#');
    let extension = dialled
        .strip_suffix('#')
        .and_then(|body| body.strip_prefix(stem))
        .and_then(|rest| rest.strip_prefix('*'));
    match extension {
        Some(rest) if !stem.is_empty() => (
            root_code.to_owned(),
            rest.split('*').map(str::to_owned).collect(),
        ),
        _ => (dialled.to_owned(), Vec::new()),
    }
}

/// A hop's `text`: the dial string's extension and every input since, joined by `*`.
pub fn text(extension: &[String], typed: &[String]) -> String {
    let parts: Vec<&str> = extension.iter().chain(typed).map(String::as_str).collect();
    parts.join("*")
}

/// Reads a 2xx reply: `CON <screen>` continues, `END <screen>` ends.
pub fn read_reply(body: &str) -> Result<Screen, ReplyError> {
    let (keyword, text) = body.split_once(' ').unwrap_or((body, ""));
    let ends = match keyword {
        "CON" => false,
        "END" => true,
        _ => return Err(ReplyError::NeitherConNorEnd),
    };
    Ok(Screen {
        text: text.to_owned(),
        ends,
        client_state: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "*152*00#";

    const SESSION: Session = Session {
        session_id: "ATUid_1",
        service_code: ROOT,
        msisdn: "255754123456",
        network_code: "64004",
    };

    const BASE: &str =
        "sessionId=ATUid_1&serviceCode=*152*00%23&phoneNumber=%2B255754123456&networkCode=64004";

    #[test]
    fn hops_on_the_wire() {
        let national_plus = Session {
            msisdn: "+255754123456",
            ..SESSION
        };
        #[rustfmt::skip]
        let cases = [
            (SESSION, "", format!("{BASE}&text=")),
            (SESSION, "1", format!("{BASE}&text=1")),
            (SESSION, "1*1*12345678", format!("{BASE}&text=1*1*12345678")),
            // A number given with `+` is not sent with two.
            (national_plus, "1", format!("{BASE}&text=1")),
            (Session { service_code: "*150*01#", ..SESSION }, "", BASE.replace("*152*00%23", "*150*01%23") + "&text="),
        ];
        for (session, text, want) in cases {
            assert_eq!(hop(&session, text).encode(), want, "{text:?}");
        }
    }

    #[test]
    fn end_notices_on_the_wire() {
        let ending = |status, error_message| Ending {
            status,
            cost: "TZS 0.00",
            date: "2025-06-01 10:00:00",
            input: "1*2",
            hops_count: 3,
            error_message,
            last_app_response: "CON Weka namba",
            duration_ms: 9120,
        };
        let wire = |status: &str, error: &str| {
            format!(
                "sessionId=ATUid_1&serviceCode=*152*00%23&networkCode=64004\
                 &phoneNumber=%2B255754123456&status={status}&cost=TZS+0.00\
                 &date=2025-06-01+10%3A00%3A00&input=1*2&hopsCount=3&errorMessage={error}\
                 &lastAppResponse=CON+Weka+namba&durationInMillis=9120"
            )
        };
        #[rustfmt::skip]
        let cases = [
            (ending(Status::Success, ""), wire("Success", "")),
            (ending(Status::Incomplete, ""), wire("Incomplete", "")),
            (ending(Status::Failed, "no reply"), wire("Failed", "no+reply")),
        ];
        for (ending, want) in cases {
            assert_eq!(end_notice(&SESSION, &ending).encode(), want, "{ending:?}");
        }
    }

    #[test]
    fn dial_strings_split_against_the_root_code() {
        let owned = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        #[rustfmt::skip]
        let cases = [
            ("*152*00#", ROOT, ("*152*00#", owned(&[]))),
            ("*152*00*1#", ROOT, ("*152*00#", owned(&["1"]))),
            ("*152*00*1*1#", ROOT, ("*152*00#", owned(&["1", "1"]))),
            ("*152*00*1*12345678#", ROOT, ("*152*00#", owned(&["1", "12345678"]))),
            // Not an extension of the root: sent as dialled.
            ("*152*001#", ROOT, ("*152*001#", owned(&[]))),
            ("*150*01#", ROOT, ("*150*01#", owned(&[]))),
            ("*152#", ROOT, ("*152#", owned(&[]))),
            // A dial string ends in `#`; without one, or without a root, nothing is split.
            ("*152*00*1", ROOT, ("*152*00*1", owned(&[]))),
            ("*152*00*1#", "", ("*152*00*1#", owned(&[]))),
        ];
        for (dialled, root, (code, extension)) in cases {
            assert_eq!(
                split_dial(dialled, root),
                (code.to_owned(), extension),
                "{dialled}"
            );
        }
    }

    #[test]
    fn text_joins_the_extension_and_what_was_typed() {
        let owned = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        #[rustfmt::skip]
        let cases = [
            (owned(&[]), owned(&[]), ""),
            (owned(&[]), owned(&["1", "12345678"]), "1*12345678"),
            (owned(&["1", "1"]), owned(&[]), "1*1"),
            (owned(&["1", "1"]), owned(&["12345678"]), "1*1*12345678"),
        ];
        for (extension, typed, want) in cases {
            assert_eq!(text(&extension, &typed), want);
        }
    }

    #[test]
    fn replies_as_the_handset_sees_them() {
        let screen = |text: &str, ends| {
            Ok(Screen {
                text: text.into(),
                ends,
                client_state: String::new(),
            })
        };
        #[rustfmt::skip]
        let cases = [
            ("CON Karibu\n1. Maji", screen("Karibu\n1. Maji", false)),
            ("END Asante", screen("Asante", true)),
            ("END ", screen("", true)),
            ("END", screen("", true)),
            ("Karibu", Err(ReplyError::NeitherConNorEnd)),
            ("", Err(ReplyError::NeitherConNorEnd)),
            ("CONTINUE x", Err(ReplyError::NeitherConNorEnd)),
            ("con Karibu", Err(ReplyError::NeitherConNorEnd)),
        ];
        for (body, want) in cases {
            assert_eq!(read_reply(body), want, "{body:?}");
        }
    }
}
