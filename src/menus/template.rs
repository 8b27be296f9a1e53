//! Templates (`Bili {bill_id}: {currency} {amount|money}`) and paths into JSON
//! (`bills[0].amount`). Both are compiled once when a menu loads, so a hop only walks a short
//! list of parts and never parses text.

use super::format;
use crate::language::Language;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Variables every template can use without any state setting them.
pub const BUILTIN_VARS: &[&str] = &["msisdn", "language"];
/// The variable holding the current element in a list's `label`.
pub const ITEM_VAR: &str = "item";

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Value { path: Path, filter: Option<Filter> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// `45000` → `45,000.00` with the language's separators.
    Money,
    /// RFC 3339 → `24/11/2026 09:30`; a plain date → `24/11/2026`.
    Date,
    /// RFC 3339 → `Jumatatu 07/12 09:00` (`Mon 07/12 09:00`): a day in the coming days.
    Day,
}

/// `name`, `name.field`, `name[0].field`: a variable and the way into its JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    root: String,
    steps: Vec<PathStep>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PathStep {
    Field(String),
    Index(usize),
}

/// What a template can see while it renders.
pub(crate) struct Scope<'a> {
    pub vars: &'a BTreeMap<String, Value>,
    pub msisdn: &'a str,
    pub language: Language,
    /// The list element being labelled, inside a list's `label` only.
    pub item: Option<&'a Value>,
}

impl Template {
    /// Compiles `source`; `{{` and `}}` stand for literal braces.
    pub fn compile(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err("a lone `}`: write `}}` for a brace".into()),
                '{' => {
                    let rest = &source[at + 1..];
                    let close = rest
                        .find('}')
                        .ok_or_else(|| format!("`{{` without a closing `}}` in {source:?}"))?;
                    let expr = &rest[..close];
                    while chars.peek().is_some_and(|(i, _)| *i <= at + 1 + close) {
                        chars.next();
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(compile_value(expr)?);
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// Characters the template shows with every variable empty: the least it can take.
    pub fn literal_len(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(s) => s.chars().count(),
                Part::Value { .. } => 0,
            })
            .sum()
    }

    /// The variables the template reads (each path's first name).
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Value { path, .. } => Some(path.root()),
            Part::Literal(_) => None,
        })
    }

    /// The roots of paths that go further than their variable (`bill.amount`, `bills[0]`):
    /// what a template over plain values cannot show.
    pub fn nested_vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Value { path, .. } if !path.steps.is_empty() => Some(path.root()),
            _ => None,
        })
    }

    pub(crate) fn render(&self, scope: &Scope) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Value { path, filter } => {
                    if let Some(value) = scope.lookup(path) {
                        let text = format::plain(&value);
                        match filter {
                            None => out.push_str(&text),
                            Some(Filter::Money) => {
                                out.push_str(&format::money(&text, scope.language))
                            }
                            Some(Filter::Date) => {
                                out.push_str(&format::date(&text, scope.language))
                            }
                            Some(Filter::Day) => out.push_str(&format::day(&text, scope.language)),
                        }
                    }
                }
            }
        }
        out
    }
}

fn compile_value(expr: &str) -> Result<Part, String> {
    let (path, filter) = match expr.split_once('|') {
        Some((path, filter)) => (path, Some(filter.trim())),
        None => (expr, None),
    };
    let filter = match filter {
        None => None,
        Some("money") => Some(Filter::Money),
        Some("date") => Some(Filter::Date),
        Some("day") => Some(Filter::Day),
        Some(other) => {
            return Err(format!(
                "unknown filter {other:?} in {{{expr}}} (known: money, date, day)"
            ))
        }
    };
    Ok(Part::Value {
        path: Path::parse(path.trim())?,
        filter,
    })
}

impl Path {
    pub fn parse(source: &str) -> Result<Path, String> {
        let bad = || {
            format!("{source:?} is not a variable path such as `bill.amount` or `bills[0].amount`")
        };
        let root_end = source.find(['.', '[']).unwrap_or(source.len());
        let root = &source[..root_end];
        if !is_name(root) {
            return Err(bad());
        }
        let mut steps = Vec::new();
        let mut rest = &source[root_end..];
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let field = &after[..end];
                let field_ok = !field.is_empty()
                    && field
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !field_ok {
                    return Err(bad());
                }
                steps.push(PathStep::Field(field.to_string()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']').ok_or_else(bad)?;
                steps.push(PathStep::Index(after[..end].parse().map_err(|_| bad())?));
                rest = &after[end + 1..];
            } else {
                return Err(bad());
            }
        }
        Ok(Path {
            root: root.to_string(),
            steps,
        })
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// Follows the path inside `data`, taking the root as `data`'s first field (how `keep`
    /// reads a back-office answer).
    pub fn find_in<'v>(&self, data: &'v Value) -> Option<&'v Value> {
        self.follow(data.get(&self.root)?)
    }

    /// Follows the steps after the root, from the root's value.
    fn follow<'v>(&self, mut value: &'v Value) -> Option<&'v Value> {
        for step in &self.steps {
            value = match step {
                PathStep::Field(f) => value.get(f)?,
                PathStep::Index(i) => value.get(*i)?,
            };
        }
        Some(value)
    }
}

