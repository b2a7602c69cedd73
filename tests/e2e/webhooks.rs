//! Outbound webhooks end to end: endpoints tested on creation, every delivery event posted and
//! signed both ways (checked with the Standard Webhooks reference implementation and an
//! independent HMAC), retries by the endpoint's policy, disabling, attempts, replay, rotation
//! and the SSRF guard. Receivers run on loopback over TLS; the stack allow-lists loopback.

use std::time::Duration;

use herald_e2e::{DbBackend, Stack, Tenant};
use herald_proto::v1::*;
use herald_testkit::fcm::Answer;
use herald_testkit::webhook::{Received, WebhookReceiver};
use hmac::{KeyInit as _, Mac as _};
use tonic::Code;

const LOOPBACK: [&str; 2] = ["127.0.0.0/8", "::1/128"];

async fn stack_allowing_loopback(
    backend: DbBackend,
    tune: impl FnOnce(&mut herald_runtime::Settings),
) -> Stack {
    Stack::start_tuned(backend, 1, |settings| {
        settings.webhooks.allow_networks = LOOPBACK.map(String::from).to_vec();
        tune(settings);
    })
    .await
}

fn request(url: &str, events: &[WebhookEvent]) -> CreateWebhookRequest {
    CreateWebhookRequest {
        url: url.to_owned(),
        events: events.iter().map(|e| *e as i32).collect(),
        ..Default::default()
    }
}

async fn create(acme: &mut Tenant, request: CreateWebhookRequest) -> CreateWebhookResponse {
    acme.webhooks
        .create_webhook(request)
        .await
        .expect("create webhook")
        .into_inner()
}

/// The attempts listed for `request` once there are `count` of them (they are recorded
/// just after the receiver answered), newest first.
async fn attempts_of(
    acme: &mut Tenant,
    request: ListWebhookAttemptsRequest,
    count: usize,
) -> Vec<WebhookAttempt> {
    for _ in 0..100 {
        let listed = acme
            .webhooks
            .list_webhook_attempts(request.clone())
            .await
            .expect("attempts")
            .into_inner()
            .attempts;
        if listed.len() >= count {
            return listed;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {count} attempts were recorded");
}

async fn attempts_of_message(
    acme: &mut Tenant,
    message_id: &str,
    count: usize,
) -> Vec<WebhookAttempt> {
    let request = ListWebhookAttemptsRequest {
        message_id: message_id.to_owned(),
        ..Default::default()
    };
    attempts_of(acme, request, count).await
}

async fn attempts(acme: &mut Tenant, webhook_id: &str, count: usize) -> Vec<WebhookAttempt> {
    let request = ListWebhookAttemptsRequest {
        webhook_id: webhook_id.to_owned(),
        ..Default::default()
    };
    attempts_of(acme, request, count).await
}

/// Checks a request's Standard Webhooks signature with the reference implementation.
fn verify_standard(secret: &str, received: &Received) {
    let verifier = standardwebhooks::Webhook::new(secret).expect("a whsec_ secret");
    let mut headers = http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(
            name,
            received
                .header(name)
                .unwrap_or_else(|| panic!("{name} header"))
                .parse()
                .unwrap(),
        );
    }
    verifier
        .verify(&received.body, &headers)
        .unwrap_or_else(|e| panic!("Standard Webhooks signature of {:?}: {e}", received.json()));
}

/// Checks `x-hub-signature`: the hex HMAC-SHA512 of the body, keyed with the secret as shown.
fn verify_hub_sha512(secret: &str, received: &Received) {
    let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&received.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(received.header("x-hub-signature"), Some(expected.as_str()));
}

fn of_type<'a>(received: &'a [Received], kind: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|r| r.json()["type"] == kind)
        .collect()
}

