//! Herald as one program: the [`stack`] that starts every service from one set of settings.
#![forbid(unsafe_code)]

pub mod stack;

pub use stack::{Running, Stack};
