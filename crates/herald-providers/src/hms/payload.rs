//! HUAWEI Push Kit `messages:send` bodies.
//!
//! HMS differs from FCM where it matters: `data` is one string (Herald sends the data map as
//! JSON), tokens go in a list, priority is `urgency` plus a display `importance`, a tap is a
//! `click_action` (1 intent, 2 URL, 3 open the app), and `collapse_key` is a number (offline
//! cache group), so the seeds' collapse key becomes the notification `tag`, which replaces a
//! shown notification with the same tag.

use herald_proto::v1::{ActionType, Notification};
use serde_json::{Map, Value, json};

use crate::android::AndroidView;
use crate::payload::{Target, buttons, insert_non_empty};

/// HMS caches a message for at most 15 days; a longer TTL is sent as this.
pub const MAX_TTL_SECONDS: u32 = 1_296_000;

/// The app's settings that shape its pushes (from its HMS credential).
#[derive(Clone, Copy, Debug, Default)]
pub struct AppSettings<'a> {
    /// The app's launcher activity class, which Huawei needs to show a badge number.
    pub badge_class: Option<&'a str>,
}

/// The longest badge class a credential may hold.
pub const MAX_BADGE_CLASS_LEN: usize = 128;

/// A badge class as long as any a credential may hold, for sizing before the app is known.
const SIZING_BADGE_CLASS: &str = concat!(
    "com.example.sizing.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.Main"
);

/// The `{"validate_only", "message"}` body for one device.
pub fn request_body(
    notification: &Notification,
    target: Target<'_>,
    app: AppSettings<'_>,
    validate_only: bool,
) -> Value {
    let mut message = message(notification, target, app);
    message.insert("token".into(), json!([target.token]));
    json!({ "validate_only": validate_only, "message": message })
}

/// The size HMS counts against its 4096-byte limit (the body without tokens), with room for a
/// badge class.
pub fn payload_size(notification: &Notification) -> usize {
    let app = AppSettings {
        badge_class: Some(SIZING_BADGE_CLASS),
    };
    json!({ "validate_only": false, "message": message(notification, Target::SIZING, app) })
        .to_string()
        .len()
}

fn message(n: &Notification, target: Target<'_>, app: AppSettings<'_>) -> Map<String, Value> {
    let view = AndroidView::of(n);
    let data = Value::Object(
        view.data(n, target)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    );
    let mut android = Map::new();
    android.insert("urgency".into(), json!(view.priority_word()));
    android.insert("ttl".into(), json!(view.ttl(target, MAX_TTL_SECONDS)));
    if view.silent {
        // Push Kit delivers a high-priority data message only in a category it allows for them.
        if view.high_priority() {
            android.insert("category".into(), json!(data_category(n)));
        }
    } else {
        android.insert(
            "notification".into(),
            Value::Object(notification(n, &view, app)),
        );
    }
    let mut message = Map::new();
    message.insert("data".into(), Value::String(data.to_string()));
    message.insert("android".into(), Value::Object(android));
    message
}

/// `android.notification`: what the device shows.
fn notification(
    n: &Notification,
    view: &AndroidView<'_>,
    app: AppSettings<'_>,
) -> Map<String, Value> {
    let mut an = Map::new();
    // Push Kit requires both a title and a body; a notification with one shows it as both.
    let (title, body) = match (view.title, view.body) {
        ("", body) => (body, body),
        (title, "") => (title, title),
        both => both,
    };
    insert_non_empty(&mut an, "title", title);
    insert_non_empty(&mut an, "body", body);
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
    an.insert("click_action".into(), click_action(view));
    if let (Some(count), Some(class)) = (view.badge, app.badge_class) {
        an.insert("badge".into(), json!({ "set_num": count, "class": class }));
    }
    if let Some(interactive) = &n.interactive {
        let buttons: Vec<Value> = buttons(interactive.category())
            .iter()
            .map(|(id, label)| {
                // Each opens the app with the button's id, which the app reports back.
                let data = json!({
                    "herald_button": id,
                    "herald_push_reference": interactive.push_reference,
                });
                json!({ "name": label, "action_type": 0, "data": data.to_string() })
            })
            .collect();
        an.insert("buttons".into(), Value::Array(buttons));
    }
    an
}