async fn every_delivery_event_is_posted_signed_both_ways(backend: DbBackend) {
    let stack = stack_allowing_loopback(backend, |_| {}).await;
    let mut acme = stack.tenant("acme").await;
    let receiver = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    let apns_only = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    let all = [
        WebhookEvent::DeliverySubmitted,
        WebhookEvent::DeliveryDelivered,
        WebhookEvent::DeliveryRead,
        WebhookEvent::DeliveryFailed,
        WebhookEvent::DeviceInactive,
        WebhookEvent::Interaction,
    ];
    let created = create(
        &mut acme,
        CreateWebhookRequest {
            signature_scheme: SignatureScheme::HubSha512 as i32,
            auth: Some(WebhookAuth {
                kind: Some(webhook_auth::Kind::Basic(BasicAuth {
                    username: "herald".into(),
                    password: "pa55".into(),
                })),
            }),
            ..request(&receiver.url(), &all)
        },
    )
    .await;
    let webhook = created.webhook.clone().unwrap();
    assert!(created.secret.starts_with("whsec_"));
    assert_eq!(webhook.auth_kind(), WebhookAuthKind::Basic);
    assert_eq!(
        webhook.retry,
        Some(RetryPolicy {
            delays_secs: vec![60, 60, 60],
            timeout_secs: 10
        }),
        "the seeds' policy is the default"
    );
    create(
        &mut acme,
        CreateWebhookRequest {
            provider: Provider::Apns as i32,
            ..request(&apns_only.url(), &all)
        },
    )
    .await;
    // The test call came first, signed like any event.
    let test_call = &receiver.received()[0];
    assert_eq!(test_call.json()["type"], "webhook.test");
    verify_standard(&created.secret, test_call);

    let good = acme.register("alice", "tok-good").await;
    acme.register("alice", "tok-dead").await;
    stack
        .mocks
        .fcm
        .script("tok-dead", [Answer::error("UNREGISTERED")]);
    let message_id = acme.send_with_context("alice").await;
    receiver.wait_for(4, Duration::from_secs(30)).await;
    let delivery_id = acme
        .message(&message_id)
        .await
        .deliveries
        .into_iter()
        .find(|d| d.device_id == good.device_id)
        .expect("alice's good device")
        .delivery_id;
    acme.report(&delivery_id, DeviceEventKind::Delivered).await;
    acme.report(&delivery_id, DeviceEventKind::Read).await;
    acme.report(&delivery_id, DeviceEventKind::Clicked).await;
    acme.notifications
        .report_delivery_event(ReportDeliveryEventRequest {
            delivery_id: delivery_id.clone(),
            kind: DeviceEventKind::Button as i32,
            button: "reply".into(),
            at_ms: 0,
        })
        .await
        .expect("a button report");
    for (kind, button) in [
        (DeviceEventKind::Button, ""),
        (DeviceEventKind::Read, "reply"),
    ] {
        let err = acme
            .notifications
            .report_delivery_event(ReportDeliveryEventRequest {
                delivery_id: delivery_id.clone(),
                kind: kind as i32,
                button: button.into(),
                at_ms: 0,
            })
            .await
            .expect_err("refused");
        assert!(err.message().starts_with("button:"), "{}", err.message());
    }
    let received = receiver.wait_for(8, Duration::from_secs(30)).await;

    for (kind, count) in [
        ("delivery.submitted", 1),
        ("delivery.failed", 1),
        ("device.inactive", 1),
        ("delivery.delivered", 1),
        ("delivery.read", 1),
        ("interaction", 2),
    ] {
        let events = of_type(&received, kind);
        assert_eq!(
            events.len(),
            count,
            "{kind}: {:?}",
            received.iter().map(Received::json).collect::<Vec<_>>()
        );
        for event in events {
            verify_standard(&created.secret, event);
            verify_hub_sha512(&created.secret, event);
            assert_eq!(
                event.header("authorization"),
                Some("Basic aGVyYWxkOnBhNTU="),
                "basic auth (RFC 7617) of herald:pa55"
            );
            let body = event.json();
            assert_eq!(body["data"]["message_id"], message_id.as_str());
            assert_eq!(body["data"]["correlation_id"], "order-42");
            assert_eq!(body["data"]["callback_data"], "{\"cart\":7}");
            assert_eq!(body["data"]["provider"], "fcm");
        }
    }
    let retired = of_type(&received, "device.inactive")[0].json();
    assert_ne!(retired["data"]["device_id"], good.device_id.as_str());
    let taps: Vec<_> = of_type(&received, "interaction")
        .iter()
        .map(|r| {
            let data = r.json()["data"].clone();
            (data["action"].clone(), data["button"].clone())
        })
        .collect();
    assert_eq!(
        taps,
        [
            (serde_json::json!("clicked"), serde_json::json!("")),
            (serde_json::json!("button"), serde_json::json!("reply"))
        ]
    );
    let reason = of_type(&received, "delivery.failed")[0].json()["data"]["reason"].clone();
    assert!(
        reason.as_str().unwrap().starts_with("UNREGISTERED"),
        "{reason}"
    );
    // Distinct events have distinct ids; the receiver dedupes by them.
    let mut ids: Vec<&str> = received
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), received.len());
    // The APNs-scoped endpoint got only its test call.
    assert_eq!(apns_only.received().len(), 1);
    // Each post is an attempt on record.
    let listed = attempts(&mut acme, &webhook.webhook_id, 7).await;
    assert_eq!(listed.len(), 7, "{listed:?}");
    assert!(
        listed
            .iter()
            .all(|a| a.outcome() == AttemptOutcome::Succeeded
                && a.status_code == 200
                && a.attempt == 1)
    );
    let of_message = ListWebhookAttemptsRequest {
        message_id: message_id.clone(),
        ..Default::default()
    };
    assert_eq!(attempts_of(&mut acme, of_message, 7).await.len(), 7);
    stack.stop().await;
}

#[tokio::test]
async fn every_delivery_event_is_posted_signed_both_ways_sqlite() {
    every_delivery_event_is_posted_signed_both_ways(DbBackend::Sqlite).await;
}

#[tokio::test]
async fn every_delivery_event_is_posted_signed_both_ways_postgres() {
    every_delivery_event_is_posted_signed_both_ways(DbBackend::Postgres).await;
}

