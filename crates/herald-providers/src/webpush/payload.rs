//! Web Push messages: the JSON a service worker receives (documented in README.md, "What the
//! service worker receives") and the `TTL`, `Urgency` and `Topic` headers.

use herald_proto::v1::{ActionType, Notification, WebOptions};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::payload::{
    Data, Target, buttons, data, effective_priority, effective_ttl, is_empty, json_len, sound_url,
};

/// A push as the sender hands it to the push service (before encryption).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebPushRequest {
    /// The JSON the service worker gets from `event.data.json()`.
    pub plaintext: String,
    /// `TTL` header, seconds.
    pub ttl: u32,
    /// `Urgency` header.
    pub urgency: &'static str,
    /// `Topic` header: replaces a pending message with the same topic.
    pub topic: Option<String>,
}

static NO_OPTIONS: WebOptions = WebOptions {
    title: None,
    body: None,
    ttl_seconds: None,
    on_click_url: None,
    icon: None,
    image_url: None,
    browsers: Vec::new(),
};

/// The request for one subscription.
pub fn request(n: &Notification, target: Target<'_>) -> WebPushRequest {
    let w = n.web.as_ref().unwrap_or(&NO_OPTIONS);
    WebPushRequest {
        plaintext: serde_json::to_string(&message(n, w, target))
            .expect("a web push message serialises"),
        ttl: target.remaining(w.ttl_seconds.unwrap_or_else(|| effective_ttl(n))),
        urgency: match effective_priority(n.priority) {
            1 => "very-low",
            2 => "low",
            4 | 5 => "high",
            _ => "normal",
        },
        topic: (!n.collapse_key.is_empty()).then(|| topic(&n.collapse_key)),
    }
}

/// The plaintext size, counted against RFC 8291's 3993 bytes.
pub fn plaintext_size(n: &Notification) -> usize {
    json_len(&message(
        n,
        n.web.as_ref().unwrap_or(&NO_OPTIONS),
        Target::SIZING,
    ))
}

/// A `Topic` header value: at most 32 characters of the base64url alphabet. A collapse key that
/// is one already is used as it is; any other becomes the start of its SHA-256 in base64url.
pub fn topic(collapse_key: &str) -> String {
    let valid = collapse_key.len() <= 32
        && collapse_key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        collapse_key.to_owned()
    } else {
        super::b64url(&Sha256::digest(collapse_key.as_bytes()))[..32].to_owned()
    }
}

/// The JSON a service worker gets.
#[derive(Serialize)]
struct Message<'a> {
    #[serde(skip_serializing_if = "is_empty")]
    title: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    body: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    icon: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    image: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    url: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    tag: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions: Option<Vec<WebAction<'a>>>,
    data: Data<'a>,
}

/// A notification action (a button) as `showNotification` takes it.
#[derive(Serialize)]
struct WebAction<'a> {
    action: &'a str,
    title: &'a str,
}

