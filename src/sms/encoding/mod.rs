//! SMS text encoding and segmentation: GSM-7 or UCS-2, how many parts, and each part's user
//! data (concatenation header, packed septets or UTF-16).
//!
//! Our own because no maintained crate segments GSM-7 with its extension table (`gsm7` packs
//! but neither counts nor splits; `rusmpp-extra` packs no septets and refuses emoji).
//!
//! The rules: a message is GSM-7 when every character is in the default alphabet or its
//! extension table (an extension character takes two septets), else the whole message is
//! UCS-2 (UTF-16 big-endian, so emoji travel as surrogate pairs). One part carries 160
//! septets or 70 UTF-16 units; longer text goes in parts of 153 or 67 after a 6-octet header,
//! and no part ends between an escape and its code or inside a surrogate pair.

mod gsm7;
mod parts;

use serde::Serialize;

/// The most parts one message is sent in; longer text is refused before it is queued.
pub const MAX_PARTS: usize = 10;

/// The alphabet a message is sent in (the data coding a telco is told).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    /// GSM-7 when every character of `text` has a septet, else UCS-2.
    pub fn for_text(text: &str) -> Self {
        if text.chars().all(|c| gsm7::septets(c).is_some()) {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }

    /// Septets (GSM-7) or UTF-16 units (UCS-2) that a message of one part may carry.
    fn single_part_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// The same for each part of a concatenated message, after its header.
    fn concatenated_part_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }

    /// Septets or UTF-16 units that `c` takes; for GSM-7, `c` has a septet (the encoding was
    /// chosen from the text it comes from).
    fn width(self, c: char) -> usize {
        match self {
            Encoding::Gsm7 => gsm7::septets(c).map_or(1, gsm7::Septets::count),
            Encoding::Ucs2 => c.len_utf16(),
        }
    }
}

/// A message cut into the parts it is sent in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segmented {
    pub encoding: Encoding,
    pub parts: Vec<Part>,
}

/// One SMS of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The characters this part carries; the parts' texts joined give the message back.
    pub text: String,
    /// The user data: the concatenation header when there is more than one part, then the
    /// payload: GSM-7 septets packed (with one fill bit after the header) or UCS-2 as
    /// UTF-16 big-endian.
    pub user_data: Vec<u8>,
    /// TP-UDL, the user data length as the SMS header states it: septets for GSM-7 (header
    /// and fill bit included, 7 septets for those 49 bits), octets for UCS-2. Packed GSM-7
    /// octets alone cannot tell 7 septets from 8.
    pub user_data_length: u8,
}

/// Octets of the concatenation header: length 5, IEI 0x00 (concatenated, 8-bit reference),
/// IE length 3, reference, total, sequence number.
const HEADER_OCTETS: usize = 6;
/// The bits after the header that bring GSM-7's first septet to a septet boundary (48 + 1 = 49).
const GSM7_FILL_BITS: u32 = 1;
/// What the header and its fill bit count for in a GSM-7 part's TP-UDL.
const GSM7_HEADER_SEPTETS: usize = (HEADER_OCTETS * 8 + GSM7_FILL_BITS as usize) / 7;

/// Cuts `text` into the parts it is sent in, each concatenated part's header carrying
/// `reference` (the same in every part of one message, to the phone that joins them).
///
/// Never refuses: a caller refuses text over [`MAX_PARTS`] first with [`check_length`]. (Past
/// 255 parts, which a header cannot count, the counts in the headers saturate.)
pub fn segment(text: &str, reference: u8) -> Segmented {
    let (encoding, count) = parts::count(text);
    let parts = if count == 1 {
        vec![build_part(text, encoding, None)]
    } else {
        let ranges = parts::part_ranges(text, encoding);
        let total = saturate(ranges.len());
        ranges
            .into_iter()
            .enumerate()
            .map(|(index, range)| {
                let header = [0x05, 0x00, 0x03, reference, total, saturate(index + 1)];
                build_part(&text[range], encoding, Some(header))
            })
            .collect()
    };
    Segmented { encoding, parts }
}

/// How many parts `text` is sent in, and in which encoding: what [`segment`] would give,
/// in one pass over the text without building any part.
pub fn part_count(text: &str) -> (Encoding, usize) {
    parts::count(text)
}

