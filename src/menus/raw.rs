//! The menu file exactly as written, before compiling. Every table refuses unknown keys, and
//! most values keep their position in the file so that later checks can name the line.

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

type S<T> = Spanned<T>;

/// A menu file read table by table: a TOML syntax error stops the file, but a shape error
/// (an unknown key, a wrong type) stops only the `[service]` table or the state it is in, so
/// that every other state is still checked in the same run.
#[derive(Debug, Default)]
pub(crate) struct RawFile {
    pub service: Option<S<RawService>>,
    /// What could still be read of a `[service]` table that failed, so that the states are
    /// still checked (from the right start, against the right languages).
    pub lenient: Option<LenientService>,
    pub states: BTreeMap<String, S<RawState>>,
    /// States whose table could not be read: they exist, but nothing else is known of them.
    pub unreadable: BTreeSet<String>,
    pub errors: Vec<ShapeError>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LenientService {
    pub start: Option<S<String>>,
    pub languages: Option<S<Vec<String>>>,
}

/// A table that could not be read, with the state it belongs to.
#[derive(Debug)]
pub(crate) struct ShapeError {
    pub state: Option<String>,
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl ShapeError {
    fn new(state: Option<String>, error: toml::de::Error) -> Self {
        Self {
            state,
            span: error.span(),
            message: error.message().trim().to_string(),
        }
    }
}

impl RawFile {
    /// Reads `source`; only a TOML syntax error is returned as an error, since nothing after
    /// it can be placed.
    pub fn parse(source: &str) -> Result<RawFile, toml::de::Error> {
        let document = DeTable::parse(source)?;
        let mut file = RawFile::default();
        let mut has_service = false;
        for (key, value) in document.into_inner() {
            match key.get_ref().as_ref() {
                "service" => {
                    has_service = true;
                    file.read_service(value);
                }
                "states" => file.read_states(value),
                other => file.errors.push(ShapeError {
                    state: None,
                    span: Some(key.span()),
                    message: format!(
                        "unknown table `{other}`: a menu file holds `[service]` and `[states.NAME]`"
                    ),
                }),
            }
        }
        if !has_service {
            file.errors.push(ShapeError {
                state: None,
                span: Some(0..0),
                message: "missing table `[service]`".into(),
            });
        }
        Ok(file)
    }

    fn read_service(&mut self, value: Spanned<DeValue<'_>>) {
        let lenient = value.clone();
        match S::<RawService>::deserialize(ValueDeserializer::from(value)) {
            Ok(service) => self.service = Some(service),
            Err(e) => {
                self.errors.push(ShapeError::new(None, e));
                self.lenient = LenientService::deserialize(ValueDeserializer::from(lenient)).ok();
            }
        }
    }

    fn read_states(&mut self, value: Spanned<DeValue<'_>>) {
        let span = value.span();
        let DeValue::Table(states) = value.into_inner() else {
            self.errors.push(ShapeError {
                state: None,
                span: Some(span),
                message: "`states` must be tables, one per state: `[states.NAME]`".into(),
            });
            return;
        };
        for (name, state) in states {
            let name = name.into_inner().into_owned();
            match S::<RawState>::deserialize(ValueDeserializer::from(state)) {
                Ok(state) => {
                    self.states.insert(name, state);
                }
                Err(e) => {
                    self.unreadable.insert(name.clone());
                    self.errors.push(ShapeError::new(Some(name), e));
                }
            }
        }
    }

    /// Every state named in the file, readable or not.
    pub fn declared(&self) -> BTreeSet<String> {
        self.states
            .keys()
            .chain(&self.unreadable)
            .cloned()
            .collect()
    }
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
    /// On an action: when the back office outlives the hop, the citizen is told its result
    /// follows by SMS, and the screen its outcome leads to is sent when it comes.
    pub follow_by_sms: Option<S<bool>>,
    /// On an end screen: also sent by SMS, so that the citizen keeps it.
    pub sms: Option<S<bool>>,
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

    #[test]
    fn a_shape_error_stops_only_its_own_table() {
        let source = "[service]\nid = 1\nlanguages = [\"sw\"]\n[states.a]\nend = \"x\"\n[states.b]\nend = \"y\"\nnxt = \"a\"\n[extra]\n";
        let file = RawFile::parse(source).unwrap();
        assert!(file.service.is_none());
        // Still known, so that the states' texts are checked against the right languages.
        let lenient = file.lenient.as_ref().unwrap();
        assert_eq!(lenient.languages.as_ref().unwrap().get_ref(), &["sw"]);
        assert_eq!(file.states.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(file.unreadable, BTreeSet::from(["b".to_string()]));
        assert_eq!(
            file.declared(),
            BTreeSet::from(["a".to_string(), "b".to_string()])
        );
        let errors: Vec<(Option<&str>, &str)> = file
            .errors
            .iter()
            .map(|e| (e.state.as_deref(), e.message.as_str()))
            .collect();
        // In no particular order: the loader sorts every problem by line.
        assert_eq!(errors.len(), 3, "{errors:?}");
        let found = |state: Option<&str>, start: &str| {
            errors
                .iter()
                .any(|(s, m)| *s == state && m.starts_with(start))
        };
        assert!(
            found(None, "invalid type: integer `1`, expected a string"),
            "{errors:?}"
        );
        assert!(found(Some("b"), "unknown field `nxt`"), "{errors:?}");
        assert!(
            found(
                None,
                "unknown table `extra`: a menu file holds `[service]` and `[states.NAME]`"
            ),
            "{errors:?}"
        );
    }

    #[test]
    fn a_syntax_error_stops_the_file() {
        assert!(RawFile::parse("[service\n").is_err());
    }
}
