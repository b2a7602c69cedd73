//! What every provider's payload mapping shares: the target of a push, the effective priority
//! and time to live, and the data Herald adds. Each provider's own mapping is its `payload`
//! module; they are pure functions, so a provider's limits are judged with the exact bytes its
//! sender would send.
//!
//! Herald's own keys in a push's data (documented in README.md, "What the app receives"):
//! `herald_message_id`, `herald_delivery_id` (for device reports), `herald_type`,
//! `herald_action` / `herald_action_url` / `herald_action_html`, `herald_category` /
//! `herald_buttons` / `herald_push_reference` (interactive buttons) and `herald_sound_url`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use herald_proto::v1::{Action, ActionType, InteractionCategory, Notification};

pub const DELIVERY_ID_KEY: &str = "herald_delivery_id";
pub const MESSAGE_ID_KEY: &str = "herald_message_id";

/// Where a push goes, which ids ride along in its data, and how much of its time to live is
/// left.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub token: &'a str,
    pub message_id: &'a str,
    pub delivery_id: &'a str,
    /// When Herald accepted the notification (Unix ms): its time to live counts from then.
    pub accepted_at_ms: i64,
    /// Now (Unix ms): a retry sends the time to live that is left, not the original.
    pub now_ms: i64,
}

impl Target<'static> {
    /// A target with representative ids, for sizing a payload before any id exists. Ids are
    /// fixed-length, so the size is exact; the token is not counted by the providers' limits.
    pub const SIZING: Self = Self {
        token: "",
        message_id: "msg_0123456789abcdef0123456789abcdef",
        delivery_id: "dlv_0123456789abcdef0123456789abcdef",
        accepted_at_ms: 0,
        now_ms: 0,
    };
}

impl Target<'_> {
    /// What is left of `ttl_seconds` now.
    pub fn remaining(&self, ttl_seconds: u32) -> u32 {
        let elapsed =
            u32::try_from((self.now_ms - self.accepted_at_ms).max(0) / 1000).unwrap_or(u32::MAX);
        ttl_seconds.saturating_sub(elapsed)
    }

    /// When `ttl_seconds` from acceptance ends, in Unix seconds.
    pub fn expires_at(&self, ttl_seconds: u32) -> u64 {
        u64::try_from(self.accepted_at_ms / 1000).unwrap_or_default() + u64::from(ttl_seconds)
    }
}

pub use herald_core::options::{effective_priority, effective_ttl};

/// `sound` when it is a file URL (the seeds' "URL of the sound file"): providers play only
/// sounds bundled with the app, so such a URL travels in the data for the app to play.
pub fn sound_url(sound: &str) -> Option<&str> {
    (sound.starts_with("https://") || sound.starts_with("http://")).then_some(sound)
}

/// The length of `value` as JSON, counted without building it: what a provider's size limit
/// is judged on.
pub fn json_len(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).expect("a payload of strings and numbers serialises");
    count.0
}

/// Skips empty strings when serialising (providers refuse some, e.g. colors).
pub fn is_empty(value: &&str) -> bool {
    value.is_empty()
}

/// The `{"validate_only", "message"}` body FCM's and HMS's `messages:send` take.
#[derive(serde::Serialize)]
pub struct SendBody<M> {
    pub validate_only: bool,
    pub message: M,
}

/// A push's data: the sender's keys and Herald's, borrowed from the notification where they can
/// be. Sorted, so the output is stable.
pub type Data<'a> = BTreeMap<&'a str, Cow<'a, str>>;

/// A button of an interactive category as the data's `herald_buttons` lists it.
#[derive(serde::Serialize)]
struct Button<'a> {
    id: &'a str,
    label: &'a str,
}