/// [`part_count`], refusing text that needs more than [`MAX_PARTS`].
pub fn check_length(text: &str) -> Result<(Encoding, usize), TooManyParts> {
    match part_count(text) {
        (_, needed) if needed > MAX_PARTS => Err(TooManyParts { needed }),
        counted => Ok(counted),
    }
}

/// Text longer than [`MAX_PARTS`] parts; the message says so to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("text needs {needed} parts; at most {max} are sent", max = MAX_PARTS)]
pub struct TooManyParts {
    pub needed: usize,
}

fn build_part(text: &str, encoding: Encoding, header: Option<[u8; HEADER_OCTETS]>) -> Part {
    let mut user_data = header.map_or_else(Vec::new, Vec::from);
    let user_data_length = match encoding {
        Encoding::Gsm7 => {
            let (fill_bits, header_septets) = match header {
                Some(_) => (GSM7_FILL_BITS, GSM7_HEADER_SEPTETS),
                None => (0, 0),
            };
            gsm7::pack(text, fill_bits, &mut user_data);
            header_septets + text.chars().map(|c| encoding.width(c)).sum::<usize>()
        }
        Encoding::Ucs2 => {
            user_data.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
            user_data.len()
        }
    };
    Part {
        text: text.to_owned(),
        user_data,
        user_data_length: saturate(user_data_length),
    }
}

