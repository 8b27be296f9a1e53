//! Reading a citizen's text as a person would: the first word (or the first two, for a
//! sub-keyword such as `NEC HAKIKI`) names the service, whatever its case and accents; the
//! words after it are its arguments.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Words in a keyword at most: a keyword and one sub-keyword.
pub const MOST_WORDS: usize = 2;
const SHORTEST_WORD: usize = 2;
const LONGEST_WORD: usize = 20;

/// A word as keywords are stored and matched: upper case, accents and other marks removed
/// (`Maji`, `MAJÍ` and `maji` are all `MAJI`).
pub fn normalise(word: &str) -> String {
    word.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_uppercase)
        .collect()
}

/// The words of a text; control characters count as spaces.
pub fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The keywords a text could be using, longest first, each with how many words it takes:
/// `nec hakiki 12345` → (`NEC HAKIKI`, 2), (`NEC`, 1).
pub fn candidates(words: &[&str]) -> Vec<(String, usize)> {
    (1..=MOST_WORDS.min(words.len()))
        .rev()
        .map(|n| {
            let keyword: Vec<String> = words[..n].iter().map(|w| normalise(w)).collect();
            (keyword.join(" "), n)
        })
        .collect()
}

/// A keyword (or alias) as an agency registers it, normalised; refused with the reason when
/// it is not one or two words of 2 to 20 letters A–Z or digits.
pub fn registrable(raw: &str) -> Result<String, String> {
    let parts = words(raw);
    if parts.is_empty() || parts.len() > MOST_WORDS {
        return Err(format!(
            "keyword {raw:?} must be one word, or a word and a sub-keyword"
        ));
    }
    let normalised: Vec<String> = parts.iter().map(|w| normalise(w)).collect();
    for word in &normalised {
        let fits = (SHORTEST_WORD..=LONGEST_WORD).contains(&word.chars().count())
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !fits {
            return Err(format!(
                "keyword {raw:?}: each word must be {SHORTEST_WORD} to {LONGEST_WORD} letters A-Z or digits"
            ));
        }
    }
    Ok(normalised.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_accents_do_not_matter() {
        for (raw, want) in [
            ("maji", "MAJI"),
            ("MAJÍ", "MAJI"),
            ("Hâli", "HALI"),
            ("ŻÓŁW", "ZOŁW"), // ł has no decomposition: it stays a letter of its own
            ("ﬁle", "FILE"),
            ("МАЖИ", "МАЖИ"), // another script is kept as it is, and matches nothing Latin
        ] {
            assert_eq!(normalise(raw), want, "{raw}");
        }
    }

    #[test]
    fn texts_split_into_keyword_candidates() {
        let text = "  nec\u{7}HAKIKI\t12345 \r\n";
        let words = words(text);
        assert_eq!(words, ["nec", "HAKIKI", "12345"]);
        assert_eq!(
            candidates(&words),
            [("NEC HAKIKI".to_string(), 2), ("NEC".to_string(), 1)]
        );
        assert_eq!(candidates(&["Maji"]), [("MAJI".to_string(), 1)]);
        assert!(candidates(&[]).is_empty());
    }

    #[test]
    fn registrable_keywords() {
        assert_eq!(registrable(" kodi ").unwrap(), "KODI");
        assert_eq!(registrable("nec hakiki").unwrap(), "NEC HAKIKI");
        assert_eq!(registrable("Malipo2").unwrap(), "MALIPO2");
        for bad in [
            "",
            "a",
            "maji safi sasa",
            "ma-ji",
            "МАЖИ",
            "x".repeat(21).as_str(),
        ] {
            assert!(registrable(bad).is_err(), "{bad:?}");
        }
    }
}
