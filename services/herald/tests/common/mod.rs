//! What the tests that run the `herald` binary share.

use std::net::TcpListener;
use std::process::Child;
use std::time::{Duration, Instant};

pub const HERALD: &str = env!("CARGO_BIN_EXE_herald");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `herald up` process, killed if the test ends before it stopped.
pub struct Up(pub Child);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// Waits until something listens on `port` (`herald up` serves its API once every service
/// started), or `up` exits, or two minutes pass (a loaded CI machine runs the chaos tests beside
/// it); then says why, with `herald up`'s log when it writes one.
pub fn wait_listening(up: &mut Up, port: u16, log: Option<&std::path::Path>) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = up.0.try_wait().ok().flatten();
        if exited.is_some() || started.elapsed() > Duration::from_secs(120) {
            let log = log
                .and_then(|l| std::fs::read_to_string(l).ok())
                .unwrap_or_default();
            panic!("herald up did not start listening ({exited:?}): {log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
