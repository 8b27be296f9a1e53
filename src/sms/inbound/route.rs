//! Where an incoming message goes: by shortcode, then by keyword (the first two words, then
//! the first), to a registered service; the gateway's own words answer with help; anything
//! else is answered with help too, or recorded and left when nobody can be answered.

use super::answer::PendingAnswer;
use super::keywords::{candidates, words};
use super::replies;
use super::services::{SmsService, RESERVED};
use super::store::{ClaimedMo, Routed};
use crate::agencies::Agency;
use crate::ids::AgencyId;
use crate::language::Language;
use crate::msisdn::Msisdn;
use crate::sms::store::accept::NewMessage;
use crate::sms::subscriptions::{commands, Topic};
use std::collections::HashMap;
use std::sync::Arc;

/// The gateway's own replies are worth little after this long.
const REPLY_VALIDITY_MS: i64 = 60 * 60 * 1000;

/// What routing needs to know besides the message.
pub struct RouteContext<'a> {
    /// (shortcode, word) → service.
    pub keywords: &'a HashMap<(String, String), Arc<SmsService>>,
    /// Topic name → topic, for JIUNGE and STOP.
    pub topics: &'a HashMap<String, Arc<Topic>>,
    pub agencies: &'a HashMap<AgencyId, Arc<Agency>>,
    pub shortcodes: &'a [String],
    pub default_country: &'a str,
    pub now_ms: i64,
    pub received_at: String,
}

pub fn route(mo: &ClaimedMo, language: Language, cx: &RouteContext<'_>) -> Routed {
    if !mo.sender_is_number {
        return ignored("the sender is not a phone number: nobody to answer");
    }
    if !cx.shortcodes.contains(&mo.shortcode) {
        return ignored(&format!(
            "shortcode {:?} is not this gateway's",
            mo.shortcode
        ));
    }
    let text_words = words(&mo.text);
    let Some(first) = text_words.first() else {
        let reply = replies::help(
            language,
            &mo.shortcode,
            &services_on(cx, &mo.shortcode),
            Some(replies::empty_message(language)),
        );
        return helped(mo, cx, None, "empty text", reply);
    };
    for (keyword, used) in candidates(&text_words) {
        if used == 1 && RESERVED.contains(&keyword.as_str()) {
            if keyword == "MSAADA" || keyword == "HELP" {
                let reply = replies::help(
                    language,
                    &mo.shortcode,
                    &services_on(cx, &mo.shortcode),
                    None,
                );
                return helped(mo, cx, Some(keyword), "asked for help", reply);
            }
            return commands::route(mo, &keyword, &text_words[1..], language, cx);
        }
        let Some(service) = cx.keywords.get(&(mo.shortcode.clone(), keyword.clone())) else {
            continue;
        };
        if service.spec.answer.is_some() {
            return Routed {
                keyword: Some(keyword),
                service_id: Some(service.id.clone()),
                agency_id: Some(service.agency.to_string()),
                outcome: "answered",
                answer: Some(PendingAnswer {
                    service: service.clone(),
                    language,
                    args: text_words[used..].iter().map(|w| w.to_string()).collect(),
                }),
                ..Default::default()
            };
        }
        return forward(mo, cx, service, &keyword, &text_words[used..], language);
    }
    let opening = replies::unknown_keyword(language, first);
    let reply = replies::help(
        language,
        &mo.shortcode,
        &services_on(cx, &mo.shortcode),
        Some(opening),
    );
    helped(
        mo,
        cx,
        None,
        &format!("no service answers {first:?}"),
        reply,
    )
}

fn forward(
    mo: &ClaimedMo,
    cx: &RouteContext<'_>,
    service: &SmsService,
    keyword: &str,
    arguments: &[&str],
    language: Language,
) -> Routed {
    let url = service
        .spec
        .forward
        .as_ref()
        .and_then(|f| f.url.clone())
        .or_else(|| {
            cx.agencies
                .get(&service.agency)
                .and_then(|a| a.callback_url.clone())
        });
    let mut routed = Routed {
        keyword: Some(keyword.to_string()),
        service_id: Some(service.id.clone()),
        agency_id: Some(service.agency.to_string()),
        ..Default::default()
    };
    let Some(url) = url else {
        routed.outcome = "ignored";
        routed.detail = Some("the agency has no callback URL to forward to".into());
        routed.reply = reply_to(mo, cx, replies::unavailable(language, &service.keyword));
        return routed;
    };
    let payload = received_payload(mo, service, &arguments.join(" "), &cx.received_at);
    routed.outcome = "forwarded";
    routed.webhook = Some((service.agency.to_string(), url, payload));
    routed
}

/// The body of the webhook that forwards `mo` to its service's agency.
pub fn received_payload(
    mo: &ClaimedMo,
    service: &SmsService,
    arguments: &str,
    received_at: &str,
) -> String {
    serde_json::json!({
        "type": "message.received",
        "id": mo.id,
        "service_id": service.id,
        "keyword": service.keyword,
        "from": mo.sender,
        "to": mo.shortcode,
        "text": mo.text,
        "arguments": arguments,
        "telco": mo.telco_id,
        "received_at": received_at,
    })
    .to_string()
}

fn helped(
    mo: &ClaimedMo,
    cx: &RouteContext<'_>,
    keyword: Option<String>,
    why: &str,
    reply: String,
) -> Routed {
    Routed {
        keyword,
        outcome: "help",
        detail: Some(why.to_string()),
        reply: reply_to(mo, cx, reply),
        ..Default::default()
    }
}

fn ignored(why: &str) -> Routed {
    Routed {
        outcome: "ignored",
        detail: Some(why.to_string()),
        ..Default::default()
    }
}

/// The services on `shortcode`, each once, by keyword.
fn services_on<'a>(cx: &RouteContext<'a>, shortcode: &str) -> Vec<&'a SmsService> {
    let mut services: Vec<&SmsService> = cx
        .keywords
        .iter()
        .filter(|((code, word), service)| code == shortcode && *word == service.keyword)
        .map(|(_, service)| &**service)
        .collect();
    services.sort_by(|a, b| a.keyword.cmp(&b.keyword));
    services
}

pub(crate) fn reply_to(mo: &ClaimedMo, cx: &RouteContext<'_>, text: String) -> Option<NewMessage> {
    let recipient = Msisdn::parse(&mo.sender, cx.default_country).ok()?;
    Some(NewMessage::reply(
        recipient,
        text,
        cx.now_ms + REPLY_VALIDITY_MS,
    ))
}
