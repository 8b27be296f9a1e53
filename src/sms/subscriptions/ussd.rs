//! Subscriptions made from a USSD menu: the gateway's own actions `subscriptions.join` and
//! `subscriptions.leave`, answered without calling the agency's back office. The topic must
//! be the menu's agency's; the outcome is `ok` with the topic's `name` and `description` (in
//! the caller's language) for the menu's screens, or `not_found` when the agency has no such
//! topic. Joining twice, as a repeated hop does, changes nothing the second time.

use super::store::{apply, Change};
use crate::app::Gateway;
use crate::ids::AgencyId;
use crate::menus::ActionOutcome;
use crate::sessions::Session;
use crate::sms::inbound::keywords::normalise;
use std::collections::BTreeMap;

pub async fn run(
    gw: &Gateway,
    session: &Session,
    agency: &AgencyId,
    action: &str,
    params: &BTreeMap<String, String>,
) -> ActionOutcome {
    let wanted = params
        .get("topic")
        .map(|t| normalise(t))
        .unwrap_or_default();
    let Some(topic) = gw.sms.topics.get(&wanted).filter(|t| &t.agency == agency) else {
        tracing::warn!(%agency, topic = %wanted, "menu names a topic its agency does not offer");
        return ActionOutcome::NotFound;
    };
    let msisdn = session.msisdn.as_str().to_string();
    let change = if action == "subscriptions.leave" {
        Change::Leave {
            topic_id: topic.id.clone(),
            msisdn,
        }
    } else {
        Change::Join {
            topic_id: topic.id.clone(),
            msisdn,
            language: session.language,
            channel: "ussd",
        }
    };
    if let Err(e) = apply(&gw.db, &change).await {
        tracing::warn!(error = %e, action, topic = %topic.name, "subscription not changed");
        return ActionOutcome::Failed;
    }
    tracing::info!(%agency, topic = %topic.name, msisdn = %session.msisdn, action, "subscription changed from USSD");
    ActionOutcome::Ok(serde_json::json!({
        "name": topic.name,
        "description": topic.describe(session.language),
    }))
}
