//! A notification's variables: each of the kind its template declares, shown as the texts
//! show it (money with the language's separators).

use super::templates::TemplateSpec;
use crate::language::Language;
use crate::menus::template::{Scope, Template};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Longest value of a `text` variable; the rendered text is checked against ten parts too.
pub const MAX_VALUE_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableKind {
    /// Shown as given (a number, a name, a receipt number).
    Text,
    /// A decimal amount, shown with the language's separators and two places (`53,000.00`).
    Money,
    /// `2026-12-07` or RFC 3339; shown as given, or through `|date` and `|day`.
    Date,
}

impl TemplateSpec {
    /// `given` checked against the declared variables: each one present, of its kind, and no
    /// other. The values as the texts show them.
    pub fn values(
        &self,
        given: &BTreeMap<String, Value>,
        language: Language,
    ) -> Result<BTreeMap<String, Value>, String> {
        let missing = not_in(self.variables.keys(), given);
        let unknown = not_in(given.keys(), &self.variables);
        for (what, names) in [("missing", missing), ("unknown", unknown)] {
            if !names.is_empty() {
                return Err(format!(
                    "{what} variables: {} (template {:?} takes {})",
                    names.join(", "),
                    self.id,
                    self.variable_names()
                ));
            }
        }
        self.variables
            .iter()
            .map(|(name, kind)| {
                let shown = kind
                    .shown(&given[name], language)
                    .map_err(|why| format!("variable {name}: {why}"))?;
                Ok((name.clone(), Value::String(shown)))
            })
            .collect()
    }
}

/// The `names` that are not keys of `map`.
fn not_in<'a, V>(
    names: impl Iterator<Item = &'a String>,
    map: &BTreeMap<String, V>,
) -> Vec<&'a str> {
    names
        .filter(|name| !map.contains_key(*name))
        .map(String::as_str)
        .collect()
}

impl VariableKind {
    /// `value` as text, or why it is not a value of this kind.
    fn shown(self, value: &Value, language: Language) -> Result<String, String> {
        let raw = match value {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => return Err(format!("must be a string or a number, not {value}")),
        };
        match self {
            VariableKind::Text => {
                if raw.chars().count() > MAX_VALUE_CHARS {
                    return Err(format!("is longer than {MAX_VALUE_CHARS} characters"));
                }
                if raw.chars().any(|c| c.is_control() && c != '\n') {
                    return Err("holds control characters".into());
                }
                Ok(raw)
            }
            VariableKind::Money => match Decimal::from_str(&raw) {
                Ok(amount) if amount.is_sign_negative() => {
                    Err(format!("must not be negative, not {value}"))
                }
                Ok(amount) => Ok(as_money(amount, language)),
                Err(_) => Err(format!(
                    "must be an amount such as \"53000\" or \"53000.50\", not {value}"
                )),
            },
            VariableKind::Date => {
                let is_date = chrono::DateTime::parse_from_rfc3339(&raw).is_ok()
                    || chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d").is_ok();
                if is_date {
                    Ok(raw)
                } else {
                    Err(format!(
                        "must be a date (2026-12-07) or a time (2026-12-07T09:00:00+03:00), not {value}"
                    ))
                }
            }
        }
    }
}

/// `amount` as the menus show money in `language` (`53,000.00`): through the engine's own
/// `|money` filter.
fn as_money(amount: Decimal, language: Language) -> String {
    let vars = BTreeMap::from([("amount".to_string(), Value::String(amount.to_string()))]);
    Template::compile("{amount|money}")
        .map(|t| {
            t.render(&Scope {
                vars: &vars,
                msisdn: "",
                language,
                item: None,
            })
        })
        .unwrap_or_else(|_| amount.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn values_are_checked_against_the_declared_variables() {
        let spec: TemplateSpec = serde_json::from_value(json!({
            "id": "payment_receipt",
            "variables": {"amount": "money", "control_number": "text", "receipt": "text"},
            "text": {"sw": "TZS {amount}, {control_number}, {receipt}"}
        }))
        .unwrap();
        let sw = Language::SWAHILI;
        let missing = spec.values(&vars(json!({"amount": "5"})), sw).unwrap_err();
        assert!(
            missing.starts_with("missing variables: control_number, receipt"),
            "{missing}"
        );
        let extra = spec
            .values(
                &vars(json!({"amount": "5", "control_number": "9", "receipt": "R", "payer": "x"})),
                sw,
            )
            .unwrap_err();
        assert!(extra.starts_with("unknown variables: payer"), "{extra}");
        for bad in [
            json!("TZS 5"),
            json!("5,000"),
            json!("-5.00"),
            json!(null),
            json!({"v": 5}),
        ] {
            let given = vars(json!({"amount": bad, "control_number": "9", "receipt": "R"}));
            let refused = spec.values(&given, sw).unwrap_err();
            assert!(refused.starts_with("variable amount"), "{refused}");
        }
        let given = vars(json!({"amount": "5", "control_number": "9\u{0}", "receipt": "R"}));
        assert!(spec.values(&given, sw).is_err());
        assert!(VariableKind::Date
            .shown(&json!("2026-12-07T09:00:00+03:00"), sw)
            .is_ok());
        assert!(VariableKind::Date.shown(&json!("kesho"), sw).is_err());
    }
}
