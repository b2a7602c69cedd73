//! The store's behaviour, checked on SQLite and on PostgreSQL alike.

use std::collections::HashSet;

use herald_core::ids::{DeliveryId, DeviceId, MessageId, TenantId};
use herald_core::time::now_ms;
use herald_proto::v1::{
    ApiKeyScope, Browser, DeliveryStatus, DeviceState, MessageState, Platform, Provider,
};
use herald_testkit::db::{Backend, TestDatabase};

use crate::*;

async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDatabase::new(backend).await.expect("test database");
        let store = Store::connect(&db.url).await.expect("connect and migrate");
        test(store.clone()).await;
        store.close().await;
    }
}

fn of_user(user: &str) -> DeviceFilter {
    DeviceFilter {
        user_id: Some(user.into()),
        ..Default::default()
    }
}

fn android(user: &str, token: &str) -> DeviceProfile {
    DeviceProfile {
        user_id: Some(user.into()),
        platform: Platform::Android,
        push_token: token.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn api_keys_resolve_to_their_tenant_until_revoked() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap();
        let key = store
            .insert_api_key(&t.id, "ci", "hrld_abc", "hash-1", ApiKeyScope::Server)
            .await
            .unwrap();
        assert_eq!(
            store.live_key("hash-1").await.unwrap(),
            Some(LiveKey {
                tenant_id: t.id.clone(),
                id: key.id.clone(),
                scope: ApiKeyScope::Server,
            })
        );
        assert_eq!(store.live_key("hash-2").await.unwrap(), None);
        let app = store
            .insert_api_key(&t.id, "app", "hrld_def", "hash-3", ApiKeyScope::App)
            .await
            .unwrap();
        assert_eq!(
            store.live_key("hash-3").await.unwrap().map(|k| k.scope),
            Some(ApiKeyScope::App)
        );
        assert_eq!(store.list_api_keys(&t.id, None, 100).await.unwrap()[1], app);
        let other = store.create_tenant("other").await.unwrap();
        assert!(
            !store.revoke_api_key(&other.id, &key.id).await.unwrap(),
            "another tenant's key"
        );
        assert!(store.revoke_api_key(&t.id, &key.id).await.unwrap());
        assert_eq!(store.live_key("hash-1").await.unwrap(), None);
        assert!(
            store.list_api_keys(&t.id, None, 100).await.unwrap()[0]
                .revoked_at
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn re_registering_a_token_is_idempotent_and_moves_it_to_the_new_user() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let (first, created) = store
            .register_device(&t, &android("alice", "tok"))
            .await
            .unwrap();
        assert!(created);
        let (again, created) = store
            .register_device(&t, &android("alice", "tok"))
            .await
            .unwrap();
        assert!(!created);
        assert_eq!(again.id, first.id);
        let (moved, _) = store
            .register_device(&t, &android("bob", "tok"))
            .await
            .unwrap();
        assert_eq!(moved.id, first.id);
        let audience = store
            .active_devices_of_users(&t, &["alice", "bob"])
            .await
            .unwrap();
        assert_eq!(audience.len(), 1);
        assert_eq!(audience[0].profile.user_id.as_deref(), Some("bob"));
        // The same token in another tenant is another device.
        let t2 = store.create_tenant("other").await.unwrap().id;
        let (theirs, created) = store
            .register_device(&t2, &android("bob", "tok"))
            .await
            .unwrap();
        assert!(created);
        assert_ne!(theirs.id, first.id);
        assert!(store.get_device(&t2, &first.id).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn a_batch_of_device_ids_and_push_ids_is_looked_up_in_one_query_each() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let other = store.create_tenant("other").await.unwrap().id;
        let (a, _) = store
            .register_device(&t, &android("alice", "tok-a"))
            .await
            .unwrap();
        let (b, _) = store
            .register_device(&t, &android("bob", "tok-b"))
            .await
            .unwrap();
        let (theirs, _) = store
            .register_device(&other, &android("eve", "tok-e"))
            .await
            .unwrap();
        // Push ids: one known, one new (registered once however often it is named), and one of
        // another tenant's tokens, which becomes this tenant's own device.
        let push = |token: &str| DeviceProfile {
            platform: Platform::Android,
            push_token: token.into(),
            ..Default::default()
        };
        store
            .ensure_devices(
                &t,
                &[
                    push("tok-a"),
                    push("tok-new"),
                    push("tok-new"),
                    push("tok-e"),
                ],
            )
            .await
            .unwrap();
        let mut found = store
            .devices_by_ids(
                &t,
                &[a.id.as_str(), b.id.as_str(), theirs.id.as_str(), "dev_none"],
            )
            .await
            .unwrap();
        found.sort_by(|x, y| x.id.cmp(&y.id));
        let mut expected = vec![a.id.clone(), b.id.clone()];
        expected.sort();
        assert_eq!(
            found.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
            expected
        );
        let by_token = store
            .devices_by_tokens(
                &t,
                &[
                    (Platform::Android, "tok-a"),
                    (Platform::Android, "tok-new"),
                    (Platform::Android, "tok-e"),
                    (Platform::Ios, "tok-a"),
                ],
            )
            .await
            .unwrap();
        let mut tokens: Vec<&str> = by_token
            .iter()
            .map(|d| d.profile.push_token.as_str())
            .collect();
        tokens.sort_unstable();
        assert_eq!(tokens, ["tok-a", "tok-e", "tok-new"]);
        let known = by_token
            .iter()
            .find(|d| d.profile.push_token == "tok-a")
            .unwrap();
        assert_eq!(known.id, a.id, "a known token keeps its device");
        assert_eq!(known.profile.user_id.as_deref(), Some("alice"));
        assert!(by_token.iter().all(|d| d.tenant_id == t));
        assert!(store.devices_by_ids(&t, &[]).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn last_reached_moves_forward_to_the_minute() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let (d, _) = store
            .register_device(&t, &android("alice", "tok"))
            .await
            .unwrap();
        let at = 1_700_000_000_000;
        let reached = |at: i64| vec![(t.as_str().to_owned(), d.id.as_str().to_owned(), at)];
        let mark = |rows: Vec<(String, String, i64)>| {
            let store = store.clone();
            async move {
                let rows: Vec<(&str, &str, i64)> = rows
                    .iter()
                    .map(|(t, d, at)| (t.as_str(), d.as_str(), *at))
                    .collect();
                store.mark_devices_reached(&rows).await.unwrap()
            }
        };
        let last = || async {
            store
                .get_device(&t, &d.id)
                .await
                .unwrap()
                .unwrap()
                .last_active_at
        };
        assert_eq!(mark(reached(at)).await, 1);
        assert_eq!(last().await, at);
        // Within the minute: not rewritten; earlier: never moves back.
        assert_eq!(mark(reached(at + LAST_ACTIVE_PRECISION_MS)).await, 0);
        assert_eq!(mark(reached(at - 5_000)).await, 0);
        assert_eq!(last().await, at);
        assert_eq!(mark(reached(at + LAST_ACTIVE_PRECISION_MS + 1)).await, 1);
        assert_eq!(last().await, at + LAST_ACTIVE_PRECISION_MS + 1);
        // Another tenant's device id is not touched.
        let other = store.create_tenant("other").await.unwrap().id;
        let rows = vec![(other.as_str().to_owned(), d.id.as_str().to_owned(), at * 2)];
        assert_eq!(mark(rows).await, 0);
    })
    .await;
}

#[tokio::test]
async fn devices_page_in_id_order() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        for i in 0..5 {
            store
                .register_device(&t, &android("u", &format!("tok{i}")))
                .await
                .unwrap();
        }
        let page1 = store
            .list_devices(&t, &of_user("u"), None, 3)
            .await
            .unwrap();
        let page2 = store
            .list_devices(&t, &of_user("u"), Some(&page1[2].id), 3)
            .await
            .unwrap();
        assert_eq!((page1.len(), page2.len()), (3, 2));
        assert!(page1[2].id < page2[0].id);
        assert_eq!(
            store
                .list_devices(&t, &of_user("nobody"), None, 10)
                .await
                .unwrap()
                .len(),
            0
        );
    })
    .await;
}

