//! The README's first-notification walkthrough, run through the real `herald` binary: `herald up
//! --with-mocks` as a process, then the CLI commands the README lists, then SIGTERM.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use herald_testkit::nats::NatsServer;
use herald_testkit::process::terminate;

mod common;

use common::{HERALD, Up, free_port, wait_listening};

fn cli(data_dir: &Path, endpoint: &str, api_key: Option<&str>, args: &[&str]) -> String {
    let mut command = Command::new(HERALD);
    command
        .args(args)
        .env("HERALD_DATA_DIR", data_dir)
        .env("HERALD_ENDPOINT", endpoint)
        .env_remove("HERALD_API_KEY");
    if let Some(key) = api_key {
        command.env("HERALD_API_KEY", key);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run herald");
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    assert!(
        status.success(),
        "herald {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

#[test]
fn a_new_user_sends_a_first_notification_with_herald_up_and_the_cli() {
    let nats = NatsServer::start().expect("nats-server");
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("herald-data");
    let api_port = free_port();
    let webhook_port = free_port();
    let metrics_port = free_port();
    let endpoint = format!("http://127.0.0.1:{api_port}");
    let log = std::fs::File::create(dir.path().join("up.log")).unwrap();
    let mut up = Up(Command::new(HERALD)
        .args([
            "up",
            "--with-mocks",
            "--grpc-addr",
            &format!("127.0.0.1:{api_port}"),
        ])
        // Every mock on a free port: the fixed defaults are in the ephemeral range, where
        // another test's listener or connection may hold one.
        .args(["--mock-fcm-port", &free_port().to_string()])
        .args(["--mock-hms-port", &free_port().to_string()])
        .args(["--mock-apns-port", &free_port().to_string()])
        .args(["--mock-push-port", &free_port().to_string()])
        .args(["--mock-webhook-port", &webhook_port.to_string()])
        .env("HERALD_DATA_DIR", &data_dir)
        .env("NATS_URL", nats.url())
        .env("HERALD_METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
        .env_remove("HERALD_DATABASE_URL")
        .env_remove("HERALD_MASTER_KEY")
        .env_remove("HERALD_ADMIN_KEY")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start herald up"));
    wait_listening(&mut up, api_port, Some(&dir.path().join("up.log")));

    let created = cli(&data_dir, &endpoint, None, &["tenant", "create", "acme"]);
    let key = created
        .lines()
        .find_map(|l| l.strip_prefix("export HERALD_API_KEY="))
        .expect("the key to export")
        .to_owned();
    let tenant_id = created
        .split_whitespace()
        .find(|w| w.starts_with("tnt_"))
        .expect("the tenant id")
        .to_owned();
    assert!(key.starts_with("hrld_"));
    let tenants = cli(&data_dir, &endpoint, None, &["tenant", "list"]);
    assert!(
        tenants.contains(&tenant_id) && tenants.contains("acme"),
        "{tenants}"
    );
    let account = data_dir.join("mock-fcm-service-account.json");
    let set = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "credentials",
            "set-fcm",
            "--service-account",
            account.to_str().unwrap(),
        ],
    );
    assert!(set.contains("project herald-test"), "{set}");
    let registered = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "device",
            "register",
            "--user",
            "alice",
            "--platform",
            "android",
            "--token",
            "demo-token-1",
        ],
    );
    let device_id = registered
        .split_whitespace()
        .find(|word| word.starts_with("dev_"))
        .expect("the device id")
        .to_owned();
    // For scripts: every answer as JSON lines, in the proto3 JSON mapping.
    let listed = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &["device", "list", "--user", "alice", "--output", "json"],
    );
    let devices: Vec<serde_json::Value> = listed
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(devices.len(), 1, "{listed}");
    assert_eq!(devices[0]["device_id"], device_id.as_str());
    assert_eq!(devices[0]["platform"], "PLATFORM_ANDROID");
    // The seeds' "Send Test Notification": one device, and what the provider answered.
    let tested = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &["credentials", "test-send", "fcm", "--device", &device_id],
    );
    assert!(
        tested.contains("ONSUBMIT") && tested.contains("FCM  SUBMITTED"),
        "{tested}"
    );
    let sent = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "send",
            "--user",
            "alice",
            "--title",
            "Hello",
            "--body",
            "First push",
            "--data",
            "order=42",
            "--wait",
        ],
    );
    assert!(sent.contains("SUBMITTED"), "{sent}");
    assert!(
        sent.contains("FCM  SUBMITTED  attempts 1  projects/herald-test/messages/"),
        "{sent}"
    );
    // Watching the message: its delivery as it is now, up to the stage asked for.
    let message_id = sent
        .lines()
        .find_map(|line| line.strip_prefix("accepted message "))
        .expect("the message id")
        .trim()
        .to_owned();
    let watched = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &["message", "watch", &message_id, "--until", "submitted"],
    );
    assert!(
        watched.contains("FCM  SUBMITTED  attempts 1  projects/herald-test/messages/"),
        "{watched}"
    );
    // Sending and waiting for the gateway's answer (the seeds' "Wait For").
    let waited = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "send",
            "--user",
            "alice",
            "--title",
            "Hello again",
            "--wait-for",
            "submitted",
            "--timeout",
            "30",
        ],
    );
    assert!(waited.contains("  ONSUBMIT"), "{waited}");
    assert!(waited.contains("FCM  SUBMITTED  attempts 1"), "{waited}");
    let listed = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &["device", "list", "--user", "alice"],
    );
    assert!(
        listed.contains("ACTIVE") && listed.contains("demo-token-1"),
        "{listed}"
    );

    // Audiences: a topic with a subscribed user and imported devices, a segment, a customer.
    let run = |args: &[&str]| cli(&data_dir, &endpoint, Some(&key), args);

    // An outbound webhook at the mock receiver: tested on creation, then fed the push's report.
    let hook_url = format!("https://localhost:{webhook_port}/hook");
    let created = run(&[
        "webhook",
        "create",
        "--url",
        &hook_url,
        "--event",
        "delivery.submitted",
        "--event",
        "delivery.failed",
        "--scheme",
        "hub-sha256",
    ]);
    assert!(
        created.contains("signing secret (shown only now): whsec_")
            && created.contains("events: delivery.submitted,delivery.failed"),
        "{created}"
    );
    let hooked = run(&["send", "--user", "alice", "--title", "Hooked", "--wait"]);
    let hooked_id = hooked
        .lines()
        .find_map(|line| line.strip_prefix("accepted message "))
        .expect("the message id")
        .trim()
        .to_owned();
    let mut attempts = String::new();
    for _ in 0..100 {
        attempts = run(&["webhook", "attempts", "--message", &hooked_id]);
        if attempts.contains("delivery.submitted #1  succeeded  200") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        attempts.contains("delivery.submitted #1  succeeded  200"),
        "{attempts}"
    );
    // A notify URL: the message's own reports, signed with the tenant's notify secret.
    let notify_secret = run(&["webhook", "notify-secret"]);
    assert!(notify_secret.contains("whsec_"), "{notify_secret}");
    let notify_url = format!("https://localhost:{webhook_port}/dr");
    let tracked = run(&[
        "send",
        "--user",
        "alice",
        "--title",
        "Tracked",
        "--notify-url",
        &notify_url,
        "--wait",
    ]);
    let tracked_id = tracked
        .lines()
        .find_map(|line| line.strip_prefix("accepted message "))
        .expect("the message id")
        .trim()
        .to_owned();
    for _ in 0..100 {
        attempts = run(&["webhook", "attempts", "--message", &tracked_id]);
        if attempts.contains("notify-url  delivery.submitted #1  succeeded  200") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        attempts.contains("notify-url  delivery.submitted #1  succeeded  200"),
        "{attempts}"
    );
    // An app client key: the app registers its own device over REST, and may do little else.
    let app_key_out = run(&["key", "create", "--app", "--name", "demo app"]);
    assert!(app_key_out.starts_with("app key "), "{app_key_out}");
    let app_key = app_key_out
        .lines()
        .find_map(|line| line.strip_prefix("API key (shown once): "))
        .expect("the app key")
        .to_owned();
    let registered = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let answer = reqwest::Client::new()
                .post(format!("{endpoint}/v1/app/devices"))
                .bearer_auth(&app_key)
                .header("content-type", "application/json")
                .body(r#"{"user_id": "erin", "platform": "android", "push_token": "demo-token-9"}"#)
                .send()
                .await
                .expect("the REST endpoint");
            (answer.status().as_u16(), answer.text().await.unwrap())
        });
    assert_eq!(registered.0, 201, "{registered:?}");
    let erins = run(&["device", "list", "--user", "erin"]);
    assert!(erins.contains("demo-token-9"), "{erins}");
    // Analytics: the message's one delivery sent and submitted; the tenant's day by provider.
    let counted = run(&["message", "stats", &hooked_id]);
    let counts: Vec<&str> = counted
        .lines()
        .find_map(|line| line.strip_prefix("count "))
        .expect("a count row")
        .split_whitespace()
        .collect();
    assert_eq!(counts[..2], ["1", "1"], "{counted}");
    let daily = run(&["stats", "--provider", "fcm"]);
    assert!(
        daily.lines().any(|line| line.contains("  fcm  ")) && daily.contains("\ntotal "),
        "{daily}"
    );
    // Scheduling: kept until due, listed, moved, cancelled.
    let scheduled_id = |out: &str| {
        out.split_whitespace()
            .nth(2)
            .expect("accepted message <id>")
            .to_owned()
    };
    let later = scheduled_id(&run(&[
        "send", "--user", "alice", "--title", "Later", "--at", "+1h",
    ]));
    let dropped = scheduled_id(&run(&[
        "send", "--user", "alice", "--title", "Never", "--at", "+1h",
    ]));
    let listed = run(&["message", "scheduled"]);
    assert!(
        listed.contains(&later) && listed.contains(&dropped) && listed.contains("SCHEDULED"),
        "{listed}"
    );
    run(&["message", "reschedule", &later, "--at", "+2s"]);
    let cancelled = run(&["message", "cancel", &dropped]);
    assert!(cancelled.contains("CANCELLED"), "{cancelled}");
    let fired = run(&["message", "get", &later, "--wait"]);
    assert!(fired.contains("SUBMITTED"), "{fired}");
    assert!(!run(&["message", "scheduled"]).contains(&dropped));
    // Delivery policy: one marketing push a day per user; the second one is capped.
    let policy = run(&[
        "tenant",
        "policy",
        &tenant_id,
        "--cap",
        "marketing:1/1d/user",
        "--rate-limit",
        "fcm:600000",
    ]);
    assert!(
        policy.contains("cap          marketing at most 1 in 86400 s per user")
            && policy.contains("rate limit   fcm 600000 a minute"),
        "{policy}"
    );
    // The services read a tenant's settings again within a couple of seconds.
    std::thread::sleep(std::time::Duration::from_secs(3));
    for (title, outcome) in [("Sale", "SUBMITTED"), ("Another sale", "frequency cap")] {
        let sent = run(&[
            "send",
            "--user",
            "alice",
            "--title",
            title,
            "--class",
            "marketing",
            "--wait",
        ]);
        assert!(sent.contains(outcome), "{sent}");
    }
    run(&["topic", "create", "news"]);
    run(&["topic", "subscribe", "news", "--user", "alice"]);
    let csv = dir.path().join("devices.csv");
    std::fs::write(
        &csv,
        "user,platform,token,locale,topics\n\
         carol,android,demo-token-2,de-AT,news\n\
         dave,android,demo-token-3,fr,news\n",
    )
    .unwrap();
    let imported = run(&["device", "import", csv.to_str().unwrap()]);
    assert!(
        imported.contains("imported 2 devices (2 new)"),
        "{imported}"
    );
    let broadcast = run(&["send", "--topic", "news", "--title", "Breaking", "--wait"]);
    assert_eq!(
        broadcast.matches("FCM  SUBMITTED").count(),
        3,
        "{broadcast}"
    );
    run(&["segment", "create", "german", "news && locale == de"]);
    let german = run(&["send", "--segment", "german", "--title", "Hallo", "--wait"]);
    assert_eq!(german.matches("FCM  SUBMITTED").count(), 1, "{german}");
    let customer = run(&[
        "customer", "create", "crm-1", "--user", "alice", "--user", "carol",
    ]);
    assert!(customer.contains("users: alice, carol"), "{customer}");
    let personal = run(&[
        "send",
        "--customer",
        "$(c)",
        "--var",
        "c=crm-1",
        "--title",
        "Hi $(c)",
        "--wait",
    ]);
    assert_eq!(personal.matches("FCM  SUBMITTED").count(), 2, "{personal}");

    // A browser: the mock push service's ready subscription, decrypted when it arrives.
    let vapid = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "credentials",
            "generate-vapid",
            "--subject",
            "mailto:you@example.com",
        ],
    );
    assert!(vapid.contains("applicationServerKey"), "{vapid}");
    let subscription = data_dir.join("mock-web-subscription.json");
    cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "device",
            "register",
            "--user",
            "bob",
            "--platform",
            "web",
            "--browser",
            "chrome",
            "--subscription",
            subscription.to_str().unwrap(),
        ],
    );
    let sent = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "send",
            "--user",
            "bob",
            "--title",
            "Hi Bob",
            "--body",
            "On the web",
            "--wait",
        ],
    );
    assert!(sent.contains("WEBPUSH  SUBMITTED"), "{sent}");

    // Events: a custom trigger with a condition and templates, then a built-in call type
    // through a mobile session, then Wazo's endpoint as the seeds' curl example calls it.
    let trigger = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "trigger",
            "create",
            "--name",
            "Escalations of bot b1",
            "--event-type",
            "conversation.escalated",
            "--condition",
            "bot.id == 'b1' && priority >= 2",
            "--title",
            "{{ bot.name }} needs you",
            "--body",
            "{{ event.customer.name | default('A customer') }} asked for a person",
            "--user",
            "{{ event.agent }}",
            "--provider",
            "fcm",
        ],
    );
    assert!(trigger.contains("created trigger trg_"), "{trigger}");
    let escalation = |bot: &str| {
        format!(
            r#"{{"bot": {{"id": "{bot}", "name": "Omnibot"}}, "priority": 3, "agent": "alice", "customer": {{"name": "Dana"}}}}"#
        )
    };
    let fired = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "event",
            "publish",
            "conversation.escalated",
            "--json",
            &escalation("b1"),
        ],
    );
    assert!(
        fired.contains(": 1 message(s)") && fired.contains("sent msg_"),
        "{fired}"
    );
    let quiet = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "event",
            "publish",
            "conversation.escalated",
            "--json",
            &escalation("b2"),
        ],
    );
    assert!(
        quiet.contains(": 0 message(s)") && quiet.contains("the condition is false"),
        "{quiet}"
    );
    const WAZO_USER: &str = "123e4567-e89b-12d3-a456-426614174000";
    let missed = format!(
        r#"{{"user_uuid": "{WAZO_USER}", "caller_id_name": "Ada", "caller_id_number": "1001"}}"#
    );
    let nobody = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &["event", "publish", "missedCall", "--json", &missed],
    );
    assert!(nobody.contains("no active mobile session"), "{nobody}");
    let login = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &[
            "mobile",
            "login",
            "--user",
            WAZO_USER,
            "--platform",
            "android",
            "--token",
            "demo-token-wazo",
        ],
    );
    assert!(login.starts_with("session mss_"), "{login}");
    let rang = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &["event", "publish", "missedCall", "--json", &missed],
    );
    assert!(rang.contains(": 1 message(s)"), "{rang}");
    let seed_body = format!(
        r#"{{"title": "Example notification", "body": "This is an example notification", "notification_type": "exampleNotification", "extra": {{"mykey": "myvalue"}}, "user_uuid": "{WAZO_USER}"}}"#
    );
    let status = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::Client::new()
            .post(format!(
                "{endpoint}/api/wazo-webhookd/1.0/mobile/notifications"
            ))
            .header("X-Auth-Token", &key)
            .header("Content-Type", "application/json")
            .header("Wazo-Tenant", &tenant_id)
            .body(seed_body)
            .send()
            .await
            .expect("the Wazo endpoint answers")
            .status()
    });
    assert_eq!(status.as_u16(), 204);
    // The REST surface, as the README's curl calls it, and its OpenAPI document.
    let (sent, document) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = reqwest::Client::new();
        let sent: serde_json::Value = client
            .post(format!("{endpoint}/v1/notifications"))
            .bearer_auth(&key)
            .json(&serde_json::json!({"destination": {"user_id": "alice"},
                                      "notification": {"title": "Hello", "body": "Over REST"}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let document: serde_json::Value = client
            .get(format!("{endpoint}/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (sent, document)
    });
    let message_id = sent["message_id"].as_str().expect("a message id");
    let shown = cli(
        &data_dir,
        &endpoint,
        Some(&key),
        &["message", "get", message_id, "--wait"],
    );
    assert!(shown.contains("FCM  SUBMITTED"), "{shown}");
    assert_eq!(document["openapi"], "3.0.3");
    let events = cli(&data_dir, &endpoint, Some(&key), &["event", "list"]);
    assert!(
        events.contains("exampleNotification from wazo (1 message(s))"),
        "{events}"
    );

    // Operating it: the metrics Prometheus scrapes, and `herald status`.
    let metrics = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .await
            .expect("/metrics answers")
            .text()
            .await
            .unwrap()
    });
    assert!(
        metrics.contains(r#"herald_deliveries_total{provider="fcm",outcome="submitted"}"#),
        "{metrics}"
    );
    let status = Command::new(HERALD)
        .arg("status")
        .env("HERALD_DATA_DIR", &data_dir)
        .env("NATS_URL", nats.url())
        .output()
        .expect("run herald status");
    let shown = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{shown}");
    assert!(shown.contains("sender-fcm"), "{shown}");
    assert!(shown.contains("outbox: 0"), "{shown}");

    // `herald drain`: the services stop taking work, finish what they hold, and the process
    // waits for SIGTERM.
    let drained = Command::new(HERALD)
        .args(["drain", "--addr", &format!("127.0.0.1:{metrics_port}")])
        .output()
        .expect("run herald drain");
    let said = String::from_utf8_lossy(&drained.stdout);
    assert!(
        drained.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&drained.stderr)
    );
    assert!(said.contains("drained in"), "{said}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        up.0.try_wait().unwrap().is_none(),
        "a drained process waits for SIGTERM"
    );

    // SIGTERM: every service drains and the process exits cleanly.
    let status = terminate(&mut up.0, Duration::from_secs(30)).expect("herald up stops on SIGTERM");
    let mut log = String::new();
    std::fs::File::open(dir.path().join("up.log"))
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(status.success(), "exit {status}: {log}");
    assert!(log.contains("mock FCM accepted a push"), "{log}");
    assert!(
        !log.contains(herald_testkit::hms::APP_SECRET),
        "the mock HMS secret is in the log"
    );
    assert!(
        log.contains("mock push service delivered a message") && log.contains("Hi Bob"),
        "{log}"
    );
    assert!(
        log.contains("mock webhook receiver got an event")
            && log.contains("webhook.test")
            && log.contains("delivery.submitted"),
        "{log}"
    );
    for service in [
        "ingest stopped",
        "router stopped",
        "receipt stopped",
        "sender stopped",
        "dispatcher stopped",
    ] {
        assert!(log.contains(service), "missing {service:?} in {log}");
    }
    // Keys were generated into the data directory, readable only by their owner.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(data_dir.join("master.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "master.key is readable by others");
}

#[test]
fn the_shells_complete_herald_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let output = Command::new(HERALD)
            .args(["completions", shell])
            .output()
            .expect("run herald");
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).unwrap();
        for word in ["send", "device", "credentials", "webhook"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
    }
}
