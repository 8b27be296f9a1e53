//! Kannel delivery reports: which DLR types each outcome goes through, what the SMSC says in
//! each (`%A`), and the escapes Kannel substitutes in the `dlr-url` before it GETs it
//! (`urltrans_fill_escape_codes` in Kannel's `gw/urltrans.c`).

use chrono::{DateTime, Utc};

use super::super::settings::Outcome;
use super::super::text::kannel_url_encode;

pub(crate) const DELIVERED: u32 = 1;
pub(crate) const FAILED: u32 = 2;
pub(crate) const BUFFERED: u32 = 4;
pub(crate) const SMSC_ACCEPTED: u32 = 8;
pub(crate) const SMSC_REJECTED: u32 = 16;

/// One DLR an outcome may go through.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    dlr_type: u32,
    /// The mask bits that ask for it.
    asked_by: u32,
    /// Sent only with interim reports.
    interim_only: bool,
}

/// A type sent when the mask has its bit.
const fn asked(dlr_type: u32) -> Step {
    Step {
        dlr_type,
        asked_by: dlr_type,
        interim_only: false,
    }
}

/// A type sent when the mask has its bit and interim reports are on.
const fn interim(dlr_type: u32) -> Step {
    Step {
        interim_only: true,
        ..asked(dlr_type)
    }
}

/// A refusal is reported as type 16 when the mask asks for 16 *or* 2: Kannel's
/// `bb_smscconn_send_failed` does so, so a gateway asking only for 1 and 2 still meets a 16.
const REFUSED_BY_SMSC: Step = Step {
    asked_by: SMSC_REJECTED | FAILED,
    ..asked(SMSC_REJECTED)
};

/// The DLR types each outcome goes through, in order.
pub(crate) const TYPES: &[(Outcome, &[Step])] = &[
    (
        Outcome::Delivered,
        &[asked(SMSC_ACCEPTED), asked(DELIVERED)],
    ),
    (Outcome::Failed, &[asked(SMSC_ACCEPTED), asked(FAILED)]),
    (
        Outcome::Expired,
        &[asked(SMSC_ACCEPTED), interim(BUFFERED), asked(FAILED)],
    ),
    (Outcome::Rejected, &[REFUSED_BY_SMSC]),
];

/// The DLR types `outcome` reports for a message sent with `mask`, in order.
pub(crate) fn types(outcome: Outcome, mask: u32, interim: bool) -> Vec<u32> {
    let (_, steps) = TYPES
        .iter()
        .find(|(o, _)| *o == outcome)
        .expect("every outcome has DLR types");
    steps
        .iter()
        .filter(|step| mask & step.asked_by != 0 && (interim || !step.interim_only))
        .map(|step| step.dlr_type)
        .collect()
}

/// Everything a DLR's escapes can name.
#[derive(Clone, Debug)]
pub(crate) struct Dlr<'a> {
    pub(crate) dlr_type: u32,
    pub(crate) outcome: Outcome,
    /// `to` as the gateway sent it.
    pub(crate) receiver: &'a str,
    /// `from` as the gateway sent it (empty without one).
    pub(crate) sender: &'a str,
    /// The SMSC's message id (`%F`).
    pub(crate) foreign_id: &'a str,
    /// Kannel's own id of the message (`%I`).
    pub(crate) internal_id: &'a str,
    pub(crate) coding: u32,
    /// The message text, of which the SMSC quotes the first 20 characters.
    pub(crate) text: &'a str,
    pub(crate) at: DateTime<Utc>,
}

/// The connection name reported as `%i`.
pub(crate) const SMSC_ID: &str = "telco-sim";

impl Dlr<'_> {
    /// What the SMSC said (`%A`): `ACK/` when it took the message, `NACK/...` when it
    /// refused it, and an SMPP receipt for the rest.
    pub(crate) fn smsc_reply(&self) -> String {
        let stat = match (self.dlr_type, self.outcome) {
            (SMSC_ACCEPTED, _) => return "ACK/".to_owned(),
            (SMSC_REJECTED, _) => return "NACK/0x0000000b/Invalid Destination Address".to_owned(),
            (BUFFERED, _) => ("ENROUTE", "000", 0),
            (DELIVERED, _) => ("DELIVRD", "000", 1),
            (_, Outcome::Expired) => ("EXPIRED", "000", 0),
            _ => ("UNDELIV", "001", 0),
        };
        let (stat, error, delivered) = stat;
        let date = self.at.format("%y%m%d%H%M");
        let quoted: String = self.text.chars().take(20).collect();
        format!(
            "id:{} sub:001 dlvrd:{delivered:03} submit date:{date} done date:{date} stat:{stat} err:{error} text:{quoted}",
            self.foreign_id
        )
    }

    /// `pattern` with Kannel's escapes replaced. In a DLR `%p` is the message's receiver
    /// (the handset) and `%P` its sender: Kannel's user guide calls them sender and
    /// receiver of "the message", but a DLR keeps the MT's fields unswapped. An escape
    /// Kannel does not know stays as it is; one it knows but this simulator does not
    /// fill (`%s`, `%k`, `%B`...) becomes empty.
    pub(crate) fn fill(&self, pattern: &str) -> String {
        let reply = self.smsc_reply();
        let mut filled = String::with_capacity(pattern.len() + 32);
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                filled.push(c);
                continue;
            }
            let Some(escape) = chars.next() else {
                filled.push('%');
                break;
            };
            match escape {
                'd' => filled.push_str(&self.dlr_type.to_string()),
                'p' => filled.push_str(&kannel_url_encode(self.receiver)),
                'P' => filled.push_str(&kannel_url_encode(self.sender)),
                'q' => filled.push_str(&plus_for_00(self.receiver)),
                'Q' => filled.push_str(&plus_for_00(self.sender)),
                'A' | 'b' => filled.push_str(&kannel_url_encode(&reply)),
                'a' => {
                    let words: Vec<String> =
                        reply.split_whitespace().map(kannel_url_encode).collect();
                    filled.push_str(&words.join("+"));
                }
                'F' => filled.push_str(&kannel_url_encode(self.foreign_id)),
                'I' => filled.push_str(self.internal_id),
                'i' => filled.push_str(SMSC_ID),
                'c' => filled.push_str(&self.coding.to_string()),
                'T' => filled.push_str(&self.at.timestamp().to_string()),
                't' => filled.push_str(&self.at.format("%Y-%m-%d+%H:%M:%S").to_string()),
                '%' => filled.push('%'),
                known if "BCDfkmMnoOrRsSuvV#".contains(known) => {}
                unknown => {
                    filled.push('%');
                    filled.push(unknown);
                }
            }
        }
        filled
    }
}

