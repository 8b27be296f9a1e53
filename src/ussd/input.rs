//! Turning a hop's input, as the adapter reported it, into the inputs the menu has not seen
//! yet. Telcos differ (cumulative `1*2*3` text, latest input only, direct-dial suffixes on the
//! dial string); after this module every hop is a list of new inputs applied in order, or a
//! repeat of an answered hop that is answered again without applying anything.

use crate::sessions::LastHop;
use crate::ussd::request::UssdInput;

/// The inputs a direct dial carries after the root code: `*152*00*1*2#` under `*152*00#`
/// gives `["1", "2"]`, the root itself gives `[]`, and a dial under another code `None`.
pub fn split_dial_string(dialled: &str, root_code: &str) -> Option<Vec<String>> {
    let base = |code: &str| {
        let code = code.trim();
        code.strip_suffix('#').unwrap_or(code).to_string()
    };
    let (dialled, root) = (base(dialled), base(root_code));
    if dialled == root {
        return Some(Vec::new());
    }
    // Require the `*` boundary, so `*152*001#` is not read as `*152*00#` plus `1`.
    let rest = dialled.strip_prefix(&root)?.strip_prefix('*')?;
    // `**` in a dial string is a slip of the thumb, not an empty answer.
    Some(
        rest.split('*')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// What a hop of a live dialogue brings, compared with what the dialogue has consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Inputs to apply, and the new value of what the session has consumed.
    New {
        inputs: Vec<String>,
        consumed: String,
    },
    /// The last answered hop again (a telco's retry or a duplicate delivery): answer the
    /// same screen, apply nothing.
    Duplicate,
    /// Older than the last answered hop (a late or replayed delivery): answer the current
    /// screen, apply nothing.
    Stale,
}

/// Classifies a hop of a dialogue that has consumed `consumed` and was last answered `last`.
///
/// A telco's hop counter (`sequence`) decides when both sides have one. Otherwise cumulative
/// text equal to what was consumed repeats the last hop; text that extends it past a `*`
/// brings ONE input even if it contains `*` (a citizen may type one); anything else (a
/// prefix, i.e. an older text, or text that does not extend it) is stale.
pub fn classify(
    input: &UssdInput,
    sequence: Option<u64>,
    consumed: &str,
    last: Option<&LastHop>,
) -> Replay {
    if let (Some(seq), Some(last_seq)) = (sequence, last.and_then(|l| l.sequence)) {
        if seq == last_seq {
            return Replay::Duplicate;
        }
        if seq < last_seq {
            return Replay::Stale;
        }
    }
    let new = |input: &str, consumed: &str| Replay::New {
        inputs: vec![input.to_string()],
        consumed: consumed.to_string(),
    };
    match input {
        UssdInput::Dial if last.is_some() => Replay::Duplicate,
        UssdInput::Dial => Replay::New {
            inputs: Vec::new(),
            consumed: consumed.to_string(),
        },
        // Nothing needs a record of latest-input hops; keeping none keeps the session small.
        UssdInput::Latest(text) => new(strip_hash(text), consumed),
        UssdInput::Cumulative(text) => {
            let text = strip_hash(text);
            if text == consumed {
                return Replay::Duplicate;
            }
            if consumed.is_empty() {
                return new(text, text);
            }
            match text
                .strip_prefix(consumed)
                .and_then(|r| r.strip_prefix('*'))
            {
                Some(rest) => new(rest, text),
                None => Replay::Stale,
            }
        }
    }
}

/// The inputs the first hop of a dialogue carries beyond its dial string, and what it has
/// consumed: cumulative text there is a direct-dial extension (`*152*00*1*2#` → `1*2`), or,
/// after the session was lost, the whole dialogue so far, so it splits on `*`. An empty part
/// is kept as the empty answer it was, so a replayed dialogue applies its inputs at the
/// positions they first had (and its back-office calls get the ids they first had).
pub fn first_inputs(input: &UssdInput) -> (Vec<String>, String) {
    match input {
        UssdInput::Cumulative(text) => {
            let text = strip_hash(text);
            if text.is_empty() {
                return (Vec::new(), String::new());
            }
            let inputs = text.split('*').map(str::to_string).collect();
            (inputs, text.to_string())
        }
        UssdInput::Dial | UssdInput::Latest(_) => (Vec::new(), String::new()),
    }
}

/// Some telcos append the `#` that sent the input; it is never part of the answer.
fn strip_hash(text: &str) -> &str {
    let text = text.trim();
    text.strip_suffix('#').unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_strings_split_under_their_root() {
        let cases: &[(&str, &str, Option<&[&str]>)] = &[
            ("*152*00#", "*152*00#", Some(&[])),
            ("*152*00*1*2#", "*152*00#", Some(&["1", "2"])),
            ("*152*00*5*12345678#", "*152*00#", Some(&["5", "12345678"])),
            ("*152*00*1*2", "*152*00#", Some(&["1", "2"])),
            ("*152*00**1#", "*152*00#", Some(&["1"])),
            ("*152*001#", "*152*00#", None),
            ("*150*00#", "*152*00#", None),
            ("*152#", "*152*00#", None),
        ];
        for (dialled, root, want) in cases {
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(
                split_dial_string(dialled, root),
                want,
                "{dialled} under {root}"
            );
        }
    }

    #[test]
    fn hops_are_new_repeated_or_stale() {
        let cum = |t: &str| UssdInput::Cumulative(t.into());
        let latest = |t: &str| UssdInput::Latest(t.into());
        let answered = |sequence| LastHop {
            sequence,
            screen: "Maji".into(),
            ends: false,
        };
        let new = |inputs: &[&str], consumed: &str| Replay::New {
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            consumed: consumed.to_string(),
        };
        let at = answered(None);
        let seq3 = answered(Some(3));
        let seq1 = answered(Some(1));
        // (name, input, sequence, consumed, last answered hop, verdict)
        type Case<'a> = (
            &'a str,
            UssdInput,
            Option<u64>,
            &'a str,
            Option<&'a LastHop>,
            Replay,
        );
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("second hop after a plain dial", cum("1"), None, "", Some(&at), new(&["1"], "1")),
            ("later hop", cum("1*2*12345678"), None, "1*2", Some(&at), new(&["12345678"], "1*2*12345678")),
            ("input containing a star", cum("1*2*12*34"), None, "1*2", Some(&at), new(&["12*34"], "1*2*12*34")),
            ("star input on second hop", cum("12*34"), None, "", Some(&at), new(&["12*34"], "12*34")),
            ("empty answer sent as trailing star", cum("1*"), None, "1", Some(&at), new(&[""], "1*")),
            ("after an empty answer", cum("1**4"), None, "1*", Some(&at), new(&["4"], "1**4")),
            ("telco appends #", cum("1*2*3#"), None, "1*2", Some(&at), new(&["3"], "1*2*3")),
            ("the same text again", cum("1*2"), None, "1*2", Some(&at), Replay::Duplicate),
            ("the dial again", cum(""), None, "", Some(&at), Replay::Duplicate),
            ("an older text", cum("1"), None, "1*2", Some(&at), Replay::Stale),
            ("text that does not extend consumed", cum("7*9"), None, "1*2", Some(&at), Replay::Stale),
            ("prefix without a star boundary", cum("1*23"), None, "1*2", Some(&at), Replay::Stale),
            ("latest, next sequence", latest("1"), Some(4), "", Some(&seq3), new(&["1"], "")),
            ("latest with #", latest("3#"), Some(4), "", Some(&seq3), new(&["3"], "")),
            ("latest with star", latest("12*34"), Some(4), "", Some(&seq3), new(&["12*34"], "")),
            ("same sequence", latest("1"), Some(3), "", Some(&seq3), Replay::Duplicate),
            ("older sequence", latest("1"), Some(2), "", Some(&seq3), Replay::Stale),
            ("latest without sequence", latest("1"), None, "", Some(&seq3), new(&["1"], "")),
            ("initiation again", UssdInput::Dial, Some(1), "", Some(&seq1), Replay::Duplicate),
        ];
        for (name, input, sequence, consumed, last, want) in cases {
            assert_eq!(classify(&input, sequence, consumed, last), want, "{name}");
        }
    }

    #[test]
    fn first_hops_split_a_direct_dial() {
        let cum = |t: &str| UssdInput::Cumulative(t.into());
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(first_inputs(&UssdInput::Dial), (own(&[]), String::new()));
        assert_eq!(first_inputs(&cum("")), (own(&[]), String::new()));
        assert_eq!(first_inputs(&cum("1*2")), (own(&["1", "2"]), "1*2".into()));
        assert_eq!(first_inputs(&cum("1*2#")), (own(&["1", "2"]), "1*2".into()));
        assert_eq!(
            first_inputs(&cum("1**4")),
            (own(&["1", "", "4"]), "1**4".into()),
            "an empty answer keeps its place"
        );
    }
}
