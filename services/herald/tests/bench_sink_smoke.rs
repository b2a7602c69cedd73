//! `herald bench --sink`: APNs requests and Web Push subscriptions go to an outside HTTP/2 server
//! instead of the mocks (`scripts/bench-peers` uses h2o; here a TLS server of the test kit
//! answering as the providers do), deliveries are counted from Herald's receipts, and the sink
//! saw each of them exactly once.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use herald_testkit::tls::{HttpsServer, TestCa};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_bench_run_against_a_sink_counts_every_push_once() {
    let ca = TestCa::new().unwrap();
    let arrived = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let seen = arrived.clone();
    let sink = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let seen = seen.clone();
        async move {
            let path = request.uri().path().to_owned();
            let id = request
                .headers()
                .get("apns-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let _ = axum::body::to_bytes(request.into_body(), 1 << 20).await;
            let status = if path.starts_with("/3/device/") {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            seen.lock().unwrap().push((path, id));
            status
        }
    });
    let server = HttpsServer::start(&ca, sink, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("sink-ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).unwrap();
    let out = dir.path().join("report.json");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_herald"));
    command
        .args(["bench", "--devices", "40", "--notifications", "60"])
        .args([
            "--batch",
            "5",
            "--clients",
            "2",
            "--mix",
            "apns=50,webpush=50",
        ])
        .args(["--sink", &server.base_url()])
        .arg("--out")
        .arg(&out)
        .env("HERALD_EXTRA_CA_FILE", &ca_file);
    // The sink serves on this test's runtime while the bench runs.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run herald bench");
    assert!(
        output.status.success(),
        "herald bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let counts = &report["counts"];
    let expected = counts["expected_deliveries"].as_u64().unwrap();
    assert!(expected >= 60, "{counts}");
    assert_eq!(counts["receipts_recorded"].as_u64(), Some(expected));
    assert_eq!(counts["failed"].as_u64(), Some(0));
    assert_eq!(counts["lost"].as_u64(), Some(0));
    assert!(report["deliveries_per_second"].as_f64().unwrap() > 0.0);

    let arrived = arrived.lock().unwrap();
    assert_eq!(arrived.len() as u64, expected, "each delivery once");
    let apns = arrived
        .iter()
        .filter(|(path, _)| path.starts_with("/3/device/"))
        .count();
    let web = arrived
        .iter()
        .filter(|(path, _)| path.starts_with("/push/"))
        .count();
    assert!(apns > 0 && web > 0, "both providers reached the sink");
    assert_eq!(apns + web, arrived.len(), "only the two providers' paths");
    let apns_ids: std::collections::HashSet<&str> = arrived
        .iter()
        .filter(|(path, _)| path.starts_with("/3/device/"))
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(apns_ids.len(), apns, "no APNs delivery arrived twice");
}

#[test]
fn a_sink_must_be_an_https_origin_and_the_mix_apns_or_webpush() {
    for (sink, mix) in [
        ("http://127.0.0.1:9", "apns=1"),
        ("https://127.0.0.1:9/path", "apns=1"),
        ("https://127.0.0.1:9", "fcm=1,apns=1"),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["bench", "--sink", sink, "--mix", mix])
            .output()
            .expect("run herald bench");
        assert!(!output.status.success(), "{sink} {mix} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--sink"), "{stderr}");
    }
}
