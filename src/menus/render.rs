//! Cutting a screen into pages that fit the telco's limit: options are never split across
//! pages, every page of options keeps the heading that says what they are, long text is cut
//! between words, and every page ends with the navigation keys that apply to it.

use super::phrases::nav_line;
use crate::language::Language;

/// One screen before pagination.
#[derive(Debug, Clone)]
pub(crate) struct Screen {
    pub heading: String,
    /// Whole option lines (`1. Maji`).
    pub options: Vec<String>,
    /// `0` leads to an earlier location (later pages always have `0` for the page before).
    pub back: bool,
    /// `00` leads home.
    pub home: bool,
    /// An end screen: its last page carries no navigation, the dialogue ends there.
    pub terminal: bool,
}

/// The pages of `screen`, each at most `limit` characters (counted as chars, not bytes).
pub(crate) fn paginate(screen: &Screen, language: Language, limit: usize) -> Vec<String> {
    let body = join_lines(
        std::iter::once(screen.heading.as_str()).chain(screen.options.iter().map(String::as_str)),
    );
    let single_nav = if screen.terminal {
        String::new()
    } else {
        nav_line(language, false, screen.back, screen.home)
    };
    if len(&body) + nav_cost(&single_nav) <= limit {
        return vec![compose(body, &single_nav)];
    }
    let worst_nav = nav_line(language, true, true, screen.home && !screen.terminal);
    let budget = limit.saturating_sub(nav_cost(&worst_nav)).max(1);

    let options: Vec<String> = screen.options.iter().map(|o| truncate(o, budget)).collect();
    let kept_heading = heading_for_every_page(&screen.heading, &options, budget);
    let page_starting_with = |option: String| match kept_heading {
        Some(heading) => format!("{heading}\n{option}"),
        None => option,
    };
    let mut bodies = match kept_heading {
        Some(_) => vec![],
        None => wrap(&screen.heading, budget),
    };
    let mut current = bodies.pop().unwrap_or_default();
    for option in options {
        if current.is_empty() {
            current = page_starting_with(option);
        } else if len(&current) + 1 + len(&option) <= budget {
            current.push('\n');
            current.push_str(&option);
        } else {
            bodies.push(std::mem::replace(&mut current, page_starting_with(option)));
        }
    }
    if !current.is_empty() || bodies.is_empty() {
        bodies.push(current);
    }
    let count = bodies.len();
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let last = i + 1 == count;
            let nav = if last && screen.terminal {
                String::new()
            } else {
                nav_line(
                    language,
                    !last,
                    i > 0 || (screen.back && !screen.terminal),
                    screen.home && !screen.terminal,
                )
            };
            compose(body, &nav)
        })
        .collect()
}

/// A list's heading (`Ofisi ya Ilala. Chagua muda:`) says what the options are, so every page
/// repeats it, as long as it leaves room for any one option below it; a heading too long for
/// that is spread over the first pages instead.
fn heading_for_every_page<'h>(
    heading: &'h str,
    options: &[String],
    budget: usize,
) -> Option<&'h str> {
    let longest = options.iter().map(|o| len(o)).max()?;
    (!heading.is_empty() && len(heading) + 1 + longest <= budget).then_some(heading)
}

fn len(s: &str) -> usize {
    s.chars().count()
}

fn nav_cost(nav: &str) -> usize {
    if nav.is_empty() {
        0
    } else {
        len(nav) + 1
    }
}

fn join_lines<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn compose(mut body: String, nav: &str) -> String {
    if !nav.is_empty() {
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(nav);
    }
    body
}

