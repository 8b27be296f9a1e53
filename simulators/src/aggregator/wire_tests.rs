//! Tables of (dialogue → wire request) per format, and of (gateway reply → what the handset
//! sees) as far as the platform adds to `mgov_wire`'s reading.

use super::*;
use serde_json::json;

const ROOT: &str = "*152*00#";

fn settings(format: Format) -> Settings {
    Settings {
        format,
        ..Settings::default()
    }
}

/// A dialogue dialled with `dialled`, then `typed`, each hop already sent but the last.
fn dialogue(dialled: &str, typed: &[&str]) -> Dialogue {
    let mut dialogue = Dialogue::new("sess-1".into(), "255754123456", dialled, ROOT);
    dialogue.typed = typed.iter().map(|t| t.to_string()).collect();
    dialogue.hops = typed.len() as u32;
    dialogue
}

fn form(fields: &[(&'static str, &str)]) -> Body {
    Body::Form(fields.iter().map(|(k, v)| (*k, v.to_string())).collect())
}

fn at_hop(code: &str, text: &str) -> Body {
    form(&[
        ("sessionId", "sess-1"),
        ("serviceCode", code),
        ("phoneNumber", "+255754123456"),
        ("networkCode", "64004"),
        ("text", text),
    ])
}

fn hubtel(kind: &str, message: &str, sequence: u32, state: &str) -> Body {
    Body::Json(json!({
        "Type": kind, "Mobile": "255754123456", "SessionId": "sess-1", "ServiceCode": ROOT,
        "Message": message, "Operator": "vodacom", "Sequence": sequence, "ClientState": state,
    }))
}

#[test]
fn hops_as_africastalking_sends_them() {
    let at = settings(Format::AfricasTalking);
    #[rustfmt::skip]
    let cases = [
        (dialogue("*152*00#", &[]), at_hop(ROOT, "")),
        (dialogue("*152*00#", &["1"]), at_hop(ROOT, "1")),
        (dialogue("*152*00#", &["1", "1", "12345678"]), at_hop(ROOT, "1*1*12345678")),
        (dialogue("*152*00*1*1#", &[]), at_hop(ROOT, "1*1")),
        (dialogue("*152*00*1*1#", &["12345678"]), at_hop(ROOT, "1*1*12345678")),
        (dialogue("*150*01#", &[]), at_hop("*150*01#", "")),
    ];
    for (dialogue, want) in cases {
        assert_eq!(hop(&at, &dialogue), want, "{dialogue:?}");
    }
}

#[test]
fn hops_as_hubtel_sends_them() {
    let hub = settings(Format::Hubtel);
    let mut echoed = dialogue("*152*00#", &["1", "2"]);
    echoed.client_state = "menu-2".into();
    #[rustfmt::skip]
    let cases = [
        (dialogue("*152*00#", &[]), hubtel("Initiation", "*152*00#", 1, "")),
        // The initiation carries the whole dial string; the code is the registered one.
        (dialogue("*152*00*1*1#", &[]), hubtel("Initiation", "*152*00*1*1#", 1, "")),
        (dialogue("*152*00#", &["1"]), hubtel("Response", "1", 2, "")),
        (dialogue("*152*00#", &["1", "12*34"]), hubtel("Response", "12*34", 3, "")),
        (echoed, hubtel("Response", "2", 3, "menu-2")),
    ];
    for (dialogue, want) in cases {
        assert_eq!(hop(&hub, &dialogue), want, "{dialogue:?}");
    }
}

fn ending(cause: EndCause, error: Option<&str>) -> Ending<'_> {
    Ending {
        cause,
        error,
        duration_ms: 9120,
        date: "2025-06-01 10:00:00".into(),
    }
}

#[test]
fn end_notices_per_cause_and_format() {
    let (at, hub) = (settings(Format::AfricasTalking), settings(Format::Hubtel));
    let mut done = dialogue("*152*00#", &["1", "2"]);
    done.hops = 3;
    done.last_reply = "CON Weka namba".into();
    let at_notice = |status: &str, error: &str| {
        form(&[
            ("sessionId", "sess-1"),
            ("serviceCode", ROOT),
            ("networkCode", "64004"),
            ("phoneNumber", "+255754123456"),
            ("status", status),
            ("cost", "TZS 0.00"),
            ("date", "2025-06-01 10:00:00"),
            ("input", "1*2"),
            ("hopsCount", "3"),
            ("errorMessage", error),
            ("lastAppResponse", "CON Weka namba"),
            ("durationInMillis", "9120"),
        ])
    };
    #[rustfmt::skip]
    let cases = [
        (EndCause::Gateway, None, Some(at_notice("Success", "")), None),
        (EndCause::Hangup, None, Some(at_notice("Incomplete", "")), Some(hubtel("Release", "", 4, ""))),
        (EndCause::Idle, None, Some(at_notice("Incomplete", "")), Some(hubtel("Timeout", "", 4, ""))),
        (EndCause::Failure, Some("no reply"), Some(at_notice("Failed", "no reply")), None),
    ];
    for (cause, error, want_at, want_hubtel) in cases {
        let ending = ending(cause, error);
        assert_eq!(end_notice(&at, &done, &ending), want_at, "{cause:?}");
        assert_eq!(end_notice(&hub, &done, &ending), want_hubtel, "{cause:?}");
    }
}

#[test]
fn replies_as_the_handset_sees_them() {
    let screen = |text: &str, ends: bool, state: &str| {
        Ok(Screen {
            text: text.into(),
            ends,
            client_state: state.into(),
        })
    };
    let bad = |why: &str| Err(HopError::BadReply(why.into()));
    let (at, hub) = (Format::AfricasTalking, Format::Hubtel);
    // Reading each format is `mgov_wire`'s (tested there); here, the status comes first.
    #[rustfmt::skip]
    let cases = [
        (at, 200, "CON Karibu\n1. Maji", screen("Karibu\n1. Maji", false, "")),
        (at, 200, "Karibu", bad("neither CON nor END")),
        (at, 401, "END Asante", Err(HopError::Status(401))),
        (at, 500, "", Err(HopError::Status(500))),
        (hub, 200, r#"{"Type":"Release","Message":"Asante","ClientState":"s1"}"#, screen("Asante", true, "s1")),
        (hub, 200, "END Asante", bad("not JSON")),
        (hub, 200, r#"{"Type":"Hangup","Message":"x"}"#, bad("Type is neither Response nor Release")),
        (hub, 404, r#"{"error":"not_found"}"#, Err(HopError::Status(404))),
    ];
    for (format, status, body, want) in cases {
        assert_eq!(
            parse_reply(format, status, body),
            want,
            "{format} {status} {body}"
        );
    }
}

#[test]
fn hop_errors_name_their_kind_and_status() {
    assert_eq!(HopError::Status(503).kind(), "gateway_status");
    assert_eq!(HopError::Status(503).status(), Some(503));
    assert_eq!(HopError::Timeout.status(), None);
    assert_eq!(HopError::Dropped.kind(), "dropped");
    assert!(HopError::Status(503).to_string().contains("503"));
}
