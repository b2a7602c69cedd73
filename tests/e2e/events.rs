//! Event-driven pushes: the built-in call and message types as the providers receive them,
//! custom triggers with conditions and templates, mobile sessions deciding who an event
//! reaches, the event records, and Wazo's `POST /1.0/mobile/notifications`.

use std::time::Duration;

use herald_e2e::{DbBackend, Stack, Tenant};
use herald_proto::v1::*;
use herald_testkit::apns::BUNDLE_ID;
use herald_testkit::mock::{ReceivedPush, Recorder};
use serde_json::{Value, json};
use tonic::Code;

const WAIT: Duration = Duration::from_secs(15);
/// The users of the Wazo examples: 36-character uuids.
const IVY: &str = "123e4567-e89b-12d3-a456-426614174000";
const ANDY: &str = "8f1f7a3e-2c4b-4e59-9d3a-5b6c7d8e9f00";

fn apns_token(i: u32) -> String {
    format!("{i:064x}")
}

/// `user` logs in on a device of `platform` with `token` (and a PushKit token, or "").
async fn session(
    acme: &mut Tenant,
    user: &str,
    platform: Platform,
    token: String,
    voip_token: String,
) -> MobileSession {
    acme.events
        .start_mobile_session(StartMobileSessionRequest {
            user_id: user.into(),
            device: Some(RegisterDeviceRequest {
                platform: platform as i32,
                push_token: token,
                ..Default::default()
            }),
            voip_token,
        })
        .await
        .unwrap()
        .into_inner()
}

/// Ivy logs in on an iPhone (with a PushKit token), Andy on an Android phone.
async fn log_in(acme: &mut Tenant) -> (MobileSession, MobileSession) {
    let ivy = session(acme, IVY, Platform::Ios, apns_token(0x1), apns_token(0x2)).await;
    let andy = session(
        acme,
        ANDY,
        Platform::Android,
        "tok-andy".into(),
        String::new(),
    )
    .await;
    (ivy, andy)
}

