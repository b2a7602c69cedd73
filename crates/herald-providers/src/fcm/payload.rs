//! FCM HTTP v1 `messages:send` bodies, serialised from typed structs that borrow the
//! notification.

use herald_proto::v1::Notification;
use serde::Serialize;

use crate::android::AndroidView;
use crate::payload::{Data, SendBody, Target, is_empty, json_len};

/// The `{"validate_only", "message"}` body for one device, as JSON.
pub fn request_body(
    notification: &Notification,
    target: Target<'_>,
    validate_only: bool,
) -> Vec<u8> {
    let body = SendBody {
        validate_only,
        message: message(notification, target, Some(target.token)),
    };
    serde_json::to_vec(&body).expect("an FCM body serialises")
}

/// The payload size FCM counts against its 4096-byte limit (the message without its target).
pub fn payload_size(notification: &Notification) -> usize {
    json_len(&message(notification, Target::SIZING, None))
}

#[derive(Serialize)]
struct Message<'a> {
    /// The target; left out when sizing (FCM's limit does not count it).
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification: Option<Shown<'a>>,
    data: Data<'a>,
    android: Android<'a>,
}

/// `message.notification`: what every platform shows.
#[derive(Serialize)]
struct Shown<'a> {
    #[serde(skip_serializing_if = "is_empty")]
    title: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    body: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    image: &'a str,
}

#[derive(Serialize)]
struct Android<'a> {
    priority: &'static str,
    ttl: String,
    #[serde(skip_serializing_if = "is_empty")]
    collapse_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification: Option<AndroidNotification<'a>>,
}

/// `android.notification`: how Android shows it.
#[derive(Serialize)]
struct AndroidNotification<'a> {
    #[serde(skip_serializing_if = "is_empty")]
    sound: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    icon: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    channel_id: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    color: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    tag: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_count: Option<u32>,
    notification_priority: &'static str,
}

fn message<'a>(n: &'a Notification, target: Target<'a>, token: Option<&'a str>) -> Message<'a> {
    let view = AndroidView::of(n);
    let shown = (!view.silent)
        .then_some(Shown {
            title: view.title,
            body: view.body,
            image: view.image,
        })
        .filter(|s| !(s.title.is_empty() && s.body.is_empty() && s.image.is_empty()));
    let notification = (!view.silent).then(|| AndroidNotification {
        sound: view.sound_resource(),
        icon: view.icon,
        channel_id: view.channel_id,
        color: view.color,
        tag: view.tag,
        notification_count: view.badge,
        notification_priority: notification_priority(view.priority),
    });
    Message {
        token,
        notification: shown,
        data: view.data(n, target),
        android: Android {
            priority: view.priority_word(),
            ttl: view.ttl(target, u32::MAX),
            collapse_key: view.collapse_key,
            notification,
        },
    }
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

    fn request_body(
        n: &Notification,
        target: Target<'_>,
        validate_only: bool,
    ) -> serde_json::Value {
        serde_json::from_slice(&super::request_body(n, target, validate_only)).unwrap()
    }

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