#[tokio::test]
async fn an_endpoint_is_created_only_when_its_test_call_answers_200() {
    let stack = stack_allowing_loopback(DbBackend::Sqlite, |_| {}).await;
    let mut acme = stack.tenant("acme").await;
    let receiver = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    receiver.script([500, 204]);
    for expected in ["answered 500", "answered 204"] {
        let err = acme
            .webhooks
            .create_webhook(request(&receiver.url(), &[]))
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err.message().contains(expected), "{}", err.message());
    }
    let listed = acme
        .webhooks
        .list_webhooks(ListWebhooksRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.webhooks.is_empty(), "nothing was stored");

    // Bad input names its field and changes nothing.
    for (url, field) in [
        ("http://localhost:1/hook", "url"),
        (" https://a.example/hook", "url"),
        ("https://user:pw@a.example/hook", "url"),
    ] {
        let err = acme
            .webhooks
            .create_webhook(request(url, &[]))
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument, "{url}");
        assert!(
            err.message().starts_with(&format!("{field}:")),
            "{}",
            err.message()
        );
    }
    let err = acme
        .webhooks
        .create_webhook(CreateWebhookRequest {
            events: vec![99],
            ..request(&receiver.url(), &[])
        })
        .await
        .expect_err("refused");
    assert!(err.message().starts_with("events[0]:"), "{}", err.message());
    let err = acme
        .webhooks
        .create_webhook(CreateWebhookRequest {
            retry: Some(RetryPolicy {
                delays_secs: vec![0],
                timeout_secs: 0,
            }),
            ..request(&receiver.url(), &[])
        })
        .await
        .expect_err("refused");
    assert!(err.message().starts_with("retry:"), "{}", err.message());

    // A changed URL is tested too; an unchanged one is not.
    let created = create(&mut acme, request(&receiver.url(), &[])).await;
    let id = created.webhook.unwrap().webhook_id;
    let other = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    other.answer_by_default(503);
    let err = acme
        .webhooks
        .update_webhook(UpdateWebhookRequest {
            webhook: Some(Webhook {
                webhook_id: id.clone(),
                url: other.url(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["url".into()],
            }),
            auth: None,
        })
        .await
        .expect_err("refused");
    assert!(err.message().contains("answered 503"), "{}", err.message());
    let kept = acme
        .webhooks
        .get_webhook(GetWebhookRequest {
            webhook_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept.url, receiver.url());
    stack.stop().await;
}

#[tokio::test]
async fn the_guard_refuses_loopback_unless_the_operator_allows_it() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let receiver = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    let port = receiver
        .url()
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for url in [
        receiver.url(),
        format!("https://127.0.0.1:{port}/hook"),
        format!("https://[::ffff:127.0.0.1]:{port}/hook"),
    ] {
        let err = acme
            .webhooks
            .create_webhook(request(&url, &[]))
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::FailedPrecondition, "{url}");
        assert!(
            err.message().contains("is loopback"),
            "{url}: {}",
            err.message()
        );
    }
    assert!(
        receiver.received().is_empty(),
        "no request reached the receiver"
    );
    stack.stop().await;
}

/// A stack allowing loopback, tenant acme with alice's device, and an endpoint at a receiver.
struct Hooked {
    stack: Stack,
    acme: Tenant,
    receiver: WebhookReceiver,
    secret: String,
    id: String,
    auth_kind: WebhookAuthKind,
}

/// [`Hooked`] with the endpoint `endpoint` makes of the receiver.
async fn hooked_with(
    tune: impl FnOnce(&mut herald_runtime::Settings),
    endpoint: impl FnOnce(&WebhookReceiver) -> CreateWebhookRequest,
) -> Hooked {
    let stack = stack_allowing_loopback(DbBackend::Sqlite, tune).await;
    let mut acme = stack.tenant("acme").await;
    let receiver = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    let created = create(&mut acme, endpoint(&receiver)).await;
    acme.register("alice", "tok-a").await;
    let webhook = created.webhook.unwrap();
    Hooked {
        stack,
        acme,
        receiver,
        secret: created.secret,
        auth_kind: webhook.auth_kind(),
        id: webhook.webhook_id,
    }
}

/// [`Hooked`] with an endpoint for `delivery.submitted` with `retry` (the default policy when
/// `None`).
async fn hooked(
    tune: impl FnOnce(&mut herald_runtime::Settings),
    retry: Option<RetryPolicy>,
) -> Hooked {
    hooked_with(tune, |receiver| CreateWebhookRequest {
        retry,
        ..request(&receiver.url(), &[WebhookEvent::DeliverySubmitted])
    })
    .await
}

/// Retries a second apart.
fn one_second_apart() -> Option<RetryPolicy> {
    Some(RetryPolicy {
        delays_secs: vec![1, 1, 1],
        timeout_secs: 2,
    })
}

#[tokio::test]
async fn retries_follow_the_endpoint_policy() {
    let Hooked {
        stack,
        mut acme,
        receiver,
        id,
        ..
    } = hooked(|_| {}, one_second_apart()).await;

    // Two failures, then success: three attempts of the same event.
    receiver.script([500, 503, 200]);
    acme.send_with_context("alice").await;
    let received = receiver.wait_for(4, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 4, "the test call and three attempts");
    let ids: Vec<_> = received[1..]
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "retries repeat the event's id"
    );
    assert!(
        received[2].at - received[1].at >= Duration::from_millis(900),
        "a retry waits"
    );
    let mut listed = attempts(&mut acme, &id, 3).await;
    listed.reverse();
    let seen: Vec<_> = listed
        .iter()
        .map(|a| (a.attempt, a.outcome(), a.status_code))
        .collect();
    assert_eq!(
        seen,
        [
            (1, AttemptOutcome::Retrying, 500),
            (2, AttemptOutcome::Retrying, 503),
            (3, AttemptOutcome::Succeeded, 200)
        ]
    );
    assert!(listed[0].next_attempt_at_ms > listed[0].at_ms);

    // A status the seeds never retry: one attempt.
    receiver.script([404]);
    acme.send_with_context("alice").await;
    receiver.wait_for(5, Duration::from_secs(30)).await;
    // Failing throughout: the first try and three retries, then it gives up.
    receiver.answer_by_default(500);
    acme.send_with_context("alice").await;
    receiver.wait_for(9, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 9, "no fifth try");
    let listed = attempts(&mut acme, &id, 8).await;
    let not_retried = listed
        .iter()
        .find(|a| a.status_code == 404)
        .expect("the 404");
    assert_eq!(not_retried.outcome(), AttemptOutcome::Failed);
    assert!(
        not_retried.detail.contains("not retried"),
        "{}",
        not_retried.detail
    );
    let last = &listed[0];
    assert_eq!((last.attempt, last.outcome()), (4, AttemptOutcome::Failed));
    assert!(
        last.detail.contains("gave up after 3 retries"),
        "{}",
        last.detail
    );
    stack.stop().await;
}

