//! Delivery policy: scheduled messages (send_at), moved and cancelled until they start; recall.

use std::time::Duration;

use herald_core::time::now_ms;
use herald_e2e::{DbBackend, Stack, Tenant, hello};
use herald_proto::v1::*;
use herald_testkit::fcm::Answer;

/// CancelMessage: a scheduled message never starts, a started one is recalled.
async fn cancel(
    tenant: &mut Tenant,
    message_id: &str,
    remove_delivered: bool,
) -> CancelMessageResponse {
    tenant
        .notifications
        .cancel_message(CancelMessageRequest {
            message_id: message_id.into(),
            remove_delivered,
        })
        .await
        .expect("cancel")
        .into_inner()
}

/// `hello` to `user`'s devices, of `class`.
fn classed(user: &str, class: MessageClass) -> SendRequest {
    SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId(user.into())),
        }),
        notification: Some(hello()),
        class: class as i32,
        ..Default::default()
    }
}

/// Sends `hello` to `user`'s devices at `send_at_ms`.
async fn schedule(tenant: &mut Tenant, user: &str, send_at_ms: i64) -> String {
    tenant
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId(user.into())),
            }),
            notification: Some(hello()),
            send_at_ms,
            ..Default::default()
        })
        .await
        .expect("schedule")
        .into_inner()
        .message_id
}

async fn scheduled_ids(tenant: &mut Tenant) -> Vec<String> {
    tenant
        .notifications
        .list_scheduled_messages(ListScheduledMessagesRequest::default())
        .await
        .expect("list scheduled")
        .into_inner()
        .messages
        .into_iter()
        .map(|m| m.message_id)
        .collect()
}

#[tokio::test]
async fn a_scheduled_message_survives_a_restart_and_fires_once_on_time() {
    let mut stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("joe", "tok-joe").await;
    let send_at = now_ms() + 4_000;
    let id = schedule(&mut acme, "joe", send_at).await;

    let message = acme.message(&id).await;
    let shown = message.message.expect("the message");
    assert_eq!(shown.state(), MessageState::Scheduled);
    assert_eq!(shown.send_at_ms, send_at);
    assert!(message.deliveries.is_empty());
    assert_eq!(scheduled_ids(&mut acme).await, std::slice::from_ref(&id));

    // Every service stops and starts again before it is due: the schedule is in the store.
    stack.restart_services().await;
    let mut acme = stack.clients(&acme.tenant_id, &acme.key).await;
    assert_eq!(
        stack.mocks.fcm.attempts("tok-joe"),
        0,
        "not before its time"
    );

    let settled = acme.wait_settled(&id).await;
    let delivery = &settled.deliveries[0];
    assert_eq!(delivery.status(), DeliveryStatus::Submitted);
    assert!(
        delivery.updated_at_ms >= send_at,
        "submitted at {} before it was due at {send_at}",
        delivery.updated_at_ms
    );
    assert!(scheduled_ids(&mut acme).await.is_empty());
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(stack.mocks.fcm.attempts("tok-joe"), 1, "fired once");
    stack.stop().await;
}

