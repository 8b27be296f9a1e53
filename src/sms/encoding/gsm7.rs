//! The GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet, its extension table, and the
//! packing of septets into octets.

/// The basic table, in septet order: a character's index is its septet. 0x1B is the escape to
/// the extension table, not a character, so U+001B itself is not GSM-7.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1b}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The septet that introduces a character of the extension table.
pub(super) const ESCAPE: u8 = 0x1b;

/// The extension table: each of these is sent as [`ESCAPE`] and then its code, two septets.
const EXTENSION: [(char, u8); 10] = [
    ('\u{c}', 0x0a), // form feed
    ('^', 0x14),
    ('{', 0x28),
    ('}', 0x29),
    ('\\', 0x2f),
    ('[', 0x3c),
    ('~', 0x3d),
    (']', 0x3e),
    ('|', 0x40),
    ('€', 0x65),
];

/// How a character is written in GSM-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Septets {
    /// One septet of the basic table.
    Basic(u8),
    /// [`ESCAPE`] and this code of the extension table.
    Escaped(u8),
}

impl Septets {
    pub(super) fn count(self) -> usize {
        match self {
            Septets::Basic(_) => 1,
            Septets::Escaped(_) => 2,
        }
    }
}

/// Code points below 256 (ASCII and Latin-1, nearly every character of a GSM-7 message)
/// looked up by index, built from the two tables above at compile time so that the tables
/// stay the one place to review. Entries: a basic septet, `EXTENDED | code`, or `NONE`.
const BELOW_256: [u8; 256] = {
    let mut table = [NONE; 256];
    let mut septet = 0;
    while septet < BASIC.len() {
        let c = BASIC[septet] as usize;
        if c < 256 && septet != ESCAPE as usize {
            table[c] = septet as u8;
        }
        septet += 1;
    }
    let mut i = 0;
    while i < EXTENSION.len() {
        let (c, code) = EXTENSION[i];
        if (c as usize) < 256 {
            table[c as usize] = EXTENDED | code;
        }
        i += 1;
    }
    table
};
const NONE: u8 = 0xff;
const EXTENDED: u8 = 0x80;

/// How `c` is written in GSM-7, or `None` when it is in neither table (the message then goes
/// as UCS-2).
pub(super) fn septets(c: char) -> Option<Septets> {
    if let Some(&entry) = BELOW_256.get(c as usize) {
        return match entry {
            NONE => None,
            e if e & EXTENDED != 0 => Some(Septets::Escaped(e & !EXTENDED)),
            septet => Some(Septets::Basic(septet)),
        };
    }
    // Above 255 lie only the euro sign and the Greek capitals of the basic table: few
    // enough for a scan, the short extension table first since € is the common one.
    if let Some(&(_, code)) = EXTENSION.iter().find(|&&(e, _)| e == c) {
        return Some(Septets::Escaped(code));
    }
    BASIC
        .iter()
        .position(|&b| b == c)
        .map(|septet| Septets::Basic(septet as u8))
}

/// Packs the septets of `text` into `out`, least significant bit first, after `fill_bits`
/// zero bits (the padding that puts the first septet on a septet boundary after a user data
/// header). `text` holds only GSM-7 characters: the encoding was chosen from it.
pub(super) fn pack(text: &str, fill_bits: u32, out: &mut Vec<u8>) {
    let mut packer = Packer {
        bits: 0,
        pending: fill_bits,
        out,
    };
    for c in text.chars() {
        match septets(c) {
            Some(Septets::Basic(septet)) => packer.push(septet),
            Some(Septets::Escaped(code)) => {
                packer.push(ESCAPE);
                packer.push(code);
            }
            None => unreachable!("{c:?} is not GSM-7 but the text was chosen as GSM-7"),
        }
    }
    packer.finish();
}

struct Packer<'a> {
    /// Bits not yet written, lowest first.
    bits: u32,
    /// How many of `bits` are pending (fewer than 8 between pushes).
    pending: u32,
    out: &'a mut Vec<u8>,
}

