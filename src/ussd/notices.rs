//! What the gateway itself tells a citizen when it cannot serve them, in their language.
//! Menu texts belong to menu files; these are the few the engine owns.

use crate::language::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A shared part (sessions, database) is down.
    Unavailable,
    /// The dialled code leads nowhere.
    UnknownCode,
    /// Too many hops from one number in a short time.
    TooFast,
    /// An answer arrived for a dialogue that is over (idle too long, or lost).
    SessionExpired,
    /// A hop arrived for a dialogue that has ended.
    DialogueOver,
    /// The previous hop of this dialogue is still being answered.
    Busy,
    /// The hop names another number than the dialogue it claims to continue.
    CannotContinue,
    /// The number already holds as many live dialogues as it may.
    TooManyDialogues,
    /// The back office is still answering; its result follows by SMS.
    ResultBySms,
}

pub fn notice(kind: Notice, language: Language) -> &'static str {
    let swahili = language == Language::SWAHILI;
    match (kind, swahili) {
        (Notice::Unavailable, true) => {
            "Samahani, huduma haipatikani kwa sasa. Tafadhali jaribu tena baadaye."
        }
        (Notice::Unavailable, false) => {
            "Sorry, the service is temporarily unavailable. Please try again later."
        }
        (Notice::UnknownCode, true) => {
            "Namba uliyopiga haitumiki. Tafadhali hakiki namba na ujaribu tena."
        }
        (Notice::UnknownCode, false) => {
            "The code you dialled is not in use. Please check it and try again."
        }
        (Notice::SessionExpired, true) => {
            "Muda wa kipindi hiki umekwisha. Tafadhali piga tena namba ya huduma."
        }
        (Notice::SessionExpired, false) => {
            "This session has timed out. Please dial the service code again."
        }
        (Notice::DialogueOver, true) => {
            "Kipindi hiki kimekwisha. Tafadhali piga tena namba ya huduma."
        }
        (Notice::DialogueOver, false) => {
            "This session has ended. Please dial the service code again."
        }
        (Notice::Busy, true) => "Ombi lako bado linashughulikiwa. Tafadhali subiri kidogo.",
        (Notice::Busy, false) => {
            "Your previous request is still being processed. Please wait a moment."
        }
        (Notice::CannotContinue, true) => {
            "Samahani, kipindi hiki hakiwezi kuendelea. Tafadhali piga tena namba ya huduma."
        }
        (Notice::CannotContinue, false) => {
            "Sorry, this session cannot continue. Please dial the service code again."
        }
        (Notice::TooManyDialogues, true) => {
            "Una vipindi vingi vilivyo wazi. Tafadhali maliza kimoja kisha ujaribu tena."
        }
        (Notice::TooManyDialogues, false) => {
            "You have too many open sessions. Please finish one and try again."
        }
        (Notice::TooFast, true) => {
            "Maombi mengi mno kwa muda mfupi. Tafadhali subiri kidogo kisha ujaribu tena."
        }
        (Notice::ResultBySms, true) => {
            "Ombi lako limepokelewa na bado linashughulikiwa. Utapokea jibu kwa SMS hivi punde."
        }
        (Notice::ResultBySms, false) => {
            "Your request has been received and is still being processed. The result will follow by SMS shortly."
        }
        (Notice::TooFast, false) => {
            "Too many requests in a short time. Please wait a moment and try again."
        }
    }
}
