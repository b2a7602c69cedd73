//! Stopping a service process the way an orchestrator does.

pub use herald_runtime::terminate;
