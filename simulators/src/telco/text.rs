//! Message text as a handset sees it: the GSM 03.38 alphabet, how many parts a text takes,
//! and the byte-level URL coding Kannel uses (query strings in, escapes out).

/// The GSM 03.38 default alphabet, in code order, without the escape to the extension table.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: each of these takes two septets (escape, then the character).
const GSM_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// How a message travels over the air.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// GSM 7-bit: 160 septets in one part, 153 per part when concatenated.
    Gsm7,
    /// 8-bit data: 140 bytes, 134 per part.
    EightBit,
    /// UCS-2: 70 UTF-16 units, 67 per part.
    Ucs2,
}

impl Coding {
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gsm7 => "gsm7",
            Coding::EightBit => "8bit",
            Coding::Ucs2 => "ucs2",
        }
    }

    /// The coding an aggregator picks for `text` by itself: GSM 7-bit when every character
    /// is in the alphabet, UCS-2 otherwise.
    pub fn for_text(text: &str) -> Coding {
        if text.chars().all(in_gsm_alphabet) {
            Coding::Gsm7
        } else {
            Coding::Ucs2
        }
    }

    /// How many parts `text` takes in this coding (a part at least, even when empty).
    pub fn parts(self, text: &str) -> usize {
        let (units, single, each) = match self {
            Coding::Gsm7 => (text.chars().map(septets).sum(), 160, 153),
            Coding::EightBit => (text.len(), 140, 134),
            Coding::Ucs2 => (text.encode_utf16().count(), 70, 67),
        };
        if units <= single {
            1
        } else {
            units.div_ceil(each)
        }
    }
}

pub fn in_gsm_alphabet(c: char) -> bool {
    GSM_BASIC.contains(c) || GSM_EXTENSION.contains(c)
}

fn septets(c: char) -> usize {
    if GSM_EXTENSION.contains(c) {
        2
    } else {
        1
    }
}

/// A query string's fields as raw bytes (`+` is a space, `%XX` a byte), in order. Kannel
/// reads text this way, so a field need not be UTF-8.
pub fn query_fields(query: &str) -> Vec<(String, Vec<u8>)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = String::from_utf8_lossy(&percent_decode(name)).into_owned();
            (name, percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes.get(at + 1..at + 3).and_then(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        });
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                at += 3;
            }
            (b'+', _) => {
                decoded.push(b' ');
                at += 1;
            }
            (byte, _) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    decoded
}

/// Kannel's URL encoding of a substituted value (`octstr_url_encode`): a space becomes `+`,
/// letters, digits and `-_.!~*'()` stay, every other byte is `%XX` in capitals.
pub fn kannel_url_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b' ' => encoded.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => encoded.push(byte as char),
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

