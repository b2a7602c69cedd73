//! Herald's domain: typed ids, errors and their gRPC mapping, validation of what clients send,
//! the delivery status machine, secret sealing and provider payload mapping. Pure logic, no I/O.
#![forbid(unsafe_code)]

pub mod backoff;
pub mod crypto;
pub mod error;
pub mod ids;
pub mod payload;
pub mod platform;
pub mod status;
pub mod time;
pub mod validate;
pub mod webpush;

pub use error::{Error, Result};
