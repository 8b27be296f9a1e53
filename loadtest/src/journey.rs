//! Journey files: what a virtual phone dials, which keys it presses and what each screen
//! must show. A journey is one TOML file under `loadtest/journeys/`:
//!
//! ```toml
//! name = "water-bill"
//! dial = "*152*00#"
//! expect = "Maji"                   # substring of the first screen
//!
//! [vars]                            # fresh values for every session
//! account = { digits = 8, first = "1-9" }
//!
//! [[steps]]
//! press = "{account}"               # placeholders: the vars above, and {msisdn}
//! expect_regex = 'Bili: TZS [0-9,]+\.[0-9]{2}'
//! transaction = true                # this hop makes a back-office call
//!
//! [[steps]]
//! press = "1"
//! expect_regex = '\b99\d{10}\b'
//! record = true                     # the match goes to --record-completed
//! transaction = true                # the last step must end the session (ends = true)
//! ```

use crate::placeholders::{RawVar, Template, VarGen};
use anyhow::{ensure, Context};
use mgov::cli::phone::Screen;
use mgov_simulators::aggregator::chaos::excerpt;
use rand::Rng;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJourney {
    name: String,
    #[serde(default = "one")]
    weight: u32,
    dial: String,
    expect: Option<String>,
    expect_regex: Option<String>,
    #[serde(default)]
    transaction: bool,
    #[serde(default)]
    vars: BTreeMap<String, RawVar>,
    #[serde(default)]
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    press: String,
    expect: Option<String>,
    expect_regex: Option<String>,
    ends: Option<bool>,
    #[serde(default)]
    transaction: bool,
    #[serde(default)]
    record: bool,
}

fn one() -> u32 {
    1
}

/// One hop: the dial or a key press, and what the answer must look like.
#[derive(Debug, Clone)]
pub struct Step {
    /// `dial *152*00#` or `press 1`, for reports.
    pub label: String,
    keys: Template,
    contains: Option<Template>,
    regex: Option<Regex>,
    /// The screen must end the session (otherwise it must continue).
    pub ends: bool,
    /// This hop makes a back-office call: counted in transactions/s.
    pub transaction: bool,
    /// The regex match of this step is the journey's recorded value (a control number).
    pub record: bool,
}

/// Why a screen did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    WrongScreen(String),
    UnexpectedEnd(String),
    UnexpectedContinue(String),
}

#[derive(Debug, Clone)]
pub struct Journey {
    pub name: String,
    pub weight: u32,
    /// Step 0 is the dial.
    pub steps: Vec<Step>,
    /// The file's vars in name order; session values are `msisdn` then these.
    vars: Vec<VarGen>,
}

impl Journey {
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("journey file {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let raw: RawJourney = toml::from_str(text)?;
        ensure!(raw.weight > 0, "weight must be at least 1");
        let mut var_names = vec!["msisdn".to_string()];
        let mut vars = Vec::new();
        for (name, var) in raw.vars {
            ensure!(
                name != "msisdn",
                "`msisdn` is built in and cannot be redefined"
            );
            vars.push(VarGen::new(&var).with_context(|| format!("var `{name}`"))?);
            var_names.push(name);
        }
        let dial = RawStep {
            press: raw.dial,
            expect: raw.expect,
            expect_regex: raw.expect_regex,
            ends: Some(raw.steps.is_empty()),
            transaction: raw.transaction,
            record: false,
        };
        let last = raw.steps.len();
        let mut steps = Vec::with_capacity(last + 1);
        for (i, step) in std::iter::once(dial).chain(raw.steps).enumerate() {
            let verb = if i == 0 { "dial" } else { "press" };
            let step = compile_step(step, verb, i == last, &var_names)
                .with_context(|| format!("step {i}"))?;
            steps.push(step);
        }
        ensure!(
            steps.iter().filter(|s| s.record).count() <= 1,
            "at most one step can have record = true"
        );
        Ok(Journey {
            name: raw.name,
            weight: raw.weight,
            steps,
            vars,
        })
    }

    /// Fresh values for one session, in the order placeholders refer to them.
    pub fn session_values(&self, msisdn: &str, rng: &mut impl Rng) -> Vec<String> {
        let mut values = Vec::with_capacity(self.vars.len() + 1);
        values.push(msisdn.to_string());
        values.extend(self.vars.iter().map(|g| g.generate(rng)));
        values
    }
}

impl Step {
    /// What to dial or press in this session.
    pub fn keys(&self, values: &[String]) -> String {
        self.keys.render(values)
    }

    /// Checks a screen; on success returns the recorded value when this step records one.
    pub fn check(&self, screen: &Screen, values: &[String]) -> Result<Option<String>, Mismatch> {
        let excerpt = || excerpt(&screen.text);
        match (self.ends, screen.ends) {
            (false, true) => return Err(Mismatch::UnexpectedEnd(excerpt())),
            (true, false) => return Err(Mismatch::UnexpectedContinue(excerpt())),
            _ => {}
        }
        if let Some(want) = &self.contains {
            let want = want.render(values);
            if !screen.text.contains(&want) {
                return Err(Mismatch::WrongScreen(format!(
                    "wanted {want:?}, got {}",
                    excerpt()
                )));
            }
        }
        let Some(regex) = &self.regex else {
            return Ok(None);
        };
        let Some(found) = regex.captures(&screen.text) else {
            return Err(Mismatch::WrongScreen(format!(
                "wanted /{regex}/, got {}",
                excerpt()
            )));
        };
        let value = found
            .get(1)
            .or_else(|| found.get(0))
            .map(|m| m.as_str().to_string());
        Ok(if self.record { value } else { None })
    }
}

