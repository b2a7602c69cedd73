//! APNs requests: the JSON payload built with the `a2` crate's payload model, and the headers
//! Herald sends with it.
//!
//! `a2` covers `aps` (alert, badge, sound, category, content-available, mutable-content) and
//! custom data; Herald adds what it lacks: `thread-id` in `aps`, and priority 1 (a2 knows only 5
//! and 10). The headers come from the notification: push type, topic (the bundle id, plus
//! `.voip` for VoIP), expiration from the TTL, priority, collapse id, and an `apns-id` derived
//! from the delivery id, so a retried push keeps its id.

use a2::request::notification::{
    DefaultNotificationBuilder, NotificationBuilder, NotificationOptions, PushType,
};
use a2::request::payload::APS;
use herald_proto::v1::{Action, ApnsPushType, AttachmentType, IosOptions, Notification};
use serde::Serialize;

use crate::payload::{
    Data, Target, category_name, data, effective_priority, effective_ttl, is_empty, json_len,
    sound_url,
};

/// A push as APNs gets it: the body and its headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApnsRequest {
    pub payload: String,
    /// `apns-push-type`: alert, background or voip.
    pub push_type: String,
    /// `apns-topic`: the bundle id, with `.voip` for VoIP pushes.
    pub topic: String,
    /// `apns-priority`: 10 (immediately), 5 (power-aware; always for background), 1 (lowest).
    pub priority: u8,
    /// `apns-expiration`: when APNs stops trying, in Unix seconds.
    pub expiration: u64,
    pub collapse_id: Option<String>,
    /// `apns-id`: a lowercase UUID.
    pub apns_id: String,
}

static NO_OPTIONS: IosOptions = IosOptions {
    title: None,
    body: None,
    subtitle: None,
    attachment_type: 0,
    attachment_url: None,
    collapse_id: None,
    action: None,
    sound: None,
    badge: None,
    silent: false,
    ttl_seconds: None,
    priority: 0,
    push_type: 0,
    thread_id: None,
};

/// The iOS view of a notification: common fields with the `ios` overrides applied.
struct IosView<'a> {
    title: &'a str,
    subtitle: &'a str,
    body: &'a str,
    attachment: Option<(AttachmentType, &'a str)>,
    collapse_id: &'a str,
    action: Option<&'a Action>,
    sound: &'a str,
    badge: Option<u32>,
    ttl_seconds: u32,
    priority: u32,
    push_type: ApnsPushType,
    thread_id: &'a str,
}

