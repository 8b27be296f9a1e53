//! Notification templates: what an agency registers (an id, the variables its texts take,
//! a text per language), checked before it is stored, and rendered with the menus' template
//! engine once a notification's variables are checked.

use super::values::VariableKind;
use crate::language::Language;
use crate::menus::template::{is_name, Scope, Template, BUILTIN_VARS};
use crate::sms::encoding::{part_count, MAX_PARTS};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const MAX_ID: usize = 64;
pub const MAX_VARIABLES: usize = 20;

/// A template as an agency describes it (the body of `POST /v1/templates`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// The agency's own name for it (`payment_receipt`); in the path for `PUT`.
    #[serde(default)]
    pub id: String,
    /// What it is for, for the agency's own people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every variable the texts may use, with its kind.
    #[serde(default)]
    pub variables: BTreeMap<String, VariableKind>,
    /// The text per language, in the menus' template syntax (`{amount}`, `{due|day}`).
    pub text: BTreeMap<Language, String>,
    /// The language used when neither the request nor the citizen chose one of the texts'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_language: Option<Language>,
}

impl TemplateSpec {
    /// The language of the text to send: the one asked for (which must have a text), else the
    /// citizen's remembered one when there is a text in it, else the template's default, else
    /// the gateway's when there is a text in it, else the first.
    pub fn language(
        &self,
        asked: Option<Language>,
        remembered: Option<Language>,
        gateway_default: Language,
    ) -> Result<Language, String> {
        if let Some(language) = asked {
            return if self.text.contains_key(&language) {
                Ok(language)
            } else {
                Err(format!(
                    "template {:?} has no text in {language} (it has {})",
                    self.id,
                    self.languages()
                ))
            };
        }
        [remembered, self.default_language, Some(gateway_default)]
            .into_iter()
            .flatten()
            .find(|l| self.text.contains_key(l))
            .or_else(|| self.text.keys().next().copied())
            .ok_or_else(|| format!("template {:?} has no text", self.id))
    }

    pub(super) fn languages(&self) -> String {
        let codes: Vec<&str> = self.text.keys().map(Language::code).collect();
        codes.join(", ")
    }

    pub(super) fn variable_names(&self) -> String {
        if self.variables.is_empty() {
            return "none".into();
        }
        let names: Vec<&str> = self.variables.keys().map(String::as_str).collect();
        names.join(", ")
    }

    /// The text in `language` with `values` (from [`TemplateSpec::values`]) for `msisdn`.
    pub fn render(
        &self,
        language: Language,
        values: &BTreeMap<String, Value>,
        msisdn: &str,
    ) -> String {
        let source = self.text.get(&language).map(String::as_str).unwrap_or("");
        Template::compile(source)
            .map(|template| {
                template.render(&Scope {
                    vars: values,
                    msisdn,
                    language,
                    item: None,
                })
            })
            .unwrap_or_default()
    }
}

/// Checks `spec` as an agency registers it: its id, its variables, and each text (it
/// compiles, uses only declared variables, and can fit [`MAX_PARTS`] parts).
pub fn check(spec: &TemplateSpec) -> Result<(), String> {
    check_id(&spec.id)?;
    if spec.variables.len() > MAX_VARIABLES {
        return Err(format!("at most {MAX_VARIABLES} variables"));
    }
    for name in spec.variables.keys() {
        if !is_name(name) {
            return Err(format!(
                "variable {name:?} must be lower-case letters, digits and `_`, starting with a letter"
            ));
        }
        if BUILTIN_VARS.contains(&name.as_str()) {
            return Err(format!(
                "variable {name:?} is given by the gateway itself (the recipient's number or language)"
            ));
        }
    }
    if spec.text.is_empty() {
        return Err("text needs at least one language, e.g. {\"sw\": \"...\"}".into());
    }
    if let Some(language) = spec.default_language {
        if !spec.text.contains_key(&language) {
            return Err(format!(
                "default_language {language} has no text (texts: {})",
                spec.languages()
            ));
        }
    }
    for (language, source) in &spec.text {
        check_text(spec, *language, source)?;
    }
    Ok(())
}

fn check_id(id: &str) -> Result<(), String> {
    let ok = id.len() <= MAX_ID
        && id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "template id {id:?} must be 1 to {MAX_ID} lower-case letters, digits, `_`, `-` or `.`, starting with a letter (e.g. payment_receipt)"
        ))
    }
}

