//! One handset's dialogue as the aggregator's platform tracks it: the session id it made up,
//! the dial string split against the registered code, every key pressed since, and how many
//! hops went to the gateway. Enough to build any request of either wire format, including an
//! older one for a chaotic replay.

use mgov_wire::africastalking::{split_dial, text};

use super::wire::Screen;
use super::Format;

/// A fresh session id in the style of the format's platform.
pub fn new_session_id(format: Format) -> String {
    match format {
        Format::AfricasTalking => format!("ATUid_{:032x}", rand::random::<u128>()),
        Format::Hubtel => format!("{:032x}", rand::random::<u128>()),
    }
}

/// The platform's record of one dialogue in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialogue {
    pub(crate) session_id: String,
    /// E.164 digits without `+`.
    pub(crate) msisdn: String,
    /// The whole dial string, e.g. `*152*00*1*1#`.
    pub(crate) dialled: String,
    /// The registered code the dial string extends (`*152*00#`), or the dial string itself.
    pub(crate) service_code: String,
    /// Inputs carried by the dial string beyond the service code (`1`, `1` above).
    pub(crate) extension: Vec<String>,
    /// What the citizen typed since the dial, one entry per hop.
    pub(crate) typed: Vec<String>,
    /// Requests posted to the gateway so far (hops only, not the end notice).
    pub(crate) hops: u32,
    /// The gateway's last reply body, for Africa's Talking's `lastAppResponse`.
    pub(crate) last_reply: String,
    /// The `ClientState` of the gateway's last Hubtel reply, echoed on the next request.
    pub(crate) client_state: String,
}

impl Dialogue {
    /// A dialogue that has just been dialled; nothing has been sent yet.
    pub fn new(session_id: String, msisdn: &str, dialled: &str, root_code: &str) -> Self {
        let (service_code, extension) = split_dial(dialled, root_code);
        Dialogue {
            session_id,
            msisdn: msisdn.to_owned(),
            dialled: dialled.to_owned(),
            service_code,
            extension,
            typed: Vec::new(),
            hops: 0,
            last_reply: String::new(),
            client_state: String::new(),
        }
    }

    /// Africa's Talking's `text`: the dial extension and every input since, joined by `*`.
    pub(crate) fn cumulative_text(&self) -> String {
        text(&self.extension, &self.typed)
    }

    /// The input of the next hop: `None` for the dial itself.
    pub(crate) fn latest(&self) -> Option<&str> {
        self.typed.last().map(String::as_str)
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The citizen answers the screen: the next hop carries `key`.
    pub fn press(&mut self, key: &str) {
        self.typed.push(key.to_owned());
    }

    /// The hop built from the dialogue as it stands went out (answered or not).
    pub fn sent(&mut self) {
        self.hops += 1;
    }

    /// `screen` (the reply `raw`) came back for the last hop sent.
    pub fn answered(&mut self, screen: &Screen, raw: &str) {
        self.last_reply = raw.to_owned();
        self.client_state = screen.client_state.clone();
    }

    /// The dialogue as it was when only the first `inputs` inputs had been typed, to build
    /// the older hop a chaotic replay sends again (Hubtel's `Sequence` goes back with it).
    pub fn as_of(&self, inputs: usize) -> Dialogue {
        let inputs = inputs.min(self.typed.len());
        Dialogue {
            typed: self.typed[..inputs].to_vec(),
            hops: inputs as u32,
            ..self.clone()
        }
    }
}

/// A dial string a handset can send: `*`, then digits and `*`, then `#`, at most 182 long.
pub(crate) fn is_dial_string(code: &str) -> bool {
    code.len() >= 3
        && code.len() <= 182
        && code.starts_with('*')
        && code.ends_with('#')
        && code[1..code.len() - 1]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*')
}

/// What a handset keypad can send as one answer: `0-9`, `*` and `#` (possibly nothing).
pub(crate) fn is_keypad_input(key: &str) -> bool {
    key.len() <= 182
        && key
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "*152*00#";

    #[test]
    fn cumulative_text_joins_extension_and_typed_inputs() {
        let mut dialogue = Dialogue::new("s1".into(), "255754123456", "*152*00#", ROOT);
        assert_eq!(dialogue.cumulative_text(), "");
        assert_eq!(dialogue.latest(), None);
        dialogue.typed.push("1".into());
        dialogue.typed.push("12345678".into());
        assert_eq!(dialogue.cumulative_text(), "1*12345678");
        assert_eq!(dialogue.latest(), Some("12345678"));

        let mut direct = Dialogue::new("s2".into(), "255754123456", "*152*00*1*1#", ROOT);
        assert_eq!(direct.service_code, ROOT);
        assert_eq!(direct.cumulative_text(), "1*1");
        direct.typed.push("12345678".into());
        assert_eq!(direct.cumulative_text(), "1*1*12345678");
    }

    #[test]
    fn an_older_hop_is_the_dialogue_as_it_was() {
        let mut dialogue = Dialogue::new("s3".into(), "255754123456", "*152*00*1#", ROOT);
        for key in ["1", "12345678"] {
            dialogue.sent();
            dialogue.press(key);
        }
        dialogue.sent();
        let older = dialogue.as_of(1);
        assert_eq!((older.cumulative_text(), older.hops), ("1*1".to_owned(), 1));
        assert_eq!(older.latest(), Some("1"));
        let dial = dialogue.as_of(0);
        assert_eq!(
            (dial.cumulative_text(), dial.hops, dial.latest()),
            ("1".to_owned(), 0, None)
        );
        assert_eq!(
            dialogue.as_of(9),
            Dialogue {
                hops: 2,
                ..dialogue.clone()
            }
        );
        assert!(new_session_id(Format::AfricasTalking).starts_with("ATUid_"));
        assert_eq!(new_session_id(Format::Hubtel).len(), 32);
    }

    #[test]
    fn handsets_send_only_keypad_characters() {
        for good in ["*152*00#", "*152*00*1*1#", "*1#"] {
            assert!(is_dial_string(good), "{good}");
        }
        for bad in ["", "*#", "152", "*152*00", "#152#", "*15a#", "* 152#"] {
            assert!(!is_dial_string(bad), "{bad}");
        }
        for good in ["", "1", "12345678", "0", "*", "#", "12*34"] {
            assert!(is_keypad_input(good), "{good}");
        }
        for bad in ["a", "1 2", "+", "١"] {
            assert!(!is_keypad_input(bad), "{bad}");
        }
        assert!(!is_keypad_input(&"1".repeat(183)));
    }
}
