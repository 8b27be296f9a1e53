//! What the SMS load sends: a text that is different for every request (the run's id and the
//! request's sequence number in it, so that the telco simulator can tell a message sent
//! twice from two messages), and how many recipients each request names.

use mgov::sms::encoding::{self, Encoding, MAX_PARTS};

/// The default text: one GSM-7 part, the length of a typical notice.
pub const DEFAULT_TEMPLATE: &str =
    "mgov-load {run} #{seq}: Huduma ya maji itasitishwa kesho saa 2 asubuhi hadi saa 8 mchana.";

/// Texts of one run: `{run}` is the run's id, `{seq}` the request's number (from 0).
#[derive(Debug, Clone)]
pub struct Texts {
    run: String,
    template: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TextError {
    #[error("the text must contain {{seq}}, so that every request's text is unique")]
    NoSequence,
    #[error("the text needs {0} parts; the gateway sends at most {max}", max = MAX_PARTS)]
    TooLong(usize),
}

impl Texts {
    pub fn new(run: &str, template: &str) -> Result<Self, TextError> {
        if !template.contains("{seq}") {
            return Err(TextError::NoSequence);
        }
        let texts = Texts {
            run: run.to_string(),
            template: template.to_string(),
        };
        // The longest text of the run is the one with the longest number.
        let (_, parts) = texts.shape(u64::MAX);
        if parts > MAX_PARTS {
            return Err(TextError::TooLong(parts));
        }
        Ok(texts)
    }

    pub fn text(&self, seq: u64) -> String {
        self.template
            .replace("{run}", &self.run)
            .replace("{seq}", &seq.to_string())
    }

    /// The encoding and parts of request `seq`'s text, as the gateway counts them.
    pub fn shape(&self, seq: u64) -> (Encoding, usize) {
        encoding::part_count(&self.text(seq))
    }
}

/// A fresh run id: eight hex digits, so that texts of two runs never collide at the
/// simulator.
pub fn run_id() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// How many recipients request number `seq` names when `messages` are to be sent at most
/// `per_request` at a time: full requests, then the remainder; 0 once all are sent.
pub fn recipients_of(seq: u64, messages: u64, per_request: u32) -> u32 {
    let per_request = u64::from(per_request.max(1));
    let before = seq.saturating_mul(per_request);
    messages.saturating_sub(before).min(per_request) as u32
}

/// Requests needed to send `messages`, `per_request` at a time.
pub fn requests_for(messages: u64, per_request: u32) -> u64 {
    messages.div_ceil(u64::from(per_request.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_differ_by_request_and_by_run() {
        let a = Texts::new("0badcafe", DEFAULT_TEMPLATE).unwrap();
        let b = Texts::new("00c0ffee", DEFAULT_TEMPLATE).unwrap();
        assert!(a.text(7).starts_with("mgov-load 0badcafe #7: "));
        assert_ne!(a.text(7), a.text(8));
        assert_ne!(a.text(7), b.text(7));
        let texts: std::collections::HashSet<_> = (0..1000).map(|seq| a.text(seq)).collect();
        assert_eq!(texts.len(), 1000);
    }

    #[test]
    fn the_default_text_is_one_gsm7_part_even_with_the_longest_number() {
        let texts = Texts::new(&run_id(), DEFAULT_TEMPLATE).unwrap();
        assert_eq!(texts.shape(u64::MAX), (Encoding::Gsm7, 1));
    }

    #[test]
    fn templates_are_checked() {
        let cases = [
            ("Habari {run}", Err(TextError::NoSequence)),
            ("Habari #{seq}", Ok((Encoding::Gsm7, 1))),
            ("Habari 😀 #{seq}", Ok((Encoding::Ucs2, 1))),
            (
                &*format!("{} {{seq}}", "a".repeat(400)),
                Ok((Encoding::Gsm7, 3)),
            ),
        ];
        for (template, expected) in cases {
            let shape = Texts::new("r", template).map(|t| t.shape(1));
            assert_eq!(shape, expected, "{template}");
        }
        let too_long = format!("{} {{seq}}", "a".repeat(153 * MAX_PARTS));
        assert_eq!(
            Texts::new("r", &too_long).unwrap_err(),
            TextError::TooLong(MAX_PARTS + 1)
        );
    }

    #[test]
    fn requests_split_the_messages_into_full_requests_and_a_remainder() {
        // (messages, per request) -> recipients of requests 0, 1, 2, ...
        let cases: [(u64, u32, &[u32]); 5] = [
            (250, 100, &[100, 100, 50, 0]),
            (200, 100, &[100, 100, 0]),
            (3, 1, &[1, 1, 1, 0]),
            (0, 100, &[0]),
            (5, 0, &[1, 1, 1, 1, 1, 0]),
        ];
        for (messages, per_request, expected) in cases {
            let got: Vec<u32> = (0..expected.len() as u64)
                .map(|seq| recipients_of(seq, messages, per_request))
                .collect();
            assert_eq!(got, expected, "{messages} by {per_request}");
            let full = expected.iter().filter(|n| **n > 0).count() as u64;
            assert_eq!(requests_for(messages, per_request), full);
        }
    }
}