#[tokio::test]
async fn a_cancelled_schedule_never_fires_and_a_moved_one_fires_at_its_new_time() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("ann", "tok-ann").await;
    acme.register("bob", "tok-bob").await;
    let cancelled = schedule(&mut acme, "ann", now_ms() + 2_000).await;
    let moved = schedule(&mut acme, "bob", now_ms() + 3_600_000).await;

    let answer = cancel(&mut acme, &cancelled, false).await;
    assert_eq!(
        answer.message.expect("the message").state(),
        MessageState::Cancelled
    );
    // Neither moved nor cancelled again once cancelled.
    let again = acme
        .notifications
        .reschedule_message(RescheduleMessageRequest {
            message_id: cancelled.clone(),
            send_at_ms: now_ms() + 1_000,
        })
        .await
        .expect_err("a cancelled message stays cancelled");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition, "{again:?}");
    let too_far = acme
        .notifications
        .reschedule_message(RescheduleMessageRequest {
            message_id: moved.clone(),
            send_at_ms: now_ms() + 31 * 24 * 3_600_000,
        })
        .await
        .expect_err("more than 30 days ahead");
    assert_eq!(too_far.code(), tonic::Code::InvalidArgument);
    assert!(too_far.message().starts_with("send_at_ms: "), "{too_far:?}");

    let new_time = now_ms() + 1_500;
    let rescheduled = acme
        .notifications
        .reschedule_message(RescheduleMessageRequest {
            message_id: moved.clone(),
            send_at_ms: new_time,
        })
        .await
        .expect("reschedule")
        .into_inner();
    assert_eq!(rescheduled.send_at_ms, new_time);
    assert_eq!(rescheduled.state(), MessageState::Scheduled);
    assert_eq!(
        rescheduled.expires_at_ms - new_time,
        i64::from(herald_core::validate::MAX_TTL_SECONDS) * 1000,
        "its time to live moved with it"
    );
    assert_eq!(scheduled_ids(&mut acme).await, std::slice::from_ref(&moved));

    let settled = acme.wait_settled(&moved).await;
    assert_eq!(settled.deliveries[0].status(), DeliveryStatus::Submitted);
    assert!(settled.deliveries[0].updated_at_ms >= new_time);
    // Well past the cancelled one's time: it never fired.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(stack.mocks.fcm.attempts("tok-ann"), 0);
    let cancelled = acme.message(&cancelled).await;
    assert_eq!(
        cancelled.message.expect("the message").state(),
        MessageState::Cancelled
    );
    assert!(cancelled.deliveries.is_empty());

    let moved_again = acme
        .notifications
        .reschedule_message(RescheduleMessageRequest {
            message_id: moved,
            send_at_ms: now_ms() + 60_000,
        })
        .await
        .expect_err("it has started");
    assert_eq!(moved_again.code(), tonic::Code::FailedPrecondition);
    stack.stop().await;
}

#[tokio::test]
async fn a_recall_cancels_the_deliveries_not_yet_sent_and_reports_each() {
    let mut stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("sam", "tok-sam-1").await;
    acme.register("sam", "tok-sam-2").await;
    acme.register("kim", "tok-kim").await;
    // One message reaches its provider first.
    let sent = acme
        .send(destination::Kind::UserId("kim".into()), hello())
        .await;
    acme.wait_settled(&sent.message_id).await;

    // With no FCM sender running, the next one is routed and waits, queued.
    stack.restart_with_fcm_senders(0).await;
    let mut acme = stack.clients(&acme.tenant_id, &acme.key).await;
    let queued = acme
        .send(destination::Kind::UserId("sam".into()), hello())
        .await;
    acme.wait_message(&queued.message_id, Duration::from_secs(20), |m| {
        m.deliveries.len() == 2
    })
    .await;

    let recall = cancel(&mut acme, &queued.message_id, false).await;
    assert_eq!(
        recall.message.as_ref().expect("the message").state(),
        MessageState::Cancelled
    );
    assert_eq!(
        (recall.cancelled, recall.in_flight, recall.already_sent),
        (2, 0, 0)
    );
    assert_eq!(recall.deliveries.len(), 2);
    for d in &recall.deliveries {
        assert_eq!(d.action(), RecallAction::Cancelled, "{d:?}");
        assert_eq!(d.status(), DeliveryStatus::Cancelled);
    }

    // The sender comes back: it finds the deliveries recalled and sends none of them.
    stack.restart_with_fcm_senders(1).await;
    let mut acme = stack.clients(&acme.tenant_id, &acme.key).await;
    let after = acme
        .wait_message(&queued.message_id, Duration::from_secs(20), |m| {
            m.deliveries
                .iter()
                .all(|d| d.status() == DeliveryStatus::Cancelled)
        })
        .await;
    assert_eq!(
        after.message.expect("the message").state(),
        MessageState::Cancelled
    );
    // A later message to another user goes through the same sender: it has consumed its backlog.
    let later = acme
        .send(destination::Kind::UserId("kim".into()), hello())
        .await;
    acme.wait_settled(&later.message_id).await;
    assert_eq!(stack.mocks.fcm.attempts("tok-sam-1"), 0);
    assert_eq!(stack.mocks.fcm.attempts("tok-sam-2"), 0);
    // Analytics count them cancelled.
    let stats = acme
        .notifications
        .get_message_stats(GetMessageStatsRequest {
            message_id: queued.message_id.clone(),
        })
        .await
        .expect("stats")
        .into_inner();
    assert_eq!((stats.sent, stats.submitted, stats.cancelled), (2, 0, 2));
    assert!((stats.cancel_rate - 1.0).abs() < 1e-9);

    // Recalling one that reached its provider says so, and changes none of its deliveries.
    let too_late = cancel(&mut acme, &sent.message_id, false).await;
    assert_eq!((too_late.cancelled, too_late.already_sent), (0, 1));
    assert_eq!(too_late.deliveries[0].action(), RecallAction::AlreadySent);
    assert_eq!(too_late.deliveries[0].status(), DeliveryStatus::Submitted);
    assert_eq!(stack.mocks.fcm.attempts("tok-kim"), 2);
    stack.stop().await;
}

