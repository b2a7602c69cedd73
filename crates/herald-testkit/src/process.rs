//! Stopping a service process the way an orchestrator does.

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Sends SIGTERM to `child` and waits up to `grace` for it to exit.
pub fn terminate(child: &mut Child, grace: Duration) -> anyhow::Result<ExitStatus> {
    let pid = child.id().to_string();
    anyhow::ensure!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success(),
        "kill -TERM {pid} failed"
    );
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        anyhow::ensure!(
            started.elapsed() < grace,
            "process {pid} did not stop within {grace:?} of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
