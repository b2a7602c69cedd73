//! FCM HTTP v1 `messages:send` bodies.

use herald_proto::v1::Notification;
use serde_json::{Map, Value, json};

use crate::android::AndroidView;
use crate::payload::{Target, insert_non_empty};

/// The `{"validate_only", "message"}` body for one device.
pub fn request_body(notification: &Notification, target: Target<'_>, validate_only: bool) -> Value {
    let mut message = message(notification, target);
    message.insert("token".into(), Value::String(target.token.to_owned()));
    json!({ "validate_only": validate_only, "message": message })
}

/// The payload size FCM counts against its 4096-byte limit (the message without its target).
pub fn payload_size(notification: &Notification) -> usize {
    Value::Object(message(notification, Target::SIZING))
        .to_string()
        .len()
}

fn message(n: &Notification, target: Target<'_>) -> Map<String, Value> {
    let view = AndroidView::of(n);
    let mut android = Map::new();
    android.insert("priority".into(), json!(view.priority_word()));
    android.insert("ttl".into(), json!(view.ttl(target, u32::MAX)));
    insert_non_empty(&mut android, "collapse_key", view.collapse_key);

    let mut message = Map::new();
    if !view.silent {
        let mut notification = Map::new();
        insert_non_empty(&mut notification, "title", view.title);
        insert_non_empty(&mut notification, "body", view.body);
        insert_non_empty(&mut notification, "image", view.image);
        if !notification.is_empty() {
            message.insert("notification".into(), Value::Object(notification));
        }
        let mut an = Map::new();
        insert_non_empty(&mut an, "sound", view.sound_resource());
        insert_non_empty(&mut an, "icon", view.icon);
        insert_non_empty(&mut an, "channel_id", view.channel_id);
        insert_non_empty(&mut an, "color", view.color);
        insert_non_empty(&mut an, "tag", view.tag);
        if let Some(count) = view.badge {
            an.insert("notification_count".into(), json!(count));
        }
        an.insert(
            "notification_priority".into(),
            json!(notification_priority(view.priority)),
        );
        android.insert("notification".into(), Value::Object(an));
    }
    message.insert("data".into(), json!(view.data(n, target)));
    message.insert("android".into(), Value::Object(android));
    message
}

fn notification_priority(priority: u32) -> &'static str {
    match priority {
        1 => "PRIORITY_MIN",
        2 => "PRIORITY_LOW",
        4 => "PRIORITY_HIGH",
        5 => "PRIORITY_MAX",
        _ => "PRIORITY_DEFAULT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{Action, ActionType, AndroidOptions};

    const TARGET: Target<'static> = Target {
        token: "tok-1",
        message_id: "msg_1",
        delivery_id: "dlv_1",
        accepted_at_ms: 0,
        now_ms: 0,
    };

    #[test]
    fn title_body_and_data_map_to_the_v1_message() {
        let n = Notification {
            title: "Hello".into(),
            body: "World".into(),
            data: [("order".to_string(), "42".to_string())].into(),
            ..Default::default()
        };
        let body = request_body(&n, TARGET, false);
        assert_eq!(body["validate_only"], false);
        let m = &body["message"];
        assert_eq!(m["token"], "tok-1");
        assert_eq!(m["notification"]["title"], "Hello");
        assert_eq!(m["notification"]["body"], "World");
        assert_eq!(m["data"]["order"], "42");
        assert_eq!(m["data"]["herald_delivery_id"], "dlv_1");
        assert_eq!(m["android"]["priority"], "NORMAL");
        assert_eq!(m["android"]["ttl"], "2419200s");
    }

    #[test]
    fn android_options_override_the_common_fields() {
        let n = Notification {
            title: "common".into(),
            priority: 2,
            ttl_seconds: 60,
            collapse_key: "parcel".into(),
            android: Some(AndroidOptions {
                title: Some("android".into()),
                priority: 5,
                channel_id: Some("calls".into()),
                action: Some(Action {
                    r#type: ActionType::OpenUrl as i32,
                    url: "https://example.com/x".into(),
                    html: String::new(),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = &request_body(&n, TARGET, true)["message"];
        assert_eq!(m["notification"]["title"], "android");
        assert_eq!(m["android"]["priority"], "HIGH");
        assert_eq!(m["android"]["ttl"], "60s");
        assert_eq!(m["android"]["collapse_key"], "parcel");
        assert_eq!(m["android"]["notification"]["channel_id"], "calls");
        assert_eq!(
            m["android"]["notification"]["notification_priority"],
            "PRIORITY_MAX"
        );
        assert_eq!(m["data"]["herald_action"], "OPEN_URL");
        assert_eq!(m["data"]["herald_action_url"], "https://example.com/x");
    }

    #[test]
    fn silent_pushes_carry_no_notification() {
        let n = Notification {
            title: "ignored".into(),
            silent: true,
            data: [("call".to_string(), "c-1".to_string())].into(),
            ..Default::default()
        };
        let m = &request_body(&n, TARGET, false)["message"];
        assert!(m.get("notification").is_none());
        assert!(m["android"].get("notification").is_none());
        assert_eq!(m["data"]["call"], "c-1");
    }

    #[test]
    fn delay_while_idle_keeps_normal_priority_and_sound_urls_travel_in_data() {
        let n = Notification {
            title: "t".into(),
            priority: 5,
            sound: "https://cdn.example.com/ding.mp3".into(),
            android: Some(AndroidOptions {
                delay_while_idle: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = &request_body(&n, TARGET, false)["message"];
        assert_eq!(m["android"]["priority"], "NORMAL");
        assert_eq!(
            m["android"]["notification"]["notification_priority"],
            "PRIORITY_MAX"
        );
        assert!(m["android"]["notification"].get("sound").is_none());
        assert_eq!(
            m["data"]["herald_sound_url"],
            "https://cdn.example.com/ding.mp3"
        );
        let named = Notification {
            sound: "ding".into(),
            ..n
        };
        assert_eq!(
            request_body(&named, TARGET, false)["message"]["android"]["notification"]["sound"],
            "ding"
        );
    }

    #[test]
    fn payload_size_grows_with_content() {
        let small = Notification {
            body: "x".into(),
            ..Default::default()
        };
        let big = Notification {
            body: "x".repeat(5000),
            ..Default::default()
        };
        assert!(payload_size(&small) < super::super::limits::MAX_PAYLOAD_BYTES);
        assert!(payload_size(&big) > super::super::limits::MAX_PAYLOAD_BYTES);
    }
}