impl Packer<'_> {
    fn push(&mut self, septet: u8) {
        self.bits |= u32::from(septet) << self.pending;
        self.pending += 7;
        while self.pending >= 8 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.pending -= 8;
        }
    }

    fn finish(self) {
        if self.pending > 0 {
            self.out.push(self.bits as u8);
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Reads `count` septets back out of packed octets, after `fill_bits`.
    pub(in crate::sms::encoding) fn unpack(packed: &[u8], fill_bits: u32, count: usize) -> String {
        let bit = |n: usize| (packed[n / 8] >> (n % 8)) & 1;
        let septet = |i: usize| {
            let start = fill_bits as usize + i * 7;
            (0..7).fold(0u8, |acc, b| acc | bit(start + b) << b)
        };
        let mut text = String::new();
        let mut i = 0;
        while i < count {
            let s = septet(i);
            if s == ESCAPE {
                i += 1;
                let code = septet(i);
                let (c, _) = EXTENSION.iter().find(|&&(_, e)| e == code).unwrap();
                text.push(*c);
            } else {
                text.push(BASIC[s as usize]);
            }
            i += 1;
        }
        text
    }

    #[test]
    fn the_basic_table_is_gsm7_at_its_own_septet() {
        // The characters that are not ASCII, and those that are but sit elsewhere than in
        // ASCII (`@` at 0, `$` at 2, `_` at 0x11).
        #[rustfmt::skip]
        let cases: &[(char, u8)] = &[
            ('@', 0x00), ('£', 0x01), ('$', 0x02), ('¥', 0x03), ('è', 0x04), ('é', 0x05),
            ('ù', 0x06), ('ì', 0x07), ('ò', 0x08), ('Ç', 0x09), ('\n', 0x0a), ('Ø', 0x0b),
            ('ø', 0x0c), ('\r', 0x0d), ('Å', 0x0e), ('å', 0x0f), ('Δ', 0x10), ('_', 0x11),
            ('Φ', 0x12), ('Γ', 0x13), ('Λ', 0x14), ('Ω', 0x15), ('Π', 0x16), ('Ψ', 0x17),
            ('Σ', 0x18), ('Θ', 0x19), ('Ξ', 0x1a), ('Æ', 0x1c), ('æ', 0x1d), ('ß', 0x1e),
            ('É', 0x1f), ('¤', 0x24), ('¡', 0x40), ('Ä', 0x5b), ('Ö', 0x5c), ('Ñ', 0x5d),
            ('Ü', 0x5e), ('§', 0x5f), ('¿', 0x60), ('ä', 0x7b), ('ö', 0x7c), ('ñ', 0x7d),
            ('ü', 0x7e), ('à', 0x7f), ('A', 0x41), ('a', 0x61), ('0', 0x30), (' ', 0x20),
        ];
        for &(c, septet) in cases {
            assert_eq!(septets(c), Some(Septets::Basic(septet)), "{c:?}");
        }
    }

    #[test]
    fn the_extension_table_takes_an_escape_and_a_code() {
        #[rustfmt::skip]
        let cases: &[(char, u8)] = &[
            ('\u{c}', 0x0a), ('^', 0x14), ('{', 0x28), ('}', 0x29), ('\\', 0x2f),
            ('[', 0x3c), ('~', 0x3d), (']', 0x3e), ('|', 0x40), ('€', 0x65),
        ];
        for &(c, code) in cases {
            assert_eq!(septets(c), Some(Septets::Escaped(code)), "{c:?}");
            assert_eq!(septets(c).map(Septets::count), Some(2), "{c:?}");
        }
    }

    #[test]
    fn printable_ascii_is_gsm7_at_its_own_code_but_for_a_few() {
        for c in ' '..='~' {
            let found = septets(c);
            match c {
                '@' => assert_eq!(found, Some(Septets::Basic(0x00))),
                '$' => assert_eq!(found, Some(Septets::Basic(0x02))),
                '_' => assert_eq!(found, Some(Septets::Basic(0x11))),
                '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' => {
                    assert!(matches!(found, Some(Septets::Escaped(_))), "{c:?}")
                }
                '`' => assert_eq!(found, None),
                _ => assert_eq!(found, Some(Septets::Basic(c as u8)), "{c:?}"),
            }
        }
    }

    #[test]
    fn look_alikes_and_everything_else_are_not_gsm7() {
        // The backtick is ASCII but in neither table (0x60 is `¿`); the escape is no
        // character; `ç` is not `Ç`; the rest are letters of the languages we send in.
        for c in [
            '`', '\u{1b}', '\t', 'ç', 'ą', 'ż', 'ł', 'ș', 'ț', 'â', 'ê', 'á', 'í', 'ó', 'ú', 'δ',
            'α', '¢', '•', '“', '’', '😀',
        ] {
            assert_eq!(septets(c), None, "{c:?}");
        }
    }

    #[test]
    fn packing_matches_known_vectors() {
        let cases: &[(&str, u32, &[u8])] = &[
            (
                "hellohello",
                0,
                &[0xe8, 0x32, 0x9b, 0xfd, 0x46, 0x97, 0xd9, 0xec, 0x37],
            ),
            ("Test", 0, &[0xd4, 0xf2, 0x9c, 0x0e]),
            ("@", 0, &[0x00]),
            // After a 6-octet header one fill bit puts "hello" on a septet boundary: the
            // plain packing E8 32 9B FD 06 shifted left by one bit.
            ("hello", 1, &[0xd0, 0x65, 0x36, 0xfb, 0x0d]),
            // € is ESC (0x1B) then 0x65.
            ("€", 0, &[0x9b, 0x32]),
            ("", 0, &[]),
        ];
        for &(text, fill, expected) in cases {
            let mut out = Vec::new();
            pack(text, fill, &mut out);
            assert_eq!(out, expected, "{text:?} after {fill} fill bits");
            let septets = text.chars().filter_map(septets).map(Septets::count).sum();
            assert_eq!(unpack(&out, fill, septets), text);
        }
    }
}
