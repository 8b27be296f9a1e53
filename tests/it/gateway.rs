//! The whole gateway over HTTP: the demo journeys through both wire formats on both backend
//! pairs (Redis + Postgres, and the embedded default), slots and votes that one number takes
//! from others, refused callbacks, faults, operations.

mod aggregator;
mod bookings;
mod breaker;
mod callbacks;
mod directory;
mod durability;
mod exactly_once;
mod faults;
mod journeys;
mod limits;
mod listener;
mod nodes;
mod ops;

use mgov::cli::phone::Screen;

/// The 12-digit control number on an end screen, if there is one.
fn control_number(screen: &Screen) -> Option<String> {
    let re = regex::Regex::new(r"\b99\d{10}\b").unwrap();
    re.find(&screen.text).map(|m| m.as_str().to_string())
}
