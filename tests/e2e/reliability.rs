//! What the reliability issue found from outside: concurrent repeats of an idempotency key,
//! oversized and undecodable input, and operations (revocation across replicas).

use std::time::Duration;

use herald_e2e::{DbBackend, Stack, hello};
use herald_proto::v1::*;

#[tokio::test]
async fn fifty_concurrent_sends_with_one_idempotency_key_make_one_message_and_one_push() {
    for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
        let stack = Stack::start(backend).await;
        let acme = stack.tenant("acme").await;
        let request = SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::PushId(PushId {
                    platform: Platform::Android as i32,
                    token: "tok-kim".into(),
                    ..Default::default()
                })),
            }),
            notification: Some(hello()),
            idempotency_key: "order-42".into(),
            ..Default::default()
        };
        let calls = (0..50).map(|_| {
            let mut client = acme.notifications.clone();
            let request = request.clone();
            async move { client.send(request).await.unwrap().into_inner() }
        });
        let answers = futures::future::join_all(calls).await;
        let ids: std::collections::HashSet<&str> =
            answers.iter().map(|a| a.message_id.as_str()).collect();
        assert_eq!(ids.len(), 1, "one message for the key");
        assert_eq!(answers.iter().filter(|a| !a.duplicate).count(), 1);
        let id = answers[0].message_id.clone();
        acme.clone().wait_settled(&id).await;
        // Repeats that reach the router late must not send again either.
        tokio::time::sleep(Duration::from_secs(8)).await;
        assert_eq!(stack.mocks.fcm.attempts("tok-kim"), 1, "{backend:?}");
        stack.stop().await;
    }
}

/// The delivery of a message sent to `token`'s user, while its first send is still at the
/// provider.
async fn in_flight_delivery(
    stack: &Stack,
    acme: &mut herald_e2e::Tenant,
    user: &str,
    token: &str,
) -> (String, herald_proto::bus::v1::SendTask) {
    stack.mocks.fcm.script(
        token,
        [herald_testkit::fcm::Answer::delayed(Duration::from_millis(
            1500,
        ))],
    );
    let device = acme.register(user, token).await;
    let sent = acme
        .send(destination::Kind::UserId(user.into()), hello())
        .await;
    while stack.mocks.fcm.attempts(token) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let message = herald_core::ids::MessageId::from_trusted(sent.message_id.clone());
    let device_id = herald_core::ids::DeviceId::from_trusted(device.device_id.clone());
    let task = herald_proto::bus::v1::SendTask {
        tenant_id: acme.tenant_id.clone(),
        message_id: sent.message_id.clone(),
        delivery_id: herald_core::ids::DeliveryId::derive(&message, &device_id).to_string(),
        device: Some(herald_proto::bus::v1::TargetDevice {
            device_id: device.device_id,
            platform: Platform::Android as i32,
            push_token: token.into(),
            ..Default::default()
        }),
        notification: Some(hello()),
        accepted_at_ms: herald_core::time::now_ms(),
        expires_at_ms: herald_core::time::now_ms() + 600_000,
        attempt: 1,
        ..Default::default()
    };
    (sent.message_id, task)
}

#[tokio::test]
async fn a_delivery_in_another_batch_while_its_first_send_is_in_flight_is_not_sent_twice() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let (message_id, task) = in_flight_delivery(&stack, &mut acme, "lea", "tok-lea").await;
    // The router published the message again after a broker restart, in a batch of another
    // composition (another delivery beside it): JetStream cannot tell it is a repeat.
    let other = herald_proto::bus::v1::SendTask {
        delivery_id: "dlv_other".into(),
        ..task.clone()
    };
    let recomposed = herald_bus::send_batches(Provider::Fcm, vec![task, other], 0);
    let bus = herald_bus::Bus::connect(&stack.nats.url()).await.unwrap();
    herald_bus::all_published(bus.publish_all(recomposed).await).unwrap();
    let status = acme.wait_settled(&message_id).await;
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);
    // The copy is left to the holder of the claim and looked at again when the claim's lease
    // runs out: the delivery is settled by then, so it is not sent.
    let js = async_nats::jetstream::new(async_nats::connect(stack.nats.url()).await.unwrap());
    let mut stream = js.get_stream(herald_bus::SEND_STREAM).await.unwrap();
    let started = std::time::Instant::now();
    while stream.info().await.unwrap().state.messages > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the copy was never settled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stack.mocks.fcm.attempts("tok-lea"), 1, "sent once");
    stack.stop().await;
}

