//! The device registry through the API.

use herald_e2e::{DbBackend, Stack};
use herald_proto::v1::*;

#[tokio::test]
async fn re_registering_a_token_is_idempotent_and_moves_it_to_the_new_user() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let first = acme.register("alice", "tok-shared").await;
    let again = acme.register("alice", "tok-shared").await;
    assert_eq!(again.device_id, first.device_id);
    let moved = acme.register("bob", "tok-shared").await;
    assert_eq!(moved.device_id, first.device_id);
    assert_eq!(moved.user_id, "bob");
    let alices = acme
        .devices
        .list_devices(ListDevicesRequest {
            user_id: "alice".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(alices.devices.is_empty());
    let bobs = acme
        .devices
        .list_devices(ListDevicesRequest {
            user_id: "bob".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bobs.devices.len(), 1);
    assert_eq!(bobs.devices[0].platform(), Platform::Android);
    assert_eq!(bobs.devices[0].state(), DeviceState::Active);

    acme.devices
        .unregister_device(UnregisterDeviceRequest {
            device_id: first.device_id.clone(),
        })
        .await
        .unwrap();
    // Unregistered, it stays listed as unsubscribed (and is never sent to) until registered
    // again.
    let gone = acme
        .devices
        .get_device(GetDeviceRequest {
            device_id: first.device_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(gone.state(), DeviceState::Unsubscribed);
    assert_eq!(gone.state_reason, "unregistered");
    let unsubscribed = acme
        .devices
        .list_devices(ListDevicesRequest {
            state: DeviceState::Unsubscribed as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unsubscribed.devices.len(), 1);
    let unknown = acme
        .devices
        .list_devices(ListDevicesRequest {
            state: 99,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::InvalidArgument);
    assert!(
        unknown.message().starts_with("state: "),
        "{}",
        unknown.message()
    );
    let back = acme.register("bob", "tok-shared").await;
    assert_eq!(
        (back.state(), back.device_id),
        (DeviceState::Active, first.device_id)
    );
    stack.stop().await;
}

#[tokio::test]
async fn device_listing_pages_through_every_device() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    for i in 0..5 {
        acme.register("pat", &format!("tok-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = acme
            .devices
            .list_devices(ListDevicesRequest {
                user_id: "pat".into(),
                page_size: 2,
                page_token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.devices.into_iter().map(|d| d.push_token));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    seen.sort();
    assert_eq!(seen, (0..5).map(|i| format!("tok-{i}")).collect::<Vec<_>>());
    stack.stop().await;
}
