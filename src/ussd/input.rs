//! Turning a hop's input, as the adapter reported it, into the inputs the menu has not seen
//! yet. Telcos differ (cumulative `1*2*3` text, latest input only, direct-dial suffixes on the
//! dial string); after this module every hop is a list of new inputs applied in order.

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

/// The new inputs of this hop and the new value of what the session has consumed.
///
/// `consumed` is the cumulative text the session has already applied (empty before any
/// input). For `Cumulative` text, whatever extends `consumed` past a `*` is ONE input even if
/// it contains `*` (a citizen may type one); only on the session's first hop does the text
/// split on `*`, because there it is a direct-dial extension (`*152*00*1*2#` → `1*2`).
pub fn new_inputs(input: &UssdInput, consumed: &str, first_hop: bool) -> (Vec<String>, String) {
    match input {
        UssdInput::Dial => (Vec::new(), consumed.to_string()),
        // Nothing needs a record of latest-input hops; keeping none keeps the session small.
        UssdInput::Latest(text) => (vec![strip_hash(text).to_string()], consumed.to_string()),
        UssdInput::Cumulative(text) => {
            let text = strip_hash(text);
            if first_hop && consumed.is_empty() {
                let inputs = text
                    .split('*')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                return (inputs, text.to_string());
            }
            let new = if consumed.is_empty() {
                text
            } else if text == consumed {
                // The telco repeated the last text: nothing new was typed, i.e. an empty answer.
                ""
            } else if let Some(rest) = text
                .strip_prefix(consumed)
                .and_then(|r| r.strip_prefix('*'))
            {
                rest
            } else {
                // Text that does not extend what we saw (a telco quirk): trust its last part.
                text.rsplit('*').next().unwrap_or(text)
            };
            (vec![new.to_string()], text.to_string())
        }
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
    fn hops_yield_only_what_is_new() {
        let cum = |t: &str| UssdInput::Cumulative(t.into());
        let latest = |t: &str| UssdInput::Latest(t.into());
        // (name, input, consumed, first hop, new inputs, new consumed)
        type Case<'a> = (&'a str, UssdInput, &'a str, bool, &'a [&'a str], &'a str);
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("dial", UssdInput::Dial, "", true, &[], ""),
            ("first hop, empty text", cum(""), "", true, &[], ""),
            ("first hop, direct dial", cum("1*2"), "", true, &["1", "2"], "1*2"),
            ("second hop after a plain dial", cum("1"), "", false, &["1"], "1"),
            ("later hop", cum("1*2*12345678"), "1*2", false, &["12345678"], "1*2*12345678"),
            ("input containing a star", cum("1*2*12*34"), "1*2", false, &["12*34"], "1*2*12*34"),
            ("star input on second hop", cum("12*34"), "", false, &["12*34"], "12*34"),
            ("repeated text is an empty answer", cum("1*2"), "1*2", false, &[""], "1*2"),
            ("empty answer sent as trailing star", cum("1*"), "1", false, &[""], "1*"),
            ("after an empty answer", cum("1**4"), "1*", false, &["4"], "1**4"),
            ("telco appends #", cum("1*2*3#"), "1*2", false, &["3"], "1*2*3"),
            ("first hop with #", cum("1*2#"), "", true, &["1", "2"], "1*2"),
            ("text that does not extend consumed", cum("7*9"), "1*2", false, &["9"], "7*9"),
            ("prefix without a star boundary", cum("1*23"), "1*2", false, &["23"], "1*23"),
            ("latest, first", latest("1"), "", false, &["1"], ""),
            ("latest, later", latest("12345678"), "", false, &["12345678"], ""),
            ("latest with #", latest("3#"), "", false, &["3"], ""),
            ("latest with star", latest("12*34"), "", false, &["12*34"], ""),
        ];
        for (name, input, consumed, first_hop, want, want_consumed) in cases {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(
                new_inputs(&input, consumed, first_hop),
                (want, want_consumed.to_string()),
                "{name}"
            );
        }
    }
}
