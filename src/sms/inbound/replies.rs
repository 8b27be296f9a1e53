//! What the gateway itself answers by SMS, in the citizen's language (Swahili, else
//! English): the help list of a shortcode's services, and why a message reached nothing.

use super::services::SmsService;
use crate::language::Language;
use crate::sms::encoding::part_count;

/// The help reply takes at most this many parts; services that do not fit are left out.
const HELP_PARTS: usize = 2;

/// `sw` for Swahili speakers, `en` for everyone else.
pub(crate) fn in_language(language: Language, sw: String, en: String) -> String {
    if language == Language::SWAHILI {
        sw
    } else {
        en
    }
}

/// The services on `shortcode`, one line each, as many as fit in two parts.
pub fn help(
    language: Language,
    shortcode: &str,
    services: &[&SmsService],
    opening: Option<String>,
) -> String {
    let mut text = opening.map(|o| format!("{o} ")).unwrap_or_default();
    if services.is_empty() {
        text += &in_language(
            language,
            format!("Hakuna huduma kwa SMS {shortcode} kwa sasa."),
            format!("No SMS services on {shortcode} right now."),
        );
        return text;
    }
    text += &in_language(
        language,
        format!("Huduma kwa SMS {shortcode}:"),
        format!("SMS services on {shortcode}:"),
    );
    for service in services {
        let line = format!("\n{}", service.help_line(language));
        if part_count(&format!("{text}{line}")).1 > HELP_PARTS {
            break;
        }
        text += &line;
    }
    text
}

/// Opens the help reply to a word no service answers.
pub fn unknown_keyword(language: Language, word: &str) -> String {
    let word: String = word.chars().take(20).collect();
    in_language(
        language,
        format!("Hatujui huduma \"{word}\"."),
        format!("We know no service \"{word}\"."),
    )
}

/// Opens the help reply to an empty message.
pub fn empty_message(language: Language) -> String {
    in_language(
        language,
        "Ujumbe wako hauna neno la huduma.".into(),
        "Your message names no service.".into(),
    )
}

/// A service whose agency cannot be reached by webhook.
pub fn unavailable(language: Language, keyword: &str) -> String {
    in_language(
        language,
        format!("Huduma ya {keyword} haipatikani kwa sasa. Jaribu tena baadaye."),
        format!("{keyword} is not available right now. Please try again later."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AgencyId;

    fn service(keyword: &str, line: &str) -> SmsService {
        SmsService {
            id: format!("svc_{keyword}"),
            agency: AgencyId::parse("dawasa").unwrap(),
            shortcode: "15200".into(),
            keyword: keyword.into(),
            spec: serde_json::from_value(serde_json::json!({
                "keyword": keyword, "description": {"sw": line}, "forward": {}
            }))
            .unwrap(),
        }
    }

    #[test]
    fn the_help_list_fits_two_parts() {
        let services: Vec<SmsService> = (0..30)
            .map(|i| {
                service(
                    &format!("HUDUMA{i}"),
                    &format!("HUDUMA{i} <namba>: maelezo ya huduma {i}"),
                )
            })
            .collect();
        let refs: Vec<&SmsService> = services.iter().collect();
        let text = help(
            Language::SWAHILI,
            "15200",
            &refs,
            Some(unknown_keyword(Language::SWAHILI, "ХАЛИ")),
        );
        assert!(
            text.starts_with("Hatujui huduma \"ХАЛИ\". Huduma kwa SMS 15200:\nHUDUMA0 <namba>"),
            "{text}"
        );
        assert!(part_count(&text).1 <= 2, "{text}");
        assert!(!text.contains("HUDUMA29"), "{text}");
        assert_eq!(
            help(Language::ENGLISH, "15200", &[], None),
            "No SMS services on 15200 right now."
        );
    }
}