#[tokio::test]
async fn gone_disables_and_replay_sends_the_reports_again() {
    let Hooked {
        stack,
        mut acme,
        receiver,
        secret,
        id,
        ..
    } = hooked(|_| {}, None).await;
    // Another endpoint watches for disabled ones.
    let watcher = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    let watching = create(
        &mut acme,
        request(&watcher.url(), &[WebhookEvent::WebhookDisabled]),
    )
    .await;
    receiver.script([410]);
    let message_id = acme.send_with_context("alice").await;
    receiver.wait_for(2, Duration::from_secs(30)).await;
    let disabled = wait_until_disabled(&mut acme, &id).await;
    let told = watcher.wait_for(2, Duration::from_secs(30)).await;
    let event = told.last().unwrap();
    verify_standard(&watching.secret, event);
    let body = event.json();
    assert_eq!(body["type"], "webhook.disabled");
    assert_eq!(body["data"]["webhook_id"], id.as_str());
    assert_eq!(body["data"]["url"], receiver.url().as_str());
    assert!(
        body["data"]["reason"].as_str().unwrap().contains("410"),
        "{body}"
    );
    assert!(disabled.failing_since_ms > 0, "its only attempt failed");
    assert!(
        disabled.disabled_reason.contains("410"),
        "{}",
        disabled.disabled_reason
    );

    let replay = ReplayWebhookRequest {
        webhook_id: id.clone(),
        message_id: message_id.clone(),
    };
    let err = acme
        .webhooks
        .replay_webhook(replay.clone())
        .await
        .expect_err("disabled");
    assert_eq!(err.code(), Code::FailedPrecondition);
    acme.webhooks
        .update_webhook(UpdateWebhookRequest {
            webhook: Some(Webhook {
                webhook_id: id.clone(),
                enabled: true,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["enabled".into()],
            }),
            auth: None,
        })
        .await
        .expect("enable");
    let queued = acme
        .webhooks
        .replay_webhook(replay)
        .await
        .unwrap()
        .into_inner()
        .queued;
    assert_eq!(queued, 1);
    let received = receiver.wait_for(3, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 3);
    assert_eq!(
        received[2].header("webhook-id"),
        received[1].header("webhook-id")
    );
    assert_eq!(
        received[2].body, received[1].body,
        "the same report, as first sent"
    );
    verify_standard(&secret, &received[2]);
    stack.stop().await;
}

