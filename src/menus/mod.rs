//! Menu files: one TOML file per service under `menus/`, parsed and checked once at load,
//! then walked one input at a time by a pure [`Walker`] (the hop handler stores the session
//! and calls the back office).
//!
//! A file in brief (the full format is in `menus/maji.toml` and the tests):
//! ```toml
//! [service]
//! id = "maji"
//! agency = "dawasa"
//! title = { sw = "Maji", en = "Water" }
//! start = "home"
//! position = 1                 # its number in the root menu of *152*00# (1 to 8; 9 is the language)
//! # languages = ["sw", "en"]   # the default; the first is the fallback
//!
//! [states.home]                # options: a heading and numbered choices
//! text = { sw = "Maji", en = "Water" }
//! options = [ { label = { sw = "Angalia bili", en = "Check bill" }, next = "account" } ]
//!
//! [states.account]             # input: prompt, validation, retry text, next
//! prompt = { sw = "Namba ya akaunti:", en = "Account number:" }
//! input = { save_as = "account", pattern = "[0-9]{8}" }
//! retry = { sw = "Tarakimu 8.", en = "8 digits." }
//! next = "fetch_bill"
//!
//! [states.fetch_bill]          # action: a back-office call, fields kept, outcomes
//! action = "bills.fetch"
//! params = { account = "{account}" }
//! keep = { amount = "bills[0].amount" }
//! on = { ok = "done", not_found = "account", failed = "done" }
//! # a line above the state an outcome leads to: here, the input asking again
//! notice = { not_found = { sw = "Hatukupata akaunti {account}.", en = "No account {account}." } }
//! # follow_by_sms = true       # too slow for the hop: "result by SMS", then the end screen its
//! #                            # outcome leads to, sent by SMS (every outcome must end)
//!
//! [states.done]                # end: the last screen
//! end = { sw = "Kiasi: TZS {amount|money}", en = "Amount: TZS {amount|money}" }
//! # sms = true                 # also sent by SMS, so that the citizen keeps it
//! ```
//!
//! # Layout
//! - `raw`: the file as written (serde, unknown keys refused, positions kept).
//! - `compile`, `kinds`: raw → [`Menu`]; ids, texts, each kind of state, patterns,
//!   variable names.
//! - `check`: the graph: targets, reachability, endings, variables, actions, screen fit.
//! - `load`: a file into a menu and its problems, a folder into a [`MenuCheck`] (every
//!   problem of every file, sorted by file and line).
//! - `registered`: the [`RegisteredAgencies`] menus are checked against.
//! - `set`: [`Menu::parse`] and [`MenuSet`], every version by service.
//! - `template`, `format`: `{var.path|filter}` templates; the filters `money` (`45,000.00`),
//!   `date` (`24/11/2026 09:30`) and `day` (`Jumatatu 07/12 09:00`) per language.
//! - `input`: what an input state accepts.
//! - `walk`, `screens`, `render`, `phrases`: the [`Walker`], what each location
//!   shows, pagination, the engine's own texts.
//! - `follow_up`: results by SMS: what an action's late result needs to be rendered later,
//!   that result as the end screen it leads to, and end screens also sent by SMS.
//! - [`store`]: published menu versions in the durable store.
//! - `registry`: the [`MenuRegistry`], the menus a node serves: reloads, and versions
//!   another node published.

mod check;
mod compile;
mod error;
mod follow_up;
mod format;
mod input;
mod kinds;
mod load;
mod model;
mod phrases;
mod raw;
mod registered;
mod registry;
mod render;
mod screens;
mod set;
pub mod store;
pub(crate) mod template;
mod walk;

pub use compile::{LANGUAGE_KEY, MAX_OPTIONS, MAX_POSITION};
pub use error::MenuError;
pub use follow_up::FollowUp;
pub use load::MenuCheck;
pub(crate) use load::{file_name_error, version_of};
pub use model::Menu;
pub use registered::{RegisteredAgencies, GATEWAY_ACTIONS};
pub use registry::MenuRegistry;
pub use set::MenuSet;
pub use walk::{ActionOutcome, Step, Walker};

/// The smallest screen any telco shows (some operators allow 160 characters, most 182):
/// every menu must fit it.
pub const DEFAULT_MIN_SCREEN_LIMIT: usize = 160;
