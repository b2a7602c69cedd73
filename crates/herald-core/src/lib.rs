//! Herald's domain: typed ids, errors and their gRPC mapping, validation of what clients send,
//! audiences, customer profiles, locales, device import files, the delivery status machine, delivery analytics, event triggers (CEL conditions, the built-in call and message types), Wazo's push request, retry backoff and secret sealing. Pure logic, no I/O
//! and no provider code (that is `herald-providers`).
#![forbid(unsafe_code)]

pub mod backoff;
pub mod caps;
pub mod crypto;
pub mod customers;
pub mod error;
pub mod ids;
pub mod import;
pub mod locale;
pub mod names;
pub mod options;
pub mod personalize;
pub mod platform;
pub mod segments;
pub mod stats;
pub mod status;
pub mod time;
pub mod timing;
pub mod topics;
pub mod triggers;
pub mod validate;
pub mod vars;
pub mod wazo;

pub use error::{Error, Result};
