//! `herald chaos` on a short load against every target: each service process killed with
//! SIGKILL (and one sender stopped with SIGTERM), nats-server killed, the database taken away.
//! Nothing accepted may be lost, left in a wrong state or parked. Duplicates and recovery times
//! are reported, not checked (figures for docs/reliability.md come from the full runs).
//!
//! The service binaries must be built next to `herald` (`scripts/test` builds them first).

use std::process::Command;

use serde_json::Value;

fn chaos(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("chaos")
        .args(args)
        .args(["--deliveries", "600", "--rate", "150", "--devices", "200"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run herald chaos");
    let report: Option<Value> = std::fs::read(&out)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    assert!(
        output.status.success(),
        "herald chaos failed: {}\n{}\n{report:#?}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    report.expect("a report")
}

fn check(report: &Value, targets: &[&str]) {
    let runs = report["runs"].as_array().unwrap();
    let ran: Vec<&str> = runs.iter().filter_map(|r| r["target"].as_str()).collect();
    assert_eq!(ran, targets);
    for run in runs {
        assert_eq!(run["accepted"], 600, "{run}");
        assert_eq!(run["delivered"], 600, "{run}");
        assert_eq!(run["lost"], 0, "{run}");
        assert_eq!(run["wrong_final_states"], 0, "{run}");
        assert_eq!(run["dead_letters"], 0, "{run}");
        assert_eq!(run["stopped_cleanly"], true, "{run}");
        assert_eq!(
            run["deliveries_by_status"]["DELIVERY_STATUS_SUBMITTED"], 600,
            "{run}"
        );
        assert!(
            run["fault_at_seconds"].as_f64().unwrap() < run["load_seconds"].as_f64().unwrap(),
            "the fault struck under load: {run}"
        );
    }
}

#[test]
fn no_crash_of_any_process_loses_a_delivery() {
    let report = chaos(&["--target", "all"]);
    check(
        &report,
        &[
            "ingest",
            "router",
            "receipt",
            "sender-fcm",
            "sender-apns",
            "sender-hms",
            "sender-webpush",
            "nats",
            "database",
        ],
    );
}

#[test]
fn a_sender_stopped_mid_load_drains_and_loses_nothing() {
    let report = chaos(&["--target", "sender-fcm", "--signal", "term"]);
    check(&report, &["sender-fcm"]);
    assert_eq!(report["runs"][0]["signal"], "term");
}
