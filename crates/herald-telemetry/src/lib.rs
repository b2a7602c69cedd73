//! What Herald reports about itself: Prometheus metrics ([`metrics`]) every service records
//! into and serves at `/metrics`.
#![forbid(unsafe_code)]

pub mod metrics;

pub use metrics::{metrics, timed};
