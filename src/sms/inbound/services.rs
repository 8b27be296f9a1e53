//! Keyword services on a shortcode: what an agency registers (its keyword, aliases per
//! language, a description per language, and what the service does), checked before it is
//! stored.

use super::keywords::registrable;
use crate::ids::AgencyId;
use crate::language::Language;
use crate::menus::template::Template;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Words the gateway answers itself, on every shortcode; no service may take them.
pub const RESERVED: &[&str] = &["STOP", "MSAADA", "HELP", "JIUNGE", "SUBSCRIBE"];

/// A service as an agency describes it (the body of `POST /v1/services/sms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// One word, or a word and a sub-keyword (`NEC HAKIKI`).
    pub keyword: String,
    /// The shortcode; the gateway's first (`15200`) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortcode: Option<String>,
    /// Other words for it, by language: `{"en": ["WATER"]}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aliases: BTreeMap<Language, Vec<String>>,
    /// One line for the help reply, by language: `{"sw": "MAJI <akaunti>: bili ya maji"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description: BTreeMap<Language, String>,
    /// Forward each message to the agency as a signed webhook ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<Forward>,
    /// ... or answer it at once with one back-office action and a reply template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

/// A one-shot back-office action and its replies. Templates are the menus' (`{name}`,
/// `{path[0].field}`, `|money`, `|date`, `|day`) over the action's answer and `args` (the
/// words after the keyword: `{args[0]}`), `arguments` (them as one text) and `msisdn`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// An action the agency's back office offers (`bills.fetch`).
    pub action: String,
    /// The action's parameters, each a template: `{"account": "{args[0]}"}`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The reply when the back office answers, by language.
    pub reply: BTreeMap<Language, String>,
    /// The reply when it finds nothing (or refuses), by language; a short default otherwise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_found: BTreeMap<Language, String>,
}

