//! The telco's side (`mgov_wire`, what `mgov dial`, the simulators and the load generator
//! send) against the gateway's adapters, per format: a request built there parses here into
//! what the telco meant, and the gateway's reply reads back there as the screen it sent.

use super::tests::{wire, with_content_type};
use super::WireFormat;
use crate::msisdn::Msisdn;
use crate::ussd::request::{SessionEndSignal, UssdCallback, UssdInput, UssdReply, UssdRequest};
use axum::http::StatusCode;
use mgov_wire::{africastalking, hubtel, Body, Screen};

const AT: africastalking::Session = africastalking::Session {
    session_id: "ATUid_1",
    service_code: "*152*00#",
    msisdn: "255754123456",
    network_code: "64004",
};

const HUBTEL: hubtel::Session = hubtel::Session {
    session_id: "h-1",
    mobile: "255754123456",
    service_code: "*152*00#",
    operator: "vodacom",
    client_state: "",
};

fn msisdn() -> Msisdn {
    Msisdn::parse("255754123456", "255").unwrap()
}

fn hop(
    session_id: &str,
    service_code: &str,
    input: UssdInput,
    sequence: Option<u64>,
    network: &str,
) -> UssdCallback {
    UssdCallback::Hop(UssdRequest {
        session_id: session_id.into(),
        msisdn: msisdn(),
        service_code: service_code.into(),
        input,
        sequence,
        network: Some(network.into()),
    })
}

fn ended(session_id: &str, signal: SessionEndSignal) -> UssdCallback {
    UssdCallback::Ended {
        session_id: session_id.into(),
        msisdn: Some(msisdn()),
        signal,
    }
}

fn at_ending(status: africastalking::Status) -> africastalking::Ending<'static> {
    africastalking::Ending {
        status,
        cost: "TZS 0.00",
        date: "2025-06-01 10:00:00",
        input: "1*2",
        hops_count: 3,
        error_message: "",
        last_app_response: "CON Weka namba",
        duration_ms: 9120,
    }
}

#[test]
fn requests_the_telco_builds_parse_as_it_meant_them() {
    use africastalking::Status;
    use SessionEndSignal::{Completed, Failed, Timeout, UserCancelled};
    let (at, hub) = (WireFormat::AfricasTalking, WireFormat::Hubtel);
    let at_hop = |input| hop("ATUid_1", "*152*00#", input, None, "64004");
    let cumulative = |text: &str| UssdInput::Cumulative(text.into());
    let latest = |text: &str| UssdInput::Latest(text.into());
    #[rustfmt::skip]
    let cases: Vec<(WireFormat, Body, UssdCallback)> = vec![
        (at, africastalking::hop(&AT, ""), at_hop(UssdInput::Dial)),
        (at, africastalking::hop(&AT, "1*1"), at_hop(cumulative("1*1"))),
        (at, africastalking::hop(&AT, "1*1*12345678"), at_hop(cumulative("1*1*12345678"))),
        (at, africastalking::end_notice(&AT, &at_ending(Status::Success)), ended("ATUid_1", Completed)),
        (at, africastalking::end_notice(&AT, &at_ending(Status::Incomplete)), ended("ATUid_1", Timeout)),
        (at, africastalking::end_notice(&AT, &at_ending(Status::Failed)), ended("ATUid_1", Failed)),
        (hub, hubtel::hop(&HUBTEL, "*152*00#", None, 1), hop("h-1", "*152*00#", UssdInput::Dial, Some(1), "vodacom")),
        // The dial string, extension and all, stands for the code on the first hop.
        (hub, hubtel::hop(&HUBTEL, "*152*00*1*1#", None, 1), hop("h-1", "*152*00*1*1#", UssdInput::Dial, Some(1), "vodacom")),
        (hub, hubtel::hop(&HUBTEL, "*152*00#", Some("12*34"), 3), hop("h-1", "*152*00#", latest("12*34"), Some(3), "vodacom")),
        (hub, hubtel::end_notice(&HUBTEL, hubtel::End::Release, 4), ended("h-1", UserCancelled)),
        (hub, hubtel::end_notice(&HUBTEL, hubtel::End::Timeout, 2), ended("h-1", Timeout)),
    ];
    for (format, body, want) in cases {
        let headers = with_content_type(body.content_type());
        let parsed = format.parse_ussd(&headers, body.encode().as_bytes(), "255");
        assert_eq!(parsed, Ok(want), "{format:?} {}", body.encode());
    }
}

#[tokio::test]
async fn replies_read_back_as_the_screen_the_gateway_sent() {
    let replies = [
        UssdReply::Continue("Karibu\n1. Maji\n2. Kesi".into()),
        UssdReply::End("Namba ya malipo: 991234567890".into()),
        UssdReply::End(String::new()),
    ];
    for format in [WireFormat::AfricasTalking, WireFormat::Hubtel] {
        for reply in &replies {
            let (status, _, body) = wire(format.render_ussd(reply)).await;
            assert_eq!(status, StatusCode::OK);
            let want = Screen {
                text: reply.text().to_owned(),
                ends: matches!(reply, UssdReply::End(_)),
                client_state: String::new(),
            };
            assert_eq!(
                mgov_wire::read_reply(format.into(), &body),
                Ok(want),
                "{format:?} {body}"
            );
        }
    }
}
