//! SMS: outgoing messages from agencies to citizens, starting with how their text is encoded
//! and cut into parts.

pub mod encoding;