#[tokio::test]
async fn an_unregistered_device_stays_listed_as_unsubscribed_and_filters_narrow_the_list() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let (phone, _) = store
            .register_device(&t, &android("u", "tok-a"))
            .await
            .unwrap();
        store
            .register_device(&t, &android("v", "tok-b"))
            .await
            .unwrap();
        store
            .register_device(
                &t,
                &DeviceProfile {
                    user_id: Some("u".into()),
                    platform: Platform::Web,
                    push_token: "https://push.example/1".into(),
                    browser: Some(Browser::Firefox),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(store.unregister_device(&t, &phone.id).await.unwrap());
        let listed = |filter: DeviceFilter| {
            let store = store.clone();
            let t = t.clone();
            async move {
                store
                    .list_devices(&t, &filter, None, 10)
                    .await
                    .unwrap()
                    .len()
            }
        };
        assert_eq!(listed(DeviceFilter::default()).await, 3);
        let state = |state| DeviceFilter {
            state: Some(state),
            ..Default::default()
        };
        assert_eq!(listed(state(DeviceState::Unsubscribed)).await, 1);
        assert_eq!(listed(state(DeviceState::Active)).await, 2);
        let web_firefox = DeviceFilter {
            platform: Some(Platform::Web),
            browser: Some(Browser::Firefox),
            ..Default::default()
        };
        assert_eq!(listed(web_firefox).await, 1);
        let android_of_u = DeviceFilter {
            user_id: Some("u".into()),
            platform: Some(Platform::Android),
            ..Default::default()
        };
        assert_eq!(listed(android_of_u).await, 1);
        let gone = store.get_device(&t, &phone.id).await.unwrap().unwrap();
        assert_eq!(
            (gone.state, gone.state_reason.as_str()),
            (DeviceState::Unsubscribed, "unregistered")
        );
        // Registered again, it is active again.
        let (back, created) = store
            .register_device(&t, &android("u", "tok-a"))
            .await
            .unwrap();
        assert_eq!(
            (back.id, created, back.state),
            (phone.id, false, DeviceState::Active)
        );
    })
    .await;
}

fn message(tenant: &TenantId, key: Option<&str>) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        tenant_id: tenant.clone(),
        idempotency_key: key.map(str::to_owned),
        request_digest: key.map(|_| "digest-1".to_owned()),
        body: vec![1, 2, 3],
        correlation_id: String::new(),
        callback_data: String::new(),
        notify_url: String::new(),
        created_at: now_ms(),
        expires_at: now_ms() + 60_000,
        send_at: None,
    }
}

#[tokio::test]
async fn an_idempotency_key_finds_the_first_message() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let first = message(&t, Some("k1"));
        assert_eq!(
            store.insert_message(&first).await.unwrap(),
            InsertedMessage::Inserted
        );
        let second = message(&t, Some("k1"));
        match store.insert_message(&second).await.unwrap() {
            InsertedMessage::Duplicate { id, request_digest } => {
                assert_eq!(id, first.id);
                assert_eq!(request_digest.as_deref(), Some("digest-1"));
            }
            other => panic!("expected a duplicate, got {other:?}"),
        }
        // No key: never a duplicate. Same key, other tenant: not a duplicate either.
        assert_eq!(
            store.insert_message(&message(&t, None)).await.unwrap(),
            InsertedMessage::Inserted
        );
        assert_eq!(
            store.insert_message(&message(&t, None)).await.unwrap(),
            InsertedMessage::Inserted
        );
        let t2 = store.create_tenant("other").await.unwrap().id;
        assert_eq!(
            store
                .insert_message(&message(&t2, Some("k1")))
                .await
                .unwrap(),
            InsertedMessage::Inserted
        );
    })
    .await;
}