async fn wait_until_disabled(acme: &mut Tenant, id: &str) -> Webhook {
    for _ in 0..100 {
        let webhook = acme
            .webhooks
            .get_webhook(GetWebhookRequest {
                webhook_id: id.to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        if !webhook.enabled {
            return webhook;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("webhook {id} was not disabled");
}

#[tokio::test]
async fn an_endpoint_failing_for_too_long_is_disabled() {
    let Hooked {
        stack,
        mut acme,
        receiver,
        id,
        ..
    } = hooked(
        |settings| settings.webhooks.disable_after_secs = 1,
        one_second_apart(),
    )
    .await;
    receiver.answer_by_default(500);
    acme.send_with_context("alice").await;
    let disabled = wait_until_disabled(&mut acme, &id).await;
    assert!(
        disabled.disabled_reason.contains("every attempt failed"),
        "{}",
        disabled.disabled_reason
    );
    assert!(disabled.failing_since_ms > 0);
    stack.stop().await;
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign() {
    let Hooked {
        stack,
        mut acme,
        receiver,
        secret,
        id,
        ..
    } = hooked(|_| {}, None).await;
    let fresh = acme
        .webhooks
        .rotate_webhook_secret(RotateWebhookSecretRequest { webhook_id: id })
        .await
        .unwrap()
        .into_inner()
        .secret;
    assert_ne!(fresh, secret);
    // The rotation was announced: the dispatcher signs with both secrets from now on.
    acme.send_with_context("alice").await;
    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    let event = &received[1];
    assert_eq!(
        event
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    verify_standard(&secret, event);
    verify_standard(&fresh, event);
    stack.stop().await;
}

#[tokio::test]
async fn oauth2_tokens_are_fetched_once_kept_and_renewed_after_a_401() {
    let Hooked {
        stack,
        mut acme,
        receiver,
        ..
    } = hooked_with(
        |_| {},
        |receiver| CreateWebhookRequest {
            auth: Some(WebhookAuth {
                kind: Some(webhook_auth::Kind::Oauth2(OAuth2ClientCredentials {
                    token_url: receiver.token_url(),
                    client_id: "herald app".into(),
                    client_secret: "s3cr:t".into(),
                    scope: "hooks.write".into(),
                    credentials_in_body: false,
                })),
            }),
            retry: one_second_apart(),
            ..request(&receiver.url(), &[WebhookEvent::DeliverySubmitted])
        },
    )
    .await;
    acme.send_with_context("alice").await;
    receiver.wait_for(4, Duration::from_secs(30)).await;
    receiver.script([401]);
    acme.send_with_context("alice").await;
    let received = receiver.wait_for(7, Duration::from_secs(30)).await;
    let seen: Vec<(&str, Option<&str>)> = received
        .iter()
        .map(|r| (r.uri.path(), r.header("authorization")))
        .collect();
    // RFC 6749 §2.3.1: the id and secret form-urlencoded, then HTTP Basic.
    let basic = "Basic aGVyYWxkK2FwcDpzM2NyJTNBdA==";
    assert_eq!(
        seen,
        [
            // Ingest's test call, with a token of its own.
            ("/token", Some(basic)),
            ("/hook", Some("Bearer tok-1")),
            // The dispatcher's first event, then the next with the token it kept.
            ("/token", Some(basic)),
            ("/hook", Some("Bearer tok-2")),
            ("/hook", Some("Bearer tok-2")),
            // That one was answered 401: a new token for the retry.
            ("/token", Some(basic)),
            ("/hook", Some("Bearer tok-3")),
        ]
    );
    let form = String::from_utf8(received[0].body.to_vec()).unwrap();
    assert_eq!(form, "grant_type=client_credentials&scope=hooks.write");
    stack.stop().await;
}

/// An authorization-code grant at `receiver`'s token endpoint: a code, or a refresh token.
fn code_grant(
    receiver: &WebhookReceiver,
    authorization_code: &str,
    refresh_token: &str,
) -> WebhookAuth {
    WebhookAuth {
        kind: Some(webhook_auth::Kind::Oauth2Code(OAuth2AuthorizationCode {
            token_url: receiver.token_url(),
            client_id: "herald app".into(),
            client_secret: "s3cr:t".into(),
            authorization_code: authorization_code.into(),
            redirect_uri: "https://app.example/cb".into(),
            code_verifier: "verifier-123".into(),
            refresh_token: refresh_token.into(),
            ..Default::default()
        })),
    }
}

#[tokio::test]
async fn an_authorization_code_is_exchanged_once_and_replaced_refresh_tokens_are_kept() {
    let Hooked {
        stack,
        mut acme,
        receiver,
        auth_kind,
        ..
    } = hooked_with(
        |_| {},
        |receiver| CreateWebhookRequest {
            auth: Some(code_grant(receiver, "code-xyz", "")),
            retry: one_second_apart(),
            ..request(&receiver.url(), &[WebhookEvent::DeliverySubmitted])
        },
    )
    .await;
    assert_eq!(auth_kind, WebhookAuthKind::Oauth2AuthorizationCode);
    acme.send_with_context("alice").await;
    receiver.wait_for(4, Duration::from_secs(30)).await;
    receiver.script([401]);
    acme.send_with_context("alice").await;
    let received = receiver.wait_for(7, Duration::from_secs(30)).await;
    let seen: Vec<(&str, u16, Option<&str>)> = received
        .iter()
        .map(|r| (r.uri.path(), r.status, r.header("authorization")))
        .collect();
    let basic = "Basic aGVyYWxkK2FwcDpzM2NyJTNBdA==";
    assert_eq!(
        seen,
        [
            // Ingest exchanges the code, and its test call uses the token that came with it.
            ("/token", 200, Some(basic)),
            ("/hook", 200, Some("Bearer tok-1")),
            // The dispatcher spends the refresh token; the server replaces it.
            ("/token", 200, Some(basic)),
            ("/hook", 200, Some("Bearer tok-2")),
            ("/hook", 401, Some("Bearer tok-2")),
            // After the 401, the replacement (stored by the dispatcher) is spent: the mock
            // refuses a spent one, so the old one here would fail.
            ("/token", 200, Some(basic)),
            ("/hook", 200, Some("Bearer tok-3")),
        ]
    );
    let forms: Vec<String> = [0, 2, 5]
        .map(|i| String::from_utf8(received[i].body.to_vec()).unwrap())
        .to_vec();
    assert_eq!(
        forms,
        [
            "grant_type=authorization_code&code=code-xyz&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=verifier-123",
            "grant_type=refresh_token&refresh_token=refresh-1",
            "grant_type=refresh_token&refresh_token=refresh-2",
        ]
    );

    // A refresh token the server does not take refuses the endpoint, saying why.
    let refused = acme
        .webhooks
        .create_webhook(CreateWebhookRequest {
            auth: Some(code_grant(&receiver, "", "refresh-unknown")),
            ..request(&receiver.url(), &[WebhookEvent::DeliverySubmitted])
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("invalid_grant"), "{refused:?}");
    let both = acme
        .webhooks
        .create_webhook(CreateWebhookRequest {
            auth: Some(code_grant(&receiver, "code", "refresh")),
            ..request(&receiver.url(), &[WebhookEvent::DeliverySubmitted])
        })
        .await
        .unwrap_err();
    assert_eq!(both.code(), Code::InvalidArgument);
    stack.stop().await;
}

#[tokio::test]
async fn a_slow_endpoint_times_out_and_retry_after_stretches_the_wait() {
    let Hooked {
        stack,
        mut acme,
        receiver,
        id,
        ..
    } = hooked(
        |_| {},
        Some(RetryPolicy {
            delays_secs: vec![1, 1, 1],
            timeout_secs: 1,
        }),
    )
    .await;
    receiver.script_slow(200, Duration::from_secs(3));
    receiver.script_retry_after(503, "3");
    receiver.script([200]);
    acme.send_with_context("alice").await;
    let received = receiver.wait_for(4, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 4, "the test call and three attempts");
    assert!(
        received[3].at - received[2].at >= Duration::from_millis(2900),
        "Retry-After: 3 stretched the 1 s wait"
    );
    let mut listed = attempts(&mut acme, &id, 3).await;
    listed.reverse();
    let first = &listed[0];
    assert_eq!(
        (first.outcome(), first.status_code),
        (AttemptOutcome::Retrying, 0)
    );
    assert!(first.detail.contains("timed out"), "{}", first.detail);
    assert!(
        (900..2500).contains(&first.duration_ms),
        "cut at the 1 s timeout: {} ms",
        first.duration_ms
    );
    assert_eq!(
        (listed[1].outcome(), listed[1].status_code),
        (AttemptOutcome::Retrying, 503)
    );
    assert!(listed[1].next_attempt_at_ms - listed[1].at_ms >= 3000);
    assert_eq!(listed[2].outcome(), AttemptOutcome::Succeeded);
    stack.stop().await;
}

/// Checks a Digest `Authorization` (RFC 7616, qop auth) with Python's hashlib: an
/// implementation of the RFC's formulas apart from Herald's.
fn verify_digest(authorization: &str, password: &str) {
    const CHECK: &str = r#"
import hashlib, re, sys
header, password = sys.argv[1], sys.argv[2]
assert header.startswith("Digest "), header
fields = dict((m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
              for m in re.finditer(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))', header[7:]))
h = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}[fields["algorithm"]]
H = lambda s: h(s.encode()).hexdigest()
ha1 = H(f'{fields["username"]}:{fields["realm"]}:{password}')
ha2 = H(f'POST:{fields["uri"]}')
expected = H(f'{ha1}:{fields["nonce"]}:{fields["nc"]}:{fields["cnonce"]}:{fields["qop"]}:{ha2}')
assert fields["response"] == expected, (fields, expected)
print(fields["algorithm"], fields["uri"])
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", CHECK, authorization, password])
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "{authorization}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "SHA-256 /digest?team=ops"
    );
}

#[tokio::test]
async fn a_digest_challenge_is_answered_at_once() {
    let Hooked {
        stack,
        mut acme,
        receiver,
        secret,
        auth_kind,
        ..
    } = hooked_with(
        |_| {},
        |receiver| CreateWebhookRequest {
            auth: Some(WebhookAuth {
                kind: Some(webhook_auth::Kind::Digest(DigestAuth {
                    username: "herald".into(),
                    password: "Circle of Life".into(),
                })),
            }),
            ..request(&receiver.digest_url(), &[WebhookEvent::DeliverySubmitted])
        },
    )
    .await;
    assert_eq!(auth_kind, WebhookAuthKind::Digest);
    acme.send_with_context("alice").await;
    let received = receiver.wait_for(4, Duration::from_secs(30)).await;
    let statuses: Vec<u16> = received.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [401, 200, 401, 200],
        "challenged, then answered, twice"
    );
    for answered in [&received[1], &received[3]] {
        verify_digest(answered.header("authorization").unwrap(), "Circle of Life");
        verify_standard(&secret, answered);
    }
    assert_eq!(received[3].json()["type"], "delivery.submitted");
    stack.stop().await;
}

/// A send to alice whose reports go to `notify_url` (with `variables`).
async fn send_notified(
    acme: &mut Tenant,
    notify_url: &str,
    variables: &[(&str, &str)],
) -> Result<String, tonic::Status> {
    acme.notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("alice".into())),
            }),
            notification: Some(herald_e2e::hello()),
            notify_url: notify_url.into(),
            variables: variables
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            correlation_id: "order-9".into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().message_id)
}

#[tokio::test]
async fn a_notify_url_gets_its_message_s_reports_signed_with_the_tenant_s_secret() {
    let stack = stack_allowing_loopback(DbBackend::Sqlite, |_| {}).await;
    let mut acme = stack.tenant("acme").await;
    let receiver = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    acme.register("alice", "tok-alice").await;

    // Until the tenant has a notify secret, a notify URL cannot be honoured.
    let refused = send_notified(&mut acme, &receiver.url(), &[])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("notify_url"), "{refused:?}");
    let secret = acme
        .webhooks
        .rotate_notify_secret(RotateNotifySecretRequest {})
        .await
        .unwrap()
        .into_inner()
        .secret;
    assert!(secret.starts_with("whsec_"));

    // The seeds' rules: a leading space is invalid; trailing spaces are trimmed.
    let leading = send_notified(&mut acme, &format!(" {}", receiver.url()), &[])
        .await
        .unwrap_err();
    assert_eq!(leading.code(), Code::InvalidArgument);
    assert!(leading.message().starts_with("notify_url"), "{leading:?}");
    let message_id = send_notified(&mut acme, &format!("{}  ", receiver.url()), &[])
        .await
        .unwrap();
    let submitted = receiver.wait_for(1, Duration::from_secs(30)).await;
    let body = submitted[0].json();
    assert_eq!(body["type"], "delivery.submitted");
    assert_eq!(body["data"]["message_id"], message_id.as_str());
    assert_eq!(body["data"]["correlation_id"], "order-9");
    verify_standard(&secret, &submitted[0]);
    let delivery_id = body["data"]["delivery_id"].as_str().unwrap().to_owned();
    acme.report(&delivery_id, DeviceEventKind::Delivered).await;
    let delivered = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(delivered[1].json()["type"], "delivery.delivered");
    verify_standard(&secret, &delivered[1]);
    let listed = attempts_of_message(&mut acme, &message_id, 2).await;
    for attempt in &listed {
        assert_eq!(attempt.webhook_id, "", "{attempt:?}");
        assert_eq!(attempt.outcome(), AttemptOutcome::Succeeded, "{attempt:?}");
        assert_eq!(attempt.url, receiver.url());
    }

    // A rotation: the old secret signs beside the new one.
    let rotated = acme
        .webhooks
        .rotate_notify_secret(RotateNotifySecretRequest {})
        .await
        .unwrap()
        .into_inner()
        .secret;
    // Variables may make the URL; one they make invalid is accepted, and its reports are
    // refused once each, never retried.
    let path = receiver.url().rsplit_once('/').unwrap().1.to_owned();
    let base = receiver.url().rsplit_once('/').unwrap().0.to_owned();
    let made = send_notified(
        &mut acme,
        "$(base)/$(path)",
        &[("base", &base), ("path", &path)],
    )
    .await
    .unwrap();
    let third = receiver.wait_for(3, Duration::from_secs(30)).await;
    assert_eq!(third[2].json()["data"]["message_id"], made.as_str());
    verify_standard(&rotated, &third[2]);
    verify_standard(&secret, &third[2]);
    let broken = send_notified(&mut acme, "$(dr)", &[("dr", "not a url")])
        .await
        .unwrap();
    let refusals = attempts_of_message(&mut acme, &broken, 1).await;
    assert_eq!(
        refusals[0].outcome(),
        AttemptOutcome::Refused,
        "{refusals:?}"
    );
    assert!(refusals[0].detail.contains("not retried"), "{refusals:?}");
    assert_eq!(refusals[0].url, "not a url");
    // A literal invalid URL is the request's own fault.
    let literal = send_notified(&mut acme, "not a url", &[])
        .await
        .unwrap_err();
    assert_eq!(literal.code(), Code::InvalidArgument);
    stack.stop().await;
    assert_eq!(receiver.received().len(), 3, "nothing else was posted");
}

