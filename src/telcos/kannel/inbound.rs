//! Kannel incoming SMS: the `get-url` of an sms-service, which Kannel calls with GET and a
//! query string made from its escapes. The URL to configure in Kannel (`%I` is Kannel's id of
//! the message, `%t` its time):
//! `http://USER:PASSWORD@gateway/sms/{telco}/inbound?id=%I&from=%p&to=%P&ts=%t&text=%a`.

use crate::sms::channel::IncomingSms;
use crate::telcos::{required, AdapterError};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct InboundQuery {
    id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    ts: Option<String>,
    #[serde(default)]
    text: String,
}

/// Reads one MO. Without Kannel's `%I`, a message is known by its sender, shortcode, time
/// and text, which a second delivery of it repeats.
pub fn parse_inbound(query: &str) -> Result<IncomingSms, AdapterError> {
    let query: InboundQuery =
        serde_urlencoded::from_str(query).map_err(|e| AdapterError::Unparseable(e.to_string()))?;
    let from = required(&query.from, "from")?.to_string();
    let to = required(&query.to, "to")?.to_string();
    let telco_message_id = match query.id.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
        Some(id) => id.to_string(),
        None => {
            let ts = required(&query.ts, "id or ts")?;
            let digest = Sha256::digest(format!("{from}\n{to}\n{ts}\n{}", query.text));
            format!("sha256:{}", hex::encode(&digest[..16]))
        }
    };
    Ok(IncomingSms {
        telco_message_id,
        from,
        to,
        text: query.text,
        link_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_messages() {
        let sms = parse_inbound(
            "id=6f1c&from=%2B255754123456&to=15200&ts=1796025600&text=hali+CS2024-55123",
        )
        .unwrap();
        assert_eq!(
            (
                sms.telco_message_id.as_str(),
                sms.from.as_str(),
                sms.to.as_str(),
                sms.text.as_str()
            ),
            ("6f1c", "+255754123456", "15200", "hali CS2024-55123")
        );
        // Without %I, the same delivery twice is the same message; another text is another.
        let a = parse_inbound("from=255754123456&to=15200&ts=1796025600&text=STOP").unwrap();
        let again = parse_inbound("from=255754123456&to=15200&ts=1796025600&text=STOP").unwrap();
        let other = parse_inbound("from=255754123456&to=15200&ts=1796025600&text=JIUNGE").unwrap();
        assert_eq!(a.telco_message_id, again.telco_message_id);
        assert_ne!(a.telco_message_id, other.telco_message_id);
        for (query, code) in [
            ("to=15200&id=1&text=x", "missing_field"),
            ("from=255754123456&id=1&text=x", "missing_field"),
            ("from=255754123456&to=15200&text=x", "missing_field"),
        ] {
            assert_eq!(parse_inbound(query).unwrap_err().code(), code, "{query}");
        }
    }
}
