//! Session values in journey files: `[vars]` generators (`account = { digits = 8,
//! first = "1-9" }`, `branch = { one_of = ["01", "02"] }`) and the `{name}` placeholders
//! that use them in keys and expected texts. `{msisdn}` is built in.

use anyhow::{bail, ensure, Context};
use rand::Rng;
use serde::Deserialize;

/// A `[vars]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVar {
    digits: Option<usize>,
    first: Option<String>,
    one_of: Option<Vec<String>>,
}

/// How a variable gets its value at the start of each session.
#[derive(Debug, Clone)]
pub enum VarGen {
    /// `len` random digits, the first drawn from `first.0..=first.1`.
    Digits {
        len: usize,
        first: (u8, u8),
    },
    OneOf(Vec<String>),
}

impl VarGen {
    pub fn new(raw: &RawVar) -> anyhow::Result<VarGen> {
        match (raw.digits, &raw.one_of) {
            (Some(len), None) => {
                ensure!((1..=32).contains(&len), "digits must be 1 to 32");
                let first = match raw.first.as_deref() {
                    None => (0, 9),
                    Some(range) => digit_range(range)
                        .with_context(|| format!("first = {range:?}: use a range like \"1-9\""))?,
                };
                Ok(VarGen::Digits { len, first })
            }
            (None, Some(list)) => {
                ensure!(!list.is_empty(), "one_of needs at least one value");
                ensure!(raw.first.is_none(), "first goes with digits, not one_of");
                Ok(VarGen::OneOf(list.clone()))
            }
            _ => {
                bail!("give either digits = N (with an optional first = \"1-9\") or one_of = [...]")
            }
        }
    }

    pub fn generate(&self, rng: &mut impl Rng) -> String {
        match self {
            VarGen::Digits { len, first } => {
                let mut out = String::with_capacity(*len);
                out.push(char::from(b'0' + rng.random_range(first.0..=first.1)));
                (1..*len).for_each(|_| out.push(char::from(b'0' + rng.random_range(0..10u8))));
                out
            }
            VarGen::OneOf(list) => list[rng.random_range(0..list.len())].clone(),
        }
    }
}

/// `"1-9"` → (1, 9); `"5"` → (5, 5).
fn digit_range(range: &str) -> Option<(u8, u8)> {
    let digit = |s: &str| s.trim().parse::<u8>().ok().filter(|d| *d <= 9);
    let (lo, hi) = match range.split_once('-') {
        Some((lo, hi)) => (digit(lo)?, digit(hi)?),
        None => (digit(range)?, digit(range)?),
    };
    (lo <= hi).then_some((lo, hi))
}

/// Text with `{name}` placeholders, resolved against a session's values.
#[derive(Debug, Clone)]
pub struct Template(Vec<Part>);

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    /// Index into the session's values, in the order of the `names` given to `parse`.
    Var(usize),
}

impl Template {
    /// Splits `{name}` placeholders out of `text`. Braces that do not hold a name (as in a
    /// regex's `\d{10}`) stay text; an unknown name is an error.
    pub fn parse(text: &str, names: &[String]) -> anyhow::Result<Self> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let name = after.find('}').map(|c| &after[..c]).filter(|n| is_name(n));
            let Some(name) = name else {
                parts.push(Part::Text(rest[..=open].to_string()));
                rest = after;
                continue;
            };
            let Some(index) = names.iter().position(|n| n == name) else {
                bail!(
                    "placeholder {{{name}}} is not declared under [vars] (known: {})",
                    names.join(", ")
                );
            };
            parts.push(Part::Text(rest[..open].to_string()));
            parts.push(Part::Var(index));
            rest = &after[name.len() + 1..];
        }
        parts.push(Part::Text(rest.to_string()));
        parts.retain(|p| !matches!(p, Part::Text(t) if t.is_empty()));
        Ok(Template(parts))
    }

    pub fn render(&self, values: &[String]) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(i) => out.push_str(&values[*i]),
            }
        }
        out
    }
}

fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(toml_text: &str) -> anyhow::Result<VarGen> {
        VarGen::new(&toml::from_str::<RawVar>(toml_text)?)
    }

    #[test]
    fn placeholders_render_and_regex_braces_stay_text() {
        let names = vec!["msisdn".to_string(), "account".to_string()];
        let t = Template::parse("A{account}-{msisdn}\\d{10}{", &names).unwrap();
        let values = vec!["255".to_string(), "12345678".to_string()];
        assert_eq!(t.render(&values), "A12345678-255\\d{10}{");
        assert!(Template::parse("{nope}", &names).is_err());
    }

    #[test]
    fn generators_follow_their_settings() {
        let mut rng = rand::rng();
        let digits = var("digits = 6\nfirst = \"7\"").unwrap();
        let value = digits.generate(&mut rng);
        assert!(
            value.len() == 6 && value.starts_with('7') && value.bytes().all(|b| b.is_ascii_digit())
        );
        assert_eq!(var("one_of = [\"42\"]").unwrap().generate(&mut rng), "42");
        for bad in [
            "digits = 0",
            "digits = 3\nfirst = \"0-x\"",
            "digits = 3\nfirst = \"9-1\"",
            "one_of = []",
            "",
        ] {
            assert!(var(bad).is_err(), "{bad:?}");
        }
    }
}
