//! What Herald reports about itself: Prometheus metrics ([`metrics`]) every service records
//! into and serves at `/metrics`, and OpenTelemetry traces ([`trace`]) that follow a
//! notification across the services through the bus's message headers.
#![forbid(unsafe_code)]

pub mod metrics;
pub mod trace;

pub use metrics::{metrics, timed};