async fn publish(acme: &mut Tenant, event_type: &str, payload: Value) -> PublishEventResponse {
    acme.events
        .publish_event(PublishEventRequest {
            event_type: event_type.into(),
            payload_json: payload.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// The first push a mock received for `token` after its first `seen` pushes, waiting for it.
async fn push_to(mock: &Recorder, seen: usize, token: &str) -> ReceivedPush {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(p) = mock
            .received()
            .into_iter()
            .skip(seen)
            .find(|p| p.token == token)
        {
            return p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no push to {token} among {:?}",
            mock.received()
                .iter()
                .map(|p| (p.token.clone(), p.body.clone()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The data items a push carries, decoded from their JSON string.
fn items(data: &Value) -> Value {
    serde_json::from_str(data["items"].as_str().expect("items is a JSON string")).unwrap()
}

#[tokio::test]
async fn each_builtin_event_type_sends_what_the_wazo_apps_read() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    log_in(&mut acme).await;
    let call = json!({
        "user_uuid": IVY, "peer_caller_id_number": "1001", "peer_caller_id_name": "Ada",
        "call_id": "1700000000.42", "video": false, "ring_timeout": 30,
        "sip_call_id": "abc@pbx", "mobile_wakeup_timestamp": "2026-11-30T12:00:00Z",
    });

    // incomingCall to iOS: a VoIP push to the PushKit token, priority 10, a short expiry.
    let before = herald_core::time::now_ms() / 1000;
    let sent = publish(&mut acme, "incomingCall", call.clone()).await;
    assert_eq!(sent.message_ids.len(), 1, "{sent:?}");
    let voip = push_to(&stack.mocks.apns, 0, &apns_token(0x2)).await;
    assert_eq!(voip.headers["apns-push-type"], "voip");
    assert_eq!(voip.headers["apns-topic"], format!("{BUNDLE_ID}.voip"));
    assert_eq!(voip.headers["apns-priority"], "10");
    let expiry: i64 = voip.headers["apns-expiration"].parse().unwrap();
    assert!((before + 29..=before + 32).contains(&expiry), "{expiry}");
    assert_eq!(voip.body["aps"]["alert"]["title"], "Incoming Call");
    assert_eq!(voip.body["aps"]["alert"]["body"], "From: 1001");
    assert_eq!(voip.body["notification_type"], "incomingCall");
    assert_eq!(items(&voip.body), call);

    // incomingCall to Android: a high-priority data message, nothing shown.
    let mut andy_call = call.clone();
    andy_call["user_uuid"] = ANDY.into();
    publish(&mut acme, "incomingCall", andy_call.clone()).await;
    let fcm = push_to(&stack.mocks.fcm, 0, "tok-andy").await;
    let message = &fcm.body["message"];
    assert!(message.get("notification").is_none(), "{message}");
    assert!(
        message["android"].get("notification").is_none(),
        "{message}"
    );
    assert_eq!(message["android"]["priority"], "HIGH");
    assert_eq!(message["android"]["ttl"], "30s");
    assert_eq!(message["data"]["notification_type"], "incomingCall");
    assert_eq!(items(&message["data"]), andy_call);

    // cancelIncomingCall to iOS: data only, to the app's regular token (not PushKit's).
    let cancel = json!({"user_uuid": IVY, "call_id": "1700000000.42"});
    publish(&mut acme, "cancelIncomingCall", cancel.clone()).await;
    let silent = push_to(&stack.mocks.apns, 0, &apns_token(0x1)).await;
    assert_eq!(silent.headers["apns-push-type"], "background");
    assert_eq!(silent.headers["apns-topic"], BUNDLE_ID);
    assert_eq!(silent.body["aps"]["content-available"], 1);
    assert!(silent.body["aps"].get("alert").is_none());
    assert_eq!(silent.body["notification_type"], "cancelIncomingCall");
    assert_eq!(items(&silent.body), cancel);

    // missedCall, voicemailReceived and messageReceived: titles and bodies as Wazo words them.
    let cases = [
        (
            "missedCall",
            json!({"user_uuid": ANDY, "caller_id_name": "Ada", "caller_id_number": "1001"}),
            "Missed Call",
            "From: Ada (1001)".to_owned(),
        ),
        (
            "missedCall",
            json!({"user_uuid": ANDY, "caller_id_name": "", "caller_id_number": "1001"}),
            "Missed Call",
            "From: <name unknown> (1001)".to_owned(),
        ),
        (
            "voicemailReceived",
            json!({"user_uuid": ANDY, "message": {"caller_id_name": "Bob", "caller_id_num": "1002"}}),
            "New Voicemail",
            "From: Bob (1002)".to_owned(),
        ),
        (
            "messageReceived",
            json!({"user_uuid": ANDY, "author_uuid": IVY, "alias": "Carol", "content": "x".repeat(120)}),
            "New Message from Carol",
            format!("{}...", "x".repeat(97)),
        ),
    ];
    for (event_type, payload, title, body) in cases {
        let seen = stack.mocks.fcm.received_count();
        let sent = publish(&mut acme, event_type, payload.clone()).await;
        assert_eq!(sent.message_ids.len(), 1, "{event_type}: {sent:?}");
        let fcm = push_to(&stack.mocks.fcm, seen, "tok-andy").await;
        let message = &fcm.body["message"];
        assert_eq!(message["notification"]["title"], title, "{event_type}");
        assert_eq!(
            message["notification"]["body"],
            body.as_str(),
            "{event_type}"
        );
        assert_eq!(message["android"]["priority"], "HIGH", "{event_type}");
        assert_eq!(message["data"]["notification_type"], event_type);
        assert_eq!(items(&message["data"]), payload);
    }

    // On iOS they are alerts at APNs priority 5, to the regular token.
    let seen = stack.mocks.apns.received_count();
    publish(
        &mut acme,
        "missedCall",
        json!({"user_uuid": IVY, "caller_id_name": "Ada", "caller_id_number": "1001"}),
    )
    .await;
    let alert = push_to(&stack.mocks.apns, seen, &apns_token(0x1)).await;
    assert_eq!(alert.headers["apns-push-type"], "alert");
    assert_eq!(alert.headers["apns-priority"], "5");
    assert_eq!(alert.body["aps"]["alert"]["title"], "Missed Call");
    assert_eq!(alert.body["aps"]["badge"], 1);
    assert_eq!(alert.body["aps"]["sound"], "default");

    // A chat message is not pushed to its own author.
    let own = publish(
        &mut acme,
        "messageReceived",
        json!({"user_uuid": ANDY, "author_uuid": ANDY, "alias": "Andy", "content": "hi"}),
    )
    .await;
    assert!(own.message_ids.is_empty());
    assert_eq!(own.outcomes.len(), 1);
    assert_eq!(own.outcomes[0].trigger_id, "trg_message_received");
    assert!(!own.outcomes[0].matched);
    assert_eq!(own.outcomes[0].reason, "the condition is false");
    stack.stop().await;
}

#[tokio::test]
async fn a_custom_trigger_fires_only_when_its_condition_holds() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("agent-7", "tok-agent").await;
    acme.register_on(Platform::Ios, "agent-7", &apns_token(0x7))
        .await;
    // A bad condition is refused with where it went wrong.
    let bad = acme
        .events
        .create_trigger(CreateTriggerRequest {
            display_name: "Escalations".into(),
            event_type: "conversation.escalated".into(),
            condition: "bot.id ==".into(),
            template: Some(Notification {
                title: "x".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message()
            .starts_with("condition: condition error at line 1, column"),
        "{}",
        bad.message()
    );
    let trigger = acme
        .events
        .create_trigger(CreateTriggerRequest {
            display_name: "Escalations of bot b1".into(),
            event_type: "conversation.escalated".into(),
            condition: "bot.id == 'b1' && priority >= 2".into(),
            template: Some(Notification {
                title: "{{ bot.name }} needs you".into(),
                body: "{{ event.customer.name | default('A customer') }} asked for a person \
                       (priority {{ priority }})"
                    .into(),
                ..Default::default()
            }),
            providers: vec![Provider::Fcm as i32],
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("{{ event.agent }}".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(trigger.trigger_id.starts_with("trg_") && trigger.enabled);

    let escalate = |bot: &str| {
        json!({"bot": {"id": bot, "name": "Omnibot"}, "priority": 3, "agent": "agent-7",
               "customer": {"name": "Dana"}})
    };
    let fired = publish(&mut acme, "conversation.escalated", escalate("b1")).await;
    assert_eq!(fired.message_ids.len(), 1, "{fired:?}");
    let push = push_to(&stack.mocks.fcm, 0, "tok-agent").await;
    assert_eq!(
        push.body["message"]["notification"]["title"],
        "Omnibot needs you"
    );
    assert_eq!(
        push.body["message"]["notification"]["body"],
        "Dana asked for a person (priority 3)"
    );
    // Its channel is FCM only: the agent's iPhone got nothing.
    let settled = acme.wait_settled(&fired.message_ids[0]).await;
    assert_eq!(settled.deliveries.len(), 1);
    assert_eq!(settled.deliveries[0].provider(), Provider::Fcm);
    assert!(stack.mocks.apns.received().is_empty());

    // Another bot: nothing, and the record says why.
    let quiet = publish(&mut acme, "conversation.escalated", escalate("b2")).await;
    assert!(quiet.message_ids.is_empty());
    let record = acme
        .events
        .get_event(GetEventRequest {
            event_id: quiet.event_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(record.event_type, "conversation.escalated");
    assert_eq!(record.source, "api");
    assert_eq!(record.outcomes.len(), 1);
    assert_eq!(record.outcomes[0].trigger_id, trigger.trigger_id);
    assert_eq!(record.outcomes[0].reason, "the condition is false");
    // A value the condition needs is missing: no match, and the reason names it.
    let missing = publish(
        &mut acme,
        "conversation.escalated",
        json!({"agent": "agent-7"}),
    )
    .await;
    assert!(missing.message_ids.is_empty());
    assert!(
        missing.outcomes[0].reason.contains("condition failed"),
        "{missing:?}"
    );

    // Disabled, it sends nothing; variables work as a payload.
    acme.events
        .update_trigger(UpdateTriggerRequest {
            trigger_id: trigger.trigger_id.clone(),
            enabled: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    let disabled = acme
        .events
        .publish_event(PublishEventRequest {
            event_type: "conversation.escalated".into(),
            variables: [
                ("bot.id".to_string(), "b1".to_string()),
                ("priority".to_string(), "3".to_string()),
                ("agent".to_string(), "agent-7".to_string()),
            ]
            .into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(disabled.message_ids.is_empty());
    assert_eq!(disabled.outcomes[0].reason, "the trigger is disabled");

    // The list holds the built-in triggers and this one; the events are listed newest first.
    let listed = acme
        .events
        .list_triggers(ListTriggersRequest::default())
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = listed
        .triggers
        .iter()
        .map(|t| t.trigger_id.as_str())
        .collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert!(ids.contains(&"trg_incoming_call") && ids.contains(&trigger.trigger_id.as_str()));
    let events = acme
        .events
        .list_events(ListEventsRequest {
            event_type: "conversation.escalated".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let listed: Vec<&str> = events.events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(
        listed,
        [
            disabled.event_id.as_str(),
            missing.event_id.as_str(),
            quiet.event_id.as_str(),
            fired.event_id.as_str()
        ]
    );
    stack.stop().await;
}

#[tokio::test]
async fn mobile_login_and_logout_change_what_an_event_reaches() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let missed = json!({"user_uuid": ANDY, "caller_id_name": "Ada", "caller_id_number": "1001"});
    // Not logged in: no push, and the record says so.
    let before = publish(&mut acme, "missedCall", missed.clone()).await;
    assert!(before.message_ids.is_empty());
    assert_eq!(
        before.outcomes[0].reason,
        format!("user {ANDY:?} has no active mobile session")
    );
    // A device of the user that never logged in on it is not reached either.
    acme.register(ANDY, "tok-andy-tablet").await;
    assert!(
        publish(&mut acme, "missedCall", missed.clone())
            .await
            .message_ids
            .is_empty()
    );

    let (_, andy) = log_in(&mut acme).await;
    let during = publish(&mut acme, "missedCall", missed.clone()).await;
    assert_eq!(during.message_ids.len(), 1);
    // Without a user_uuid, a built-in trigger sends to the event's own destination.
    let own = acme
        .events
        .publish_event(PublishEventRequest {
            event_type: "missedCall".into(),
            payload_json: json!({"caller_id_number": "1001"}).to_string(),
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId(ANDY.into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.message_ids.len(), 1, "{own:?}");
    push_to(&stack.mocks.fcm, 0, "tok-andy").await;
    let sessions = acme
        .events
        .list_mobile_sessions(ListMobileSessionsRequest {
            user_id: ANDY.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sessions.sessions, std::slice::from_ref(&andy));

    acme.events
        .end_mobile_session(EndMobileSessionRequest {
            session_id: andy.session_id.clone(),
        })
        .await
        .unwrap();
    let after = publish(&mut acme, "missedCall", missed.clone()).await;
    assert!(after.message_ids.is_empty());
    assert!(
        after.outcomes[0]
            .reason
            .contains("no active mobile session")
    );
    let again = acme
        .events
        .end_mobile_session(EndMobileSessionRequest {
            session_id: andy.session_id,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    // A PushKit token belongs to its last login: Ivy's calls stop ringing on the phone Bea
    // logged in on with the same VoIP token.
    let bea = "0b0b0b0b-2c4b-4e59-9d3a-5b6c7d8e9f00";
    session(
        &mut acme,
        bea,
        Platform::Ios,
        apns_token(0x3),
        apns_token(0x2),
    )
    .await;
    let call = json!({"user_uuid": IVY, "peer_caller_id_number": "1001"});
    let to_ivy = publish(&mut acme, "incomingCall", call).await;
    assert!(to_ivy.message_ids.is_empty(), "{to_ivy:?}");
    assert!(
        to_ivy.outcomes[0].reason.contains("no PushKit token"),
        "{to_ivy:?}"
    );
    // Her other pushes still reach her iPhone.
    let missed_ivy = json!({"user_uuid": IVY, "caller_id_number": "1001"});
    assert_eq!(
        publish(&mut acme, "missedCall", missed_ivy)
            .await
            .message_ids
            .len(),
        1
    );
    // The token registered by someone else moves the device away from the session's user.
    let (_, andy) = log_in(&mut acme).await;
    acme.register("someone-else", "tok-andy").await;
    let moved = publish(&mut acme, "missedCall", missed).await;
    assert!(moved.message_ids.is_empty(), "{moved:?}");
    assert!(!andy.device_id.is_empty());
    stack.stop().await;
}

#[tokio::test]
async fn a_repeated_event_key_answers_the_first_event() {
    let stack = Stack::start(DbBackend::Postgres).await;
    let mut acme = stack.tenant("acme").await;
    log_in(&mut acme).await;
    let request = PublishEventRequest {
        event_type: "missedCall".into(),
        payload_json: json!({"user_uuid": ANDY, "caller_id_number": "1001"}).to_string(),
        idempotency_key: "call-77".into(),
        ..Default::default()
    };
    let first = acme
        .events
        .publish_event(request.clone())
        .await
        .unwrap()
        .into_inner();
    let second = acme
        .events
        .publish_event(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(!first.duplicate && second.duplicate);
    assert_eq!(first.event_id, second.event_id);
    assert_eq!(first.message_ids, second.message_ids);
    let different = acme
        .events
        .publish_event(PublishEventRequest {
            payload_json: json!({"user_uuid": ANDY}).to_string(),
            ..request
        })
        .await
        .unwrap_err();
    assert_eq!(different.code(), Code::InvalidArgument);
    assert!(different.message().starts_with("idempotency_key"));
    stack.stop().await;
}

#[tokio::test]
async fn a_tenant_adjusts_a_builtin_trigger_and_resets_it() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    log_in(&mut acme).await;
    let changed = acme
        .events
        .update_trigger(UpdateTriggerRequest {
            trigger_id: "trg_missed_call".into(),
            condition: Some("caller_id_number != '666'".into()),
            template: Some(Notification {
                title: "Appel manqué".into(),
                body: "De : {{ caller_id_number }}".into(),
                data: [("notification_type".to_string(), "missedCall".to_string())].into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(changed.builtin && changed.mobile_sessions);
    let refused = acme
        .events
        .update_trigger(UpdateTriggerRequest {
            trigger_id: "trg_missed_call".into(),
            event_type: Some("other".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let spam = publish(
        &mut acme,
        "missedCall",
        json!({"user_uuid": ANDY, "caller_id_number": "666"}),
    )
    .await;
    assert!(spam.message_ids.is_empty());
    publish(
        &mut acme,
        "missedCall",
        json!({"user_uuid": ANDY, "caller_id_number": "1001"}),
    )
    .await;
    let push = push_to(&stack.mocks.fcm, 0, "tok-andy").await;
    assert_eq!(
        push.body["message"]["notification"]["title"],
        "Appel manqué"
    );
    assert_eq!(push.body["message"]["notification"]["body"], "De : 1001");
    // Deleting it restores it as shipped.
    acme.events
        .delete_trigger(DeleteTriggerRequest {
            trigger_id: "trg_missed_call".into(),
        })
        .await
        .unwrap();
    let shipped = acme
        .events
        .get_trigger(GetTriggerRequest {
            trigger_id: "trg_missed_call".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shipped.template.unwrap().title, "Missed Call");
    stack.stop().await;
}

/// A Wazo client's request: the API key as its token, the tenant in Wazo-Tenant.
async fn wazo(
    stack: &Stack,
    path: &str,
    token: Option<&str>,
    tenant: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", stack.endpoint))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.header("X-Auth-Token", token);
    }
    if let Some(tenant) = tenant {
        request = request.header("Wazo-Tenant", tenant);
    }
    let answer = request.send().await.expect("the endpoint answers");
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("a JSON body")
    };
    (status, json)
}

/// The body of the Wazo documentation's curl example, as written there.
const SEED_BODY: &str = r#"{"title": "Example notification", "body": "This is an example notification", "notification_type": "exampleNotification", "extra": {"mykey": "myvalue"}, "user_uuid": "123e4567-e89b-12d3-a456-426614174000"}"#;

#[tokio::test]
async fn the_wazo_endpoint_answers_as_wazo_webhookd_does() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    log_in(&mut acme).await;
    let (key, tenant) = (acme.key.clone(), acme.tenant_id.clone());

    // The seed's example, at the path a Wazo stack serves it: 204, and Ivy's iPhone gets it.
    let (status, body) = wazo(
        &stack,
        "/api/wazo-webhookd/1.0/mobile/notifications",
        Some(&key),
        Some(&tenant),
        SEED_BODY,
    )
    .await;
    assert_eq!((status, body), (204, Value::Null));
    let push = push_to(&stack.mocks.apns, 0, &apns_token(0x1)).await;
    assert_eq!(push.headers["apns-push-type"], "alert");
    assert_eq!(push.headers["apns-topic"], BUNDLE_ID);
    assert_eq!(push.body["aps"]["alert"]["title"], "Example notification");
    assert_eq!(
        push.body["aps"]["alert"]["body"],
        "This is an example notification"
    );
    assert_eq!(push.body["notification_type"], "exampleNotification");
    assert_eq!(push.body["mykey"], "myvalue");
    assert_eq!(push.body["items"], "{}");
    // The event's record tells where it came from.
    let events = acme
        .events
        .list_events(ListEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(events.events[0].source, "wazo");
    assert_eq!(events.events[0].event_type, "exampleNotification");
    assert_eq!(events.events[0].message_ids.len(), 1);

    // Android: shown on Wazo's channel, with the extra as data.
    let to_andy = SEED_BODY.replace(IVY, ANDY);
    let (status, _) = wazo(
        &stack,
        "/1.0/mobile/notifications",
        Some(&key),
        None,
        &to_andy,
    )
    .await;
    assert_eq!(status, 204);
    let push = push_to(&stack.mocks.fcm, 0, "tok-andy").await;
    let message = &push.body["message"];
    assert_eq!(message["notification"]["title"], "Example notification");
    assert_eq!(
        message["android"]["notification"]["channel_id"],
        "io.wazo.songbird"
    );
    assert_eq!(message["data"]["mykey"], "myvalue");

    // Validation failures, in webhookd's words.
    let path = "/1.0/mobile/notifications";
    let (status, body) = wazo(&stack, path, Some(&key), Some(&tenant), "{}").await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Sent data is invalid");
    assert_eq!(body["error_id"], "invalid-data");
    assert!(body["timestamp"].is_f64());
    for field in ["notification_type", "user_uuid", "title", "body"] {
        assert_eq!(
            body["details"][field],
            json!(["Missing data for required field."]),
            "{field}"
        );
    }
    let cases = [
        (
            SEED_BODY.replace("exampleNotification", "incomingCall"),
            "notification_type",
            "The type \"incomingCall\" is a reserved type.",
        ),
        (
            SEED_BODY.replace("exampleNotification", "bad type!"),
            "notification_type",
            "String does not match expected pattern.",
        ),
        (
            SEED_BODY.replace(IVY, "not-a-uuid"),
            "user_uuid",
            "Length must be 36.",
        ),
        (
            SEED_BODY.replace("Example notification", &"t".repeat(129)),
            "title",
            "Longer than maximum length 128.",
        ),
        (
            SEED_BODY.replace("This is an example notification", &"b".repeat(251)),
            "body",
            "Longer than maximum length 250.",
        ),
        (
            SEED_BODY.replace(r#"{"mykey": "myvalue"}"#, "[1]"),
            "extra",
            "Not a valid mapping type.",
        ),
        (
            SEED_BODY.replace("\"extra\"", "\"priority\": 1, \"extra\""),
            "priority",
            "Unknown field.",
        ),
        (
            SEED_BODY.replace("mykey", "herald_x"),
            "extra",
            "notification.data[herald_x]: reserved key",
        ),
    ];
    let deep = SEED_BODY.replace(
        r#"{"mykey": "myvalue"}"#,
        &format!("{}1{}", r#"{"a":"#.repeat(20), "}".repeat(20)),
    );
    let (status, body) = wazo(&stack, path, Some(&key), Some(&tenant), &deep).await;
    assert_eq!(status, 400);
    assert!(
        body["details"]["extra"][0]
            .as_str()
            .unwrap()
            .contains("nested")
    );
    for (request, field, message) in cases {
        let (status, body) = wazo(&stack, path, Some(&key), Some(&tenant), &request).await;
        assert_eq!(status, 400, "{field}");
        assert_eq!(body["details"][field], json!([message]), "{field}: {body}");
    }
    // Nothing was sent for them.
    let events = acme
        .events
        .list_events(ListEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(events.events.len(), 2);

    // No token, a wrong token, another tenant's header: 401; an app key: 403.
    let (status, body) = wazo(&stack, path, None, Some(&tenant), SEED_BODY).await;
    assert_eq!(status, 401);
    assert_eq!(body["error_id"], "unauthorized");
    let (status, _) = wazo(&stack, path, Some("hk_wrong"), Some(&tenant), SEED_BODY).await;
    assert_eq!(status, 401);
    let other = stack.bare_tenant("other").await;
    let (status, body) = wazo(&stack, path, Some(&key), Some(&other.tenant_id), SEED_BODY).await;
    assert_eq!(status, 401);
    assert_eq!(body["error_id"], "unauthorized-tenant");
    assert_eq!(body["details"]["tenant_uuid"], other.tenant_id.as_str());
    let app_key = acme
        .admin
        .create_api_key(CreateApiKeyRequest {
            tenant_id: tenant.clone(),
            display_name: "app".into(),
            scope: ApiKeyScope::App as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .key;
    let (status, _) = wazo(&stack, path, Some(&app_key), None, SEED_BODY).await;
    assert_eq!(status, 403);
    stack.stop().await;
}
