//! A topic as an agency describes it (`POST /v1/topics`): the one word citizens text after
//! `JIUNGE`, and a short description per language for the list they get back.

use crate::ids::AgencyId;
use crate::language::Language;
use crate::sms::inbound::keywords::registrable;
use crate::sms::inbound::services::RESERVED;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The body of `POST /v1/topics` and `PUT /v1/topics/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// One word: `MAFURIKO`.
    pub name: String,
    /// What subscribers get, by language: `{"sw": "Tahadhari za mafuriko"}`.
    pub description: BTreeMap<Language, String>,
}

/// A registered topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub id: String,
    pub agency: AgencyId,
    /// Normalised: upper case, no accents.
    pub name: String,
    pub description: BTreeMap<Language, String>,
}

impl Topic {
    /// Its description in `language` (else Swahili, else any).
    pub fn describe(&self, language: Language) -> &str {
        crate::language::pick(&self.description, language)
            .map(|(_, line)| line.as_str())
            .unwrap_or("")
    }
}

/// Longest description: the confirmation that quotes it must stay one part.
const DESCRIPTION_MAX: usize = 60;

/// Checks `spec`; its normalised name.
pub fn check(spec: &TopicSpec) -> Result<String, String> {
    let name = registrable(&spec.name)?;
    if name.contains(' ') {
        return Err(format!(
            "name {:?} must be one word: citizens text JIUNGE <name>",
            spec.name
        ));
    }
    if RESERVED.contains(&name.as_str()) {
        return Err(format!(
            "name {name:?} is a word the gateway answers itself and cannot name a topic"
        ));
    }
    if spec.description.is_empty() {
        return Err("description needs a line in at least one language".into());
    }
    for (language, line) in &spec.description {
        let length = line.chars().count();
        if line.trim().is_empty() || length > DESCRIPTION_MAX {
            return Err(format!(
                "description in {language} must be 1 to {DESCRIPTION_MAX} characters, got {length}"
            ));
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, sw: &str) -> TopicSpec {
        TopicSpec {
            name: name.into(),
            description: BTreeMap::from([(Language::SWAHILI, sw.to_string())]),
        }
    }

    #[test]
    fn names_are_one_normalised_word_that_is_not_reserved() {
        assert_eq!(check(&spec("mafúriko", "Tahadhari")), Ok("MAFURIKO".into()));
        assert!(check(&spec("maji safi", "x"))
            .unwrap_err()
            .contains("one word"));
        assert!(check(&spec("stop", "x"))
            .unwrap_err()
            .contains("answers itself"));
        assert!(check(&spec("", "x")).is_err());
    }

    #[test]
    fn descriptions_are_required_and_short() {
        let none = TopicSpec {
            name: "MAFURIKO".into(),
            description: BTreeMap::new(),
        };
        assert!(check(&none).unwrap_err().contains("at least one language"));
        assert!(check(&spec("MAFURIKO", &"x".repeat(61)))
            .unwrap_err()
            .contains("1 to 60"));
    }
}