/// Checks a request's AWS Signature V4 with botocore (AWS's Python SDK core): the signature it
/// computes over the headers the request says it signed, its body and its own time must be the
/// one the request carries. Answers what was signed, or why it does not verify.
fn verify_sigv4(received: &Received, url: &str, secret: &str) -> Result<String, String> {
    const CHECK: &str = r#"
import base64, hashlib, json, re, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, secret = sys.argv[1], sys.argv[2]
got = json.load(sys.stdin)
headers = got["headers"]
m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                 r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})", headers["authorization"])
assert m, headers["authorization"]
key, day, region, service, signed, signature = m.groups()
assert headers["x-amz-date"].startswith(day)
body = base64.b64decode(got["body"])
# botocore takes the payload's digest from this header when it is there: check it is the body's.
assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest(), "the body's digest"
request = AWSRequest(method="POST", url=url, data=body,
                     headers={n: headers[n] for n in signed.split(";") if n != "host"})
auth = SigV4Auth(Credentials(key, secret, headers.get("x-amz-security-token")), service, region)
request.context["timestamp"] = headers["x-amz-date"]
canonical = auth.canonical_request(request)
expected = auth.signature(auth.string_to_sign(request, canonical), request)
assert signature == expected, (canonical, signature, expected)
print(service, region, signed)
"#;
    use base64::Engine as _;
    let headers: serde_json::Map<String, serde_json::Value> = received
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().into()))
        .collect();
    let input = serde_json::json!({
        "headers": headers,
        "body": base64::engine::general_purpose::STANDARD.encode(&received.body),
    });
    let mut child = std::process::Command::new("python3")
        .args(["-c", CHECK, url, secret])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (with botocore: scripts/deps installs it)");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[tokio::test]
