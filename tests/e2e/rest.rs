//! The REST surface beside gRPC: a curl user's journey (send, read the message, devices,
//! reports, events) and the OpenAPI document, checked by schemathesis against the running
//! server (the document loads and is valid, every operation answers as it describes).

use std::time::Duration;

use herald_e2e::{DbBackend, Stack};
use serde_json::{Value, json};

/// A REST call with a key: its status and JSON body (null when it has none).
async fn call(
    stack: &Stack,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", stack.endpoint))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.expect("the REST surface answers");
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body: {text}"))
    };
    (status, json)
}

#[tokio::test]
async fn a_curl_user_sends_reads_and_reports_without_grpc() {
    use reqwest::Method;
    let stack = Stack::start(DbBackend::Sqlite).await;
    let acme = stack.tenant("acme").await;
    let key = acme.key.clone();
    let (status, registered) = call(
        &stack,
        &key,
        Method::POST,
        "/v1/devices",
        Some(json!({"user_id": "alice", "platform": "PLATFORM_ANDROID", "push_token": "tok-rest"})),
    )
    .await;
    assert_eq!(status, 200, "{registered}");
    assert_eq!(registered["created"], true);
    let device_id = registered["device"]["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, listed) = call(&stack, &key, Method::GET, "/v1/devices?user_id=alice", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["devices"][0]["device_id"], device_id.as_str());
    // 64-bit integers come back as strings, enums by name.
    assert!(listed["devices"][0]["created_at_ms"].is_string());
    assert_eq!(listed["devices"][0]["platform"], "PLATFORM_ANDROID");

    let (status, sent) = call(
        &stack,
        &key,
        Method::POST,
        "/v1/notifications",
        Some(json!({"destination": {"user_id": "alice"},
                    "notification": {"title": "Hello", "body": "Over REST", "data": {"order": "42"}}})),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    let message_id = sent["message_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/messages/{message_id}");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let delivery = loop {
        let (status, message) = call(&stack, &key, Method::GET, &path, None).await;
        assert_eq!(status, 200);
        let d = &message["deliveries"][0];
        if d["status"] == "DELIVERY_STATUS_SUBMITTED" {
            break d.clone();
        }
        assert!(std::time::Instant::now() < deadline, "{message}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let report = format!(
        "/v1/deliveries/{}/reports",
        delivery["delivery_id"].as_str().unwrap()
    );
    let (status, _) = call(
        &stack,
        &key,
        Method::POST,
        &report,
        Some(json!({"kind": "DEVICE_EVENT_KIND_READ"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, stats) = call(&stack, &key, Method::GET, &format!("{path}/stats"), None).await;
    assert_eq!(status, 200, "{stats}");

    // The tenant's messages, newest first, a page at a time.
    let (_, second) = call(
        &stack,
        &key,
        Method::POST,
        "/v1/notifications",
        Some(json!({"destination": {"user_id": "alice"}, "notification": {"title": "Again"}})),
    )
    .await;
    let (status, first_page) =
        call(&stack, &key, Method::GET, "/v1/messages?page_size=1", None).await;
    assert_eq!(status, 200, "{first_page}");
    assert_eq!(
        first_page["messages"][0]["message_id"],
        second["message_id"]
    );
    let token = first_page["next_page_token"].as_str().unwrap();
    let (_, next_page) = call(
        &stack,
        &key,
        Method::GET,
        &format!("/v1/messages?page_size=1&page_token={token}"),
        None,
    )
    .await;
    assert_eq!(next_page["messages"][0]["message_id"], message_id.as_str());
    assert_eq!(next_page["messages"][0]["notification"]["title"], "Hello");

    // Browsers call the gRPC services with gRPC-Web (HTTP/1.1, trailers in the body).
    let request = herald_proto::v1::GetMessageRequest {
        message_id: message_id.clone(),
    };
    let mut frame = vec![0u8];
    frame.extend_from_slice(
        &u32::try_from(prost::Message::encoded_len(&request))
            .unwrap()
            .to_be_bytes(),
    );
    frame.extend_from_slice(&prost::Message::encode_to_vec(&request));
    let answer = reqwest::Client::builder()
        .http1_only()
        .build()
        .unwrap()
        .post(format!(
            "{}/herald.v1.Notifications/GetMessage",
            stack.endpoint
        ))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", "https://app.example")
        .bearer_auth(&key)
        .body(frame)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "*",
        "a page of any origin may call it"
    );
    let body = answer.bytes().await.unwrap();
    assert_eq!(body[0], 0, "a data frame comes first");
    let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
    let got: herald_proto::v1::GetMessageResponse =
        prost::Message::decode(&body[5..5 + len]).unwrap();
    assert_eq!(got.message.unwrap().message_id, message_id);
    let trailers = String::from_utf8_lossy(&body[5 + len + 5..]).to_lowercase();
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    // Events over REST.
    let (status, published) = call(
        &stack,
        &key,
        Method::POST,
        "/v1/events",
        Some(json!({"event_type": "missedCall", "payload_json": "{\"user_uuid\": \"nobody\"}"})),
    )
    .await;
    assert_eq!(status, 200, "{published}");
    let event = format!("/v1/events/{}", published["event_id"].as_str().unwrap());
    let (status, record) = call(&stack, &key, Method::GET, &event, None).await;
    assert_eq!(status, 200);
    assert_eq!(record["event_type"], "missedCall");

    // Errors: the field at fault, and the status of the gRPC code.
    let (status, refused) = call(
        &stack,
        &key,
        Method::POST,
        "/v1/notifications",
        Some(json!({"destination": {"user_id": "alice"}, "notification": {"title": ""}})),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["code"], "INVALID_ARGUMENT");
    assert!(refused["error"]["field"].is_string());
    let (status, bad) = call(
        &stack,
        &key,
        Method::POST,
        "/v1/notifications",
        Some(json!({"destination": {"user_id": 7}})),
    )
    .await;
    assert_eq!(
        (status, bad["error"]["field"].clone()),
        (400, json!("destination.user_id"))
    );
    let (status, bad) = call(&stack, &key, Method::GET, "/v1/devices?page_size=abc", None).await;
    assert_eq!(
        (status, bad["error"]["field"].clone()),
        (400, json!("page_size"))
    );
    // A path the API does not have: a JSON 404, not a gRPC answer.
    let (status, missing) = call(&stack, &key, Method::GET, "/v1/nope", None).await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["code"], "NOT_FOUND");
    let (status, _) = call(&stack, &key, Method::GET, "/v1/messages/msg_nope", None).await;
    assert_eq!(status, 404);
    let (status, denied) = call(&stack, "hrld_wrong", Method::GET, &path, None).await;
    assert_eq!(status, 401);
    assert_eq!(denied["error"]["code"], "UNAUTHENTICATED");
    let (status, _) = call(
        &stack,
        &key,
        Method::DELETE,
        &format!("/v1/devices/{device_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    stack.stop().await;
}

/// Where scripts/deps installs schemathesis (the user's Python scripts), else the PATH.
fn schemathesis() -> String {
    if let Ok(path) = std::env::var("HERALD_SCHEMATHESIS") {
        return path;
    }
    let base = std::process::Command::new("python3")
        .args(["-m", "site", "--user-base"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let installed = format!("{base}/bin/schemathesis");
    if std::path::Path::new(&installed).exists() {
        installed
    } else {
        "schemathesis".into()
    }
}

#[tokio::test]
async fn the_openapi_document_holds_for_what_the_server_answers() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let acme = stack.tenant("acme").await;
    acme.clone().register("alice", "tok-schema").await;
    // Its caches go to a folder of its own, not into the source tree.
    let work = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(schemathesis())
        .current_dir(work.path())
        .arg("run")
        .arg(format!("{}/v1/openapi.json", stack.endpoint))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,response_headers_conformance",
            "--max-examples",
            "30",
            "--generation-deterministic",
            "--request-timeout",
            "20",
            "--no-color",
        ])
        .args(["--header", &format!("Authorization: Bearer {}", acme.key)])
        .args(["--header", &format!("X-Auth-Token: {}", acme.key)])
        .output()
        .await
        .expect("schemathesis runs (scripts/deps python installs it)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    // Every operation of the document was exercised, and none failed a check.
    let document: Value = reqwest::get(format!("{}/v1/openapi.json", stack.endpoint))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert!(operations >= 15, "{operations}");
    assert!(
        report.contains(&format!("Selected: {operations}/{operations}"))
            && report.contains(&format!("Tested: {operations}")),
        "{report}"
    );
    assert!(!report.contains("failed"), "{report}");
    stack.stop().await;
}