fn compile_step(raw: RawStep, verb: &str, last: bool, names: &[String]) -> anyhow::Result<Step> {
    ensure!(
        !raw.press.trim().is_empty(),
        "keys to {verb} must not be empty"
    );
    ensure!(
        raw.expect.is_some() || raw.expect_regex.is_some(),
        "needs expect or expect_regex"
    );
    let regex = match raw.expect_regex {
        Some(r) => Some(Regex::new(&r).with_context(|| format!("expect_regex {r:?}"))?),
        None => None,
    };
    ensure!(
        !raw.record || regex.is_some(),
        "record = true needs expect_regex (its match is recorded)"
    );
    Ok(Step {
        label: format!("{verb} {}", raw.press),
        keys: Template::parse(&raw.press, names)?,
        contains: raw
            .expect
            .as_deref()
            .map(|e| Template::parse(e, names))
            .transpose()?,
        regex,
        ends: raw.ends.unwrap_or(last),
        transaction: raw.transaction,
        record: raw.record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WATER: &str = include_str!("../journeys/water-bill.toml");

    fn screen(text: &str, ends: bool) -> Screen {
        Screen {
            text: text.to_string(),
            ends,
        }
    }

    #[test]
    fn the_water_bill_journey_parses() {
        let j = Journey::parse(WATER).unwrap();
        assert_eq!(j.name, "water-bill");
        assert_eq!(j.steps.len(), 5);
        assert_eq!(j.steps[0].label, "dial *152*00#");
        assert_eq!(j.steps.iter().filter(|s| s.transaction).count(), 2);
        assert!(j.steps[4].ends && j.steps[4].record && !j.steps[3].ends);
    }

    #[test]
    fn accounts_are_eight_digits_without_a_leading_zero() {
        let j = Journey::parse(WATER).unwrap();
        let mut rng = rand::rng();
        for _ in 0..1000 {
            let values = j.session_values("255754000001", &mut rng);
            let account = j.steps[3].keys(&values);
            assert_eq!(account.len(), 8, "{account}");
            assert!(account.bytes().all(|b| b.is_ascii_digit()) && !account.starts_with('0'));
        }
    }

    #[test]
    fn screens_are_checked_for_text_and_end() {
        let j = Journey::parse(WATER).unwrap();
        let values = j.session_values("255754000001", &mut rand::rng());
        let last = &j.steps[4];
        let good = screen("Namba ya malipo: 991234567890\nKiasi: TZS 53,000.00", true);
        assert_eq!(last.check(&good, &values), Ok(Some("991234567890".into())));
        assert!(matches!(
            last.check(&screen("Namba 9912345678901", true), &values),
            Err(Mismatch::WrongScreen(_))
        ));
        let cont = screen("Namba ya malipo: 991234567890", false);
        assert!(matches!(
            last.check(&cont, &values),
            Err(Mismatch::UnexpectedContinue(_))
        ));
        let ended = screen("Samahani, huduma haipatikani", true);
        assert!(matches!(
            j.steps[1].check(&ended, &values),
            Err(Mismatch::UnexpectedEnd(_))
        ));
    }

    #[test]
    fn expectations_can_quote_session_values() {
        let j = Journey::parse(
            "name='x'\ndial='*1#'\nexpect='Hi'\n[vars]\nn={one_of=['42']}\n[[steps]]\npress='{n}'\nexpect='got {n} from {msisdn}'",
        )
        .unwrap();
        let values = j.session_values("2557", &mut rand::rng());
        assert_eq!(
            j.steps[1].check(&screen("got 42 from 2557", true), &values),
            Ok(None)
        );
        assert!(j.steps[1]
            .check(&screen("got 43 from 2557", true), &values)
            .is_err());
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        for (bad, why) in [
            ("name='x'\ndial='*1#'", "needs expect"),
            ("name='x'\ndial='*1#'\nexpect='a'\ntypo=1", "unknown field"),
            (
                "name='x'\ndial='*1#'\nexpect='a'\n[vars]\nv={digits=0}",
                "digits must be",
            ),
            (
                "name='x'\ndial='*1#'\nexpect='a'\n[vars]\nv={digits=3,first='0-x'}",
                "first",
            ),
            (
                "name='x'\ndial='*1#'\nexpect='a'\n[[steps]]\npress='1'\nexpect='b'\nrecord=true",
                "record",
            ),
            ("name='x'\ndial='*1#'\nexpect_regex='('", "expect_regex"),
        ] {
            let err = format!("{:#}", Journey::parse(bad).unwrap_err());
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }
}
