//! Services that answer at once: one back-office action, its reply rendered from the
//! service's template. The request id is derived from the incoming message, so a message
//! routed again (its router died, or lost its claim) asks the back office the same question
//! under the same id and gets the same answer, and the reply itself is written once, with
//! the message's routing.

use super::services::{Answer, SmsService};
use super::store::ClaimedMo;
use crate::app::Gateway;
use crate::backoffice::client::{ActionCall, CallOutcome};
use crate::ids::TransactionId;
use crate::language::Language;
use crate::menus::template::{Scope, Template};
use crate::msisdn::Msisdn;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::time::Instant;

/// A message whose service answers it: what the worker calls once routing is done.
#[derive(Debug, Clone)]
pub struct PendingAnswer {
    pub service: Arc<SmsService>,
    pub language: Language,
    /// The words after the keyword.
    pub args: Vec<String>,
}

/// The reply to `mo` and how it came about (`answered`, `not_found`, `failed`).
pub async fn answer(
    gw: &Gateway,
    mo: &ClaimedMo,
    pending: &PendingAnswer,
) -> (String, &'static str, String) {
    let Some(spec) = pending.service.spec.answer.as_ref() else {
        return (
            unavailable(pending),
            "failed",
            "the service has no answer".into(),
        );
    };
    let mut vars: BTreeMap<String, Value> = BTreeMap::new();
    vars.insert("args".into(), Value::from(pending.args.clone()));
    vars.insert("arguments".into(), Value::from(pending.args.join(" ")));
    let render = |template: &str, vars: &BTreeMap<String, Value>| {
        Template::compile(template)
            .map(|t| {
                t.render(&Scope {
                    vars,
                    msisdn: &mo.sender,
                    language: pending.language,
                    item: None,
                })
            })
            .unwrap_or_default()
    };
    let params: BTreeMap<String, String> = spec
        .params
        .iter()
        .map(|(name, template)| (name.clone(), render(template, &vars)))
        .collect();
    let (Some(agency), Ok(msisdn)) = (
        gw.agencies.get(&pending.service.agency),
        Msisdn::parse(&mo.sender, &gw.config.default_country),
    ) else {
        return (
            unavailable(pending),
            "failed",
            "the agency is not registered".into(),
        );
    };
    let call = ActionCall {
        agency,
        transaction: TransactionId::for_step(&mo.id, msisdn.as_str(), 0, 0, &spec.action, &params),
        action: spec.action.clone(),
        msisdn,
        language: pending.language,
        params,
    };
    let report = gw
        .backoffice
        .call(&call, Instant::now() + gw.background_call_budget())
        .await;
    match report.outcome {
        CallOutcome::Ok(data) => {
            if let Value::Object(fields) = data {
                vars.extend(fields);
            }
            let template = Answer::pick(&spec.reply, pending.language).unwrap_or_default();
            (
                render(template, &vars),
                "answered",
                format!("{} answered", spec.action),
            )
        }
        CallOutcome::NotFound(_) | CallOutcome::Rejected(_) => {
            let reply = match Answer::pick(&spec.not_found, pending.language) {
                Some(template) => render(template, &vars),
                None => not_found(pending),
            };
            (reply, "answered", format!("{} found nothing", spec.action))
        }
        CallOutcome::Failed { reason, .. } => (
            unavailable(pending),
            "failed",
            format!("{}: {reason}", spec.action),
        ),
    }
}

fn unavailable(pending: &PendingAnswer) -> String {
    super::replies::unavailable(pending.language, &pending.service.keyword)
}

fn not_found(pending: &PendingAnswer) -> String {
    let asked = pending.args.join(" ");
    if pending.language == Language::SWAHILI {
        format!(
            "{}: hatukupata \"{asked}\". Hakikisha namba na ujaribu tena.",
            pending.service.keyword
        )
    } else {
        format!(
            "{}: nothing found for \"{asked}\". Check the number and try again.",
            pending.service.keyword
        )
    }
}