#[tokio::test]
async fn unpublished_messages_wait_for_the_relay() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let m = message(&t, None);
        store.insert_message(&m).await.unwrap();
        let pending = store.unpublished_messages(now_ms() + 1, 10).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id, m.id);
        store
            .mark_published(&t, std::slice::from_ref(&m.id))
            .await
            .unwrap();
        assert!(
            store
                .unpublished_messages(now_ms() + 1, 10)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn scheduled_messages_wait_then_are_released_once() {
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("planner").await.unwrap().id;
        let now = now_ms();
        let old = now - 60_000;
        let [soon, later, cancelled] =
            [now - 1, now + 3_600_000, now + 7_200_000].map(|at| NewMessage {
                created_at: old,
                send_at: Some(at),
                ..message(&tenant, None)
            });
        for m in [&soon, &later, &cancelled] {
            store.insert_message(m).await.unwrap();
        }
        let record = store
            .get_message(&tenant, &later.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.state, MessageState::Scheduled);
        assert_eq!(record.send_at, later.send_at);
        // Not the outbox's: neither relayed nor counted as its backlog.
        assert!(
            store
                .unpublished_messages(now, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.outbox_backlog(now).await.unwrap(), 0);
        assert_eq!(store.next_send_at().await.unwrap(), soon.send_at);

        let listed: Vec<MessageId> = store
            .scheduled_messages(&tenant, None, 2)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(listed, [soon.id.clone(), later.id.clone()]);
        let after = (later.send_at.unwrap(), later.id.as_str());
        let rest = store
            .scheduled_messages(&tenant, Some(after), 2)
            .await
            .unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].id, cancelled.id);

        assert!(
            store
                .cancel_scheduled(&tenant, &cancelled.id)
                .await
                .unwrap()
        );
        assert!(
            !store
                .cancel_scheduled(&tenant, &cancelled.id)
                .await
                .unwrap()
        );
        let gone = store
            .get_message(&tenant, &cancelled.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(gone.state, MessageState::Cancelled);

        assert!(
            store
                .reschedule_message(
                    &tenant,
                    &later.id,
                    later.send_at.unwrap(),
                    now + 10,
                    b"moved",
                    now + 20
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .reschedule_message(
                    &tenant,
                    &cancelled.id,
                    cancelled.send_at.unwrap(),
                    now + 10,
                    b"moved",
                    now + 20
                )
                .await
                .unwrap()
        );

        // A move from a stale due time (scheduled again meanwhile) changes nothing.
        assert!(
            !store
                .reschedule_message(&tenant, &later.id, now + 1, now + 99, b"stale", now + 99)
                .await
                .unwrap()
        );
        // A late publish mark never lands on a scheduled message (its next wave).
        store
            .mark_published(&tenant, std::slice::from_ref(&soon.id))
            .await
            .unwrap();
        let still = store.get_message(&tenant, &soon.id).await.unwrap().unwrap();
        assert_eq!(still.published_at, None);
        // Due ones are released once, however often asked; a cancelled one never.
        let released: Vec<MessageId> = store
            .release_due_messages(now + 10, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(released, [soon.id.clone(), later.id.clone()]);
        assert!(
            store
                .release_due_messages(now + 10, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let moved = store
            .get_message(&tenant, &later.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (moved.state, moved.body.as_slice(), moved.expires_at),
            (MessageState::Accepted, &b"moved"[..], now + 20)
        );
        // Released but not yet published: the outbox's again, should the publish fail.
        assert_eq!(store.unpublished_messages(now, 10).await.unwrap().len(), 2);
        assert_eq!(store.next_send_at().await.unwrap(), None);
        assert!(!store.cancel_scheduled(&tenant, &soon.id).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn pushes_are_counted_per_subject_in_a_window_but_not_against_their_own_message() {
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("caps").await.unwrap().id;
        let (first, second) = (MessageId::generate(), MessageId::generate());
        let now = now_ms();
        store
            .log_pushes(
                &tenant,
                "marketing",
                &first,
                &["user:u", "device:d1"],
                now - 10_000,
            )
            .await
            .unwrap();
        // Logged again (the message routed twice): counted once.
        store
            .log_pushes(&tenant, "marketing", &first, &["user:u"], now - 10_000)
            .await
            .unwrap();
        store
            .log_pushes(&tenant, "marketing", &second, &["user:u"], now - 1_000)
            .await
            .unwrap();
        let counts = |since: i64, except: MessageId| {
            let store = store.clone();
            let tenant = tenant.clone();
            async move {
                store
                    .count_pushes(
                        &tenant,
                        "marketing",
                        &["user:u", "device:d1", "device:d2"],
                        since,
                        &except,
                    )
                    .await
                    .unwrap()
            }
        };
        let all = counts(now - 60_000, MessageId::generate()).await;
        assert_eq!(all.get("user:u"), Some(&2));
        assert_eq!(all.get("device:d1"), Some(&1));
        assert_eq!(all.get("device:d2"), None);
        let recent = counts(now - 5_000, MessageId::generate()).await;
        assert_eq!(recent.get("user:u"), Some(&1), "the window");
        let itself = counts(now - 60_000, second.clone()).await;
        assert_eq!(itself.get("user:u"), Some(&1), "not against itself");
        let other_class = store
            .count_pushes(&tenant, "standard", &["user:u"], 0, &second)
            .await
            .unwrap();
        assert!(other_class.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_rate_bucket_refills_at_its_exact_rate_whatever_the_takers_clocks() {
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("limited").await.unwrap().id;
        let t = 1_800_000_000_000;
        let take = |scope: &'static str, per_minute: u32, wanted: u32, now: i64| {
            let store = store.clone();
            let tenant = tenant.clone();
            async move {
                store
                    .take_rate(&tenant, scope, per_minute, wanted, now)
                    .await
                    .unwrap()
            }
        };
        // 300 a minute: five a second, a second's budget at most.
        assert_eq!(take("fcm", 300, 9, t).await, 5, "a full bucket");
        assert_eq!(take("fcm", 300, 1, t).await, 0, "spent");
        assert_eq!(take("fcm", 300, 9, t + 400).await, 2, "refilled for 400 ms");
        // A taker whose clock is behind refills nothing, and opens no fresh budget.
        assert_eq!(take("fcm", 300, 9, t - 5_000).await, 0);
        assert_eq!(take("fcm", 300, 9, t + 600).await, 1, "200 ms more");
        // Idle for long, it holds a second's budget, not more.
        assert_eq!(take("fcm", 300, 99, t + 60_000).await, 5);
        // Other scopes and tenants have their own buckets.
        assert_eq!(take("*", 300, 4, t).await, 4);
        let other = store.create_tenant("other").await.unwrap().id;
        assert_eq!(store.take_rate(&other, "fcm", 300, 4, t).await.unwrap(), 4);
        // 90 a minute is a push and a half a second, not two: over ten seconds of takes every
        // 100 ms, the first second's budget (one whole push) and fifteen more.
        let mut granted = 0;
        for step in 0..=100 {
            granted += take("hms", 90, 1, t + step * 100).await;
        }
        assert_eq!(granted, 16);
        // Many takers at once: never more than the bucket holds in total.
        let takers: Vec<_> = (0..8).map(|_| take("apns", 300, 2, t)).collect();
        let granted: u32 = futures::future::join_all(takers).await.into_iter().sum();
        assert_eq!(granted, 5);
    })
    .await;
}

#[tokio::test]
async fn the_relay_takes_each_tenants_oldest_in_turn() {
    on_each_backend(|store| async move {
        let busy = store.create_tenant("busy").await.unwrap().id;
        let quiet = store.create_tenant("quiet").await.unwrap().id;
        let base = now_ms() - 10_000;
        let mut backlog = Vec::new();
        for i in 0..5 {
            let m = NewMessage {
                created_at: base + i,
                ..message(&busy, None)
            };
            store.insert_message(&m).await.unwrap();
            backlog.push(m.id);
        }
        let late = NewMessage {
            created_at: base + 100,
            ..message(&quiet, None)
        };
        store.insert_message(&late).await.unwrap();
        let picked: Vec<MessageId> = store
            .unpublished_messages(now_ms(), 2)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(picked, [backlog[0].clone(), late.id.clone()]);

        // Refusals are counted; a parked message fails and leaves the relay's list.
        assert_eq!(store.refused_publish(&busy, &backlog[0]).await.unwrap(), 1);
        assert_eq!(store.refused_publish(&busy, &backlog[0]).await.unwrap(), 2);
        store
            .park_message(&busy, &backlog[0], "too large for the bus")
            .await
            .unwrap();
        let parked = store
            .get_message(&busy, &backlog[0])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(parked.state, MessageState::Failed);
        assert_eq!(parked.reason, "too large for the bus");
        let next = store.unpublished_messages(now_ms(), 1).await.unwrap();
        assert_eq!(next[0].id, backlog[1]);
    })
    .await;
}

#[tokio::test]
async fn a_new_sqlite_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("herald.db");
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    store.create_tenant("acme").await.unwrap();
    for file in ["herald.db", "herald.db-wal"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    store.close().await;
}

/// A tenant, its device of user `u` with token `tok`, and one queued delivery to it.
struct Queued {
    tenant: TenantId,
    message: MessageId,
    device: DeviceId,
    delivery: DeliveryId,
}

async fn queued_delivery(store: &Store) -> Queued {
    let tenant = store.create_tenant("acme").await.unwrap().id;
    let (device, _) = store
        .register_device(&tenant, &android("u", "tok"))
        .await
        .unwrap();
    let m = message(&tenant, None);
    store.insert_message(&m).await.unwrap();
    let delivery = DeliveryId::derive(&m.id, &device.id);
    let new = NewDelivery {
        id: delivery.clone(),
        device_id: device.id.clone(),
        provider: Provider::Fcm,
    };
    let routed = RoutedMessage {
        tenant_id: tenant.clone(),
        message_id: m.id.clone(),
        deliveries: vec![new],
    };
    let created = store
        .record_routing(std::slice::from_ref(&routed), &[])
        .await
        .unwrap();
    assert_eq!(created, std::collections::HashSet::from([delivery.clone()]));
    assert_eq!(
        store
            .get_message(&tenant, &m.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        MessageState::Routed
    );
    // Routing again (a router handling the message twice) keeps the one delivery.
    let again = store.record_routing(&[routed], &[]).await.unwrap();
    assert!(again.is_empty(), "nothing new the second time");
    Queued {
        tenant,
        message: m.id,
        device: device.id,
        delivery,
    }
}

impl Queued {
    fn receipt(&self, status: DeliveryStatus, reason: &str, token_dead: bool) -> ReceiptUpdate {
        ReceiptUpdate {
            tenant_id: self.tenant.clone(),
            delivery_id: self.delivery.clone(),
            device_id: self.device.clone(),
            status,
            reason: reason.into(),
            provider_message_id: String::new(),
            attempts: 1,
            at_ms: now_ms(),
            token_dead,
            clicked: false,
        }
    }
}

#[tokio::test]
async fn a_recall_takes_queued_deliveries_from_every_sender_and_the_router() {
    on_each_backend(|store| async move {
        let q = queued_delivery(&store).await;
        let (other_device, _) = store
            .register_device(&q.tenant, &android("u", "tok-2"))
            .await
            .unwrap();
        let second = DeliveryId::derive(&q.message, &other_device.id);
        let routed = RoutedMessage {
            tenant_id: q.tenant.clone(),
            message_id: q.message.clone(),
            deliveries: vec![NewDelivery {
                id: second.clone(),
                device_id: other_device.id.clone(),
                provider: Provider::Fcm,
            }],
        };
        store
            .record_routing(std::slice::from_ref(&routed), &[])
            .await
            .unwrap();
        let lease = 10_000;
        let now = now_ms();
        // A sender is sending the first one right now.
        let live = store
            .claim_deliveries(&q.tenant, &[(q.delivery.as_str(), 1)], now, lease)
            .await
            .unwrap();
        assert_eq!(live.claimed.len(), 1);

        assert_eq!(
            store.recall_message(&q.tenant, &q.message).await.unwrap(),
            Some(MessageState::Routed)
        );
        let stored = store
            .get_message(&q.tenant, &q.message)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.state, MessageState::Cancelled);
        let take = |after: String| {
            let store = store.clone();
            let (tenant, message) = (q.tenant.clone(), q.message.clone());
            async move {
                store
                    .recall_deliveries(&tenant, &message, &after, 1, now_ms(), lease)
                    .await
                    .unwrap()
            }
        };
        let mut taken = take(String::new()).await;
        assert_eq!(taken.len(), 1, "a page at a time");
        taken.extend(take(taken[0].id.to_string()).await);
        let flights: Vec<(DeliveryId, bool)> =
            taken.iter().map(|d| (d.id.clone(), d.in_flight)).collect();
        let mut expected = vec![(q.delivery.clone(), true), (second.clone(), false)];
        expected.sort();
        assert_eq!(flights, expected);
        // Taking them again (a repeated recall) answers them again, as they were.
        let again = store
            .recall_deliveries(&q.tenant, &q.message, "", 10, now_ms(), lease)
            .await
            .unwrap();
        assert_eq!(again, taken);

        // No sender claims them now, whatever the attempt: each is reported recalled.
        let claims = store
            .claim_deliveries(
                &q.tenant,
                &[(q.delivery.as_str(), 2), (second.as_str(), 1)],
                now_ms() + 2 * lease,
                lease,
            )
            .await
            .unwrap();
        assert!(claims.claimed.is_empty() && claims.held.is_empty());
        assert_eq!(
            claims.recalled,
            [q.delivery.to_string(), second.to_string()].into()
        );
        // A receipt records one cancelled, and it is no longer taken.
        let cancel = ReceiptUpdate {
            delivery_id: second.clone(),
            device_id: other_device.id.clone(),
            ..q.receipt(DeliveryStatus::Cancelled, "recalled", false)
        };
        store.apply_receipts(&[cancel]).await.unwrap();
        let left = store
            .recall_deliveries(&q.tenant, &q.message, "", 10, now_ms(), lease)
            .await
            .unwrap();
        assert_eq!(left.len(), 1);
        let counts = store
            .message_delivery_counts(&q.tenant, &q.message)
            .await
            .unwrap();
        assert_eq!(
            counts,
            [(DeliveryStatus::Cancelled, 1), (DeliveryStatus::Queued, 1)]
        );

        // The router records nothing more for it, and keeps it cancelled.
        let (late_device, _) = store
            .register_device(&q.tenant, &android("u", "tok-3"))
            .await
            .unwrap();
        let late = RoutedMessage {
            deliveries: vec![NewDelivery {
                id: DeliveryId::derive(&q.message, &late_device.id),
                device_id: late_device.id.clone(),
                provider: Provider::Fcm,
            }],
            ..routed
        };
        assert!(store.record_routing(&[late], &[]).await.unwrap().is_empty());
        let stored = store
            .get_message(&q.tenant, &q.message)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.state, MessageState::Cancelled);
        assert_eq!(
            store
                .deliveries_of_message(&q.tenant, &q.message)
                .await
                .unwrap()
                .len(),
            2
        );
    })
    .await;
}

#[tokio::test]
async fn a_delivery_is_claimed_once_per_attempt_until_its_lease_runs_out() {
    on_each_backend(|store| async move {
        let q = queued_delivery(&store).await;
        let id = q.delivery.as_str();
        let lease = 10_000;
        let claim = |attempt: u32, now: i64| {
            let store = store.clone();
            let tenant = q.tenant.clone();
            async move {
                store
                    .claim_deliveries(
                        &tenant,
                        &[(id, attempt), ("dlv_unknown", attempt)],
                        now,
                        lease,
                    )
                    .await
                    .unwrap()
            }
        };
        let t = 1_000_000;
        let first = claim(1, t).await;
        assert_eq!(first.claimed, [id.to_owned()].into(), "the first try");
        assert!(first.held.is_empty());
        let copy = claim(1, t + 5_000).await;
        assert!(
            copy.claimed.is_empty(),
            "a copy of the same try is left to its holder"
        );
        assert_eq!(
            copy.held,
            [(id.to_owned(), t + lease)].into(),
            "until the lease runs out"
        );
        assert_eq!(
            claim(1, t + lease).await.claimed.len(),
            1,
            "taken over from a holder that stopped answering"
        );
        assert_eq!(
            claim(2, t + lease + 1).await.claimed.len(),
            1,
            "the next try"
        );
        let older = claim(1, t + 10 * lease).await;
        assert!(
            older.claimed.is_empty() && older.held.is_empty(),
            "an older try never comes back"
        );
        let other = store.create_tenant("other").await.unwrap().id;
        assert_eq!(
            store
                .claim_deliveries(&other, &[(id, 3)], t + 10 * lease, lease)
                .await
                .unwrap(),
            Claims::default(),
            "another tenant's delivery"
        );
        let read = q.receipt(DeliveryStatus::Read, "", false);
        store.apply_receipts(&[read]).await.unwrap();
        assert_eq!(
            claim(3, t + 10 * lease).await,
            Claims::default(),
            "a settled delivery is not sent again"
        );
    })
    .await;
}

#[tokio::test]
async fn receipts_only_move_deliveries_forward() {
    on_each_backend(|store| async move {
        let q = queued_delivery(&store).await;
        assert_eq!(
            store.still_queued(&q.tenant, &[&q.delivery]).await.unwrap(),
            HashSet::from([q.delivery.clone()])
        );
        let read = q.receipt(DeliveryStatus::Read, "", false);
        let recorded = store
            .apply_receipts(std::slice::from_ref(&read))
            .await
            .unwrap();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].id, q.delivery);
        assert_eq!(recorded[0].status, DeliveryStatus::Read);
        let read_at = recorded[0].updated_at;
        // A late "submitted" and a "failed" after success change nothing.
        let late = [
            q.receipt(DeliveryStatus::Submitted, "", false),
            q.receipt(DeliveryStatus::Failed, "x", true),
        ];
        assert!(store.apply_receipts(&late).await.unwrap().is_empty());
        // The same status again (a receipt recorded again after a crash) changes nothing but
        // is answered again, so its event can be emitted again.
        let again = ReceiptUpdate {
            at_ms: read_at + 5_000,
            reason: "later".into(),
            ..read
        };
        let repeated = store.apply_receipts(&[again]).await.unwrap();
        assert_eq!(repeated.len(), 1);
        assert_eq!(repeated[0].status, DeliveryStatus::Read);
        assert_eq!(repeated[0].updated_at, read_at, "a repeat changes nothing");
        assert_eq!(repeated[0].reason, "");
        let d = store
            .get_delivery(&q.tenant, &q.delivery)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.status, DeliveryStatus::Read);
        assert!(
            store
                .still_queued(&q.tenant, &[&q.delivery])
                .await
                .unwrap()
                .is_empty()
        );
        // Token death marks the device inactive even though this delivery had finished.
        let device = store
            .get_device(&q.tenant, &q.device)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (device.state, device.state_reason.as_str()),
            (DeviceState::Inactive, "x")
        );
    })
    .await;
}

#[tokio::test]
async fn a_token_dead_receipt_fails_the_delivery_and_retires_the_device() {
    on_each_backend(|store| async move {
        let q = queued_delivery(&store).await;
        let dead = q.receipt(DeliveryStatus::Failed, "UNREGISTERED", true);
        assert_eq!(store.apply_receipts(&[dead]).await.unwrap().len(), 1);
        let d = store
            .get_delivery(&q.tenant, &q.delivery)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (d.status, d.reason.as_str()),
            (DeliveryStatus::Failed, "UNREGISTERED")
        );
        assert!(
            store
                .active_devices_of_users(&q.tenant, &["u"])
                .await
                .unwrap()
                .is_empty()
        );
        // Re-registering the token revives the device.
        let (revived, _) = store
            .register_device(&q.tenant, &android("u", "tok"))
            .await
            .unwrap();
        assert!(revived.is_active());
        assert_eq!(revived.id, q.device);
    })
    .await;
}