#[tokio::test]
async fn a_recall_stops_the_deliveries_a_sender_holds_but_has_not_sent() {
    // One send slot: of a message's three deliveries, one is at the provider (slowly) while the
    // sender holds the other two, claimed, waiting for the slot.
    let stack = Stack::start_tuned(DbBackend::Sqlite, 1, |s| s.sender.concurrency = 1).await;
    let mut acme = stack.tenant("acme").await;
    let tokens = ["tok-ann-1", "tok-ann-2", "tok-ann-3"];
    for token in tokens {
        acme.register("ann", token).await;
        stack
            .mocks
            .fcm
            .script(token, [Answer::delayed(Duration::from_millis(1500))]);
    }
    let sent = acme
        .send(destination::Kind::UserId("ann".into()), hello())
        .await;
    acme.wait_message(&sent.message_id, Duration::from_secs(20), |m| {
        m.deliveries.len() == 3
    })
    .await;
    // The sender claims them as soon as they are routed; the first answer takes 1.5 s.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let recall = cancel(&mut acme, &sent.message_id, false).await;
    // All three were claimed moments ago: in flight, for their sender to settle (or, on a
    // slow machine, the first one sent already).
    assert_eq!(recall.cancelled, 0, "{recall:?}");
    assert_eq!(recall.in_flight + recall.already_sent, 3, "{recall:?}");
    let settled = acme
        .wait_message(&sent.message_id, Duration::from_secs(20), |m| {
            m.deliveries
                .iter()
                .all(|d| d.status() != DeliveryStatus::Queued)
        })
        .await;
    let mut statuses: Vec<_> = settled.deliveries.iter().map(|d| d.status()).collect();
    statuses.sort();
    // The one at its provider was sent; the two waiting for the slot were not.
    assert_eq!(
        statuses,
        [
            DeliveryStatus::Submitted,
            DeliveryStatus::Cancelled,
            DeliveryStatus::Cancelled
        ]
    );
    assert_eq!(stack.mocks.fcm.received_count(), 1);
    stack.stop().await;
}

#[tokio::test]
async fn a_recall_asks_the_devices_already_sent_to_to_take_the_push_down() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let tokens = ["tok-pat-1", "tok-pat-2"];
    for token in tokens {
        acme.register("pat", token).await;
    }
    let sent = acme
        .send(
            destination::Kind::UserId("pat".into()),
            Notification {
                collapse_key: "promo".into(),
                ..hello()
            },
        )
        .await;
    acme.wait_settled(&sent.message_id).await;

    let answer = cancel(&mut acme, &sent.message_id, true).await;
    assert_eq!((answer.cancelled, answer.already_sent), (0, 2));
    assert!(!answer.removal_message_id.is_empty());
    for d in &answer.deliveries {
        assert_eq!(d.action(), RecallAction::RemovalRequested, "{d:?}");
        assert_eq!(d.status(), DeliveryStatus::Submitted);
    }
    // The removal is a message of its own, to the devices the recalled one reached.
    let removal = acme.wait_settled(&answer.removal_message_id).await;
    assert_eq!(
        removal
            .message
            .as_ref()
            .expect("removal")
            .removes_message_id,
        sent.message_id
    );
    assert_eq!(removal.deliveries.len(), 2);
    assert!(
        removal
            .deliveries
            .iter()
            .all(|d| d.status() == DeliveryStatus::Submitted)
    );
    let received = stack.mocks.fcm.received();
    for token in tokens {
        let pushes: Vec<_> = received.iter().filter(|p| p.token == token).collect();
        assert_eq!(pushes.len(), 2, "{token}: the push and its removal");
        let removal = &pushes[1].body["message"];
        assert_eq!(removal["data"]["herald_recall"], sent.message_id.as_str());
        // Silent (the app takes the shown one down), and in its place at FCM if still held.
        assert!(removal.get("notification").is_none(), "{removal}");
        assert!(
            removal["android"].get("notification").is_none(),
            "{removal}"
        );
        assert_eq!(removal["android"]["collapse_key"], "promo");
    }
    // Asked again, the same removal answers; without the flag, none is asked for.
    let again = cancel(&mut acme, &sent.message_id, true).await;
    assert_eq!(again.removal_message_id, answer.removal_message_id);
    let plain = cancel(&mut acme, &sent.message_id, false).await;
    assert!(plain.removal_message_id.is_empty());
    assert_eq!(plain.deliveries[0].action(), RecallAction::AlreadySent);
    stack.stop().await;
}