/// Cuts `text` into pieces of at most `budget` chars between words, keeping line breaks;
/// a word longer than a whole piece is cut where it must be.
fn wrap(text: &str, budget: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for (line_no, line) in text.split('\n').enumerate() {
        let mut first_word = true;
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            let separator = if first_word && line_no > 0 { '\n' } else { ' ' };
            first_word = false;
            let extra = if current.is_empty() { 0 } else { 1 };
            if len(&current) + extra + len(word) <= budget {
                if extra == 1 {
                    current.push(separator);
                }
                current.push_str(word);
                continue;
            }
            if !current.is_empty() {
                pieces.push(std::mem::take(&mut current));
            }
            let chars: Vec<char> = word.chars().collect();
            for chunk in chars.chunks(budget) {
                if !current.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                }
                current = chunk.iter().collect();
            }
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// An option too long for a page even alone (a long value from the back office) is
/// shortened rather than split, so its number and its start stay together.
fn truncate(option: &str, budget: usize) -> String {
    if len(option) <= budget {
        return option.to_string();
    }
    let mut out: String = option.chars().take(budget.saturating_sub(2)).collect();
    out.push_str("..");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(heading: &str, options: usize) -> Screen {
        Screen {
            heading: heading.into(),
            options: (1..=options)
                .map(|i| format!("{i}. Option number {i}"))
                .collect(),
            back: true,
            home: true,
            terminal: false,
        }
    }

    #[test]
    fn a_short_screen_is_one_page() {
        let pages = paginate(&screen("Maji", 2), Language::SWAHILI, 160);
        assert_eq!(
            pages,
            ["Maji\n1. Option number 1\n2. Option number 2\n0 Rudi  00 Mwanzo"]
        );
    }

    #[test]
    fn options_are_spread_whole_over_pages_within_the_limit() {
        let s = screen("Choose a slot:", 30);
        let pages = paginate(&s, Language::ENGLISH, 160);
        assert!(pages.len() > 1);
        for (i, page) in pages.iter().enumerate() {
            assert!(page.chars().count() <= 160, "page {i}: {page}");
            assert_eq!(page.contains("98 More"), i + 1 < pages.len(), "{page}");
            assert!(page.contains("0 Back"));
        }
        for option in &s.options {
            assert_eq!(
                pages
                    .iter()
                    .filter(|p| p.lines().any(|l| l == option))
                    .count(),
                1,
                "{option}"
            );
        }
    }

    #[test]
    fn every_page_of_a_list_keeps_its_heading() {
        let heading = "Ofisi ya Ilala. Chagua muda:";
        let s = Screen {
            heading: heading.into(),
            options: (1..=12)
                .map(|i| format!("{i}. Jumatano 02/12 {:02}:00", 7 + i))
                .collect(),
            back: true,
            home: true,
            terminal: false,
        };
        let pages = paginate(&s, Language::SWAHILI, 160);
        assert!(pages.len() >= 3, "{pages:?}");
        for (i, page) in pages.iter().enumerate() {
            assert!(
                page.starts_with(&format!("{heading}\n")),
                "page {i}: {page}"
            );
            assert!(page.chars().count() <= 160, "page {i}: {page}");
            assert_eq!(page.lines().filter(|l| *l == heading).count(), 1, "{page}");
        }
        let shown: Vec<&str> = pages
            .iter()
            .flat_map(|p| p.lines())
            .filter(|l| l.contains(". Jumatano"))
            .collect();
        assert_eq!(shown, s.options, "every option once, in order");
        assert_eq!(
            pages[1],
            format!("{heading}\n5. Jumatano 02/12 12:00\n6. Jumatano 02/12 13:00\n7. Jumatano 02/12 14:00\n8. Jumatano 02/12 15:00\n98 Zaidi  0 Rudi  00 Mwanzo")
        );
    }

    #[test]
    fn a_heading_too_long_to_repeat_is_spread_over_the_first_pages() {
        let heading = "Maelezo marefu sana. ".repeat(8);
        let s = Screen {
            heading: heading.clone(),
            options: (1..=6).map(|i| format!("{i}. Chaguo la {i}")).collect(),
            back: false,
            home: false,
            terminal: false,
        };
        let pages = paginate(&s, Language::SWAHILI, 160);
        assert_eq!(
            pages.iter().filter(|p| p.contains("Maelezo")).count(),
            2,
            "{pages:?}"
        );
        assert!(pages.iter().all(|p| p.chars().count() <= 160), "{pages:?}");
    }

    #[test]
    fn long_text_is_cut_between_words_and_ends_without_navigation() {
        let text = "Namba ya malipo ni 991234567890. ".repeat(12);
        let s = Screen {
            heading: text.clone(),
            options: vec![],
            back: false,
            home: false,
            terminal: true,
        };
        let pages = paginate(&s, Language::SWAHILI, 160);
        assert!(pages.len() > 2);
        let last = pages.last().unwrap();
        assert!(
            !last.contains("98 Zaidi") && !last.contains("0 Rudi"),
            "{last}"
        );
        assert!(pages[0].ends_with("98 Zaidi") && pages[1].ends_with("98 Zaidi  0 Rudi"));
        let words: Vec<&str> = pages
            .iter()
            .flat_map(|p| p.lines())
            .filter(|l| !l.starts_with("98"))
            .flat_map(|l| l.split(' '))
            .collect();
        assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
        assert!(pages.iter().all(|p| p.chars().count() <= 160));
    }

    #[test]
    fn overlong_words_and_options_still_fit() {
        assert_eq!(wrap("abcdefgh ij", 3), ["abc", "def", "gh", "ij"]);
        assert_eq!(wrap("a b\nc", 10), ["a b\nc"]);
        let s = Screen {
            heading: "H".into(),
            options: vec!["1. ".to_string() + &"x".repeat(300)],
            back: false,
            home: false,
            terminal: false,
        };
        let pages = paginate(&s, Language::ENGLISH, 160);
        assert!(pages.iter().all(|p| p.chars().count() <= 160), "{pages:?}");
    }
}