fn check_text(spec: &TemplateSpec, language: Language, source: &str) -> Result<(), String> {
    let template = Template::compile(source).map_err(|why| format!("text.{language}: {why}"))?;
    if source.trim().is_empty() {
        return Err(format!("text.{language} is empty"));
    }
    if let Some(unknown) = template
        .vars()
        .find(|v| !spec.variables.contains_key(*v) && !BUILTIN_VARS.contains(v))
    {
        return Err(format!(
            "text.{language} uses {{{unknown}}}, which is not a variable of the template (variables: {})",
            spec.variable_names()
        ));
    }
    if let Some(nested) = template.nested_vars().next() {
        return Err(format!(
            "text.{language} reads into {{{nested}}}, which is a plain value: write {{{nested}}}"
        ));
    }
    // With every variable empty the text is the shortest it can be.
    let shortest = template.render(&Scope {
        vars: &BTreeMap::new(),
        msisdn: "",
        language,
        item: None,
    });
    let (encoding, parts) = part_count(&shortest);
    if parts > MAX_PARTS {
        return Err(format!(
            "text.{language} needs {parts} parts in {} before any variable is filled in; at most {MAX_PARTS} are sent",
            encoding.as_str()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn receipt() -> TemplateSpec {
        serde_json::from_value(json!({
            "id": "payment_receipt",
            "variables": {"amount": "money", "control_number": "text", "receipt": "text"},
            "text": {
                "sw": "Malipo yamepokelewa: TZS {amount} kwa namba ya udhibiti {control_number}, risiti {receipt}.",
                "en": "Payment received: TZS {amount|money} for control number {control_number}, receipt {receipt}."
            }
        }))
        .unwrap()
    }

    fn vars(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_receipt_renders_its_amount_as_money_in_each_language() {
        let spec = receipt();
        check(&spec).unwrap();
        let given =
            vars(json!({"amount": 53000, "control_number": "991234567890", "receipt": "RC-77"}));
        let values = spec.values(&given, Language::SWAHILI).unwrap();
        assert_eq!(
            spec.render(Language::SWAHILI, &values, "255754123456"),
            "Malipo yamepokelewa: TZS 53,000.00 kwa namba ya udhibiti 991234567890, risiti RC-77."
        );
        let given = vars(
            json!({"amount": "1234567.5", "control_number": "991234567890", "receipt": "RC-77"}),
        );
        let values = spec.values(&given, Language::ENGLISH).unwrap();
        assert_eq!(
            spec.render(Language::ENGLISH, &values, "255754123456"),
            "Payment received: TZS 1,234,567.50 for control number 991234567890, receipt RC-77."
        );
    }

    #[test]
    fn unknown_and_nested_variables_are_refused_naming_them_and_the_language() {
        let mut spec = receipt();
        spec.text
            .insert(Language::ENGLISH, "Paid {amout} ({receipt})".into());
        let refused = check(&spec).unwrap_err();
        assert!(refused.contains("text.en uses {amout}"), "{refused}");
        spec.text
            .insert(Language::ENGLISH, "Paid {amount.value}".into());
        assert!(check(&spec).unwrap_err().contains("{amount}"));
        // The gateway's own variables are known to every template.
        spec.text.insert(
            Language::ENGLISH,
            "Paid {amount}, {msisdn} ({language})".into(),
        );
        check(&spec).unwrap();
    }

    #[test]
    fn ids_variables_languages_and_lengths_are_checked() {
        let mut spec = receipt();
        for bad in ["", "Payment", "1st", "payment receipt", &"a".repeat(65)] {
            spec.id = bad.to_string();
            assert!(check(&spec).unwrap_err().contains("template id"), "{bad}");
        }
        let mut spec = receipt();
        spec.variables.insert("msisdn".into(), VariableKind::Text);
        assert!(check(&spec).unwrap_err().contains("given by the gateway"));
        let mut spec = receipt();
        spec.variables.insert("Amount".into(), VariableKind::Money);
        assert!(check(&spec).is_err());
        let mut spec = receipt();
        spec.default_language = Some(Language::parse("fr").unwrap());
        assert!(check(&spec).unwrap_err().contains("default_language fr"));
        let mut spec = receipt();
        spec.text.clear();
        assert!(check(&spec).is_err());
        let mut spec = receipt();
        spec.text.insert(Language::SWAHILI, "{receipt".into());
        assert!(check(&spec).unwrap_err().starts_with("text.sw"));
        // Ten parts of literal text fit; one character more never can.
        let mut spec = receipt();
        spec.text.insert(
            Language::SWAHILI,
            format!("{{receipt}}{}", "a".repeat(1530)),
        );
        check(&spec).unwrap();
        spec.text.insert(
            Language::SWAHILI,
            format!("{{receipt}}{}", "a".repeat(1531)),
        );
        assert!(check(&spec).unwrap_err().contains("11 parts"));
    }

    #[test]
    fn the_language_is_the_asked_then_the_remembered_then_the_default() {
        let mut spec = receipt();
        let (sw, en) = (Language::SWAHILI, Language::ENGLISH);
        let fr = Language::parse("fr").unwrap();
        assert_eq!(spec.language(Some(en), Some(sw), sw), Ok(en));
        assert!(spec
            .language(Some(fr), None, sw)
            .unwrap_err()
            .contains("has no text in fr (it has en, sw)"));
        assert_eq!(spec.language(None, Some(en), sw), Ok(en));
        assert_eq!(spec.language(None, Some(fr), sw), Ok(sw));
        spec.default_language = Some(en);
        assert_eq!(spec.language(None, None, sw), Ok(en));
        spec.default_language = None;
        spec.text.remove(&sw);
        assert_eq!(spec.language(None, None, sw), Ok(en));
    }
}
