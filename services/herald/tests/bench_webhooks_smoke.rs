//! `herald bench-webhooks` on a small load, with a short outage and a short retry schedule: its
//! report proves every event reached the receiver with the receiver up, and after it came back.
//! The figures themselves are not checked (this is not a timed test).

use std::process::Command;

use serde_json::Value;

#[test]
fn a_small_webhook_bench_counts_every_event_through_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["bench-webhooks", "--devices", "150", "--mode", "in-process"])
        .args(["--down-secs", "2", "--retry", "1,1,1,1,1"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run herald bench-webhooks");
    assert!(
        output.status.success(),
        "herald bench-webhooks failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let up = &report["receiver_up"];
    assert_eq!(up["events_received"].as_u64(), Some(150), "{up}");
    assert!(up["events_per_sec"].as_f64().unwrap() > 0.0);
    let down = &report["receiver_down"];
    assert_eq!(down["down_secs"].as_u64(), Some(2), "{down}");
    assert_eq!(down["events_received"].as_u64(), Some(150), "{down}");
    assert_eq!(down["lost"].as_u64(), Some(0), "{down}");
}