/// The category of a high-priority data message: a call for the call notification types,
/// instant messaging otherwise.
fn data_category(n: &Notification) -> &'static str {
    match n.notification_type.as_str() {
        "incomingCall" | "cancelIncomingCall" => "VOIP",
        _ => "IM",
    }
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
        accepted_at_ms: 0,
        now_ms: 0,
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
        let body = request_body(&n, TARGET, AppSettings::default(), false);
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
            request_body(&n, TARGET, AppSettings::default(), false)["message"]["android"]["notification"]["click_action"]
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
        let m = &request_body(&n, TARGET, AppSettings::default(), false)["message"];
        assert_eq!(
            m["android"]["ttl"], "1296000s",
            "the 28-day default is capped at HMS's 15 days"
        );
        assert!(m["android"].get("notification").is_none());
        assert_eq!(m["android"]["urgency"], "NORMAL");
        assert!(m["data"].as_str().unwrap().contains("herald_message_id"));
    }

    #[test]
    fn a_notification_always_has_a_body_and_a_high_priority_data_message_a_category() {
        let title_only = Notification {
            title: "Parcel".into(),
            ..Default::default()
        };
        let an = &request_body(&title_only, TARGET, AppSettings::default(), false)["message"]["android"]
            ["notification"];
        assert_eq!(
            (an["title"].as_str(), an["body"].as_str()),
            (Some("Parcel"), Some("Parcel"))
        );

        let ring = Notification {
            notification_type: "incomingCall".into(),
            silent: true,
            priority: 5,
            data: [("call".to_string(), "c-1".to_string())].into(),
            ..Default::default()
        };
        let android =
            &request_body(&ring, TARGET, AppSettings::default(), false)["message"]["android"];
        assert_eq!(
            (android["urgency"].as_str(), android["category"].as_str()),
            (Some("HIGH"), Some("VOIP"))
        );
        let chat = Notification {
            notification_type: "messageReceived".into(),
            ..ring
        };
        assert_eq!(
            request_body(&chat, TARGET, AppSettings::default(), false)["message"]["android"]["category"],
            "IM"
        );
    }

    #[test]
    fn huaweis_own_badge_and_buttons_are_used() {
        use herald_proto::v1::{InteractionCategory, Interactive};
        let n = Notification {
            title: "Survey".into(),
            body: "Did it arrive?".into(),
            badge: Some(4),
            interactive: Some(Interactive {
                category: InteractionCategory::YesOrNo as i32,
                push_reference: "survey-7".into(),
            }),
            ..Default::default()
        };
        let app = AppSettings {
            badge_class: Some("com.example.app.MainActivity"),
        };
        let an = &request_body(&n, TARGET, app, false)["message"]["android"]["notification"];
        assert_eq!(
            an["badge"],
            json!({"set_num": 4, "class": "com.example.app.MainActivity"})
        );
        let buttons = an["buttons"].as_array().unwrap();
        assert_eq!(buttons.len(), 2);
        assert_eq!(
            (
                buttons[0]["name"].as_str(),
                buttons[0]["action_type"].as_u64()
            ),
            (Some("Yes"), Some(0))
        );
        let data: Value = serde_json::from_str(buttons[1]["data"].as_str().unwrap()).unwrap();
        assert_eq!(
            data,
            json!({"herald_button": "no", "herald_push_reference": "survey-7"})
        );
        // Without the app's class Huawei cannot show a badge: none is sent.
        let an = &request_body(&n, TARGET, AppSettings::default(), false)["message"]["android"]["notification"];
        assert!(an.get("badge").is_none());
    }

    #[test]
    fn sizing_reserves_the_longest_badge_class() {
        assert_eq!(SIZING_BADGE_CLASS.len(), MAX_BADGE_CLASS_LEN);
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
        assert!(
            payload_size(&n)
                < request_body(&n, long_token, AppSettings::default(), false)
                    .to_string()
                    .len()
                    - 400
        );
    }
}
