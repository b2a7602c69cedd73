//! HUAWEI Push Kit `messages:send` bodies.
//!
//! HMS differs from FCM where it matters: `data` is one string (Herald sends the data map as
//! JSON), tokens go in a list, priority is `urgency` plus a display `importance`, a tap is a
//! `click_action` (1 intent, 2 URL, 3 open the app), and `collapse_key` is a number (offline
//! cache group), so the seeds' collapse key becomes the notification `tag`, which replaces a
//! shown notification with the same tag.

use herald_proto::v1::{ActionType, Notification};
use serde::Serialize;

use crate::android::AndroidView;
use crate::payload::{SendBody, Target, buttons, is_empty, json_len};

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

/// The `{"validate_only", "message"}` body for one device, as JSON.
pub fn request_body(
    notification: &Notification,
    target: Target<'_>,
    app: AppSettings<'_>,
    validate_only: bool,
) -> Vec<u8> {
    let token = [target.token];
    let body = SendBody {
        validate_only,
        message: message(notification, target, app, Some(&token)),
    };
    serde_json::to_vec(&body).expect("an HMS body serialises")
}

/// The size HMS counts against its 4096-byte limit (the body without tokens), with room for a
/// badge class.
pub fn payload_size(notification: &Notification) -> usize {
    let app = AppSettings {
        badge_class: Some(SIZING_BADGE_CLASS),
    };
    json_len(&SendBody {
        validate_only: false,
        message: message(notification, Target::SIZING, app, None),
    })
}

#[derive(Serialize)]
struct Message<'a> {
    /// The data map as one JSON string.
    data: String,
    android: Android<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a [&'a str]>,
}

#[derive(Serialize)]
struct Android<'a> {
    urgency: &'static str,
    ttl: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification: Option<Shown<'a>>,
}

/// `android.notification`: what the device shows.
#[derive(Serialize)]
struct Shown<'a> {
    #[serde(skip_serializing_if = "is_empty")]
    title: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    body: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    image: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    icon: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    sound: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    channel_id: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    color: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    tag: &'a str,
    importance: &'static str,
    click_action: ClickAction<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    badge: Option<Badge<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    buttons: Option<Vec<Button<'a>>>,
}

/// What a tap does: 1 an intent, 2 a URL, 3 open the app.
#[derive(Serialize)]
struct ClickAction<'a> {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    intent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct Badge<'a> {
    set_num: u32,
    class: &'a str,
}

#[derive(Serialize)]
struct Button<'a> {
    name: &'a str,
    action_type: u8,
    /// What the app gets when the button is tapped, as one JSON string.
    data: String,
}

/// What a button hands the app.
#[derive(Serialize)]
struct ButtonData<'a> {
    herald_button: &'a str,
    herald_push_reference: &'a str,
}

fn message<'a>(
    n: &'a Notification,
    target: Target<'a>,
    app: AppSettings<'a>,
    token: Option<&'a [&'a str]>,
) -> Message<'a> {
    let view = AndroidView::of(n);
    let data = serde_json::to_string(&view.data(n, target)).expect("data serialises");
    let (category, notification) = if view.silent {
        // Push Kit delivers a high-priority data message only in a category it allows for them.
        (view.high_priority().then(|| data_category(n)), None)
    } else {
        (None, Some(notification(n, &view, app)))
    };
    Message {
        data,
        android: Android {
            urgency: view.priority_word(),
            ttl: view.ttl(target, MAX_TTL_SECONDS),
            category,
            notification,
        },
        token,
    }
}

/// `android.notification`: what the device shows.
fn notification<'a>(
    n: &'a Notification,
    view: &AndroidView<'a>,
    app: AppSettings<'a>,
) -> Shown<'a> {
    // Push Kit requires both a title and a body; a notification with one shows it as both.
    let (title, body) = match (view.title, view.body) {
        ("", body) => (body, body),
        (title, "") => (title, title),
        both => both,
    };
    let buttons = n.interactive.as_ref().map(|interactive| {
        buttons(interactive.category())
            .iter()
            .map(|(id, label)| Button {
                name: label,
                action_type: 0,
                // Each opens the app with the button's id, which the app reports back.
                data: serde_json::to_string(&ButtonData {
                    herald_button: id,
                    herald_push_reference: &interactive.push_reference,
                })
                .expect("button data serialises"),
            })
            .collect()
    });
    Shown {
        title,
        body,
        image: view.image,
        icon: view.icon,
        sound: view.sound_resource(),
        channel_id: view.channel_id,
        color: view.color,
        tag: if view.tag.is_empty() {
            view.collapse_key
        } else {
            view.tag
        },
        importance: importance(view.priority),
        click_action: click_action(view),
        badge: view
            .badge
            .zip(app.badge_class)
            .map(|(set_num, class)| Badge { set_num, class }),
        buttons,
    }
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
fn click_action<'a>(view: &AndroidView<'a>) -> ClickAction<'a> {
    let (kind, intent, url) = match view.action.map(|a| (a.r#type(), a.url.as_str())) {
        Some((ActionType::OpenUrl, url)) => (2, None, Some(url)),
        Some((ActionType::Deeplink, url)) => (1, Some(url), None),
        _ => (3, None, None),
    };
    ClickAction { kind, intent, url }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{Action, AndroidOptions};

    use serde_json::{Value, json};

    fn request_body(n: &Notification, target: Target<'_>, app: AppSettings<'_>, v: bool) -> Value {
        serde_json::from_slice(&super::request_body(n, target, app, v)).unwrap()
    }

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