/// A device of `user` in `zone`.
async fn register_in(tenant: &mut Tenant, user: &str, token: &str, zone: &str) {
    tenant
        .devices
        .register_device(RegisterDeviceRequest {
            user_id: user.into(),
            platform: Platform::Android as i32,
            push_token: token.into(),
            time_zone: zone.into(),
            ..Default::default()
        })
        .await
        .expect("register device");
}

/// The wall clock in UTC at `ms`: its date (YYYY-MM-DD) and time (HH:MM:SS).
fn utc_clock(ms: i64) -> (String, String) {
    let instant = herald_core::time::rfc3339(ms);
    let (date, time) = instant.split_once('T').expect("an RFC 3339 instant");
    (date.to_owned(), time.trim_end_matches('Z').to_owned())
}

#[tokio::test]
async fn a_local_time_reaches_each_zone_when_its_clock_shows_it() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    // Tokyo-like (UTC+9, no daylight saving) and UTC: the same wall-clock time comes nine hours
    // apart.
    register_in(&mut acme, "east", "tok-east", "Etc/GMT-9").await;
    register_in(&mut acme, "west", "tok-west", "UTC").await;
    acme.topics
        .create_topic(CreateTopicRequest {
            name: "morning".into(),
            description: String::new(),
        })
        .await
        .expect("create topic");
    for user in ["east", "west"] {
        acme.topics
            .subscribe(SubscribeRequest {
                topic: "morning".into(),
                subscriber: Some(subscribe_request::Subscriber::UserId(user.into())),
            })
            .await
            .expect("subscribe");
    }
    // A few seconds from now in UTC: in UTC+9 that wall-clock time came nine hours ago.
    let west_at = (now_ms() / 1000 + 4) * 1000;
    let (date, time) = utc_clock(west_at);
    let sent = acme
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::Topic("morning".into())),
            }),
            notification: Some(hello()),
            local_time: Some(LocalTime { time, date }),
            ..Default::default()
        })
        .await
        .expect("send at a local time")
        .into_inner();

    // The east's zone is past it: sent at once; the west waits for its own clock.
    let first = acme
        .wait_message(&sent.message_id, Duration::from_secs(20), |m| {
            m.deliveries
                .iter()
                .any(|d| d.status() == DeliveryStatus::Submitted)
        })
        .await;
    assert_eq!(first.deliveries.len(), 1, "{first:#?}");
    let message = first.message.expect("the message");
    assert!(
        now_ms() < west_at,
        "the machine was too slow for this test to tell the zones apart"
    );
    assert_eq!(
        message.state(),
        MessageState::Scheduled,
        "waiting for the west"
    );
    assert_eq!(
        message.send_at_ms, west_at,
        "its next wave: the west's instant"
    );
    assert_eq!(stack.mocks.fcm.attempts("tok-west"), 0);

    let done = acme
        .wait_message(&sent.message_id, Duration::from_secs(20), |m| {
            m.deliveries.len() == 2
                && m.deliveries
                    .iter()
                    .all(|d| d.status() == DeliveryStatus::Submitted)
        })
        .await;
    let west = done
        .deliveries
        .iter()
        .max_by_key(|d| d.updated_at_ms)
        .expect("two deliveries");
    assert!(
        west.updated_at_ms >= west_at,
        "the west's push went at {} before its time {west_at}",
        west.updated_at_ms
    );
    assert_eq!(stack.mocks.fcm.attempts("tok-east"), 1);
    assert_eq!(stack.mocks.fcm.attempts("tok-west"), 1);
    stack.stop().await;
}

