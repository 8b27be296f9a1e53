//! Languages a citizen can be served in, as ISO 639-1 codes (`sw`, `en`).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language([u8; 2]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("language {0:?} must be a two-letter ISO 639-1 code such as \"sw\" or \"en\"")]
pub struct LanguageError(pub String);

impl Language {
    pub const SWAHILI: Language = Language(*b"sw");
    pub const ENGLISH: Language = Language(*b"en");

    pub fn parse(raw: &str) -> Result<Self, LanguageError> {
        match raw.as_bytes() {
            [a, b] if a.is_ascii_lowercase() && b.is_ascii_lowercase() => Ok(Self([*a, *b])),
            _ => Err(LanguageError(raw.to_string())),
        }
    }

    pub fn code(&self) -> &str {
        // Both bytes are ASCII lower-case letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("en")
    }
}

/// The entry of `by_language` for `language`, else the Swahili one, else the first: what a
/// citizen is shown of something written in several languages, with the language it is in.
pub fn pick<V>(
    by_language: &std::collections::BTreeMap<Language, V>,
    language: Language,
) -> Option<(Language, &V)> {
    [language, Language::SWAHILI]
        .into_iter()
        .find_map(|l| by_language.get(&l).map(|v| (l, v)))
        .or_else(|| by_language.iter().next().map(|(l, v)| (*l, v)))
}

impl TryFrom<String> for Language {
    type Error = LanguageError;
    fn try_from(raw: String) -> Result<Self, LanguageError> {
        Self::parse(&raw)
    }
}

impl From<Language> for String {
    fn from(l: Language) -> String {
        l.code().to_string()
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_two_letter_codes_only() {
        assert_eq!(Language::parse("sw").unwrap(), Language::SWAHILI);
        assert_eq!(Language::parse("en").unwrap().code(), "en");
        assert!(Language::parse("EN").is_err());
        assert!(Language::parse("eng").is_err());
        assert!(Language::parse("").is_err());
    }
}
