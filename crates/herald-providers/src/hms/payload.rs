//! HUAWEI Push Kit `messages:send` bodies.
//!
//! HMS differs from FCM where it matters: `data` is one string (Herald sends the data map as
//! JSON), tokens go in a list, priority is `urgency` plus a display `importance`, a tap is a
//! `click_action` (1 intent, 2 URL, 3 open the app), and `collapse_key` is a number (offline
//! cache group), so the seeds' collapse key becomes the notification `tag`, which replaces a
//! shown notification with the same tag.

use herald_proto::v1::{ActionType, Notification};
use serde_json::{Map, Value, json};

use super::limits::MAX_TTL_SECONDS;
use crate::android::AndroidView;
use crate::payload::{Target, insert_non_empty};

/// The `{"validate_only", "message"}` body for one device.
pub fn request_body(notification: &Notification, target: Target<'_>, validate_only: bool) -> Value {
    let mut message = message(notification, target);
    message.insert("token".into(), json!([target.token]));
    json!({ "validate_only": validate_only, "message": message })
}

/// The size HMS counts against its 4096-byte limit (the body without tokens).
pub fn payload_size(notification: &Notification) -> usize {
    json!({ "validate_only": false, "message": message(notification, Target::SIZING) })
        .to_string()
        .len()
}

fn message(n: &Notification, target: Target<'_>) -> Map<String, Value> {
    let view = AndroidView::of(n);
    let data = Value::Object(
        view.data(n, target)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    );
    let mut android = Map::new();
    android.insert(
        "urgency".into(),
        json!(if view.high_priority() {
            "HIGH"
        } else {
            "NORMAL"
        }),
    );
    android.insert(
        "ttl".into(),
        json!(format!("{}s", view.ttl_seconds.min(MAX_TTL_SECONDS))),
    );
    if !view.silent {
        let mut an = Map::new();
        insert_non_empty(&mut an, "title", view.title);
        insert_non_empty(&mut an, "body", view.body);
        insert_non_empty(&mut an, "image", view.image);
        insert_non_empty(&mut an, "icon", view.icon);
        insert_non_empty(&mut an, "sound", view.sound_resource());
        insert_non_empty(&mut an, "channel_id", view.channel_id);
        insert_non_empty(&mut an, "color", view.color);
        insert_non_empty(
            &mut an,
            "tag",
            if view.tag.is_empty() {
                view.collapse_key
            } else {
                view.tag
            },
        );
        an.insert("importance".into(), json!(importance(view.priority)));
        an.insert("click_action".into(), click_action(&view));
        android.insert("notification".into(), Value::Object(an));
    }
    let mut message = Map::new();
    message.insert("data".into(), Value::String(data.to_string()));
    message.insert("android".into(), Value::Object(android));
    message
}

fn importance(priority: u32) -> &'static str {
    match priority {
        1 | 2 => "LOW",
        4 | 5 => "HIGH",
        _ => "NORMAL",
    }
}

/// What a tap does. Web views and HTML open the app, which reads `herald_action` from the data.
fn click_action(view: &AndroidView<'_>) -> Value {
    match view.action.map(|a| (a.r#type(), a.url.as_str())) {
        Some((ActionType::OpenUrl, url)) => json!({ "type": 2, "url": url }),
        Some((ActionType::Deeplink, url)) => json!({ "type": 1, "intent": url }),
        _ => json!({ "type": 3 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{Action, AndroidOptions};

    const TARGET: Target<'static> = Target {
        token: "hms-tok",
        message_id: "msg_1",
        delivery_id: "dlv_1",
    };

    fn action(kind: ActionType, url: &str) -> Option<Action> {
        Some(Action {
            r#type: kind as i32,
            url: url.into(),
            html: String::new(),
        })
    }

    #[test]
    fn a_notification_maps_to_the_hms_fields() {
        let n = Notification {
            title: "Parcel".into(),
            body: "Out for delivery".into(),
            collapse_key: "parcel-1".into(),
            ttl_seconds: 86_400,
            priority: 5,
            image_url: "https://img.example.com/p.png".into(),
            data: [("order".to_string(), "42".to_string())].into(),
            action: action(ActionType::OpenUrl, "https://example.com/track"),
            android: Some(AndroidOptions {
                channel_id: Some("deliveries".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let body = request_body(&n, TARGET, false);
        let m = &body["message"];
        assert_eq!(m["token"], json!(["hms-tok"]));
        assert_eq!(m["android"]["urgency"], "HIGH");
        assert_eq!(m["android"]["ttl"], "86400s");
        let an = &m["android"]["notification"];
        assert_eq!(
            (an["title"].as_str(), an["body"].as_str()),
            (Some("Parcel"), Some("Out for delivery"))
        );
        assert_eq!(an["tag"], "parcel-1");
        assert_eq!(an["channel_id"], "deliveries");
        assert_eq!(an["importance"], "HIGH");
        assert_eq!(an["image"], "https://img.example.com/p.png");
        assert_eq!(
            an["click_action"],
            json!({"type": 2, "url": "https://example.com/track"})
        );
        let data: Value = serde_json::from_str(m["data"].as_str().unwrap()).unwrap();
        assert_eq!(data["order"], "42");
        assert_eq!(data["herald_delivery_id"], "dlv_1");
        assert_eq!(data["herald_action"], "OPEN_URL");
    }

    #[test]
    fn click_actions_follow_the_action_type() {
        let tap = |a| {
            let n = Notification {
                title: "t".into(),
                action: a,
                ..Default::default()
            };
            request_body(&n, TARGET, false)["message"]["android"]["notification"]["click_action"]
                .clone()
        };
        assert_eq!(tap(None), json!({"type": 3}));
        assert_eq!(
            tap(action(ActionType::Deeplink, "shop://item/9")),
            json!({"type": 1, "intent": "shop://item/9"})
        );
        assert_eq!(tap(action(ActionType::OpenHtml, "")), json!({"type": 3}));
    }

    #[test]
    fn silent_pushes_are_data_messages_and_low_priority_is_normal_urgency() {
        let n = Notification {
            title: "x".into(),
            silent: true,
            priority: 1,
            ..Default::default()
        };
        let m = &request_body(&n, TARGET, false)["message"];
        assert_eq!(
            m["android"]["ttl"], "1296000s",
            "the 28-day default is capped at HMS's 15 days"
        );
        assert!(m["android"].get("notification").is_none());
        assert_eq!(m["android"]["urgency"], "NORMAL");
        assert!(m["data"].as_str().unwrap().contains("herald_message_id"));
    }

    #[test]
    fn payload_size_excludes_the_token() {
        let n = Notification {
            body: "x".repeat(100),
            ..Default::default()
        };
        let long_token = Target {
            token: &"t".repeat(500),
            ..TARGET
        };
        assert!(payload_size(&n) < request_body(&n, long_token, false).to_string().len() - 400);
    }
}