/// The buttons of an interactive category: (id reported back when tapped, label).
pub fn buttons(category: InteractionCategory) -> &'static [(&'static str, &'static str)] {
    use InteractionCategory::*;
    match category {
        Dismiss => &[("dismiss", "Dismiss")],
        Subscribe => &[("subscribe", "Subscribe")],
        Unsubscribe => &[("unsubscribe", "Unsubscribe")],
        Share => &[("share", "Share")],
        Open => &[("open", "Open")],
        SubscribeOrUnsubscribe => &[("subscribe", "Subscribe"), ("unsubscribe", "Unsubscribe")],
        ShareOrCancel => &[("share", "Share"), ("cancel", "Cancel")],
        LikeOrShare => &[("like", "Like"), ("share", "Share")],
        YesOrNo => &[("yes", "Yes"), ("no", "No")],
        AcceptOrCancel => &[("accept", "Accept"), ("cancel", "Cancel")],
        ShopnowOrCancel => &[("shop_now", "Shop now"), ("cancel", "Cancel")],
        LaterOrNow => &[("later", "Later"), ("now", "Now")],
        PlaynowOrPlaylater => &[("play_now", "Play now"), ("play_later", "Play later")],
        OkOrLearnmore => &[("ok", "OK"), ("learn_more", "Learn more")],
        BuynowOrBuylater => &[("buy_now", "Buy now"), ("buy_later", "Buy later")],
        Unspecified => &[],
    }
}

/// A category's short name (`YES_OR_NO`).
pub fn category_name(category: InteractionCategory) -> &'static str {
    category
        .as_str_name()
        .trim_start_matches("INTERACTION_CATEGORY_")
}

/// An action type's short name (`OPEN_URL`).
pub fn action_name(action: ActionType) -> &'static str {
    action.as_str_name().trim_start_matches("ACTION_TYPE_")
}

/// The data a push carries: the sender's extra parameters plus Herald's keys, with the tap
/// `action` and the sound file URL as the platform view resolved them.
pub fn data<'a>(
    n: &'a Notification,
    action: Option<&'a Action>,
    sound_url: Option<&'a str>,
    target: Target<'a>,
) -> Data<'a> {
    let mut data: Data<'a> = n
        .data
        .iter()
        .map(|(k, v)| (k.as_str(), Cow::Borrowed(v.as_str())))
        .collect();
    data.insert(MESSAGE_ID_KEY, target.message_id.into());
    data.insert(DELIVERY_ID_KEY, target.delivery_id.into());
    if !n.notification_type.is_empty() {
        data.insert("herald_type", n.notification_type.as_str().into());
    }
    if let Some(action) = action {
        data.insert("herald_action", action_name(action.r#type()).into());
        if !action.url.is_empty() {
            data.insert("herald_action_url", action.url.as_str().into());
        }
        if !action.html.is_empty() {
            data.insert("herald_action_html", action.html.as_str().into());
        }
    }
    if let Some(interactive) = &n.interactive {
        let category = interactive.category();
        data.insert("herald_category", category_name(category).into());
        let list: Vec<Button<'_>> = buttons(category)
            .iter()
            .map(|(id, label)| Button { id, label })
            .collect();
        let list = serde_json::to_string(&list).expect("buttons serialise");
        data.insert("herald_buttons", list.into());
        if !interactive.push_reference.is_empty() {
            data.insert(
                "herald_push_reference",
                interactive.push_reference.as_str().into(),
            );
        }
    }
    if let Some(url) = sound_url {
        data.insert("herald_sound_url", url.into());
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::Interactive;

    #[test]
    fn every_category_has_its_buttons() {
        for value in 1..=15 {
            let category = InteractionCategory::try_from(value).unwrap();
            let expected = if category_name(category).contains("_OR_") {
                2
            } else {
                1
            };
            assert_eq!(buttons(category).len(), expected, "{category:?}");
        }
    }

    #[test]
    fn interactive_pushes_carry_buttons_and_the_push_reference() {
        let n = Notification {
            interactive: Some(Interactive {
                category: InteractionCategory::YesOrNo as i32,
                push_reference: "survey-7".into(),
            }),
            ..Default::default()
        };
        let data = data(&n, None, None, Target::SIZING);
        assert_eq!(data["herald_category"], "YES_OR_NO");
        assert_eq!(
            data["herald_buttons"],
            r#"[{"id":"yes","label":"Yes"},{"id":"no","label":"No"}]"#
        );
        assert_eq!(data["herald_push_reference"], "survey-7");
    }
}
