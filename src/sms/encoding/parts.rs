//! Measuring a text and cutting it into parts: one pass that counts GSM-7 and UCS-2 side by
//! side, and the filler that decides where each concatenated part ends.

use super::{gsm7, Encoding};
use std::ops::Range;

/// The encoding of `text` and how many parts it takes, in one pass: what
/// [`super::part_count`] answers and [`super::segment`] starts from.
pub(super) fn count(text: &str) -> (Encoding, usize) {
    // Both tallies run side by side so that one pass suffices: the GSM-7 one stops at the
    // first character outside its tables, which makes the whole message UCS-2.
    let mut as_gsm7 = Some(Tally::new(Encoding::Gsm7));
    let mut as_ucs2 = Tally::new(Encoding::Ucs2);
    for c in text.chars() {
        if let Some(tally) = &mut as_gsm7 {
            match gsm7::septets(c) {
                Some(septets) => tally.take(septets.count()),
                None => as_gsm7 = None,
            };
        }
        as_ucs2.take(c.len_utf16());
    }
    let tally = as_gsm7.unwrap_or(as_ucs2);
    (tally.encoding, tally.parts())
}

/// Counts a text's units and its concatenated parts as characters come.
struct Tally {
    encoding: Encoding,
    units: usize,
    filler: PartFiller,
}

impl Tally {
    fn new(encoding: Encoding) -> Self {
        Tally {
            encoding,
            units: 0,
            filler: PartFiller::new(encoding.concatenated_part_capacity()),
        }
    }

    fn take(&mut self, width: usize) {
        self.units += width;
        self.filler.take(width);
    }

    fn parts(&self) -> usize {
        if self.units <= self.encoding.single_part_capacity() {
            1
        } else {
            self.filler.parts
        }
    }
}

/// Fills concatenated parts one whole character at a time, so that an escape sequence or a
/// surrogate pair that does not fit moves to the next part whole. Counting and cutting both
/// go through it, which keeps [`super::part_count`] and [`super::segment`] in agreement.
struct PartFiller {
    capacity: usize,
    used: usize,
    parts: usize,
}

impl PartFiller {
    fn new(capacity: usize) -> Self {
        PartFiller {
            capacity,
            used: 0,
            parts: 1,
        }
    }

    /// Takes a character `width` units wide; true when it opens a new part.
    fn take(&mut self, width: usize) -> bool {
        if self.used + width > self.capacity {
            self.parts += 1;
            self.used = width;
            true
        } else {
            self.used += width;
            false
        }
    }
}

/// Byte ranges of `text` for its concatenated parts.
pub(super) fn part_ranges(text: &str, encoding: Encoding) -> Vec<Range<usize>> {
    let mut filler = PartFiller::new(encoding.concatenated_part_capacity());
    let mut ranges = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        if filler.take(encoding.width(c)) {
            ranges.push(start..at);
            start = at;
        }
    }
    ranges.push(start..text.len());
    ranges
}

#[cfg(test)]
mod tests {
    use super::super::gsm7::tests::unpack;
    use super::super::{part_count, saturate, segment};
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    /// Many generated texts: counting agrees with cutting, the parts give the text back,
    /// each part is as full as whole characters allow, and its user data decodes to its text.
    #[test]
    fn generated_texts_segment_consistently() {
        let gsm7_only: Vec<char> = "aZ9 @€[]{}\\|^~\u{c}\nΔÉß£_".chars().collect();
        let mixed: Vec<char> = "aZ €[ąșł😀🙏é\u{10000}".chars().collect();
        let mut rng = StdRng::seed_from_u64(0x5e9);
        for round in 0..600 {
            let pool = if round % 2 == 0 { &gsm7_only } else { &mixed };
            let len = rng.random_range(0..1_800);
            let text: String = (0..len)
                .map(|_| pool[rng.random_range(0..pool.len())])
                .collect();
            let reference = rng.random::<u8>();
            let segmented = segment(&text, reference);
            let encoding = segmented.encoding;
            let parts = &segmented.parts;
            assert_eq!(part_count(&text), (encoding, parts.len()), "{text:?}");
            assert_eq!(
                parts.iter().map(|p| p.text.as_str()).collect::<String>(),
                text
            );
            let units = |s: &str| s.chars().map(|c| encoding.width(c)).sum::<usize>();
            let total = saturate(parts.len());
            for (index, part) in parts.iter().enumerate() {
                let payload = if parts.len() == 1 {
                    assert!(units(&part.text) <= encoding.single_part_capacity());
                    &part.user_data[..]
                } else {
                    let header = [5, 0, 3, reference, total, saturate(index + 1)];
                    assert_eq!(part.user_data[..6], header, "{text:?} part {index}");
                    let capacity = encoding.concatenated_part_capacity();
                    assert!(units(&part.text) <= capacity);
                    if let Some(next) = parts.get(index + 1) {
                        let first = next.text.chars().next().unwrap();
                        assert!(units(&part.text) + encoding.width(first) > capacity);
                    }
                    &part.user_data[6..]
                };
                let decoded = match encoding {
                    Encoding::Gsm7 if parts.len() == 1 => unpack(payload, 0, units(&part.text)),
                    Encoding::Gsm7 => unpack(payload, 1, units(&part.text)),
                    Encoding::Ucs2 => String::from_utf16(
                        &payload
                            .chunks(2)
                            .map(|b| u16::from_be_bytes([b[0], b[1]]))
                            .collect::<Vec<_>>(),
                    )
                    .unwrap(),
                };
                assert_eq!(decoded, part.text, "{text:?} part {index}");
                let expected_length = match encoding {
                    Encoding::Gsm7 if parts.len() == 1 => units(&part.text),
                    Encoding::Gsm7 => 7 + units(&part.text),
                    Encoding::Ucs2 => part.user_data.len(),
                };
                assert_eq!(usize::from(part.user_data_length), expected_length);
            }
        }
    }
}
