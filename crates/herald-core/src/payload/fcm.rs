//! FCM HTTP v1 `messages:send` bodies.

use std::collections::BTreeMap;

use herald_proto::v1::{ActionType, Notification};
use serde_json::{Map, Value, json};

use super::{DELIVERY_ID_KEY, MESSAGE_ID_KEY, effective_priority, effective_ttl};

/// FCM's limit on a message's payload.
pub const MAX_PAYLOAD_BYTES: usize = 4096;

/// Where a push goes and which ids ride along in its data.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub token: &'a str,
    pub message_id: &'a str,
    pub delivery_id: &'a str,
}

/// The `{"validate_only", "message"}` body for one device.
pub fn request_body(notification: &Notification, target: Target<'_>, validate_only: bool) -> Value {
    let mut message = message(notification, target);
    message.insert("token".into(), Value::String(target.token.to_owned()));
    json!({ "validate_only": validate_only, "message": message })
}

/// The payload size FCM counts against its 4096-byte limit (the message without its target).
pub fn payload_size(notification: &Notification) -> usize {
    let target = Target {
        token: "",
        // Ids are fixed-length, so a representative id gives the exact size.
        message_id: "msg_0123456789abcdef0123456789abcdef",
        delivery_id: "dlv_0123456789abcdef0123456789abcdef",
    };
    Value::Object(message(notification, target))
        .to_string()
        .len()
}

fn message(n: &Notification, target: Target<'_>) -> Map<String, Value> {
    let android = n.android.clone().unwrap_or_default();
    let title = android.title.as_deref().unwrap_or(&n.title);
    let body = android.body.as_deref().unwrap_or(&n.body);
    let image = android.image_url.as_deref().unwrap_or(&n.image_url);
    let priority = effective_priority(if android.priority != 0 {
        android.priority
    } else {
        n.priority
    });
    let ttl = android.ttl_seconds.unwrap_or_else(|| effective_ttl(n));

    // FCM data values must be strings; BTreeMap keeps the output stable for tests and dedup.
    let mut data: BTreeMap<String, String> =
        n.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    data.insert(MESSAGE_ID_KEY.into(), target.message_id.into());
    data.insert(DELIVERY_ID_KEY.into(), target.delivery_id.into());
    if !n.notification_type.is_empty() {
        data.insert("herald_type".into(), n.notification_type.clone());
    }
    let action = android.action.as_ref().or(n.action.as_ref());
    if let Some(action) = action.filter(|a| a.r#type() != ActionType::Unspecified) {
        data.insert(
            "herald_action".into(),
            action
                .r#type()
                .as_str_name()
                .trim_start_matches("ACTION_TYPE_")
                .into(),
        );
        if !action.url.is_empty() {
            data.insert("herald_action_url".into(), action.url.clone());
        }
        if !action.html.is_empty() {
            data.insert("herald_action_html".into(), action.html.clone());
        }
    }

    let mut android_json = Map::new();
    android_json.insert(
        "priority".into(),
        json!(if priority >= 4 { "HIGH" } else { "NORMAL" }),
    );
    android_json.insert("ttl".into(), json!(format!("{ttl}s")));
    if let Some(key) = android
        .collapse_key
        .as_deref()
        .or(non_empty(&n.collapse_key))
    {
        android_json.insert("collapse_key".into(), json!(key));
    }

    let mut message = Map::new();
    if !n.silent {
        let mut notification = Map::new();
        insert_non_empty(&mut notification, "title", title);
        insert_non_empty(&mut notification, "body", body);
        insert_non_empty(&mut notification, "image", image);
        if !notification.is_empty() {
            message.insert("notification".into(), Value::Object(notification));
        }
        let mut an = Map::new();
        insert_non_empty(
            &mut an,
            "sound",
            android.sound.as_deref().unwrap_or(&n.sound),
        );
        insert_non_empty(&mut an, "icon", android.icon.as_deref().unwrap_or(&n.icon));
        insert_non_empty(
            &mut an,
            "channel_id",
            android.channel_id.as_deref().unwrap_or(""),
        );
        insert_non_empty(&mut an, "color", android.color.as_deref().unwrap_or(""));
        insert_non_empty(&mut an, "tag", android.tag.as_deref().unwrap_or(""));
        an.insert(
            "notification_priority".into(),
            json!(notification_priority(priority)),
        );
        android_json.insert("notification".into(), Value::Object(an));
    }
    message.insert("data".into(), json!(data));
    message.insert("android".into(), Value::Object(android_json));
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

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn insert_non_empty(map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        map.insert(key.into(), json!(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{Action, AndroidOptions};

    const TARGET: Target<'static> = Target {
        token: "tok-1",
        message_id: "msg_1",
        delivery_id: "dlv_1",
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
            ..Default::default()
        };
        let m = &request_body(&n, TARGET, false)["message"];
        assert!(m.get("notification").is_none());
        assert!(m["android"].get("notification").is_none());
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
        assert!(payload_size(&small) < MAX_PAYLOAD_BYTES);
        assert!(payload_size(&big) > MAX_PAYLOAD_BYTES);
    }
}
