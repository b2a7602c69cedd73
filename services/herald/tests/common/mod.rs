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
/// started).
pub fn wait_listening(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "herald up did not start listening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
