//! The few texts the engine itself shows, in Swahili and English (English for any other
//! language until a column is added).

use crate::language::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phrase {
    RootHeading,
    InvalidChoice,
    More,
    Back,
    Home,
    /// The root option that switches to the other language, named in that language.
    OtherLanguage,
    /// A list the back office answered with nothing in it.
    NothingToChoose,
    /// The session's menu version or state is gone (for example after a restart).
    Unavailable,
}

/// (phrase, Swahili, English).
const PHRASES: &[(Phrase, &str, &str)] = &[
    (
        Phrase::RootHeading,
        "Huduma za Serikali",
        "Government services",
    ),
    (
        Phrase::InvalidChoice,
        "Chaguo si sahihi.",
        "Invalid choice.",
    ),
    (Phrase::More, "Zaidi", "More"),
    (Phrase::Back, "Rudi", "Back"),
    (Phrase::Home, "Mwanzo", "Home"),
    (Phrase::OtherLanguage, "English", "Kiswahili"),
    (
        Phrase::NothingToChoose,
        "Hakuna cha kuchagua kwa sasa.",
        "Nothing to choose from right now.",
    ),
    (
        Phrase::Unavailable,
        "Huduma hii haipatikani kwa sasa. Tafadhali piga tena.",
        "This service is not available right now. Please dial again.",
    ),
];

pub(crate) fn text(language: Language, phrase: Phrase) -> &'static str {
    let (_, sw, en) = PHRASES
        .iter()
        .find(|(p, _, _)| *p == phrase)
        .copied()
        .unwrap_or((phrase, "", ""));
    if language == Language::SWAHILI {
        sw
    } else {
        en
    }
}

/// `98 Zaidi  0 Rudi  00 Mwanzo`, with only the keys that apply.
pub(crate) fn nav_line(language: Language, more: bool, back: bool, home: bool) -> String {
    let items = [
        (more, "98", Phrase::More),
        (back, "0", Phrase::Back),
        (home, "00", Phrase::Home),
    ];
    items
        .iter()
        .filter(|(on, _, _)| *on)
        .map(|(_, key, p)| format!("{key} {}", text(language, *p)))
        .collect::<Vec<_>>()
        .join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_has_both_languages() {
        let all = [
            Phrase::RootHeading,
            Phrase::InvalidChoice,
            Phrase::More,
            Phrase::Back,
            Phrase::Home,
            Phrase::OtherLanguage,
            Phrase::NothingToChoose,
            Phrase::Unavailable,
        ];
        for p in all {
            assert!(!text(Language::SWAHILI, p).is_empty(), "{p:?}");
            assert!(!text(Language::ENGLISH, p).is_empty(), "{p:?}");
        }
        assert_eq!(text(Language::parse("fr").unwrap(), Phrase::Back), "Back");
    }

    #[test]
    fn nav_line_shows_only_what_applies() {
        assert_eq!(
            nav_line(Language::SWAHILI, true, true, true),
            "98 Zaidi  0 Rudi  00 Mwanzo"
        );
        assert_eq!(nav_line(Language::ENGLISH, false, true, false), "0 Back");
        assert_eq!(nav_line(Language::ENGLISH, false, false, false), "");
    }
}
