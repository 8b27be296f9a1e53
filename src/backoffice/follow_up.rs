//! Results by SMS. When a call whose menu lets its result follow by SMS outlives its hop, the
//! citizen is told so; when the answer comes (to the node that made the call, or to the
//! reconciler after a crash), it is rendered with the menu's own end screen for that outcome
//! and queued as an SMS from the menu's agency, once per transaction. End screens a menu
//! also sends by SMS go out the same way, once per dialogue step.

use super::client::CallOutcome;
use super::follow_up_store::{self as store, Settled};
use super::store::TransactionRecord;
use crate::app::Gateway;
use crate::db::DbError;
use crate::ids::{AgencyId, TelcoId};
use crate::menus::{ActionOutcome, FollowUp};
use crate::msisdn::Msisdn;
use crate::sms::dispatch::route;
use crate::sms::store::accept::NewMessage;

/// How long a result may wait for a route to the phone: a control number or a booking a day
/// old is still worth receiving, an older one is not.
const RESULT_VALIDITY_MS: i64 = 24 * 60 * 60 * 1000;

/// What the menu makes of a back-office answer.
pub fn menu_outcome(outcome: &CallOutcome) -> ActionOutcome {
    match outcome {
        CallOutcome::Ok(data) => ActionOutcome::Ok(data.clone()),
        CallOutcome::NotFound(_) => ActionOutcome::NotFound,
        CallOutcome::Rejected(_) => ActionOutcome::Rejected,
        CallOutcome::Failed { .. } => ActionOutcome::Failed,
    }
}

/// Whether an SMS can reach `msisdn`: a telco carries SMS to it (the one that carried the
/// dialogue, one whose prefix claims it, or the default route).
pub fn sms_possible(gw: &Gateway, msisdn: &Msisdn, carrier: &TelcoId) -> bool {
    let telcos = gw.telcos.snapshot();
    route::choose(&telcos, msisdn.as_str(), None, Some(carrier.as_str())).is_some()
}

/// `text` to `msisdn` from `agency`, under the agency's first sender id when it has one.
fn message(gw: &Gateway, agency: &AgencyId, msisdn: &Msisdn, text: String) -> NewMessage {
    let expires_ms = chrono::Utc::now().timestamp_millis() + RESULT_VALIDITY_MS;
    let mut message = NewMessage::reply(msisdn.clone(), text, expires_ms);
    // The citizen's own request: a STOP does not hold it back.
    message.purpose = crate::sms::message::Purpose::Result;
    message.sender_id = gw
        .agencies
        .get(agency)
        .and_then(|a| a.sender_ids.first().cloned());
    message
}

/// Records `record`, the late outcome of a call with a follow-up, and queues its result as
/// an SMS in the same database transaction, unless another writer settled it first. A result
/// the menu can no longer render (its version and state are gone) is recorded without one.
pub async fn settle(
    gw: &Gateway,
    record: &TransactionRecord,
    follow_up: &FollowUp,
    outcome: ActionOutcome,
) -> Result<Settled, DbError> {
    let menus = gw
        .menus
        .with_version(&follow_up.service, &follow_up.version)
        .await;
    let text = menus
        .get(&follow_up.service, &follow_up.version)
        .or_else(|| menus.current(&follow_up.service))
        .and_then(|menu| menu.follow_up_text(follow_up, record.msisdn.as_str(), outcome));
    if text.is_none() {
        tracing::error!(transaction = %record.id, service = %follow_up.service,
            state = follow_up.state, "a result promised by SMS cannot be rendered");
    }
    let sms = text.map(|text| message(gw, &record.agency, &record.msisdn, text));
    let done = store::settle_and_send(&gw.db, record, sms.as_ref()).await?;
    if let (true, Some(sms)) = (done.queued, sms) {
        tracing::info!(transaction = %record.id, msisdn = %record.msisdn, outcome = record.outcome.as_str(),
            "late result queued by SMS");
        gw.sms.accepted(&record.agency, 1, sms.parts as usize);
    }
    Ok(done)
}

/// The follow-up kept for `record`'s call, when its menu asked for one.
pub async fn kept_for(
    gw: &Gateway,
    record: &TransactionRecord,
) -> Result<Option<FollowUp>, DbError> {
    store::get_follow_up(&gw.db, &record.id).await
}

/// Queues an end screen sent by SMS, once for `key` (the dialogue's step); whether it did.
pub async fn send_end_screen(
    gw: &Gateway,
    key: &str,
    agency: &AgencyId,
    msisdn: &Msisdn,
    text: String,
) -> Result<bool, DbError> {
    let sms = message(gw, agency, msisdn, text);
    let queued = store::send_once(&gw.db, key, agency, &sms).await?;
    if queued {
        gw.sms.accepted(agency, 1, sms.parts as usize);
    }
    Ok(queued)
}
