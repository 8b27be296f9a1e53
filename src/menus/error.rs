//! Menu errors that name the file, the line and the state, so that a clerk can go straight to
//! the mistake: `menus/maji.toml:14: state "account": next state "fech_bill" does not exist`.

use std::fmt;
use std::ops::Range;

/// One problem found in a menu file (or a warning: the same shape, shown with
/// [`MenuError::as_warning`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MenuError {
    /// The file as it was given to the loader (`menus/maji.toml`).
    pub file: String,
    /// 1-based line where the problem can be seen, when there is one.
    pub line: Option<usize>,
    /// The state concerned, when the problem is inside a state.
    pub state: Option<String>,
    pub problem: String,
}

impl fmt::Display for MenuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "")
    }
}

impl MenuError {
    /// Shows this problem as a warning: `menus/kesi.toml:13: warning: state "x": ...`.
    pub fn as_warning(&self) -> impl fmt::Display + '_ {
        struct Warning<'a>(&'a MenuError);
        impl fmt::Display for Warning<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, "warning: ")
            }
        }
        Warning(self)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {label}")?;
        if let Some(state) = &self.state {
            write!(f, "state {state:?}: ")?;
        }
        f.write_str(&self.problem)
    }
}

/// Turns byte offsets into lines and finds the state a line belongs to.
pub(crate) struct Source<'s> {
    pub text: &'s str,
    pub file: &'s str,
}

impl<'s> Source<'s> {
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    pub fn error(
        &self,
        span: Option<Range<usize>>,
        state: Option<&str>,
        problem: impl Into<String>,
    ) -> MenuError {
        MenuError {
            file: self.file.to_string(),
            line: span.map(|s| self.line_of(s.start)),
            state: state.map(str::to_string),
            problem: problem.into(),
        }
    }

    pub fn at_line(&self, line: usize, state: &str, problem: impl Into<String>) -> MenuError {
        MenuError {
            file: self.file.to_string(),
            line: Some(line),
            state: Some(state.to_string()),
            problem: problem.into(),
        }
    }

    /// A TOML or shape error from the deserializer, placed in the `[states.NAME]` table it
    /// falls in (the deserializer stops at the first such error, so there is only one).
    pub fn toml_error(&self, err: &toml::de::Error) -> MenuError {
        let state = err.span().and_then(|span| self.state_at(span.start));
        self.error(
            err.span(),
            state.as_deref(),
            err.message().trim().to_string(),
        )
    }

    /// The state whose table holds `offset`: the last `[states.NAME...]` header before it.
    fn state_at(&self, offset: usize) -> Option<String> {
        let before = &self.text[..offset.min(self.text.len())];
        let mut found = None;
        for line in before.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                found = line
                    .trim_start_matches('[')
                    .strip_prefix("states.")
                    .map(|rest| {
                        rest.split(['.', ']'])
                            .next()
                            .unwrap_or("")
                            .trim_matches('"')
                            .to_string()
                    });
            }
        }
        found.filter(|name| !name.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_file_line_state_and_problem() {
        let e = MenuError {
            file: "menus/maji.toml".into(),
            line: Some(14),
            state: Some("account".into()),
            problem: "next state \"fech_bill\" does not exist".into(),
        };
        assert_eq!(
            e.to_string(),
            "menus/maji.toml:14: state \"account\": next state \"fech_bill\" does not exist"
        );
        let e = MenuError {
            line: None,
            state: None,
            problem: "boom".into(),
            ..e
        };
        assert_eq!(e.to_string(), "menus/maji.toml: boom");
    }

    #[test]
    fn finds_lines_and_enclosing_states() {
        let text =
            "[service]\nid = \"x\"\n[states.home]\ntext = 1\n[states.\"two\".input]\nx = 2\n";
        let src = Source { text, file: "f" };
        assert_eq!(src.line_of(0), 1);
        assert_eq!(src.line_of(text.find("text").unwrap()), 4);
        assert_eq!(
            src.state_at(text.find("text").unwrap()).as_deref(),
            Some("home")
        );
        assert_eq!(
            src.state_at(text.find("x = 2").unwrap()).as_deref(),
            Some("two")
        );
        assert_eq!(src.state_at(text.find("id").unwrap()), None);
    }
}