fn saturate(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_get_their_encoding_and_part_count() {
        use Encoding::{Gsm7, Ucs2};
        let latin_and_greek =
            "£ ¥ è é ù ì ò Ç Ø ø Å å Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ Æ æ ß É Ä Ö Ñ Ü § ¿ ä ö ñ ü à";
        #[rustfmt::skip]
        let cases: Vec<(&str, String, Encoding, usize)> = vec![
            ("empty", String::new(), Gsm7, 1),
            ("Swahili", "Habari, bili yako ni TZS 53,000.00".into(), Gsm7, 1),
            ("Polish", "Zapłać rachunek: ą ż ł".into(), Ucs2, 1),
            ("Romanian", "Plătiți taxa: ș ț".into(), Ucs2, 1),
            ("extension characters", "€ [] {} ^ ~ | \\".into(), Gsm7, 1),
            ("emoji", "Asante 🙏".into(), Ucs2, 1),
            ("backtick", "Ref `A1`".into(), Ucs2, 1),
            ("at sign", "@".into(), Gsm7, 1),
            ("basic table outside ASCII", latin_and_greek.into(), Gsm7, 1),
            ("160 GSM-7", "a".repeat(160), Gsm7, 1),
            ("161 GSM-7", "a".repeat(161), Gsm7, 2),
            ("80 euros are 160 septets", "€".repeat(80), Gsm7, 1),
            ("81 euros are 162 septets", "€".repeat(81), Gsm7, 2),
            ("70 UCS-2", "ą".repeat(70), Ucs2, 1),
            ("71 UCS-2", "ą".repeat(71), Ucs2, 2),
            ("35 emoji are 70 units", "😀".repeat(35), Ucs2, 1),
            ("36 emoji are 72 units", "😀".repeat(36), Ucs2, 2),
            ("one non-GSM character makes all UCS-2", "a".repeat(69) + "ł", Ucs2, 1),
            ("that text at 71", "a".repeat(70) + "ł", Ucs2, 2),
            ("10 GSM-7 parts", "a".repeat(10 * 153), Gsm7, 10),
            ("11 GSM-7 parts", "a".repeat(10 * 153 + 1), Gsm7, 11),
            ("10 UCS-2 parts", "ą".repeat(10 * 67), Ucs2, 10),
            ("11 UCS-2 parts", "ą".repeat(10 * 67 + 1), Ucs2, 11),
            // Escapes that cannot be split make 76 euros a part, not 76.5.
            ("euros fill parts of 152", "€".repeat(2 * 76 + 1), Gsm7, 3),
        ];
        for (name, text, encoding, parts) in cases {
            assert_eq!(part_count(&text), (encoding, parts), "{name}");
            assert_eq!(Encoding::for_text(&text), encoding, "{name}");
            let segmented = segment(&text, 1);
            assert_eq!(
                (segmented.encoding, segmented.parts.len()),
                (encoding, parts),
                "{name}"
            );
        }
    }

    #[test]
    fn characters_that_do_not_fit_move_whole_to_the_next_part() {
        let cases: Vec<(&str, String, Vec<String>)> = vec![
            (
                "153 septets fill a part",
                "a".repeat(153) + "bbbbbbbb",
                vec!["a".repeat(153), "bbbbbbbb".into()],
            ),
            (
                "an extension character at septet 153 moves",
                "a".repeat(152) + "€" + &"b".repeat(10),
                vec!["a".repeat(152), "€".to_owned() + &"b".repeat(10)],
            ),
            (
                "an extension character ending at septet 153 stays",
                "a".repeat(151) + "€" + &"b".repeat(10),
                vec!["a".repeat(151) + "€", "b".repeat(10)],
            ),
            (
                "an emoji straddling unit 67 moves",
                "ą".repeat(66) + "😀" + &"ą".repeat(5),
                vec!["ą".repeat(66), "😀".to_owned() + &"ą".repeat(5)],
            ),
            (
                "an emoji ending at unit 67 stays",
                "ą".repeat(65) + "😀" + &"ą".repeat(5),
                vec!["ą".repeat(65) + "😀", "ą".repeat(5)],
            ),
        ];
        for (name, text, expected) in cases {
            let texts: Vec<String> = segment(&text, 9)
                .parts
                .into_iter()
                .map(|p| p.text)
                .collect();
            assert_eq!(texts, expected, "{name}");
        }
    }

    #[test]
    fn user_data_carries_header_and_payload() {
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();
        let concatenated = "hello".to_owned() + &"a".repeat(156);
        let ucs2_concatenated = "ą".repeat(71);
        // (text, part, user data starts with, user data octets, TP-UDL)
        let cases: Vec<(&str, usize, &str, usize, u8)> = vec![
            ("hellohello", 0, "E8329BFD4697D9EC37", 9, 10),
            ("€", 0, "9B32", 2, 2),
            ("ą😀", 0, "0105D83DDE00", 6, 6),
            // Header: length 5, IEI 0, IE length 3, reference 0x2A, 2 parts, part 1; then one
            // fill bit and "hello" (E8 32 9B FD 06 shifted by that bit, the last octet shared
            // with the next septet).
            (&concatenated, 0, "0500032A0201D06536FB", 140, 160),
            // The fill bit and 8 septets, 57 bits, in 8 octets after the header.
            (&concatenated, 1, "0500032A0202", 6 + 8, 7 + 8),
            (&ucs2_concatenated, 0, "0500032A02010105", 6 + 134, 140),
            (&ucs2_concatenated, 1, "0500032A0202", 6 + 8, 14),
        ];
        for (text, index, prefix, octets, udl) in cases {
            let part = &segment(text, 0x2a).parts[index];
            let name = format!("{text:?} part {index}");
            assert!(
                hex(&part.user_data).starts_with(prefix),
                "{name}: {}",
                hex(&part.user_data)
            );
            assert_eq!(part.user_data.len(), octets, "{name}");
            assert_eq!(part.user_data_length, udl, "{name}");
        }
    }

    #[test]
    fn more_than_ten_parts_are_refused_with_a_clear_message() {
        let refused = |parts| format!("text needs {parts} parts; at most 10 are sent");
        let cases = [
            ("a".repeat(10 * 153), Ok((Encoding::Gsm7, 10))),
            ("a".repeat(10 * 153 + 1), Err(refused(11))),
            ("a".repeat(11 * 153 + 1), Err(refused(12))),
            ("ą".repeat(10 * 67), Ok((Encoding::Ucs2, 10))),
            ("ą".repeat(10 * 67 + 1), Err(refused(11))),
        ];
        for (text, expected) in cases {
            assert_eq!(check_length(&text).map_err(|e| e.to_string()), expected);
        }
    }

    #[test]
    fn encodings_have_one_name_everywhere() {
        for (encoding, name) in [(Encoding::Gsm7, "gsm7"), (Encoding::Ucs2, "ucs2")] {
            assert_eq!(encoding.as_str(), name);
            assert_eq!(
                serde_json::to_string(&encoding).unwrap(),
                format!("\"{name}\"")
            );
        }
    }
}