fn message<'a>(n: &'a Notification, w: &'a WebOptions, target: Target<'a>) -> Message<'a> {
    let pick = |own: &'a Option<String>, common: &'a str| own.as_deref().unwrap_or(common);
    let action = n
        .action
        .as_ref()
        .filter(|a| a.r#type() != ActionType::Unspecified);
    let data = data(n, action, sound_url(&n.sound), target);
    if n.silent {
        return Message {
            title: "",
            body: "",
            icon: "",
            image: "",
            url: "",
            tag: "",
            actions: None,
            data,
        };
    }
    // The common icon is an Android resource name or a URL; only a URL means anything to a
    // browser (web.icon, checked at ingest, always is one).
    let common_icon = if n.icon.starts_with("https://") || n.icon.starts_with("http://") {
        n.icon.as_str()
    } else {
        ""
    };
    let click = w.on_click_url.as_deref().or_else(|| {
        action
            .filter(|a| a.r#type() == ActionType::OpenUrl)
            .map(|a| a.url.as_str())
    });
    Message {
        title: pick(&w.title, &n.title),
        body: pick(&w.body, &n.body),
        icon: pick(&w.icon, common_icon),
        image: pick(&w.image_url, &n.image_url),
        url: click.unwrap_or_default(),
        tag: &n.collapse_key,
        actions: n.interactive.as_ref().map(|interactive| {
            buttons(interactive.category())
                .iter()
                .map(|(id, label)| WebAction {
                    action: id,
                    title: label,
                })
                .collect()
        }),
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{Action, InteractionCategory, Interactive};
    use serde_json::{Value, json};

    const TARGET: Target<'static> = Target {
        token: "https://push.example/p/1",
        message_id: "msg_1",
        delivery_id: "dlv_1",
        accepted_at_ms: 0,
        now_ms: 0,
    };

    #[test]
    fn a_notification_becomes_the_service_worker_json() {
        let n = Notification {
            title: "common".into(),
            body: "Your order shipped".into(),
            icon: "https://shop.example/icon.png".into(),
            collapse_key: "order-42".into(),
            priority: 4,
            data: [("order".to_string(), "42".to_string())].into(),
            interactive: Some(Interactive {
                category: InteractionCategory::OkOrLearnmore as i32,
                push_reference: "p".into(),
            }),
            web: Some(WebOptions {
                title: Some("Shipped".into()),
                ttl_seconds: Some(120),
                on_click_url: Some("https://shop.example/orders/42".into()),
                image_url: Some("https://shop.example/box.png".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = request(&n, TARGET);
        assert_eq!(
            (r.ttl, r.urgency, r.topic.as_deref()),
            (120, "high", Some("order-42"))
        );
        let m: Value = serde_json::from_str(&r.plaintext).unwrap();
        assert_eq!(m["title"], "Shipped");
        assert_eq!(m["body"], "Your order shipped");
        assert_eq!(m["icon"], "https://shop.example/icon.png");
        assert_eq!(m["image"], "https://shop.example/box.png");
        assert_eq!(m["url"], "https://shop.example/orders/42");
        assert_eq!(m["tag"], "order-42");
        assert_eq!(
            m["actions"],
            json!([{"action": "ok", "title": "OK"}, {"action": "learn_more", "title": "Learn more"}])
        );
        assert_eq!(m["data"]["order"], "42");
        assert_eq!(m["data"]["herald_delivery_id"], "dlv_1");
    }

    #[test]
    fn an_open_url_action_is_the_click_url_and_silent_pushes_carry_data_only() {
        let n = Notification {
            title: "t".into(),
            action: Some(Action {
                r#type: ActionType::OpenUrl as i32,
                url: "https://a.example/x".into(),
                html: String::new(),
            }),
            ..Default::default()
        };
        let m: Value = serde_json::from_str(&request(&n, TARGET).plaintext).unwrap();
        assert_eq!(m["url"], "https://a.example/x");
        let silent = Notification {
            silent: true,
            title: "hidden".into(),
            ..Default::default()
        };
        let m: Value = serde_json::from_str(&request(&silent, TARGET).plaintext).unwrap();
        assert!(m.get("title").is_none());
        assert!(m["data"].is_object());
        assert_eq!(request(&silent, TARGET).urgency, "normal");
    }

    #[test]
    fn a_common_icon_that_is_not_a_url_stays_off_the_web() {
        let icon = |icon: &str| {
            let n = Notification {
                title: "t".into(),
                icon: icon.into(),
                ..Default::default()
            };
            let m: Value = serde_json::from_str(&request(&n, TARGET).plaintext).unwrap();
            m.get("icon").cloned()
        };
        assert_eq!(icon("ic_notification"), None, "an Android resource name");
        assert_eq!(icon("javascript:alert(1)"), None);
        assert_eq!(
            icon("https://shop.example/icon.png"),
            Some(json!("https://shop.example/icon.png"))
        );
    }

    #[test]
    fn topics_fit_the_header() {
        assert_eq!(topic("order-42"), "order-42");
        let long = topic("a collapse key with spaces and more than thirty-two characters");
        assert_eq!(long.len(), 32);
        assert!(
            long.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(long, topic("another key"));
    }
}
