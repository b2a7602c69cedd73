//! Herald as one program: the [`stack`] that starts every service from one set of settings,
//! and the operator's view of a running Herald ([`status`]).
#![forbid(unsafe_code)]

pub mod stack;
pub mod status;

pub use stack::{Running, Stack};
