//! The telco simulator over real HTTP against a recording stand-in for the gateway: each
//! format's answers, the delivery reports that follow, and every misbehaviour it can play.

#[path = "telco/behaviour.rs"]
mod behaviour;
#[path = "telco/formats.rs"]
mod formats;
#[path = "telco/rig.rs"]
mod rig;

const NUMBER: &str = "+255754123456";

/// An Africa's Talking send from the gateway's account.
pub fn at_form<'a>(to: &'a str, message: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("username", "mgov"),
        ("to", to),
        ("message", message),
        ("from", "MGOV"),
        ("bulkSMSMode", "1"),
        ("enqueue", "1"),
    ]
}

/// A Kannel sendsms to [`NUMBER`] with a DLR mask and URL.
pub fn kannel_query<'a>(text: &'a str, mask: &'a str, dlr_url: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("username", "kannel"),
        ("password", "smsbox"),
        ("from", "15200"),
        ("to", NUMBER),
        ("text", text),
        ("dlr-mask", mask),
        ("dlr-url", dlr_url),
    ]
}