async fn aws_sigv4_requests_verify_with_botocore() {
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    let Hooked {
        stack,
        mut acme,
        receiver,
        secret,
        auth_kind,
        ..
    } = hooked_with(
        |_| {},
        |receiver| CreateWebhookRequest {
            auth: Some(WebhookAuth {
                kind: Some(webhook_auth::Kind::AwsSigv4(AwsSigV4Auth {
                    access_key_id: "AKIDEXAMPLE".into(),
                    secret_access_key: SECRET.into(),
                    session_token: "FQoGZXIvYXdzEXAMPLE".into(),
                    region: "eu-west-1".into(),
                    service: "execute-api".into(),
                })),
            }),
            ..request(&receiver.url(), &[WebhookEvent::DeliverySubmitted])
        },
    )
    .await;
    assert_eq!(auth_kind, WebhookAuthKind::AwsSigv4);
    acme.send_with_context("alice").await;
    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(received[1].json()["type"], "delivery.submitted");
    for request in &received {
        assert_eq!(
            verify_sigv4(request, &receiver.url(), SECRET).unwrap(),
            "execute-api eu-west-1 content-type;host;webhook-id;webhook-signature;\
             webhook-timestamp;x-amz-content-sha256;x-amz-date;x-amz-security-token"
        );
        verify_standard(&secret, request);
        assert_eq!(
            request.header("x-amz-security-token"),
            Some("FQoGZXIvYXdzEXAMPLE")
        );
    }
    // A tampered body no longer verifies.
    let mut tampered = received[1].clone();
    tampered.body = bytes::Bytes::from_static(b"{}");
    let refused = verify_sigv4(&tampered, &receiver.url(), SECRET).unwrap_err();
    assert!(refused.contains("the body's digest"), "{refused}");
    // So does a changed signed header, or another secret.
    let mut replayed = received[1].clone();
    replayed
        .headers
        .insert("webhook-id", http::HeaderValue::from_static("evt_other"));
    let refused = verify_sigv4(&replayed, &receiver.url(), SECRET).unwrap_err();
    assert!(refused.contains("AssertionError"), "{refused}");
    assert!(verify_sigv4(&received[1], &receiver.url(), "another-secret").is_err());
    stack.stop().await;
}

