//! The menu file exactly as written, before compiling. Every table refuses unknown keys, and
//! most values keep their position in the file so that later checks can name the line.

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub service: S<RawService>,
    #[serde(default)]
    pub states: BTreeMap<String, S<RawState>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    pub id: S<String>,
    pub agency: S<String>,
    pub title: S<RawText>,
    pub start: S<String>,
    pub position: S<i64>,
    pub languages: Option<S<Vec<String>>>,
}

/// A state: which kind it is follows from the keys present (see `compile`), so that the
/// file reads like the screen without a `kind = ...` line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawState {
    pub text: Option<S<RawText>>,
    pub options: Option<S<Vec<RawOption>>>,
    pub prompt: Option<S<RawText>>,
    pub input: Option<S<RawInput>>,
    pub retry: Option<S<RawText>>,
    pub next: Option<S<String>>,
    pub action: Option<S<String>>,
    pub params: Option<S<BTreeMap<String, S<String>>>>,
    pub keep: Option<S<BTreeMap<String, S<String>>>>,
    pub on: Option<S<RawOn>>,
    /// A line shown above the next screen after an outcome (`notice = { not_found = ... }`),
    /// so that an outcome can lead back to an input and say why.
    pub notice: Option<S<BTreeMap<String, S<RawText>>>>,
    pub list: Option<S<RawList>>,
    pub empty: Option<S<String>>,
    pub end: Option<S<RawText>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOption {
    pub label: S<RawText>,
    pub next: S<String>,
    /// Variables this choice sets (`set = { office = "Ilala" }`), so that a choice among
    /// fixed values needs no typing.
    #[serde(default)]
    pub set: BTreeMap<String, S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInput {
    pub save_as: S<String>,
    pub pattern: Option<S<String>>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub numeric: Option<S<RawRange<i64>>>,
    pub money: Option<S<RawRange<Decimal>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRange<T> {
    pub min: Option<T>,
    pub max: Option<T>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOn {
    pub ok: S<String>,
    pub not_found: Option<S<String>>,
    pub rejected: Option<S<String>>,
    pub failed: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawList {
    pub items: S<String>,
    pub label: S<RawText>,
    pub save_as: S<String>,
    pub next: S<String>,
}

/// A text by language (`{ sw = "Maji", en = "Water" }`), or one string for every language
/// (names such as an office, which need no translation).
#[derive(Debug, Clone)]
pub(crate) enum RawText {
    Same(String),
    ByLanguage(BTreeMap<String, String>),
}

impl<'de> Deserialize<'de> for RawText {
    // By hand rather than `untagged`, so that a wrong value gets a message a clerk can act on.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = RawText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a text, or texts by language such as { sw = "Maji", en = "Water" }"#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawText, E> {
                Ok(RawText::Same(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawText, A::Error> {
                let mut texts = BTreeMap::new();
                while let Some((language, text)) = map.next_entry::<String, String>()? {
                    texts.insert(language, text);
                }
                Ok(RawText::ByLanguage(texts))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_by_language_or_the_same_for_all() {
        let f: BTreeMap<String, RawText> =
            toml::from_str("a = \"x\"\nb = { sw = \"y\", en = \"z\" }\n").unwrap();
        assert!(matches!(&f["a"], RawText::Same(s) if s == "x"));
        assert!(matches!(&f["b"], RawText::ByLanguage(m) if m["en"] == "z"));
        let err = toml::from_str::<BTreeMap<String, RawText>>("a = 3\n").unwrap_err();
        assert!(
            err.message().contains("texts by language"),
            "{}",
            err.message()
        );
    }
}
