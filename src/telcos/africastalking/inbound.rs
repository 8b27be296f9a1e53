//! Africa's Talking incoming SMS: a form post with `from`, `to`, `text`, `date`, `id`,
//! `linkId` and `networkCode`.

use crate::sms::channel::IncomingSms;
use crate::telcos::{check_body, required, AdapterError};
use axum::http::HeaderMap;
use serde::Deserialize;

const FORM: &str = "application/x-www-form-urlencoded";

#[derive(Deserialize)]
struct InboundForm {
    id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(rename = "linkId")]
    link_id: Option<String>,
}

/// Reads one MO. Only a missing id, sender or shortcode refuses it: whatever the text holds
/// is the router's to judge, and the telco gets its `200`.
pub fn parse_inbound(headers: &HeaderMap, body: &[u8]) -> Result<IncomingSms, AdapterError> {
    check_body(headers, body, FORM)?;
    let form: InboundForm =
        serde_urlencoded::from_bytes(body).map_err(|e| AdapterError::Unparseable(e.to_string()))?;
    Ok(IncomingSms {
        telco_message_id: required(&form.id, "id")?.to_string(),
        from: required(&form.from, "from")?.to_string(),
        to: required(&form.to, "to")?.to_string(),
        text: form.text,
        link_id: form
            .link_id
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telcos::tests::with_content_type;

    /// (telco id, sender, shortcode, text) read, or the refusal's code.
    type Read<'a> = Result<(&'a str, &'a str, &'a str, &'a str), &'a str>;

    #[test]
    fn inbound_messages() {
        let form = with_content_type(FORM);
        let cases: &[(&str, Read)] = &[
            (
                "from=%2B255754123456&to=15200&text=MAJI+12345678&date=2026-11-30+10%3A00%3A00&id=ATXid_1&linkId=L1&networkCode=63902",
                Ok(("ATXid_1", "+255754123456", "15200", "MAJI 12345678")),
            ),
            // An empty text is the router's to answer, not a refusal.
            ("from=255754123456&to=15200&id=ATXid_2", Ok(("ATXid_2", "255754123456", "15200", ""))),
            ("from=255754123456&to=15200&text=x&id=%20", Err("missing_field")),
            ("to=15200&text=x&id=ATXid_3", Err("missing_field")),
            ("from=255754123456&text=x&id=ATXid_4", Err("missing_field")),
        ];
        for (body, want) in cases {
            let got = parse_inbound(&form, body.as_bytes());
            match (got, want) {
                (Ok(sms), Ok((id, from, to, text))) => {
                    assert_eq!(
                        (
                            sms.telco_message_id.as_str(),
                            sms.from.as_str(),
                            sms.to.as_str(),
                            sms.text.as_str()
                        ),
                        (*id, *from, *to, *text),
                        "{body}"
                    );
                }
                (Err(e), Err(code)) => assert_eq!(e.code(), *code, "{body}"),
                (got, want) => panic!("{body}: got {got:?}, want {want:?}"),
            }
        }
        let json = with_content_type("application/json");
        assert_eq!(
            parse_inbound(&json, b"{}").unwrap_err().code(),
            "bad_content_type"
        );
    }
}