/// Variable names: what `save_as`, `keep` and `set` may introduce.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Scope<'_> {
    pub fn lookup(&self, path: &Path) -> Option<Cow<'_, Value>> {
        let root: Cow<Value> = match path.root() {
            "msisdn" => Cow::Owned(Value::String(self.msisdn.to_string())),
            "language" => Cow::Owned(Value::String(self.language.code().to_string())),
            ITEM_VAR if self.item.is_some() => Cow::Borrowed(self.item?),
            name => Cow::Borrowed(self.vars.get(name)?),
        };
        match root {
            Cow::Borrowed(v) => path.follow(v).map(Cow::Borrowed),
            Cow::Owned(v) => path.follow(&v).cloned().map(Cow::Owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(source: &str, vars: Value, language: Language) -> String {
        let vars: BTreeMap<String, Value> = serde_json::from_value(vars).unwrap();
        let scope = Scope {
            vars: &vars,
            msisdn: "255754123456",
            language,
            item: None,
        };
        Template::compile(source).unwrap().render(&scope)
    }

    #[test]
    fn renders_variables_paths_and_filters() {
        let vars = json!({ "amount": "45000.00", "currency": "TZS", "bill": { "lines": [{ "id": "BL1" }] },
                           "due": "2026-11-24T09:30:00+03:00" });
        assert_eq!(
            render("{currency} {amount|money}", vars.clone(), Language::ENGLISH),
            "TZS 45,000.00"
        );
        assert_eq!(
            render("Bili {bill.lines[0].id}", vars.clone(), Language::SWAHILI),
            "Bili BL1"
        );
        assert_eq!(
            render("{ due | date }", vars.clone(), Language::SWAHILI),
            "24/11/2026 09:30"
        );
        assert_eq!(
            render("{due|day}", vars.clone(), Language::SWAHILI),
            "Jumanne 24/11 09:30"
        );
        assert_eq!(
            render("{due|day}", vars.clone(), Language::ENGLISH),
            "Tue 24/11 09:30"
        );
        assert_eq!(
            render("{msisdn} {language}", vars.clone(), Language::SWAHILI),
            "255754123456 sw"
        );
        assert_eq!(
            render("{{literal}} {missing}.", vars, Language::ENGLISH),
            "{literal} ."
        );
    }

    #[test]
    fn knows_its_variables_and_least_length() {
        let t = Template::compile("Bili {bill_id}: {currency} {amount|money}").unwrap();
        assert_eq!(
            t.vars().collect::<Vec<_>>(),
            ["bill_id", "currency", "amount"]
        );
        assert_eq!(t.literal_len(), "Bili :  ".len());
        assert_eq!(t.nested_vars().count(), 0);
        let nested = Template::compile("{bill.amount} {bills[0]} {name}").unwrap();
        assert_eq!(nested.nested_vars().collect::<Vec<_>>(), ["bill", "bills"]);
    }

    #[test]
    fn refuses_malformed_templates() {
        assert!(Template::compile("{amount")
            .unwrap_err()
            .contains("closing"));
        assert!(Template::compile("a } b").unwrap_err().contains("}}"));
        assert!(Template::compile("{amount|euro}")
            .unwrap_err()
            .contains("unknown filter \"euro\""));
        assert!(Template::compile("{Amount}").is_err());
        assert!(Template::compile("{a..b}").is_err());
        assert!(Template::compile("{a[x]}").is_err());
    }

    #[test]
    fn paths_read_back_office_answers() {
        let data = json!({ "bills": [{ "amount": "45000.00" }], "customer_name": "Amina" });
        assert_eq!(
            Path::parse("bills[0].amount").unwrap().find_in(&data),
            Some(&json!("45000.00"))
        );
        assert_eq!(
            Path::parse("customer_name").unwrap().find_in(&data),
            Some(&json!("Amina"))
        );
        assert_eq!(Path::parse("bills[1].amount").unwrap().find_in(&data), None);
    }
}