#[tokio::test]
async fn an_unroutable_message_is_failed_with_its_reason() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let m = message(&t, None);
        store.insert_message(&m).await.unwrap();
        let failed = FailedMessage {
            tenant_id: t.clone(),
            message_id: m.id.clone(),
            reason: "no devices".into(),
        };
        assert!(
            store
                .record_routing(&[], &[failed])
                .await
                .unwrap()
                .is_empty()
        );
        let record = store.get_message(&t, &m.id).await.unwrap().unwrap();
        assert_eq!(
            (record.state, record.reason.as_str()),
            (MessageState::Failed, "no devices")
        );
        assert_eq!(store.delivery_counts(&t).await.unwrap(), vec![]);
    })
    .await;
}

#[tokio::test]
async fn credentials_are_per_tenant_and_replaceable() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let meta = CredentialRecord {
            provider: Provider::Fcm,
            label: "prod".into(),
            identifier: "project-1".into(),
            principal: "sa@project-1".into(),
            updated_at: 0,
        };
        store.put_credential(&t, &meta, b"sealed-1").await.unwrap();
        store.put_credential(&t, &meta, b"sealed-2").await.unwrap();
        let sealed = store
            .sealed_credential(&t, Provider::Fcm)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sealed.sealed, b"sealed-2");
        assert_eq!(
            store.credential_version(&t, Provider::Fcm).await.unwrap(),
            Some(sealed.updated_at)
        );
        assert_eq!(
            store.list_credentials(&t, None, 100).await.unwrap().len(),
            1
        );
        let t2 = store.create_tenant("other").await.unwrap().id;
        assert!(
            store
                .sealed_credential(&t2, Provider::Fcm)
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.delete_credential(&t, Provider::Fcm).await.unwrap());
        assert!(
            store
                .list_credentials(&t, None, 100)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn tenant_settings_default_off_and_can_be_changed() {
    on_each_backend(|store| async move {
        let created = store.create_tenant("acme").await.unwrap();
        let t = created.id.clone();
        assert_eq!(
            store.tenant_settings(&t).await.unwrap(),
            Some(TenantSettings::default())
        );
        let on = TenantSettings {
            allow_http_web_push: true,
            topic_messaging_disabled: true,
            segment_messaging_disabled: false,
            default_time_zone: "Europe/Vienna".into(),
            quiet_hours: herald_core::timing::QuietHours::read(
                "q",
                Some(&herald_proto::v1::QuietHours {
                    start: "22:00".into(),
                    end: "07:30".into(),
                    standard: 0,
                    marketing: herald_proto::v1::QuietAction::Hold as i32,
                }),
            )
            .unwrap(),
            frequency_caps: herald_core::caps::Cap::read_all(
                "caps",
                &[herald_proto::v1::FrequencyCap {
                    class: herald_proto::v1::MessageClass::Marketing as i32,
                    max: 3,
                    window_seconds: 86_400,
                    per: herald_proto::v1::CapScope::User as i32,
                }],
            )
            .unwrap(),
            rate_limits: herald_core::caps::RateLimit::read_all(
                "limits",
                &[herald_proto::v1::RateLimit {
                    provider: herald_proto::v1::Provider::Fcm as i32,
                    per_minute: 600_000,
                }],
            )
            .unwrap(),
        };
        let renamed = TenantRecord {
            display_name: "Acme Corp".into(),
            settings: on.clone(),
            ..created
        };
        assert!(store.update_tenant(&renamed).await.unwrap());
        assert_eq!(store.tenant_settings(&t).await.unwrap(), Some(on));
        assert_eq!(store.get_tenant(&t).await.unwrap(), Some(renamed.clone()));
        let unknown = herald_core::ids::TenantId::generate();
        assert_eq!(store.tenant_settings(&unknown).await.unwrap(), None);
        let stranger = TenantRecord {
            id: unknown,
            ..renamed
        };
        assert!(!store.update_tenant(&stranger).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_dead_web_subscription_expires_rather_than_goes_inactive() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let web = DeviceProfile {
            user_id: Some("u".into()),
            platform: Platform::Web,
            push_token: "https://push.example/p/1".into(),
            ..Default::default()
        };
        let (device, _) = store.register_device(&t, &web).await.unwrap();
        let m = message(&t, None);
        store.insert_message(&m).await.unwrap();
        let delivery = DeliveryId::derive(&m.id, &device.id);
        let new = NewDelivery {
            id: delivery.clone(),
            device_id: device.id.clone(),
            provider: Provider::Webpush,
        };
        let routed = RoutedMessage {
            tenant_id: t.clone(),
            message_id: m.id.clone(),
            deliveries: vec![new],
        };
        store.record_routing(&[routed], &[]).await.unwrap();
        let q = Queued {
            tenant: t.clone(),
            message: m.id,
            device: device.id.clone(),
            delivery,
        };
        store
            .apply_receipts(&[q.receipt(DeliveryStatus::Failed, "410 Gone", true)])
            .await
            .unwrap();
        let device = store.get_device(&t, &device.id).await.unwrap().unwrap();
        assert_eq!(
            (device.state, device.state_reason.as_str()),
            (DeviceState::Expired, "410 Gone")
        );
    })
    .await;
}

#[tokio::test]
async fn a_row_holding_an_unknown_spelling_is_an_error_not_a_default() {
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap().id;
        let (device, _) = store
            .register_device(&t, &android("u", "tok"))
            .await
            .unwrap();
        sqlx::query("UPDATE devices SET platform = 'pigeon' WHERE id = $1")
            .bind(device.id.as_str())
            .execute(&store.pool)
            .await
            .unwrap();
        let err = store.get_device(&t, &device.id).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt { column: "platform", value } if value == "pigeon"),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn browsers_stored_by_their_api_name_are_renamed_by_the_migration() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDatabase::new(backend).await.expect("test database");
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        // The schema as it was before browsers were renamed, with a row from then.
        let before = sqlx::migrate::Migrator {
            migrations: MIGRATOR
                .migrations
                .iter()
                .filter(|m| m.version < 3)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        before.run(&pool).await.unwrap();
        let tenant = TenantId::generate();
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, 'acme', 0)")
            .bind(tenant.as_str())
            .execute(&pool)
            .await
            .unwrap();
        for (id, browser) in [("dev_old1", "BROWSER_CHROME"), ("dev_old2", "")] {
            sqlx::query(
                "INSERT INTO devices (id, tenant_id, platform, push_token, browser, state, \
                     created_at, updated_at) VALUES ($1, $2, 'web', $1, $3, 'active', 0, 0)",
            )
            .bind(id)
            .bind(tenant.as_str())
            .bind(browser)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
        let store = Store::connect(&db.url).await.expect("connect and migrate");
        let browser_of = |id: &str| {
            let store = store.clone();
            let tenant = tenant.clone();
            let id = DeviceId::from_trusted(id.to_owned());
            async move {
                store
                    .get_device(&tenant, &id)
                    .await
                    .unwrap()
                    .unwrap()
                    .profile
                    .browser
            }
        };
        assert_eq!(browser_of("dev_old1").await, Some(Browser::Chrome));
        assert_eq!(browser_of("dev_old2").await, None);
        store.close().await;
    }
}

#[test]
fn outages_are_told_from_statement_errors() {
    for code in ["08006", "57P01", "53300", "40P01", "5", "517", "6", "10"] {
        assert!(crate::transient_code(code), "{code}");
    }
    for code in ["23505", "42P01", "22P02", "19", "2067", "1"] {
        assert!(!crate::transient_code(code), "{code}");
    }
}

#[tokio::test]
async fn subscriptions_say_what_changed_and_go_with_their_topic() {
    use herald_core::topics::Subscriber;
    on_each_backend(|store| async move {
        let t = store.create_tenant("acme").await.unwrap();
        assert!(
            store
                .create_topic(&t.id, "news", "")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .create_topic(&t.id, "news", "")
                .await
                .unwrap()
                .is_none()
        );
        let alice = Subscriber::User("alice".into());
        assert_eq!(
            store.subscribe(&t.id, "news", &alice).await.unwrap(),
            Subscription::Changed
        );
        assert_eq!(
            store.subscribe(&t.id, "news", &alice).await.unwrap(),
            Subscription::Unchanged
        );
        assert_eq!(
            store.subscribe(&t.id, "weather", &alice).await.unwrap(),
            Subscription::NoTopic
        );
        let (device, _) = store
            .register_device(&t.id, &android("bob", "tok-b"))
            .await
            .unwrap();
        let bob = Subscriber::Device(device.id.clone());
        store.subscribe(&t.id, "news", &bob).await.unwrap();
        assert_eq!(
            store.list_topics(&t.id, None, 10).await.unwrap()[0].subscriber_count,
            2
        );
        assert!(store.unregister_device(&t.id, &device.id).await.unwrap());
        assert_eq!(
            store.unsubscribe(&t.id, "news", &alice).await.unwrap(),
            Subscription::Changed
        );
        assert_eq!(
            store.unsubscribe(&t.id, "news", &alice).await.unwrap(),
            Subscription::Unchanged
        );
        assert_eq!(
            store.list_topics(&t.id, None, 10).await.unwrap()[0].subscriber_count,
            0
        );
        store.subscribe(&t.id, "news", &alice).await.unwrap();
        assert!(store.delete_topic(&t.id, "news").await.unwrap());
        assert!(!store.delete_topic(&t.id, "news").await.unwrap());
        store.create_topic(&t.id, "news", "again").await.unwrap();
        let again = &store.list_topics(&t.id, None, 10).await.unwrap()[0];
        assert_eq!(
            (again.description.as_str(), again.subscriber_count),
            ("again", 0)
        );
    })
    .await;
}

#[tokio::test]
async fn a_fanout_is_held_by_one_router_and_followed_from_its_checkpoint() {
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("acme").await.unwrap().id;
        store.create_topic(&tenant, "news", "").await.unwrap();
        let mut devices = Vec::new();
        for n in 0..3 {
            let (device, _) = store
                .register_device(&tenant, &android("u", &format!("tok{n}")))
                .await
                .unwrap();
            store
                .subscribe(
                    &tenant,
                    "news",
                    &herald_core::topics::Subscriber::Device(device.id.clone()),
                )
                .await
                .unwrap();
            devices.push(device.id);
        }
        devices.sort();
        let m = message(&tenant, None);
        store.insert_message(&m).await.unwrap();
        let key = (tenant.clone(), m.id.clone());
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        store
            .start_fanouts(&[(key.0.clone(), key.1.clone(), Some(traceparent.into()))])
            .await
            .unwrap();
        store
            .start_fanouts(&[(key.0.clone(), key.1.clone(), None)])
            .await
            .unwrap();
        let state = |store: Store| {
            let (tenant, id) = key.clone();
            async move {
                store
                    .get_message(&tenant, &id)
                    .await
                    .unwrap()
                    .unwrap()
                    .state
            }
        };
        assert_eq!(state(store.clone()).await, MessageState::Routing);

        let now = now_ms();
        let mut taken = store
            .claim_fanouts("a", now, now + 10_000, 8)
            .await
            .unwrap();
        assert_eq!(taken.len(), 1, "started twice, one fan-out");
        let job = taken.remove(0);
        assert_eq!(job.position, Position::default());
        assert!(job.pinned.is_empty());
        assert_eq!(
            job.traceparent.as_deref(),
            Some(traceparent),
            "the first start's"
        );
        assert!(
            store
                .pin_fanout(&job, "a", "news && !sports")
                .await
                .unwrap()
        );
        assert!(
            !store.pin_fanout(&job, "b", "other").await.unwrap(),
            "b does not hold it"
        );
        assert!(
            store
                .claim_fanouts("b", now, now + 10_000, 8)
                .await
                .unwrap()
                .is_empty()
        );

        // Pages in device order, two at a time.
        let page = store
            .audience_page(&tenant, Source::TopicDevices("news"), &Cursor::default(), 2)
            .await
            .unwrap();
        let ids: Vec<_> = page.iter().map(|(_, d)| d.id.clone()).collect();
        assert_eq!(ids, devices[..2]);
        let after = Position {
            source: 0,
            cursor: page[1].0.clone(),
        };
        let rest = store
            .audience_page(&tenant, Source::TopicDevices("news"), &after.cursor, 2)
            .await
            .unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].1.id, devices[2]);

        let deliveries: Vec<NewDelivery> = ids
            .iter()
            .map(|d| NewDelivery {
                id: DeliveryId::derive(&m.id, d),
                device_id: d.clone(),
                provider: Provider::Fcm,
            })
            .collect();
        let PageRecorded::Created(created) = store
            .record_fanout_page(
                &job,
                "a",
                now + 10_000,
                &deliveries,
                (&Position::default(), 0),
                None,
            )
            .await
            .unwrap()
        else {
            panic!("a holds it");
        };
        assert_eq!(created.len(), 2);
        assert_eq!(
            store
                .record_fanout_page(
                    &job,
                    "b",
                    now + 10_000,
                    &deliveries,
                    (&Position::default(), 0),
                    None,
                )
                .await
                .unwrap(),
            PageRecorded::Lost,
            "b does not hold it: nothing is written"
        );
        // a stops at its checkpoint; b takes it from there.
        store
            .release_fanout(&job, "a", (&after, 2), 0)
            .await
            .unwrap();
        let job = store
            .claim_fanouts("b", now, now + 10_000, 8)
            .await
            .unwrap()
            .pop()
            .expect("released, so b takes it at once");
        assert_eq!((job.position.clone(), job.routed), (after, 2));
        assert_eq!(
            job.pinned, "news && !sports",
            "the audience it started with"
        );
        assert!(
            !store
                .finish_fanout(&job, "a", FanoutEnd::Routed)
                .await
                .unwrap()
        );
        assert!(
            store
                .finish_fanout(&job, "b", FanoutEnd::Routed)
                .await
                .unwrap()
        );
        assert_eq!(state(store.clone()).await, MessageState::Routed);
        // A message handled again after its fan-out ended starts none.
        store
            .start_fanouts(&[(key.0.clone(), key.1.clone(), None)])
            .await
            .unwrap();
        assert_eq!(state(store.clone()).await, MessageState::Routed);
        assert!(
            store
                .claim_fanouts("c", now, now + 10_000, 8)
                .await
                .unwrap()
                .is_empty()
        );
        // A lease that ran out is taken over.
        let m2 = message(&tenant, None);
        store.insert_message(&m2).await.unwrap();
        store
            .start_fanouts(&[(tenant.clone(), m2.id.clone(), None)])
            .await
            .unwrap();
        assert_eq!(
            store
                .claim_fanouts("a", now, now + 10, 8)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .claim_fanouts("b", now + 5, now + 10_000, 8)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .claim_fanouts("b", now + 11, now + 10_000, 8)
                .await
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_message_s_report_context_is_read_back_by_id() {
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("reports").await.unwrap().id;
        let m = NewMessage {
            correlation_id: "order-17".into(),
            callback_data: "{\"cart\":3}".into(),
            notify_url: "https://example.com/dr".into(),
            ..message(&tenant, None)
        };
        store.insert_message(&m).await.unwrap();
        let plain = message(&tenant, None);
        store.insert_message(&plain).await.unwrap();
        let unknown = MessageId::generate();
        let contexts = store
            .report_contexts(&[&m.id, &plain.id, &unknown])
            .await
            .unwrap();
        assert_eq!(contexts.len(), 2, "an unknown id is left out");
        assert_eq!(
            contexts[&m.id],
            ReportContext {
                correlation_id: "order-17".into(),
                callback_data: "{\"cart\":3}".into(),
                notify_url: "https://example.com/dr".into(),
            }
        );
        assert_eq!(contexts[&plain.id], ReportContext::default());
        assert!(store.report_contexts(&[]).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn stats_count_each_delivery_once_per_stage_it_reaches() {
    on_each_backend(|store| async move {
        let q = queued_delivery(&store).await;
        let stats = || async { store.message_stats(&q.tenant, &q.message).await.unwrap() };
        assert_eq!(
            stats().await.values(),
            [1, 0, 0, 0, 0, 0, 0, 0],
            "routed twice, sent once"
        );
        let submitted = q.receipt(DeliveryStatus::Submitted, "", false);
        store
            .apply_receipts(std::slice::from_ref(&submitted))
            .await
            .unwrap();
        // A receipt recorded again after a crash, and a read that skips delivered.
        let read = q.receipt(DeliveryStatus::Read, "", false);
        store
            .apply_receipts(&[submitted, read.clone()])
            .await
            .unwrap();
        store
            .apply_receipts(std::slice::from_ref(&read))
            .await
            .unwrap();
        assert_eq!(stats().await.values(), [1, 1, 1, 1, 0, 0, 0, 0]);
        let click = ReceiptUpdate {
            clicked: true,
            ..read
        };
        store
            .apply_receipts(std::slice::from_ref(&click))
            .await
            .unwrap();
        store.apply_receipts(&[click]).await.unwrap();
        assert_eq!(
            stats().await.values(),
            [1, 1, 1, 1, 1, 0, 0, 0],
            "clicked once"
        );

        // Yesterday too, should the test have run across midnight (UTC).
        let (first, last) = (
            herald_core::stats::day_of(now_ms() - 86_400_000),
            herald_core::stats::day_of(now_ms()),
        );
        let days = store
            .daily_stats(&q.tenant, &first, &last, None)
            .await
            .unwrap();
        assert!(!days.is_empty());
        let mut total = herald_core::stats::Counts::default();
        for day in &days {
            assert_eq!(day.provider, Provider::Fcm);
            assert!(day.day == first || day.day == last, "{}", day.day);
            total.merge(&day.counts);
        }
        assert_eq!(total.values(), [1, 1, 1, 1, 1, 0, 0, 0]);
        // Across tenants, per provider (this database holds this test's tenant alone).
        let mut across = herald_core::stats::Counts::default();
        let mut both = vec![&first, &last];
        both.dedup();
        for day in both {
            for row in store.provider_stats(day).await.unwrap() {
                assert_eq!(row.provider, Provider::Fcm);
                across.merge(&row.counts);
            }
        }
        assert_eq!(across.values(), [1, 1, 1, 1, 1, 0, 0, 0]);
        assert!(
            store
                .daily_stats(&q.tenant, &first, &last, Some(Provider::Apns))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .daily_stats(&q.tenant, "1970-01-01", "1970-01-02", None)
                .await
                .unwrap()
                .is_empty()
        );
        let other = store.create_tenant("other").await.unwrap().id;
        assert_eq!(
            store
                .message_stats(&other, &q.message)
                .await
                .unwrap()
                .values(),
            [0; 8],
            "another tenant's message"
        );
    })
    .await;
}

#[tokio::test]
async fn a_failed_delivery_counts_as_failed_only() {
    on_each_backend(|store| async move {
        let q = queued_delivery(&store).await;
        let failed = q.receipt(DeliveryStatus::Failed, "Unregistered", true);
        store
            .apply_receipts(std::slice::from_ref(&failed))
            .await
            .unwrap();
        store.apply_receipts(&[failed]).await.unwrap();
        let late_read = q.receipt(DeliveryStatus::Read, "", false);
        store.apply_receipts(&[late_read]).await.unwrap();
        assert_eq!(
            store
                .message_stats(&q.tenant, &q.message)
                .await
                .unwrap()
                .values(),
            [1, 0, 0, 0, 0, 1, 0, 0]
        );
        // Read together with other messages' (a list's page): the same counts, by message id;
        // another tenant's message, or one without deliveries, is absent.
        let other = store.create_tenant("other").await.unwrap().id;
        let none = herald_core::ids::MessageId::generate();
        let together = store
            .messages_stats(&q.tenant, &[&q.message, &none])
            .await
            .unwrap();
        assert_eq!(together.len(), 1);
        assert_eq!(
            together[q.message.as_str()].values(),
            [1, 0, 0, 0, 0, 1, 0, 0]
        );
        assert!(
            store
                .messages_stats(&other, &[&q.message])
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_tenant_s_notify_secrets_are_created_then_replaced() {
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("notify").await.unwrap().id;
        assert_eq!(store.notify_secrets(&tenant).await.unwrap(), None);
        assert!(
            store
                .set_notify_secrets(&tenant, b"first", None)
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_notify_secrets(&tenant, b"racer", None)
                .await
                .unwrap(),
            "a second first secret loses"
        );
        assert!(
            store
                .set_notify_secrets(&tenant, b"second", Some(b"first"))
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_notify_secrets(&tenant, b"stale", Some(b"first"))
                .await
                .unwrap(),
            "a rotation of what is no longer there loses"
        );
        assert_eq!(
            store.notify_secrets(&tenant).await.unwrap().as_deref(),
            Some(&b"second"[..])
        );
        let other = store.create_tenant("other").await.unwrap().id;
        assert_eq!(store.notify_secrets(&other).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn the_upgrade_counts_the_deliveries_made_before_analytics() {
    on_each_backend(|store| async move {
        let q = queued_delivery(&store).await;
        let read = q.receipt(DeliveryStatus::Read, "", false);
        store.apply_receipts(&[read]).await.unwrap();
        // As a database from before migration 0015 would stand: deliveries, no counts.
        sqlx::query("DELETE FROM message_stats")
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::raw_sql(include_str!(
            "../migrations/0018_backfill_message_stats.sql"
        ))
        .execute(&store.pool)
        .await
        .unwrap();
        assert_eq!(
            store
                .message_stats(&q.tenant, &q.message)
                .await
                .unwrap()
                .values(),
            [1, 1, 1, 1, 0, 0, 0, 0]
        );
    })
    .await;
}

#[tokio::test]
async fn an_update_keeps_an_authorization_the_dispatcher_replaced_meanwhile() {
    use herald_core::ids::WebhookId;
    use herald_proto::v1::{SignatureScheme, WebhookAuthKind, WebhookEvent};
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("hooks").await.unwrap().id;
        let record = WebhookRecord {
            id: WebhookId::generate(),
            url: "https://hooks.example/h".into(),
            description: String::new(),
            events: vec![WebhookEvent::DeliverySubmitted],
            provider: None,
            scheme: SignatureScheme::StandardWebhooks,
            auth_kind: WebhookAuthKind::Oauth2AuthorizationCode,
            retry_delays: vec![60, 60, 60],
            timeout_secs: 10,
            enabled: true,
            disabled_reason: String::new(),
            failing_since: 0,
            created_at: now_ms(),
            updated_at: now_ms(),
        };
        let sealed = SealedWebhook {
            secrets: b"secrets".to_vec(),
            auth: b"refresh-1".to_vec(),
        };
        store
            .insert_webhook(&tenant, &record, &sealed)
            .await
            .unwrap();
        let auth_now = || async {
            store
                .webhook(&tenant, &record.id)
                .await
                .unwrap()
                .unwrap()
                .sealed
                .auth
        };
        // The dispatcher stores a replaced refresh token; an update that read the old one and
        // did not change it keeps the replacement.
        assert!(
            store
                .replace_webhook_auth(&tenant, &record.id, b"refresh-1", b"refresh-2")
                .await
                .unwrap()
        );
        assert!(
            !store
                .replace_webhook_auth(&tenant, &record.id, b"refresh-1", b"refresh-x")
                .await
                .unwrap(),
            "a replacement of what is no longer there"
        );
        let described = WebhookRecord {
            description: "described".into(),
            ..record.clone()
        };
        store
            .update_webhook(&tenant, &described, &sealed, b"refresh-1")
            .await
            .unwrap();
        assert_eq!(auth_now().await, b"refresh-2");
        // An update that changes the authorization writes it.
        let changed = SealedWebhook {
            auth: b"basic".to_vec(),
            ..sealed.clone()
        };
        store
            .update_webhook(&tenant, &described, &changed, b"refresh-1")
            .await
            .unwrap();
        assert_eq!(auth_now().await, b"basic");
    })
    .await;
}

#[tokio::test]
async fn triggers_are_stored_replaced_listed_by_type_and_deleted() {
    use herald_proto::v1::Trigger;
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("acme").await.unwrap().id;
        let other = store.create_tenant("other").await.unwrap().id;
        let trigger = |id: &str, event_type: &str| Trigger {
            trigger_id: id.into(),
            display_name: format!("{id} on {event_type}"),
            event_type: event_type.into(),
            enabled: true,
            ..Default::default()
        };
        for (id, t) in [("trg_b", "x"), ("trg_a", "y"), ("trg_c", "x")] {
            store.put_trigger(&tenant, &trigger(id, t)).await.unwrap();
        }
        let mut changed = trigger("trg_b", "y");
        changed.enabled = false;
        store.put_trigger(&tenant, &changed).await.unwrap();
        assert_eq!(
            store.get_trigger(&tenant, "trg_b").await.unwrap(),
            Some(changed)
        );
        assert_eq!(store.get_trigger(&other, "trg_b").await.unwrap(), None);
        let ids = |list: Vec<Trigger>| -> Vec<String> {
            list.into_iter().map(|t| t.trigger_id).collect()
        };
        assert_eq!(
            ids(store.list_triggers(&tenant, None, "", 10).await.unwrap()),
            ["trg_a", "trg_b", "trg_c"]
        );
        assert_eq!(
            ids(store
                .list_triggers(&tenant, Some("y"), "", 10)
                .await
                .unwrap()),
            ["trg_a", "trg_b"]
        );
        assert_eq!(
            ids(store
                .list_triggers(&tenant, None, "trg_a", 1)
                .await
                .unwrap()),
            ["trg_b"]
        );
        assert!(store.delete_trigger(&tenant, "trg_a").await.unwrap());
        assert!(!store.delete_trigger(&tenant, "trg_a").await.unwrap());
        assert!(!store.delete_trigger(&other, "trg_b").await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn an_event_key_keeps_the_first_record_and_old_records_are_pruned() {
    use herald_core::ids::EventId;
    use herald_proto::v1::EventRecord;
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("acme").await.unwrap().id;
        let record = |key: &str, at: i64| EventRecord {
            event_id: EventId::generate().into_string(),
            event_type: "missedCall".into(),
            idempotency_key: key.into(),
            created_at_ms: at,
            message_ids: vec!["msg_1".into()],
            ..Default::default()
        };
        let now = now_ms();
        let first = record("k1", now);
        assert_eq!(
            store.insert_event(&tenant, &first, "d1").await.unwrap(),
            InsertedEvent::Inserted
        );
        let again = store
            .insert_event(&tenant, &record("k1", now), "d2")
            .await
            .unwrap();
        assert_eq!(
            again,
            InsertedEvent::Duplicate {
                record: Box::new(first.clone()),
                request_digest: "d1".into(),
            }
        );
        // Events without a key never collide.
        let (a, b) = (record("", now), record("", now - 1));
        for r in [&a, &b] {
            assert_eq!(
                store.insert_event(&tenant, r, "d").await.unwrap(),
                InsertedEvent::Inserted
            );
        }
        let old = record("", now - 10_000);
        store.insert_event(&tenant, &old, "d").await.unwrap();
        let newest_first: Vec<String> = store
            .list_events(&tenant, Some("missedCall"), "", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_id)
            .collect();
        assert_eq!(
            newest_first,
            [
                old.event_id.clone(),
                b.event_id.clone(),
                a.event_id.clone(),
                first.event_id.clone()
            ]
        );
        assert!(
            store
                .list_events(&tenant, Some("other"), "", 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.prune_events(now - 5_000).await.unwrap(), 1);
        let id = EventId::from_trusted(old.event_id);
        assert_eq!(store.get_event(&tenant, &id).await.unwrap(), None);
        let id = EventId::from_trusted(first.event_id.clone());
        assert_eq!(store.get_event(&tenant, &id).await.unwrap(), Some(first));
    })
    .await;
}

#[tokio::test]
async fn a_login_on_a_device_replaces_its_session() {
    on_each_backend(|store| async move {
        let tenant = store.create_tenant("acme").await.unwrap().id;
        let first = store
            .start_session(&tenant, "ann", "dev_1", "")
            .await
            .unwrap();
        let second = store
            .start_session(&tenant, "bob", "dev_1", "dev_v")
            .await
            .unwrap();
        store
            .start_session(&tenant, "ann", "dev_2", "")
            .await
            .unwrap();
        assert_eq!(
            store.sessions_of_user(&tenant, "bob").await.unwrap(),
            std::slice::from_ref(&second)
        );
        let ann = store.sessions_of_user(&tenant, "ann").await.unwrap();
        assert_eq!(ann.len(), 1);
        assert_eq!(ann[0].device_id, "dev_2");
        assert!(!store.end_session(&tenant, &first.id).await.unwrap());
        assert_eq!(
            store
                .list_sessions(&tenant, None, "", 10)
                .await
                .unwrap()
                .len(),
            2
        );
        // Another login with the same VoIP device takes it from bob's session.
        store
            .start_session(&tenant, "cy", "dev_3", "dev_v")
            .await
            .unwrap();
        let bob = store.sessions_of_user(&tenant, "bob").await.unwrap();
        assert_eq!(bob[0].voip_device_id, "");
        assert!(store.end_session(&tenant, &second.id).await.unwrap());
        assert!(
            store
                .sessions_of_user(&tenant, "bob")
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}
