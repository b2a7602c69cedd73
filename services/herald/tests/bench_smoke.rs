//! `herald bench` on a small load: the harness runs the whole pipeline in-process against the
//! mocks and its report proves every delivery reached a mock once and was recorded. The figures
//! themselves are not checked (this is not a timed test).

use std::process::Command;

use serde_json::Value;

#[test]
fn a_small_bench_run_reports_every_delivery_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["bench", "--devices", "60", "--notifications", "90"])
        .args(["--batch", "7", "--clients", "3", "--mock-delay-ms", "5"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run herald bench");
    assert!(
        output.status.success(),
        "herald bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let counts = &report["counts"];
    let expected = counts["expected_deliveries"].as_u64().unwrap();
    assert!(
        expected >= 90,
        "every notification goes to at least one device: {counts}"
    );
    assert_eq!(
        counts["unique_deliveries_at_mocks"].as_u64(),
        Some(expected)
    );
    assert_eq!(counts["receipts_recorded"].as_u64(), Some(expected));
    assert_eq!(counts["lost"].as_u64(), Some(0));
    assert_eq!(counts["duplicates"].as_u64(), Some(0));
    let per_provider = counts["per_provider"].as_object().unwrap();
    let total: u64 = per_provider.values().filter_map(Value::as_u64).sum();
    assert_eq!(total, expected, "{per_provider:?}");
    for provider in ["apns", "fcm", "hms", "webpush"] {
        assert!(
            per_provider.contains_key(provider),
            "no {provider} pushes: {counts}"
        );
    }
    let latency = &report["latency_ms"];
    let p50 = latency["p50"].as_f64().unwrap();
    let max = latency["max"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= max, "{latency}");
    let names: Vec<&str> = report["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"nats-server"), "{names:?}");
}