/// Waits until `count` dead letters are parked, and answers them.
async fn dead_letters(bus: &herald_bus::Bus, count: usize) -> Vec<herald_bus::dead::DeadLetter> {
    let started = std::time::Instant::now();
    loop {
        let letters = herald_bus::dead::list(bus, None, 100).await.unwrap();
        if letters.len() >= count {
            return letters;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} dead letters, expected {count}: {letters:#?}",
            letters.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn undecodable_bus_messages_are_parked_and_hold_up_nothing() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("max", "tok-max").await;
    let bus = herald_bus::Bus::connect(&stack.nats.url()).await.unwrap();
    let garbage = |subject: String| herald_bus::Outgoing {
        subject,
        msg_id: format!("garbage-{}", herald_core::ids::MessageId::generate()),
        payload: bytes::Bytes::from_static(b"\xff\xff\xff not protobuf"),
    };
    let tenant = acme.tenant_id.clone();
    herald_bus::all_published(
        bus.publish_all([
            garbage(herald_bus::subjects::ingest(&tenant)),
            garbage(herald_bus::subjects::send(Provider::Fcm, &tenant)),
            garbage(herald_bus::subjects::receipt(&tenant)),
        ])
        .await,
    )
    .unwrap();
    let sent = acme
        .send(destination::Kind::UserId("max".into()), hello())
        .await;
    let status = acme.wait_settled(&sent.message_id).await;
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);

    let mut letters = dead_letters(&bus, 3).await;
    letters.sort_by(|a, b| a.parked_by.cmp(&b.parked_by));
    let parked: Vec<(&str, &str, &str)> = letters
        .iter()
        .map(|l| (l.parked_by.as_str(), l.subject.as_str(), l.tenant.as_str()))
        .collect();
    let ingest = herald_bus::subjects::ingest(&tenant);
    let send = herald_bus::subjects::send(Provider::Fcm, &tenant);
    let receipt = herald_bus::subjects::receipt(&tenant);
    assert_eq!(
        parked,
        [
            ("receipt", receipt.as_str(), tenant.as_str()),
            ("router", ingest.as_str(), tenant.as_str()),
            ("sender-fcm", send.as_str(), tenant.as_str()),
        ]
    );
    for letter in &letters {
        assert!(letter.reason.contains("does not decode"), "{letter:?}");
        assert_eq!(letter.tries, 1, "parked at once: it never will decode");
        assert_eq!(letter.contents, "(does not decode)");
    }
    // Nothing is left in the work queues.
    let js = async_nats::jetstream::new(async_nats::connect(stack.nats.url()).await.unwrap());
    for stream in [
        herald_bus::INGEST_STREAM,
        herald_bus::SEND_STREAM,
        herald_bus::RECEIPT_STREAM,
    ] {
        let mut stream = js.get_stream(stream).await.unwrap();
        assert_eq!(stream.info().await.unwrap().state.messages, 0);
    }
    // A letter can be discarded.
    herald_bus::dead::discard(&bus, letters[0].sequence)
        .await
        .unwrap();
    assert_eq!(
        herald_bus::dead::list(&bus, None, 100).await.unwrap().len(),
        2
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_message_the_bus_keeps_refusing_is_parked_failed_and_holds_up_no_tenant() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let mut other = stack.tenant("other").await;
    acme.register("ann", "tok-ann").await;
    other.register("bob", "tok-bob").await;
    // As ingest stored it before every field had a limit: a 1.1 MB correlation id, which
    // NATS will never carry; and behind it, another tenant's message.
    let huge = stack
        .store_unpublished_with(
            &acme.tenant_id,
            destination::Kind::UserId("ann".into()),
            hello(),
            "c".repeat(1_100_000),
        )
        .await;
    let fine = stack
        .store_unpublished(
            &other.tenant_id,
            destination::Kind::UserId("bob".into()),
            hello(),
        )
        .await;
    let status = other.wait_settled(fine.as_str()).await;
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);

    let failed = acme
        .wait_message(huge.as_str(), Duration::from_secs(60), |m| {
            m.message.as_ref().map(|m| m.state()) == Some(MessageState::Failed)
        })
        .await
        .message
        .unwrap();
    assert!(failed.reason.contains("refused"), "{}", failed.reason);
    assert!(failed.reason.contains("dead letters"), "{}", failed.reason);
    let bus = herald_bus::Bus::connect(&stack.nats.url()).await.unwrap();
    let letters = dead_letters(&bus, 1).await;
    assert_eq!(letters[0].parked_by, "outbox");
    assert_eq!(letters[0].tries, herald_bus::MAX_TRIES);
    assert_eq!(letters[0].contents, "(payload too large to keep)");
    let replay = herald_bus::dead::replay(&bus, letters[0].sequence).await;
    assert!(replay.is_err(), "nothing to replay");
    assert_eq!(stack.mocks.fcm.attempts("tok-ann"), 0);
    stack.stop().await;
}

#[tokio::test]
async fn a_parked_message_replayed_is_delivered() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("cy", "tok-cy").await;
    // A message parked as the router parks one it could not route (its body as accepted).
    let id = herald_core::ids::MessageId::generate();
    let accepted = herald_proto::bus::v1::MessageAccepted {
        tenant_id: acme.tenant_id.clone(),
        message_id: id.to_string(),
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("cy".into())),
        }),
        notification: Some(hello()),
        accepted_at_ms: herald_core::time::now_ms(),
        expires_at_ms: herald_core::time::now_ms() + 600_000,
        ..Default::default()
    };
    stack
        .store
        .insert_message(&herald_store::NewMessage {
            id: id.clone(),
            tenant_id: herald_core::ids::TenantId::from_trusted(acme.tenant_id.clone()),
            idempotency_key: None,
            request_digest: None,
            body: prost::Message::encode_to_vec(&accepted),
            correlation_id: String::new(),
            callback_data: String::new(),
            notify_url: String::new(),
            created_at: herald_core::time::now_ms(),
            expires_at: herald_core::time::now_ms() + 600_000,
            send_at: None,
        })
        .await
        .unwrap();
    let tenant = herald_core::ids::TenantId::from_trusted(acme.tenant_id.clone());
    stack
        .store
        .park_message(&tenant, &id, "could not be routed: the database refused it")
        .await
        .unwrap();
    let batch = herald_bus::accepted_batches(
        &acme.tenant_id,
        vec![herald_bus::Accepted {
            message_id: id.to_string(),
            body: prost::Message::encode_to_vec(&accepted),
            due: None,
        }],
    )
    .remove(0);
    let bus = herald_bus::Bus::connect(&stack.nats.url()).await.unwrap();
    herald_bus::dead::put(
        &bus,
        herald_bus::dead::Letter {
            subject: &batch.out.subject,
            payload: batch.out.payload.clone(),
            parked_by: "router",
            reason: "could not be routed: the database refused it",
            tries: herald_bus::MAX_TRIES,
            dedup_id: "dead-test".into(),
        },
    )
    .await
    .unwrap();
    let letters = dead_letters(&bus, 1).await;
    assert_eq!(letters[0].contents, format!("messages {id}"));
    assert_eq!(
        acme.message(id.as_str()).await.message.unwrap().state(),
        MessageState::Failed
    );

    let replayed = herald_bus::dead::replay(&bus, letters[0].sequence)
        .await
        .unwrap();
    assert_eq!(replayed.subject, batch.out.subject);
    let status = acme
        .wait_message(id.as_str(), Duration::from_secs(20), |m| {
            m.deliveries
                .first()
                .is_some_and(|d| d.status() == DeliveryStatus::Submitted)
        })
        .await;
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);
    assert_eq!(status.message.unwrap().state(), MessageState::Submitted);
    assert!(
        herald_bus::dead::list(&bus, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_revoked_key_is_refused_by_every_ingest_replica_at_once() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let acme = stack.tenant("acme").await;
    // A second ingest replica on the same database and bus.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let replica_url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let replica = tokio::spawn(herald_ingest::run(
        herald_ingest::Config::from_settings(&stack.settings).unwrap(),
        stack.store.clone(),
        herald_bus::Bus::connect(&stack.nats.url()).await.unwrap(),
        listener,
        shutdown.clone(),
    ));
    let channel = tonic::transport::Channel::from_shared(replica_url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut on_replica = herald_proto::v1::devices_client::DevicesClient::new(
        tonic::service::interceptor::InterceptedService::new(
            channel,
            herald_proto::client::BearerAuth::new(&acme.key).unwrap(),
        ),
    );
    // The replica has the key cached.
    on_replica
        .list_devices(ListDevicesRequest::default())
        .await
        .expect("the key works on the replica");
    let key_id = acme
        .admin
        .clone()
        .list_api_keys(ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner()
        .api_keys[0]
        .key_id
        .clone();
    acme.admin
        .clone()
        .revoke_api_key(RevokeApiKeyRequest {
            tenant_id: String::new(),
            key_id,
        })
        .await
        .unwrap();
    // The announcement travels over the bus; the replica's cache would have trusted the key
    // for seconds more.
    let started = std::time::Instant::now();
    let err = loop {
        match on_replica.list_devices(ListDevicesRequest::default()).await {
            Err(err) => break err,
            Ok(_) => {
                assert!(
                    started.elapsed() < Duration::from_millis(1500),
                    "the replica still accepts the revoked key"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    shutdown.cancel();
    replica.await.unwrap().unwrap();
    stack.stop().await;
}
