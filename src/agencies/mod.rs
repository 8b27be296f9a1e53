//! Agencies (public institutions): their records, their back-office settings and the API
//! keys they call the gateway with.

pub mod keys;
pub mod store;

use crate::ids::AgencyId;
use std::fmt;

/// One agency and how to reach its back office.
#[derive(Clone, PartialEq, Eq)]
pub struct Agency {
    pub id: AgencyId,
    pub name: String,
    /// Base URL of the back office that implements the contract in `docs/backoffice.md`.
    pub backoffice_url: String,
    /// The HMAC-SHA256 key for the `Mgov-Signature` header. Kept as given (not hashed)
    /// because the gateway signs with it; never printed.
    pub signing_secret: String,
    /// Back-office actions the agency offers (`bills.fetch`, ...).
    pub actions: Vec<String>,
    /// Where signed webhooks (MO messages, delivery reports) go, if anywhere.
    pub callback_url: Option<String>,
    /// Alphanumeric sender ids (at most 11 characters) the agency may send SMS from.
    pub sender_ids: Vec<String>,
    /// Whether webhooks tell every status change (sent too), not only final ones.
    pub webhook_every_status: bool,
}

impl Agency {
    pub fn offers(&self, action: &str) -> bool {
        self.actions.iter().any(|a| a == action)
    }
}

// By hand, so that logging an agency does not log its signing secret.
impl fmt::Debug for Agency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agency")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("backoffice_url", &self.backoffice_url)
            .field("signing_secret", &"<redacted>")
            .field("actions", &self.actions)
            .field("callback_url", &self.callback_url)
            .field("sender_ids", &self.sender_ids)
            .field("webhook_every_status", &self.webhook_every_status)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_signing_secret() {
        let agency = Agency {
            id: AgencyId::parse("dawasa").unwrap(),
            name: "DAWASA".into(),
            backoffice_url: "http://127.0.0.1:9000".into(),
            signing_secret: "s3cr3t-key".into(),
            actions: vec!["bills.fetch".into()],
            callback_url: None,
            sender_ids: Vec::new(),
            webhook_every_status: false,
        };
        let printed = format!("{agency:?}");
        assert!(!printed.contains("s3cr3t-key"), "{printed}");
        assert!(printed.contains("<redacted>"));
        assert!(agency.offers("bills.fetch") && !agency.offers("cases.status"));
    }
}