/// What the handset shows for a sendsms `text` sent with `coding` (0, 1 or 2) and `charset`,
/// and whether characters were lost on the way. As Kannel does: 7-bit text is UTF-8 turned
/// into GSM (a character outside the alphabet becomes `?`); UCS-2 text is UTF-8 when
/// `charset=UTF-8`, and otherwise taken as raw UTF-16BE bytes (lost: an odd byte or a lone
/// surrogate); 8-bit is passed as it is.
pub fn kannel_handset_text(raw: &[u8], coding: Coding, utf8_charset: bool) -> (String, bool) {
    let utf8 = String::from_utf8_lossy(raw);
    match coding {
        Coding::Gsm7 => {
            let shown: String = utf8
                .chars()
                .map(|c| if in_gsm_alphabet(c) { c } else { '?' })
                .collect();
            let lost = shown != utf8;
            (shown, lost)
        }
        Coding::EightBit => (utf8.into_owned(), false),
        Coding::Ucs2 if utf8_charset => (utf8.into_owned(), false),
        Coding::Ucs2 => {
            let units: Vec<u16> = raw
                .chunks(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]))
                .collect();
            let shown = String::from_utf16_lossy(&units);
            // UTF-8 read as UTF-16BE is usually valid, only wrong: the shown text tells.
            let lost = raw.len() % 2 == 1 || shown.contains(char::REPLACEMENT_CHARACTER);
            (shown, lost)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coding_follows_the_alphabet() {
        let cases = [
            ("Habari, bili yako ni TZS 12,500.", Coding::Gsm7),
            ("Ankara €5 [ref]", Coding::Gsm7),
            ("Asante “sana”", Coding::Ucs2),
            ("Karibu 😀", Coding::Ucs2),
            ("", Coding::Gsm7),
        ];
        for (text, coding) in cases {
            assert_eq!(Coding::for_text(text), coding, "{text}");
        }
    }

    #[test]
    fn parts_count_septets_and_utf16_units() {
        let cases = [
            ("a".repeat(160), Coding::Gsm7, 1),
            ("a".repeat(161), Coding::Gsm7, 2),
            ("a".repeat(306), Coding::Gsm7, 2),
            ("a".repeat(307), Coding::Gsm7, 3),
            ("€".repeat(80), Coding::Gsm7, 1),
            ("€".repeat(81), Coding::Gsm7, 2),
            ("ü".repeat(70), Coding::Ucs2, 1),
            ("ü".repeat(71), Coding::Ucs2, 2),
            ("😀".repeat(35), Coding::Ucs2, 1),
            ("😀".repeat(36), Coding::Ucs2, 2),
            ("a".repeat(141), Coding::EightBit, 2),
            (String::new(), Coding::Gsm7, 1),
        ];
        for (text, coding, parts) in cases {
            assert_eq!(coding.parts(&text), parts, "{coding:?} {}", text.len());
        }
    }

    #[test]
    fn query_fields_decode_to_bytes() {
        let fields = query_fields("to=255754123456&text=Habari+yako%3F&raw=%00%E9&bad=%zz&flag");
        let expected: Vec<(String, Vec<u8>)> = vec![
            ("to".into(), b"255754123456".to_vec()),
            ("text".into(), b"Habari yako?".to_vec()),
            ("raw".into(), vec![0x00, 0xE9]),
            ("bad".into(), b"%zz".to_vec()),
            ("flag".into(), Vec::new()),
        ];
        assert_eq!(fields, expected);
    }

    #[test]
    fn kannel_encodes_as_octstr_url_encode_does() {
        let cases = [
            ("255754123456", "255754123456"),
            ("+255754123456", "%2B255754123456"),
            ("ACK/", "ACK%2F"),
            ("stat:DELIVRD err:000", "stat%3ADELIVRD+err%3A000"),
            ("a-_.!~*'()b", "a-_.!~*'()b"),
            ("é", "%C3%A9"),
        ];
        for (value, encoded) in cases {
            assert_eq!(kannel_url_encode(value), encoded, "{value}");
        }
    }

    #[test]
    fn the_handset_shows_what_kannel_makes_of_the_coding() {
        let cases: [(&[u8], Coding, bool, &str, bool); 7] = [
            (b"Habari", Coding::Gsm7, false, "Habari", false),
            (
                "Asante “sana”".as_bytes(),
                Coding::Gsm7,
                true,
                "Asante ?sana?",
                true,
            ),
            (
                "Asante “sana”".as_bytes(),
                Coding::Ucs2,
                true,
                "Asante “sana”",
                false,
            ),
            (&[0x00, 0x48, 0x00, 0x69], Coding::Ucs2, false, "Hi", false),
            (b"Hi", Coding::Ucs2, false, "\u{4869}", false),
            (&[0x00, 0x48, 0x00], Coding::Ucs2, false, "H\u{0}", true),
            (b"raw", Coding::EightBit, false, "raw", false),
        ];
        for (raw, coding, utf8, shown, lost) in cases {
            assert_eq!(
                kannel_handset_text(raw, coding, utf8),
                (shown.to_owned(), lost),
                "{coding:?} {raw:?}"
            );
        }
    }
}
