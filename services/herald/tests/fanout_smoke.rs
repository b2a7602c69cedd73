//! `herald bench-fanout` on a small audience, with the router killed (SIGKILL) once its
//! fan-out's checkpoint has passed 30 % of the audience and started again: on SQLite and on
//! PostgreSQL, every device is reached, none twice beyond 0.1 %, and the message ends routed.
//! Pages of 100 devices make the fan-out long enough to be caught mid-way.
//!
//! The service binaries must be built next to `herald` (`scripts/test` builds them first).

use std::process::Command;

use serde_json::Value;

const DEVICES: u64 = 3_000;

fn fanout(database: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("bench-fanout")
        .args(["--devices", &DEVICES.to_string(), "--database", database])
        .args(["--kill-router-at", "0.3", "--down-secs", "0.5"])
        .args(["--timeout-secs", "240"])
        .arg("--out")
        .arg(&out)
        .env("HERALD_ROUTER_FANOUT_PAGE", "100")
        .output()
        .expect("run herald bench-fanout");
    let report: Option<Value> = std::fs::read(&out)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    assert!(
        output.status.success(),
        "herald bench-fanout failed: {}\n{}\n{report:#?}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    report.expect("a report")
}

#[test]
fn a_router_killed_mid_fan_out_goes_on_from_its_checkpoint() {
    let postgres = std::env::var("HERALD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    for database in ["sqlite", postgres.as_str()] {
        let report = fanout(database);
        let counts = &report["counts"];
        assert_eq!(counts["lost"], 0, "{report:#}");
        assert_eq!(counts["unique_at_mocks"], DEVICES, "{report:#}");
        assert!(
            counts["duplicates"].as_u64().unwrap() * 1000 <= DEVICES,
            "at most 0.1 % twice: {report:#}"
        );
        let checkpoint = report["router_kill"]["checkpoint_when_killed"]
            .as_u64()
            .expect("the router was killed mid-way");
        assert!(
            (DEVICES * 3 / 10..DEVICES).contains(&checkpoint),
            "{report:#}"
        );
        assert_eq!(report["message_state"], "Routed", "{report:#}");
    }
}