impl<'a> IosView<'a> {
    fn of(n: &'a Notification) -> Self {
        let o = n.ios.as_ref().unwrap_or(&NO_OPTIONS);
        let pick = |own: &'a Option<String>, common: &'a str| own.as_deref().unwrap_or(common);
        let title = pick(&o.title, &n.title);
        let subtitle = pick(&o.subtitle, "");
        let body = pick(&o.body, &n.body);
        let badge = o.badge.or(n.badge);
        // Nothing to show (no text, no badge): a background push, never an empty alert.
        let nothing_to_show = title.is_empty() && subtitle.is_empty() && body.is_empty();
        let push_type = match o.push_type() {
            ApnsPushType::Voip => ApnsPushType::Voip,
            _ if n.silent || o.silent => ApnsPushType::Background,
            ApnsPushType::Background => ApnsPushType::Background,
            _ if nothing_to_show && badge.is_none() => ApnsPushType::Background,
            _ => ApnsPushType::Alert,
        };
        Self {
            title,
            subtitle,
            body,
            attachment: o
                .attachment_url
                .as_deref()
                .or((!n.image_url.is_empty()).then_some(n.image_url.as_str()))
                .map(|url| {
                    let kind = match o.attachment_type() {
                        AttachmentType::Unspecified => AttachmentType::Image,
                        kind => kind,
                    };
                    (kind, url)
                }),
            collapse_id: pick(&o.collapse_id, &n.collapse_key),
            action: o
                .action
                .as_ref()
                .or(n.action.as_ref())
                .filter(|a| a.r#type() != herald_proto::v1::ActionType::Unspecified),
            sound: pick(&o.sound, &n.sound),
            badge,
            ttl_seconds: o.ttl_seconds.unwrap_or_else(|| effective_ttl(n)),
            priority: effective_priority(if o.priority != 0 {
                o.priority
            } else {
                n.priority
            }),
            push_type,
            thread_id: pick(&o.thread_id, ""),
        }
    }

    fn apns_priority(&self) -> u8 {
        match (self.push_type, self.priority) {
            (ApnsPushType::Background, _) => 5,
            (ApnsPushType::Voip, _) => 10,
            (_, 1) => 1,
            (_, 2) => 5,
            _ => 10,
        }
    }
}

/// Whether `n` goes as a VoIP push (and may use the larger size limit).
pub fn is_voip(n: &Notification) -> bool {
    n.ios
        .as_ref()
        .is_some_and(|o| o.push_type() == ApnsPushType::Voip)
}

/// The payload size APNs counts against its limit.
pub fn payload_size(n: &Notification) -> usize {
    json_len(&payload(n, &IosView::of(n), Target::SIZING))
}

/// The `apns-id` of a delivery, a lowercase UUID: its digits when it has 32 hex digits, else
/// the first 16 bytes of its SHA-256 (a delivery id holds its message's and device's digits).
pub fn apns_id(delivery_id: &str) -> String {
    let digits = delivery_id.strip_prefix("dlv_").unwrap_or(delivery_id);
    let hex = if digits.len() == 32 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        digits.to_ascii_lowercase()
    } else {
        use sha2::Digest as _;
        sha2::Sha256::digest(delivery_id.as_bytes())[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The request for one device of the app `bundle_id`.
pub fn request(n: &Notification, target: Target<'_>, bundle_id: &str) -> ApnsRequest {
    let view = IosView::of(n);
    let topic = match view.push_type {
        ApnsPushType::Voip => format!("{bundle_id}.voip"),
        _ => bundle_id.to_owned(),
    };
    let push_type = match view.push_type {
        ApnsPushType::Voip => PushType::Voip,
        ApnsPushType::Background => PushType::Background,
        _ => PushType::Alert,
    };
    ApnsRequest {
        payload: serde_json::to_string(&payload(n, &view, target))
            .expect("an APNs payload serialises"),
        push_type: push_type.to_string(),
        topic,
        priority: view.apns_priority(),
        expiration: target.expires_at(view.ttl_seconds),
        collapse_id: (!view.collapse_id.is_empty()).then(|| view.collapse_id.to_owned()),
        apns_id: apns_id(target.delivery_id),
    }
}

/// An APNs payload: a2's typed `aps` with what a2 lacks (`thread-id`), and the data beside it.
#[derive(Serialize)]
struct Payload<'a> {
    aps: Aps<'a>,
    #[serde(flatten)]
    data: Data<'a>,
}

#[derive(Serialize)]
struct Aps<'a> {
    #[serde(flatten)]
    aps: APS<'a>,
    #[serde(rename = "thread-id", skip_serializing_if = "is_empty")]
    thread_id: &'a str,
}

fn payload<'a>(n: &'a Notification, view: &IosView<'a>, target: Target<'a>) -> Payload<'a> {
    let category = n.interactive.as_ref().map(|i| category_name(i.category()));
    let mut builder = DefaultNotificationBuilder::new();
    // A VoIP push keeps its text: PushKit hands the whole payload to the app, which shows it
    // with CallKit.
    if view.push_type != ApnsPushType::Background {
        if !view.title.is_empty() {
            builder = builder.set_title(view.title);
        }
        if !view.subtitle.is_empty() {
            builder = builder.set_subtitle(view.subtitle);
        }
        if !view.body.is_empty() {
            builder = builder.set_body(view.body);
        }
    }
    match view.push_type {
        ApnsPushType::Background => builder = builder.set_content_available(),
        ApnsPushType::Voip => {}
        _ => {
            if let Some(badge) = view.badge {
                builder = builder.set_badge(badge);
            }
            if !view.sound.is_empty() && sound_url(view.sound).is_none() {
                builder = builder.set_sound(view.sound);
            }
            if let Some(category) = category {
                builder = builder.set_category(category);
            }
            // A notification service extension downloads the attachment before display.
            if view.attachment.is_some() {
                builder = builder.set_mutable_content();
            }
        }
    }
    let mut aps = builder
        .build(target.token, NotificationOptions::default())
        .aps;
    // a2 always writes `mutable-content`; Apple documents only 1, so 0 is left out.
    if aps.mutable_content == Some(0) {
        aps.mutable_content = None;
    }
    let mut data = data(n, view.action, sound_url(view.sound), target);
    if let Some((kind, url)) = view.attachment {
        data.insert("herald_attachment_url", url.into());
        data.insert(
            "herald_attachment_type",
            kind.as_str_name()
                .trim_start_matches("ATTACHMENT_TYPE_")
                .into(),
        );
    }
    Payload {
        aps: Aps {
            aps,
            thread_id: view.thread_id,
        },
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{ActionType, InteractionCategory, Interactive};
    use serde_json::{Value, json};

    const TARGET: Target<'static> = Target {
        token: "aabb",
        message_id: "msg_1",
        delivery_id: "dlv_0123456789abcdef0123456789abcdef",
        accepted_at_ms: 0,
        now_ms: 0,
    };

    fn body(r: &ApnsRequest) -> Value {
        serde_json::from_str(&r.payload).unwrap()
    }

    #[test]
    fn an_alert_maps_every_ios_option() {
        let n = Notification {
            title: "Voicemail".into(),
            body: "From Ada".into(),
            sound: "chime.caf".into(),
            badge: Some(3),
            collapse_key: "vm".into(),
            ttl_seconds: 600,
            data: [("box".to_string(), "1".to_string())].into(),
            interactive: Some(Interactive {
                category: InteractionCategory::AcceptOrCancel as i32,
                push_reference: "r-9".into(),
            }),
            action: Some(Action {
                r#type: ActionType::OpenUrl as i32,
                url: "https://example.com/vm".into(),
                html: String::new(),
            }),
            ios: Some(IosOptions {
                subtitle: Some("New".into()),
                attachment_type: AttachmentType::Audio as i32,
                attachment_url: Some("https://cdn.example.com/vm.m4a".into()),
                thread_id: Some("voicemail".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let accepted = Target {
            accepted_at_ms: 1_000_000,
            now_ms: 1_000_000,
            ..TARGET
        };
        let r = request(&n, accepted, "com.example.app");
        assert_eq!(
            (r.push_type.as_str(), r.topic.as_str(), r.priority),
            ("alert", "com.example.app", 10)
        );
        assert_eq!(r.expiration, 1_600);
        assert_eq!(r.collapse_id.as_deref(), Some("vm"));
        assert_eq!(r.apns_id, "01234567-89ab-cdef-0123-456789abcdef");
        let b = body(&r);
        assert_eq!(
            b["aps"]["alert"],
            json!({"title": "Voicemail", "subtitle": "New", "body": "From Ada"})
        );
        assert_eq!(
            (b["aps"]["badge"].as_u64(), b["aps"]["sound"].as_str()),
            (Some(3), Some("chime.caf"))
        );
        assert_eq!(b["aps"]["category"], "ACCEPT_OR_CANCEL");
        assert_eq!(b["aps"]["mutable-content"], 1);
        assert_eq!(b["aps"]["thread-id"], "voicemail");
        assert_eq!(b["herald_attachment_url"], "https://cdn.example.com/vm.m4a");
        assert_eq!(b["herald_attachment_type"], "AUDIO");
        assert_eq!(b["herald_push_reference"], "r-9");
        assert_eq!(b["herald_action"], "OPEN_URL");
        assert_eq!(b["box"], "1");
    }

    #[test]
    fn silent_pushes_are_background_at_priority_5() {
        let n = Notification {
            title: "hidden".into(),
            silent: true,
            priority: 5,
            ..Default::default()
        };
        let r = request(&n, TARGET, "com.example.app");
        assert_eq!((r.push_type.as_str(), r.priority), ("background", 5));
        let b = body(&r);
        assert_eq!(b["aps"]["content-available"], 1);
        assert!(b["aps"].get("alert").is_none());
    }

    #[test]
    fn voip_pushes_use_the_voip_topic_and_a_larger_limit() {
        let n = Notification {
            data: [("caller".to_string(), "Ada".to_string())].into(),
            ios: Some(IosOptions {
                push_type: ApnsPushType::Voip as i32,
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = request(&n, TARGET, "com.example.app");
        assert_eq!(
            (r.push_type.as_str(), r.topic.as_str(), r.priority),
            ("voip", "com.example.app.voip", 10)
        );
        assert_eq!(body(&r)["caller"], "Ada");
        use super::super::limits::{MAX_PAYLOAD_BYTES, MAX_VOIP_PAYLOAD_BYTES, max_payload_bytes};
        assert_eq!(max_payload_bytes(&n), MAX_VOIP_PAYLOAD_BYTES);
        assert_eq!(
            max_payload_bytes(&Notification::default()),
            MAX_PAYLOAD_BYTES
        );
    }

    #[test]
    fn mutable_content_is_only_ever_1() {
        let plain = Notification {
            title: "t".into(),
            ..Default::default()
        };
        let b = body(&request(&plain, TARGET, "b"));
        assert!(b["aps"].get("mutable-content").is_none(), "{b}");
        let with_image = Notification {
            image_url: "https://cdn.example.com/i.png".into(),
            ..plain
        };
        assert_eq!(
            body(&request(&with_image, TARGET, "b"))["aps"]["mutable-content"],
            1
        );
    }

    #[test]
    fn a_voip_push_keeps_its_title_and_body() {
        let n = Notification {
            title: "Ada calling".into(),
            body: "+44 20 7946 0018".into(),
            ios: Some(IosOptions {
                push_type: ApnsPushType::Voip as i32,
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = request(&n, TARGET, "b");
        assert_eq!(r.push_type, "voip");
        assert_eq!(
            body(&r)["aps"]["alert"],
            json!({"title": "Ada calling", "body": "+44 20 7946 0018"})
        );
    }

    #[test]
    fn a_push_with_only_data_goes_in_the_background_never_as_an_empty_alert() {
        let n = Notification {
            data: [("sync".to_string(), "1".to_string())].into(),
            ..Default::default()
        };
        let r = request(&n, TARGET, "b");
        assert_eq!((r.push_type.as_str(), r.priority), ("background", 5));
        let b = body(&r);
        assert_eq!(b["aps"]["content-available"], 1);
        assert!(b["aps"].get("alert").is_none(), "{b}");
        assert_eq!(b["sync"], "1");
        // A badge alone is worth an alert push.
        let badge = Notification {
            badge: Some(2),
            ..n
        };
        assert_eq!(request(&badge, TARGET, "b").push_type, "alert");
    }

    #[test]
    fn low_priorities_map_to_power_aware_delivery() {
        let at = |priority| {
            request(
                &Notification {
                    title: "t".into(),
                    priority,
                    ..Default::default()
                },
                TARGET,
                "b",
            )
            .priority
        };
        assert_eq!((at(1), at(2), at(3), at(5)), (1, 5, 10, 10));
    }

    #[test]
    fn a_sound_url_travels_in_the_data() {
        let n = Notification {
            title: "t".into(),
            sound: "https://cdn.example.com/s.caf".into(),
            ..Default::default()
        };
        let b = body(&request(&n, TARGET, "b"));
        assert!(b["aps"].get("sound").is_none());
        assert_eq!(b["herald_sound_url"], "https://cdn.example.com/s.caf");
    }
}