impl Answer {
    /// The template of `replies` for `language` (else Swahili, else any).
    pub fn pick(replies: &BTreeMap<Language, String>, language: Language) -> Option<&str> {
        crate::language::pick(replies, language).map(|(_, reply)| reply.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forward {
    /// Where to; the agency's callback URL when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A registered service.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsService {
    pub id: String,
    pub agency: AgencyId,
    pub shortcode: String,
    /// Normalised (`MAJI`).
    pub keyword: String,
    pub spec: ServiceSpec,
}

impl SmsService {
    /// Every word that reaches it: its keyword and its aliases, normalised.
    pub fn words(&self) -> Vec<String> {
        let mut words = vec![self.keyword.clone()];
        for alias in self.spec.aliases.values().flatten() {
            if let Ok(word) = registrable(alias) {
                if !words.contains(&word) {
                    words.push(word);
                }
            }
        }
        words
    }

    /// Its line in the help reply, in `language` (else Swahili, else the keyword alone).
    pub fn help_line(&self, language: Language) -> String {
        self.spec
            .description
            .get(&language)
            .or_else(|| self.spec.description.get(&Language::SWAHILI))
            .cloned()
            .unwrap_or_else(|| self.keyword.clone())
    }
}

/// Why a service cannot be registered as described.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0:?} is answered by the gateway itself (STOP, MSAADA/HELP, JIUNGE/SUBSCRIBE) and cannot be registered")]
    Reserved(String),
}

/// Checks `spec` against the gateway's `shortcodes` and the actions its agency `offered`;
/// the normalised keyword and shortcode.
pub fn check(
    spec: &ServiceSpec,
    shortcodes: &[String],
    offered: &[String],
) -> Result<(String, String), SpecError> {
    let keyword = registrable(&spec.keyword).map_err(SpecError::Invalid)?;
    let shortcode = match &spec.shortcode {
        None => shortcodes
            .first()
            .cloned()
            .ok_or_else(|| SpecError::Invalid("the gateway has no shortcode".into()))?,
        Some(code) if shortcodes.contains(code) => code.clone(),
        Some(code) => {
            return Err(SpecError::Invalid(format!(
                "shortcode {code:?} is not one of this gateway's: {}",
                shortcodes.join(", ")
            )))
        }
    };
    let mut words = vec![keyword.clone()];
    for alias in spec.aliases.values().flatten() {
        words.push(registrable(alias).map_err(SpecError::Invalid)?);
    }
    if let Some(word) = words
        .iter()
        .find(|w| RESERVED.contains(&w.split(' ').next().unwrap_or("")))
    {
        return Err(SpecError::Reserved(word.clone()));
    }
    for (language, line) in &spec.description {
        let length = line.chars().count();
        if line.trim().is_empty() || length > 80 {
            return Err(SpecError::Invalid(format!(
                "description in {language} must be 1 to 80 characters, got {length}"
            )));
        }
    }
    match (&spec.forward, &spec.answer) {
        (Some(forward), None) => {
            if let Some(url) = &forward.url {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(SpecError::Invalid(format!(
                        "forward.url {url:?} must be an http:// or https:// URL"
                    )));
                }
            }
        }
        (None, Some(answer)) => check_answer(answer, offered)?,
        _ => {
            return Err(SpecError::Invalid(
                "a service either forwards (\"forward\") or answers (\"answer\"), one of the two"
                    .into(),
            ))
        }
    }
    Ok((keyword, shortcode))
}

fn check_answer(answer: &Answer, offered: &[String]) -> Result<(), SpecError> {
    if !offered.contains(&answer.action) {
        return Err(SpecError::Invalid(format!(
            "answer.action {:?} is not an action this agency's back office offers ({})",
            answer.action,
            if offered.is_empty() {
                "none".to_string()
            } else {
                offered.join(", ")
            }
        )));
    }
    if answer.reply.is_empty() {
        return Err(SpecError::Invalid(
            "answer.reply needs a template in at least one language".into(),
        ));
    }
    let templates = answer
        .params
        .iter()
        .map(|(name, t)| (format!("answer.params.{name}"), t))
        .chain(
            answer
                .reply
                .iter()
                .map(|(l, t)| (format!("answer.reply.{l}"), t)),
        )
        .chain(
            answer
                .not_found
                .iter()
                .map(|(l, t)| (format!("answer.not_found.{l}"), t)),
        );
    for (place, template) in templates {
        Template::compile(template).map_err(|e| SpecError::Invalid(format!("{place}: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> ServiceSpec {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn services_are_checked_before_they_are_stored() {
        let codes = vec!["15200".to_string()];
        let offered = vec!["bills.fetch".to_string()];
        let kodi = spec(json!({"keyword": "kodi", "aliases": {"en": ["tax"]}, "forward": {}}));
        assert_eq!(
            check(&kodi, &codes, &offered),
            Ok(("KODI".into(), "15200".into()))
        );
        let maji = spec(
            json!({"keyword": "maji", "answer": {"action": "bills.fetch",
            "params": {"account": "{args[0]}"}, "reply": {"sw": "Bili: {bills[0].amount|money}"}}}),
        );
        assert_eq!(
            check(&maji, &codes, &offered),
            Ok(("MAJI".into(), "15200".into()))
        );
        let refused = [
            (
                json!({"keyword": "stop", "forward": {}}),
                "answered by the gateway",
            ),
            (
                json!({"keyword": "maji", "aliases": {"en": ["help"]}, "forward": {}}),
                "answered by the gateway",
            ),
            (json!({"keyword": "ma ji sasa", "forward": {}}), "one word"),
            (
                json!({"keyword": "maji", "shortcode": "15300", "forward": {}}),
                "not one of this gateway's",
            ),
            (
                json!({"keyword": "maji", "forward": {"url": "ftp://x"}}),
                "http://",
            ),
            (
                json!({"keyword": "maji", "description": {"sw": ""}, "forward": {}}),
                "1 to 80",
            ),
            (json!({"keyword": "maji"}), "one of the two"),
            (
                json!({"keyword": "maji", "forward": {}, "answer": {"action": "bills.fetch", "reply": {"sw": "x"}}}),
                "one of the two",
            ),
            (
                json!({"keyword": "maji", "answer": {"action": "cases.status", "reply": {"sw": "x"}}}),
                "not an action this agency",
            ),
            (
                json!({"keyword": "maji", "answer": {"action": "bills.fetch", "reply": {}}}),
                "at least one language",
            ),
            (
                json!({"keyword": "maji", "answer": {"action": "bills.fetch", "reply": {"sw": "Bili {bills[0"}}}),
                "answer.reply.sw",
            ),
        ];
        let offered = vec!["bills.fetch".to_string()];
        for (body, why) in refused {
            let err = check(&spec(body.clone()), &codes, &offered)
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{body}: {err}");
        }
        // Unknown fields are refused when read, not ignored.
        assert!(serde_json::from_value::<ServiceSpec>(
            json!({"keyword": "maji", "forward": {}, "reply": "x"})
        )
        .is_err());
    }

    #[test]
    fn a_service_is_reached_by_its_keyword_and_aliases() {
        let service = SmsService {
            id: "svc_1".into(),
            agency: AgencyId::parse("dawasa").unwrap(),
            shortcode: "15200".into(),
            keyword: "MAJI".into(),
            spec: spec(
                json!({"keyword": "maji", "aliases": {"en": ["water", "Maji"]},
                "description": {"sw": "MAJI <akaunti>: bili ya maji"}, "forward": {}}),
            ),
        };
        assert_eq!(service.words(), ["MAJI", "WATER"]);
        assert_eq!(
            service.help_line(Language::ENGLISH),
            "MAJI <akaunti>: bili ya maji"
        );
    }
}