#[tokio::test]
async fn quiet_hours_hold_standard_pushes_drop_marketing_and_let_transactional_through() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("ann", "tok-ann").await;
    // Quiet from a minute ago until a few seconds from now, on the UTC clock (the tenant's
    // default zone; the device has none).
    let end_at = (now_ms() / 1000 + 4) * 1000;
    let (_, start) = utc_clock(end_at - 64_000);
    let (_, end) = utc_clock(end_at);
    stack
        .set_tenant_settings(
            &acme.tenant_id,
            TenantSettings {
                default_time_zone: "UTC".into(),
                quiet_hours: Some(QuietHours {
                    start,
                    end,
                    ..Default::default()
                }),
                ..Default::default()
            },
            "settings",
        )
        .await;
    let send = |class: MessageClass| classed("ann", class);
    let mut ids = Vec::new();
    for class in [
        MessageClass::Standard,
        MessageClass::Marketing,
        MessageClass::Transactional,
    ] {
        ids.push(
            acme.notifications
                .send(send(class))
                .await
                .expect("send")
                .into_inner()
                .message_id,
        );
    }
    let [standard, marketing, transactional] = ids.try_into().expect("three");
    // A standard one whose time to live runs out before the quiet hours end is not held.
    let short_lived = acme
        .notifications
        .send(SendRequest {
            notification: Some(Notification {
                ttl_seconds: 1,
                ..hello()
            }),
            ..send(MessageClass::Standard)
        })
        .await
        .expect("send")
        .into_inner()
        .message_id;

    let urgent = acme.wait_settled(&transactional).await;
    assert_eq!(urgent.deliveries[0].status(), DeliveryStatus::Submitted);
    let dropped = acme.wait_settled(&marketing).await;
    assert_eq!(dropped.deliveries[0].status(), DeliveryStatus::Failed);
    assert!(
        dropped.deliveries[0].reason.contains("quiet hours"),
        "{dropped:#?}"
    );
    let expired = acme.wait_settled(&short_lived).await;
    assert_eq!(expired.deliveries[0].status(), DeliveryStatus::Failed);
    assert_eq!(
        expired.deliveries[0].reason,
        "quiet hours: they last past its time to live"
    );
    let held = acme.message(&standard).await;
    assert!(now_ms() < end_at, "the machine was too slow for this test");
    assert!(held.deliveries.is_empty(), "held: {held:#?}");
    assert_eq!(
        held.message.expect("the message").state(),
        MessageState::Scheduled
    );
    assert_eq!(
        stack.mocks.fcm.attempts("tok-ann"),
        1,
        "the transactional one only"
    );

    // Released when the quiet hours end.
    let released = acme.wait_settled(&standard).await;
    assert_eq!(released.deliveries[0].status(), DeliveryStatus::Submitted);
    assert!(released.deliveries[0].updated_at_ms >= end_at);
    assert_eq!(stack.mocks.fcm.attempts("tok-ann"), 2);
    stack.stop().await;
}

