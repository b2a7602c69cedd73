//! What `herald up` starts beside itself ends with it, however it ends, and what it creates is
//! private to its owner.

use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{HERALD, Up, free_port, wait_listening};

fn alive(pid: &str) -> bool {
    // A zombie has exited; only its parent's wait is missing.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

#[test]
fn the_nats_server_herald_up_started_does_not_outlive_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("herald-data");
    let api_port = free_port();
    let mut up = Up(Command::new(HERALD)
        .args(["up", "--grpc-addr", &format!("127.0.0.1:{api_port}")])
        .env("HERALD_DATA_DIR", &data_dir)
        .env(
            "HERALD_NATS_URL",
            format!("nats://127.0.0.1:{}", free_port()),
        )
        .env("HERALD_HEALTH_ADDR", "127.0.0.1:0")
        .env("HERALD_METRICS_ADDR", "127.0.0.1:0")
        .env_remove("HERALD_DATABASE_URL")
        .env_remove("HERALD_MASTER_KEY")
        .env_remove("HERALD_ADMIN_KEY")
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start herald up"));
    wait_listening(&mut up, api_port, None);
    let pid = std::fs::read_to_string(data_dir.join("nats-server.pid"))
        .expect("herald up started nats-server")
        .trim()
        .to_owned();
    assert!(alive(&pid), "nats-server runs");

    // The database holds key hashes, sealed credentials and every message.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(data_dir.join("herald.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "herald.db is readable by others");

    up.0.kill().unwrap();
    up.0.wait().unwrap();
    let killed = Instant::now();
    while alive(&pid) {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "nats-server {pid} outlived herald up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
