pub mod request;
pub mod input;
pub mod notices;
pub mod store;