#[tokio::test]
async fn a_frequency_cap_refuses_the_push_over_it_and_names_the_cap() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("cat", "tok-cat-phone").await;
    acme.register("cat", "tok-cat-tablet").await;
    stack
        .set_tenant_settings(
            &acme.tenant_id,
            TenantSettings {
                frequency_caps: vec![FrequencyCap {
                    class: MessageClass::Marketing as i32,
                    max: 2,
                    window_seconds: 86_400,
                    per: CapScope::User as i32,
                }],
                ..Default::default()
            },
            "settings.frequency_caps",
        )
        .await;
    let send = |class: MessageClass| classed("cat", class);
    // Two marketing messages reach both of the user's devices: two pushes to the user.
    for _ in 0..2 {
        let id = acme
            .notifications
            .send(send(MessageClass::Marketing))
            .await
            .expect("send")
            .into_inner()
            .message_id;
        let settled = acme.wait_settled(&id).await;
        assert!(
            settled
                .deliveries
                .iter()
                .all(|d| d.status() == DeliveryStatus::Submitted),
            "{settled:#?}"
        );
    }
    let third = acme
        .notifications
        .send(send(MessageClass::Marketing))
        .await
        .expect("send")
        .into_inner()
        .message_id;
    let capped = acme.wait_settled(&third).await;
    assert_eq!(capped.deliveries.len(), 2);
    for d in &capped.deliveries {
        assert_eq!(d.status(), DeliveryStatus::Failed);
        assert_eq!(
            d.reason,
            "frequency cap: at most 2 marketing pushes per user in 1 day"
        );
    }
    assert_eq!(
        capped.message.expect("the message").state(),
        MessageState::Failed
    );
    // Other classes are not counted by it.
    for class in [MessageClass::Standard, MessageClass::Transactional] {
        let id = acme
            .notifications
            .send(send(class))
            .await
            .expect("send")
            .into_inner()
            .message_id;
        let settled = acme.wait_settled(&id).await;
        assert_eq!(settled.deliveries[0].status(), DeliveryStatus::Submitted);
    }
    assert_eq!(stack.mocks.fcm.attempts("tok-cat-phone"), 4);

    // Four at once, in one batch (routed together): two pass, the others are over the cap.
    acme.register("dog", "tok-dog").await;
    let burst = SendBatchRequest {
        requests: (0..4)
            .map(|_| SendRequest {
                destination: Some(Destination {
                    kind: Some(destination::Kind::UserId("dog".into())),
                }),
                ..send(MessageClass::Marketing)
            })
            .collect(),
    };
    let answers = acme
        .notifications
        .send_batch(burst)
        .await
        .expect("burst")
        .into_inner()
        .results;
    let mut statuses = Vec::new();
    for answer in answers {
        let Some(send_batch_result::Result::Accepted(sent)) = answer.result else {
            panic!("refused: {answer:?}");
        };
        let settled = acme.wait_settled(&sent.message_id).await;
        statuses.push(settled.deliveries[0].status());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [
            DeliveryStatus::Submitted,
            DeliveryStatus::Submitted,
            DeliveryStatus::Failed,
            DeliveryStatus::Failed
        ]
    );
    assert_eq!(stack.mocks.fcm.attempts("tok-dog"), 2);
    stack.stop().await;
}

#[tokio::test]
async fn a_campaign_takes_the_bulk_lane_and_another_tenants_push_overtakes_it() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut big = stack.tenant("big").await;
    big.topics
        .create_topic(CreateTopicRequest {
            name: "sale".into(),
            description: String::new(),
        })
        .await
        .expect("create topic");
    // 200 subscribers, each answered in 100 ms: the campaign takes a while.
    let tokens: Vec<String> = (0..200).map(|i| format!("tok-sale-{i:03}")).collect();
    for (i, token) in tokens.iter().enumerate() {
        let user = format!("buyer-{i:03}");
        big.register(&user, token).await;
        stack
            .mocks
            .fcm
            .script(token, [Answer::delayed(Duration::from_millis(100))]);
        big.topics
            .subscribe(SubscribeRequest {
                topic: "sale".into(),
                subscriber: Some(subscribe_request::Subscriber::UserId(user)),
            })
            .await
            .expect("subscribe");
    }
    let mut small = stack.tenant("small").await;
    small.register("solo", "tok-solo").await;

    let campaign = big
        .send(destination::Kind::Topic("sale".into()), hello())
        .await;
    while !tokens.iter().any(|t| stack.mocks.fcm.attempts(t) > 0) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Another tenant's push, sent while the campaign is under way.
    let single = small
        .send(destination::Kind::UserId("solo".into()), hello())
        .await;
    small.wait_settled(&single.message_id).await;
    big.wait_settled(&campaign.message_id).await;

    let received = stack.mocks.fcm.received();
    let solo_at = received
        .iter()
        .find(|p| p.token == "tok-solo")
        .expect("the single push")
        .at;
    let after = received
        .iter()
        .filter(|p| p.token.starts_with("tok-sale-") && p.at > solo_at)
        .count();
    // Queued behind the campaign it would have come last; in its own lane it overtakes most of it.
    assert!(
        after >= 50,
        "only {after} of the campaign's 200 pushes came after the other tenant's"
    );
    stack.stop().await;
}

