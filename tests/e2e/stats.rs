//! Delivery analytics: a message's counts and the tenant's per day and provider match the
//! deliveries behind them, each delivery counted once per stage however often it is reported.

use std::time::{Duration, Instant};

use herald_e2e::{DbBackend, Stack, Tenant};
use herald_proto::v1::*;
use herald_testkit::fcm::Answer;
use tonic::Code;

/// The counts the message's deliveries, as they stand, call for (each rung of the ladder a
/// delivery reached counts), with `clicked` taps.
fn expected(deliveries: &[Delivery], clicked: u64) -> [u64; 8] {
    use DeliveryStatus::*;
    let count = |statuses: &[DeliveryStatus]| {
        deliveries
            .iter()
            .filter(|d| statuses.contains(&d.status()))
            .count() as u64
    };
    [
        deliveries.len() as u64,
        count(&[Submitted, Delivered, Read]),
        count(&[Delivered, Read]),
        count(&[Read]),
        clicked,
        count(&[Failed]),
        count(&[Expired]),
        count(&[Cancelled]),
    ]
}

fn values(s: &DeliveryStats) -> [u64; 8] {
    [
        s.sent,
        s.submitted,
        s.delivered,
        s.read,
        s.clicked,
        s.failed,
        s.expired,
        s.cancelled,
    ]
}

async fn message_stats(
    acme: &mut Tenant,
    message_id: &str,
) -> Result<DeliveryStats, tonic::Status> {
    acme.notifications
        .get_message_stats(GetMessageStatsRequest {
            message_id: message_id.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn analytics_count_what_the_deliveries_reached() {
    let stack = Stack::start(DbBackend::Postgres).await;
    let mut acme = stack.tenant("acme").await;
    let read = acme.register("alice", "tok-read").await;
    let delivered = acme.register("alice", "tok-delivered").await;
    acme.register("alice", "tok-submitted").await;
    acme.register("alice", "tok-dead").await;
    stack
        .mocks
        .fcm
        .script("tok-dead", [Answer::error("UNREGISTERED")]);
    let message_id = acme.send_with_context("alice").await;
    let settled = acme.wait_settled(&message_id).await;
    let id_of = |device: &str| {
        settled
            .deliveries
            .iter()
            .find(|d| d.device_id == device)
            .expect("a delivery per device")
            .delivery_id
            .clone()
    };
    let (read_id, delivered_id) = (id_of(&read.device_id), id_of(&delivered.device_id));
    // Reports come more than once, out of order, and a read skips delivered: each delivery
    // still counts once per stage.
    for kind in [
        DeviceEventKind::Read,
        DeviceEventKind::Delivered,
        DeviceEventKind::Clicked,
        DeviceEventKind::Read,
        DeviceEventKind::Clicked,
    ] {
        acme.report(&read_id, kind).await;
    }
    acme.report(&delivered_id, DeviceEventKind::Delivered).await;
    acme.report(&delivered_id, DeviceEventKind::Delivered).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let (deliveries, stats) = loop {
        let deliveries = acme.message(&message_id).await.deliveries;
        let stats = message_stats(&mut acme, &message_id).await.unwrap();
        let statuses: Vec<DeliveryStatus> = deliveries.iter().map(|d| d.status()).collect();
        if statuses.contains(&DeliveryStatus::Read)
            && statuses.contains(&DeliveryStatus::Delivered)
            && values(&stats) == expected(&deliveries, 1)
        {
            break (deliveries, stats);
        }
        assert!(
            Instant::now() < deadline,
            "the counts {:?} never matched the deliveries {statuses:?}",
            values(&stats)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(values(&stats), [4, 3, 2, 1, 1, 1, 0, 0], "{deliveries:?}");
    assert!((stats.delivered_rate - 0.5).abs() < 1e-9, "{stats:?}");
    assert!((stats.read_rate - 0.25).abs() < 1e-9, "{stats:?}");
    assert!((stats.failure_rate - 0.25).abs() < 1e-9, "{stats:?}");

    // The tenant's days (today's, and yesterday's should the test have run across midnight):
    // FCM only, adding up to the message's counts (nothing else was sent).
    let daily = acme
        .notifications
        .get_delivery_stats(GetDeliveryStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let now = herald_core::time::now_ms();
    let recent = [
        herald_core::stats::day_of(now - 86_400_000),
        herald_core::stats::day_of(now),
    ];
    assert!(!daily.days.is_empty() && daily.days.len() <= 2, "{daily:?}");
    for day in &daily.days {
        assert!(recent.contains(&day.day), "{daily:?}");
        assert_eq!(day.provider(), Provider::Fcm);
    }
    assert_eq!(values(daily.total.as_ref().unwrap()), values(&stats));
    let apns_only = acme
        .notifications
        .get_delivery_stats(GetDeliveryStatsRequest {
            provider: Provider::Apns as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(apns_only.days.is_empty());
    assert_eq!(values(apns_only.total.as_ref().unwrap()), [0; 8]);

    // Another tenant sees neither the message nor the counts; a bad range names its field.
    let mut other = stack.tenant("other").await;
    let refused = message_stats(&mut other, &message_id).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    let theirs = other
        .notifications
        .get_delivery_stats(GetDeliveryStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(theirs.days.is_empty());
    let backwards = acme
        .notifications
        .get_delivery_stats(GetDeliveryStatsRequest {
            since_ms: 2_000_000_000_000,
            until_ms: 1_000_000_000_000,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(backwards.code(), Code::InvalidArgument);
    assert!(backwards.message().contains("since_ms"), "{backwards:?}");
    stack.stop().await;
}
