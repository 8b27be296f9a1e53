//! The gateway's rules for hops that arrive more than once or out of order, as pure
//! functions of the answers, so that the simulator and the load generator judge alike.

use std::fmt::Display;

use super::Behaviour;
use crate::aggregator::wire::{parse_reply, Raw, Screen};
use crate::aggregator::Format;

/// How the gateway broke a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Violation {
    /// A copy of the hop got another answer than the reference: for `duplicate`, `retry`,
    /// `concurrent` and `drop` not the same bytes; for `replay` not the current screen.
    Mismatch,
    /// A copy got no screen: no reply, an error status, or a body that is not a reply.
    NoAnswer,
    /// `replay` after the dialogue ended: the older hop got a screen that continues.
    Reopened,
}

impl Violation {
    pub const ALL: [Violation; 3] = [
        Violation::Mismatch,
        Violation::NoAnswer,
        Violation::Reopened,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Violation::Mismatch => "mismatch",
            Violation::NoAnswer => "no_answer",
            Violation::Reopened => "reopened",
        }
    }

    /// Whether this violation can happen with `behaviour` (only a replay can reopen).
    pub fn applies_to(self, behaviour: Behaviour) -> bool {
        self != Violation::Reopened || behaviour == Behaviour::Replay
    }

    /// The kind as reported: `duplicate_mismatch`, `replay_reopened`...
    pub fn kind(self, behaviour: Behaviour) -> String {
        format!("{}_{}", behaviour.name(), self.name())
    }
}

/// One misbehaving hop and how the gateway took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub behaviour: Behaviour,
    /// `retry` only: the first copy was given up before its answer came, so there was
    /// nothing to compare the retry's answer with.
    pub abandoned: bool,
    /// The broken rule and what was seen.
    pub violation: Option<(Violation, String)>,
}

/// Duplicates, retries, concurrent copies and retries after a drop: the copy must get the
/// reference answer, byte for byte.
pub(crate) fn same_answer<E: Display>(
    format: Format,
    reference: &Result<Raw, E>,
    copy: &Result<Raw, E>,
) -> Option<(Violation, String)> {
    let first = match usable(format, reference) {
        Ok(raw) => raw,
        Err(why) => return Some((Violation::NoAnswer, format!("first copy: {why}"))),
    };
    let second = match usable(format, copy) {
        Ok(raw) => raw,
        Err(why) => return Some((Violation::NoAnswer, format!("second copy: {why}"))),
    };
    if first == second {
        return None;
    }
    // Quote the screens, unless only other bytes differ (Hubtel's ClientState, say).
    let (a, b) = match (screen(format, reference), screen(format, copy)) {
        (Ok(a), Ok(b)) if a.text != b.text || a.ends != b.ends => (shown(&a), shown(&b)),
        _ => (first.body.clone(), second.body.clone()),
    };
    let detail = format!("first {}, then {}", excerpt(&a), excerpt(&b));
    Some((Violation::Mismatch, detail))
}

/// A replay of an older hop: the current screen while the dialogue goes on, an `END` screen
/// once it has ended.
pub(crate) fn current_screen<E: Display>(
    format: Format,
    current: &Screen,
    older: &Result<Raw, E>,
) -> Option<(Violation, String)> {
    let answer = match screen(format, older) {
        Ok(answer) => answer,
        Err(why) => return Some((Violation::NoAnswer, format!("older hop: {why}"))),
    };
    if current.ends {
        return (!answer.ends).then(|| {
            let detail = format!(
                "after {} came {}",
                excerpt(&shown(current)),
                excerpt(&shown(&answer))
            );
            (Violation::Reopened, detail)
        });
    }
    (answer.ends != current.ends || answer.text != current.text).then(|| {
        let detail = format!(
            "current {}, older hop got {}",
            excerpt(&shown(current)),
            excerpt(&shown(&answer))
        );
        (Violation::Mismatch, detail)
    })
}

/// A screen as Africa's Talking would show it, whatever the format.
fn shown(screen: &Screen) -> String {
    let keyword = if screen.ends { "END" } else { "CON" };
    format!("{keyword} {}", screen.text)
}

/// The screen of a reply, or why it is not one.
pub(crate) fn screen<E: Display>(format: Format, reply: &Result<Raw, E>) -> Result<Screen, String> {
    match reply {
        Ok(raw) => parse_reply(format, raw.status, &raw.body).map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    }
}

/// The reply itself when it is a screen, or why it is not.
fn usable<E: Display>(format: Format, reply: &Result<Raw, E>) -> Result<&Raw, String> {
    let raw = reply.as_ref().map_err(ToString::to_string)?;
    parse_reply(format, raw.status, &raw.body).map_err(|e| e.to_string())?;
    Ok(raw)
}

/// A reply shortened to one line, for samples.
pub fn excerpt(text: &str) -> String {
    let flat: String = text
        .chars()
        .take(80)
        .map(|c| if c == '\n' { '|' } else { c })
        .collect();
    format!("{flat:?}")
}