/// `%q`: like `%p`, but a leading `00` becomes `+` (encoded).
fn plus_for_00(number: &str) -> String {
    match number.strip_prefix("00") {
        Some(rest) => format!("%2B{}", kannel_url_encode(rest)),
        None => kannel_url_encode(number),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_mask_chooses_which_types_go() {
        let cases: [(Outcome, u32, bool, &[u32]); 10] = [
            (Outcome::Delivered, 31, false, &[8, 1]),
            (Outcome::Delivered, 9, false, &[8, 1]),
            (Outcome::Delivered, 3, false, &[1]),
            (Outcome::Delivered, 8, false, &[8]),
            (Outcome::Failed, 31, false, &[8, 2]),
            (Outcome::Expired, 31, false, &[8, 2]),
            (Outcome::Expired, 31, true, &[8, 4, 2]),
            (Outcome::Expired, 9, true, &[8]),
            (Outcome::Rejected, 3, false, &[16]),
            (Outcome::Rejected, 1, false, &[]),
        ];
        for (outcome, mask, interim, expected) in cases {
            assert_eq!(
                types(outcome, mask, interim),
                expected,
                "{outcome:?} {mask}"
            );
        }
    }

    fn dlr(dlr_type: u32, outcome: Outcome) -> Dlr<'static> {
        Dlr {
            dlr_type,
            outcome,
            receiver: "+255754123456",
            sender: "MGOV",
            foreign_id: "5f3a9c01",
            internal_id: "0b6c1c4e-0000-4000-8000-000000000001",
            coding: 0,
            text: "Bili yako ya maji ni TZS 12,500",
            at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 5).unwrap(),
        }
    }

    #[test]
    fn the_smsc_says_what_kannel_passes_on() {
        let cases = [
            (8, Outcome::Delivered, "ACK/"),
            (
                16,
                Outcome::Rejected,
                "NACK/0x0000000b/Invalid Destination Address",
            ),
            (
                1,
                Outcome::Delivered,
                "id:5f3a9c01 sub:001 dlvrd:001 submit date:2603010930 done date:2603010930 \
                 stat:DELIVRD err:000 text:Bili yako ya maji ni",
            ),
            (
                2,
                Outcome::Failed,
                "id:5f3a9c01 sub:001 dlvrd:000 submit date:2603010930 done date:2603010930 \
                 stat:UNDELIV err:001 text:Bili yako ya maji ni",
            ),
            (
                2,
                Outcome::Expired,
                "id:5f3a9c01 sub:001 dlvrd:000 submit date:2603010930 done date:2603010930 \
                 stat:EXPIRED err:000 text:Bili yako ya maji ni",
            ),
        ];
        for (dlr_type, outcome, reply) in cases {
            assert_eq!(dlr(dlr_type, outcome).smsc_reply(), reply, "{dlr_type}");
        }
    }

    #[test]
    fn escapes_are_filled_as_kannel_fills_them() {
        let cases = [
            ("http://gw/dlr?id=42&type=%d", "http://gw/dlr?id=42&type=8"),
            ("to=%p&from=%P", "to=%2B255754123456&from=MGOV"),
            ("at=%T&t=%t", "at=1772357405&t=2026-03-01+09:30:05"),
            ("reply=%A", "reply=ACK%2F"),
            ("smsc=%i&fid=%F&c=%c", "smsc=telco-sim&fid=5f3a9c01&c=0"),
            (
                "pct=%%&unknown=%z&empty=%k&end=%",
                "pct=%&unknown=%z&empty=&end=%",
            ),
        ];
        for (pattern, filled) in cases {
            assert_eq!(
                dlr(8, Outcome::Delivered).fill(pattern),
                filled,
                "{pattern}"
            );
        }
    }

    #[test]
    fn a_leading_00_becomes_a_plus_in_q() {
        let mut report = dlr(1, Outcome::Delivered);
        report.receiver = "00255754123456";
        assert_eq!(report.fill("%q|%p"), "%2B255754123456|00255754123456");
    }
}