/// A topic of `n` subscribers (users `<topic>-<i>`, one device each on `platform`).
async fn topic_of(tenant: &mut Tenant, topic: &str, n: usize, platform: Platform) -> Vec<String> {
    tenant
        .topics
        .create_topic(CreateTopicRequest {
            name: topic.into(),
            description: String::new(),
        })
        .await
        .expect("create topic");
    let mut tokens = Vec::new();
    for i in 0..n {
        let user = format!("{topic}-{i}");
        let token = match platform {
            // An APNs device token is 64 hex digits.
            Platform::Ios => format!("{:064x}", i + 1),
            _ => format!("tok-{user}"),
        };
        tenant.register_on(platform, &user, &token).await;
        tenant
            .topics
            .subscribe(SubscribeRequest {
                topic: topic.into(),
                subscriber: Some(subscribe_request::Subscriber::UserId(user)),
            })
            .await
            .expect("subscribe");
        tokens.push(token);
    }
    tokens
}

/// Sends `hello` to `topic` at `per_minute`.
async fn throttled(tenant: &mut Tenant, topic: &str, per_minute: u32) -> SendResponse {
    tenant
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::Topic(topic.into())),
            }),
            notification: Some(hello()),
            throttle_per_minute: per_minute,
            ..Default::default()
        })
        .await
        .expect("throttled send")
        .into_inner()
}

#[tokio::test]
async fn a_throttled_campaign_keeps_its_pace_and_estimates_its_finish() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let tokens = topic_of(&mut acme, "news", 6, Platform::Android).await;

    // 120 a minute: two a second, so six take three steps a second apart.
    let before = now_ms();
    let sent = throttled(&mut acme, "news", 120).await;
    assert_eq!(sent.audience_estimate, 6);
    let finish = sent.estimated_finish_ms - before;
    // Pages of two, a second apart: the last one two seconds after the first.
    assert!((2_000..2_600).contains(&finish), "estimated {finish} ms");
    acme.wait_settled(&sent.message_id).await;
    let mut at: Vec<_> = stack
        .mocks
        .fcm
        .received()
        .into_iter()
        .filter(|p| tokens.contains(&p.token))
        .map(|p| p.at)
        .collect();
    assert_eq!(at.len(), 6);
    at.sort();
    let spread = at[5].duration_since(at[0]);
    // Unthrottled, six pushes go within milliseconds of each other.
    assert!(
        spread >= Duration::from_millis(1_500),
        "six pushes at 120 a minute went within {spread:?}"
    );

    // Only a fan-out is paced.
    let refused = acme
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("news-0".into())),
            }),
            notification: Some(hello()),
            throttle_per_minute: 60,
            ..Default::default()
        })
        .await
        .expect_err("a user is not throttled");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("throttle_per_minute"));
    stack.stop().await;
}