#[tokio::test]
async fn a_delivery_that_outlives_its_ttl_is_reported_expired_and_counted() {
    let stack = stack_allowing_loopback(DbBackend::Sqlite, |_| {}).await;
    let mut acme = stack.tenant("acme").await;
    let receiver = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    let created = create(
        &mut acme,
        CreateWebhookRequest {
            signature_scheme: SignatureScheme::HubSha512 as i32,
            ..request(&receiver.url(), &[WebhookEvent::DeliveryExpired])
        },
    )
    .await;
    acme.register("alice", "tok-late").await;
    // FCM asks for an hour's patience; the message lives a minute: Herald gives up at once.
    stack.mocks.fcm.script(
        "tok-late",
        [Answer::error_retry_after("UNAVAILABLE", "3600")],
    );
    let message_id = acme
        .send(
            destination::Kind::UserId("alice".into()),
            Notification {
                ttl_seconds: 60,
                ..herald_e2e::hello()
            },
        )
        .await
        .message_id;
    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    let expired = received[1].json();
    assert_eq!(expired["type"], "delivery.expired");
    assert_eq!(expired["data"]["message_id"], message_id.as_str());
    assert_eq!(expired["data"]["status"], "expired");
    assert!(
        expired["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("gave up at the time to live"),
        "{expired}"
    );
    verify_standard(&created.secret, &received[1]);
    verify_hub_sha512(&created.secret, &received[1]);
    let stats = acme
        .notifications
        .get_message_stats(GetMessageStatsRequest {
            message_id: message_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((stats.sent, stats.submitted, stats.expired), (1, 0, 1));
    assert!((stats.expiry_rate - 1.0).abs() < 1e-9, "{stats:?}");
    stack.stop().await;
}

#[tokio::test]
async fn bearer_and_api_key_authorization_reach_the_endpoint() {
    let stack = stack_allowing_loopback(DbBackend::Sqlite, |_| {}).await;
    let mut acme = stack.tenant("acme").await;
    let receiver = WebhookReceiver::start(&stack.mocks.ca).await.unwrap();
    let at = |path: &str| receiver.url().replace("/hook", path);
    let ways = [
        ("/bearer", webhook_auth::Kind::BearerToken("t0ken".into())),
        (
            "/header",
            webhook_auth::Kind::ApiKey(ApiKeyAuth {
                name: "X-Api-Key".into(),
                value: "k3y".into(),
                in_query: false,
            }),
        ),
        (
            "/query",
            webhook_auth::Kind::ApiKey(ApiKeyAuth {
                name: "api_key".into(),
                value: "q 1".into(),
                in_query: true,
            }),
        ),
    ];
    for (path, kind) in ways {
        create(
            &mut acme,
            CreateWebhookRequest {
                auth: Some(WebhookAuth { kind: Some(kind) }),
                ..request(&at(path), &[WebhookEvent::DeliverySubmitted])
            },
        )
        .await;
    }
    acme.register("alice", "tok-a").await;
    acme.send_with_context("alice").await;
    // Three test calls, then the event on each endpoint.
    let received = receiver.wait_for(6, Duration::from_secs(30)).await;
    for request in &received {
        match request.uri.path() {
            "/bearer" => assert_eq!(request.header("authorization"), Some("Bearer t0ken")),
            "/header" => {
                assert_eq!(request.header("x-api-key"), Some("k3y"));
                assert_eq!(request.header("authorization"), None);
            }
            "/query" => assert_eq!(request.uri.query(), Some("api_key=q+1")),
            other => panic!("{other}"),
        }
    }
    let events = of_type(&received, "delivery.submitted");
    assert_eq!(events.len(), 3, "one event on each endpoint");
    stack.stop().await;
}
