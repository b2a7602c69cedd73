//! The seeds' "Send Test Notification": one registered device, through one provider's
//! credential, and what the provider answered.

use std::time::Duration;

use herald_e2e::{DbBackend, Stack, Tenant};
use herald_proto::v1::*;
use herald_testkit::fcm::Answer;
use tonic::Code;

async fn test_send(
    acme: &mut Tenant,
    provider: Provider,
    device_id: &str,
    title: &str,
) -> Result<SendTestNotificationResponse, tonic::Status> {
    acme.credentials
        .send_test_notification(SendTestNotificationRequest {
            provider: provider as i32,
            device_id: device_id.into(),
            title: title.into(),
            body: "If you can read this, it works".into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_test_notification_reaches_the_device_and_says_what_the_provider_answered() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let phone = acme.register("alice", "tok-test").await;
    let sent = test_send(
        &mut acme,
        Provider::Fcm,
        &phone.device_id,
        "Hello from Herald",
    )
    .await
    .unwrap();
    assert_eq!(sent.outcome(), WaitOutcome::Onsubmit, "{sent:?}");
    let delivery = sent.delivery.expect("the delivery");
    assert_eq!(delivery.status(), DeliveryStatus::Submitted);
    assert_eq!(delivery.device_id, phone.device_id);
    assert!(!delivery.provider_message_id.is_empty());
    let pushes = stack.mocks.fcm.wait_for(1, Duration::from_secs(10)).await;
    let message = &pushes[0].body["message"];
    assert_eq!(message["token"], "tok-test");
    assert_eq!(
        message["data"]["herald_message_id"],
        sent.message_id.as_str()
    );

    // A dead token: the provider's answer comes back.
    let dead = acme.register("alice", "tok-dead").await;
    stack
        .mocks
        .fcm
        .script("tok-dead", [Answer::error("UNREGISTERED")]);
    let failed = test_send(&mut acme, Provider::Fcm, &dead.device_id, "Hello")
        .await
        .unwrap();
    assert_eq!(failed.outcome(), WaitOutcome::Ondrfail);
    assert!(failed.reason.contains("UNREGISTERED"), "{failed:?}");
    // That device is retired now: it cannot be tested again until registered again.
    let retired = test_send(&mut acme, Provider::Fcm, &dead.device_id, "Hello")
        .await
        .unwrap_err();
    assert_eq!(retired.code(), Code::FailedPrecondition, "{retired:?}");

    // What is refused, and why.
    let wrong = test_send(&mut acme, Provider::Apns, &phone.device_id, "Hello")
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::FailedPrecondition);
    assert!(wrong.message().contains("android"), "{wrong:?}");
    let unknown = test_send(&mut acme, Provider::Fcm, "dev_unknown", "Hello")
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let untitled = test_send(&mut acme, Provider::Fcm, &phone.device_id, " ")
        .await
        .unwrap_err();
    assert_eq!(untitled.code(), Code::InvalidArgument);
    let mut bare = stack.bare_tenant("bare").await;
    let theirs = bare.register("bob", "tok-bob").await;
    let uncredentialed = test_send(&mut bare, Provider::Fcm, &theirs.device_id, "Hello")
        .await
        .unwrap_err();
    assert_eq!(uncredentialed.code(), Code::FailedPrecondition);
    assert!(
        uncredentialed.message().contains("no fcm credential"),
        "{uncredentialed:?}"
    );
    let others = test_send(&mut bare, Provider::Fcm, &phone.device_id, "Hello")
        .await
        .unwrap_err();
    assert_eq!(others.code(), Code::NotFound, "another tenant's device");
    stack.stop().await;
}