#[tokio::test]
async fn a_recall_stops_a_throttled_campaign_while_it_waits_for_its_pace() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let tokens = topic_of(&mut acme, "sale", 5, Platform::Android).await;
    let sent = throttled(&mut acme, "sale", 60).await;
    let sale = |stack: &Stack| {
        let received = stack.mocks.fcm.received();
        received
            .iter()
            .filter(|p| tokens.contains(&p.token))
            .count()
    };
    while sale(&stack) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let recall = cancel(&mut acme, &sent.message_id, false).await;
    assert_eq!(
        recall.message.expect("the message").state(),
        MessageState::Cancelled
    );
    // The fan-out finds the recall when its pace lets it go on, and routes no more; left
    // alone it would have sent all five within five seconds.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let sent_count = sale(&stack);
    assert!(
        sent_count <= 2,
        "{sent_count} of the campaign's pushes went after its recall"
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_transactional_push_overtakes_a_burst_of_other_sends() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("busy", "tok-busy").await;
    acme.register("callee", "tok-callee").await;
    // Each of the burst's pushes takes 50 ms at the provider: 400 of them keep the sender's
    // slots busy for over a second.
    stack
        .mocks
        .fcm
        .answer_by_default(Answer::delayed(Duration::from_millis(50)));
    stack.mocks.fcm.script("tok-callee", [Answer::success()]);
    let burst: Vec<SendRequest> = (0..400)
        .map(|i| SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("busy".into())),
            }),
            notification: Some(Notification {
                title: format!("news {i}"),
                ..hello()
            }),
            ..Default::default()
        })
        .collect();
    acme.notifications
        .send_batch(SendBatchRequest { requests: burst })
        .await
        .expect("burst");
    while stack.mocks.fcm.attempts("tok-busy") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A call, sent while the burst is under way.
    let call = acme
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("callee".into())),
            }),
            notification: Some(hello()),
            class: MessageClass::Transactional as i32,
            ..Default::default()
        })
        .await
        .expect("call")
        .into_inner();
    acme.wait_settled(&call.message_id).await;
    let received = stack.mocks.fcm.received();
    let call_at = received
        .iter()
        .find(|p| p.token == "tok-callee")
        .expect("the call")
        .at;
    let after = received
        .iter()
        .filter(|p| p.token == "tok-busy" && p.at > call_at)
        .count();
    let pending = 400 - received.iter().filter(|p| p.token == "tok-busy").count();
    // In the standard lane it would have come after the whole burst; in the urgent lane it
    // overtakes most of it.
    assert!(
        after + pending >= 200,
        "only {} of the burst's 400 pushes came after the call",
        after + pending
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_tenant_whose_campaign_waits_holds_up_no_other_tenants_campaign() {
    // No FCM sender, and pages of one device: one tenant's FCM campaign fills the bulk lane
    // with batches that wait there.
    let stack = Stack::start_tuned(DbBackend::Sqlite, 0, |s| s.router.fanout_page = 1).await;
    let mut stuck = stack.tenant("stuck").await;
    topic_of(&mut stuck, "flood", 60, Platform::Android).await;
    stuck
        .send(destination::Kind::Topic("flood".into()), hello())
        .await;
    let bus = herald_bus::Bus::connect(&stack.nats.url())
        .await
        .expect("bus");
    let waiting = herald_bus::subjects::bulk_of_tenant(&stuck.tenant_id);
    while bus
        .subject_messages(herald_bus::BULK_STREAM, &waiting)
        .await
        .expect("bulk lane")
        <= 48
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Another tenant's campaign (to iOS devices, whose sender runs) goes through all the same;
    // were the lane's room shared, it would wait as long as the first one's tasks do.
    let mut quick = stack.tenant("quick").await;
    let tokens = topic_of(&mut quick, "news", 4, Platform::Ios).await;
    let news = quick
        .send(destination::Kind::Topic("news".into()), hello())
        .await;
    let settled = quick.wait_settled(&news.message_id).await;
    assert_eq!(settled.deliveries.len(), 4);
    assert!(
        settled
            .deliveries
            .iter()
            .all(|d| d.status() == DeliveryStatus::Submitted),
        "{settled:#?}"
    );
    assert!(tokens.iter().all(|t| stack.mocks.apns.attempts(t) == 1));
    stack.stop().await;
}

#[tokio::test]
async fn fcm_s_default_quota_applies_until_a_tenant_sets_its_own() {
    // A deployment whose FCM quota is 60 a minute: a push a second.
    let stack = Stack::start_tuned(DbBackend::Sqlite, 1, |s| s.sender.fcm_per_minute = 60).await;
    let mut acme = stack.tenant("acme").await;
    let tokens = topic_of(&mut acme, "news", 3, Platform::Android).await;
    let spread = |stack: &Stack| {
        let mut at: Vec<_> = stack
            .mocks
            .fcm
            .received()
            .into_iter()
            .filter(|p| tokens.contains(&p.token))
            .map(|p| p.at)
            .collect();
        at.sort();
        at[at.len() - 1].duration_since(at[at.len() - 3])
    };
    let first = acme
        .send(destination::Kind::Topic("news".into()), hello())
        .await;
    acme.wait_settled(&first.message_id).await;
    let limited = spread(&stack);
    // At a push a second, the third goes two seconds after the first.
    assert!(
        limited >= Duration::from_millis(1_800),
        "three pushes at 60 a minute went within {limited:?}"
    );
    // The tenant's own FCM limit replaces the default.
    stack
        .set_tenant_settings(
            &acme.tenant_id,
            TenantSettings {
                rate_limits: vec![RateLimit {
                    provider: Provider::Fcm as i32,
                    per_minute: 60_000,
                }],
                ..Default::default()
            },
            "settings.rate_limits",
        )
        .await;
    // The senders read a tenant's settings again within a couple of seconds.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let second = acme
        .send(destination::Kind::Topic("news".into()), hello())
        .await;
    acme.wait_settled(&second.message_id).await;
    let own = spread(&stack);
    assert!(
        own < Duration::from_millis(1_500),
        "three pushes at the tenant's 60,000 a minute took {own:?}"
    );
    stack.stop().await;
}
