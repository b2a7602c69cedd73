//! The Android view of a notification: the common fields with the `android` overrides applied,
//! shared by the FCM and HMS mappings.

use herald_proto::v1::{Action, ActionType, AndroidOptions, Notification};

use crate::payload::{Data, Target, data, effective_priority, effective_ttl};

/// What an Android device gets, whichever provider carries it.
#[derive(Clone, Debug)]
pub struct AndroidView<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub image: &'a str,
    /// A sound resource name, or the URL of a sound file (see [`AndroidView::sound_url`]).
    pub sound: &'a str,
    pub icon: &'a str,
    pub channel_id: &'a str,
    pub color: &'a str,
    pub tag: &'a str,
    pub collapse_key: &'a str,
    /// 1 (lowest) to 5 (highest).
    pub priority: u32,
    pub ttl_seconds: u32,
    pub delay_while_idle: bool,
    pub action: Option<&'a Action>,
    /// The app icon's badge count.
    pub badge: Option<u32>,
    /// A data message: nothing is shown (asked for, or nothing to show).
    pub silent: bool,
}

static NO_OPTIONS: AndroidOptions = AndroidOptions {
    title: None,
    body: None,
    action: None,
    sound: None,
    collapse_key: None,
    ttl_seconds: None,
    delay_while_idle: false,
    priority: 0,
    image_url: None,
    icon: None,
    channel_id: None,
    color: None,
    tag: None,
};

impl<'a> AndroidView<'a> {
    pub fn of(n: &'a Notification) -> Self {
        let a = n.android.as_ref().unwrap_or(&NO_OPTIONS);
        let pick = |own: &'a Option<String>, common: &'a str| own.as_deref().unwrap_or(common);
        let title = pick(&a.title, &n.title);
        let body = pick(&a.body, &n.body);
        Self {
            title,
            body,
            image: pick(&a.image_url, &n.image_url),
            sound: pick(&a.sound, &n.sound),
            icon: pick(&a.icon, &n.icon),
            channel_id: pick(&a.channel_id, ""),
            color: pick(&a.color, ""),
            tag: pick(&a.tag, ""),
            collapse_key: pick(&a.collapse_key, &n.collapse_key),
            priority: effective_priority(if a.priority != 0 {
                a.priority
            } else {
                n.priority
            }),
            ttl_seconds: a.ttl_seconds.unwrap_or_else(|| effective_ttl(n)),
            delay_while_idle: a.delay_while_idle,
            action: a
                .action
                .as_ref()
                .or(n.action.as_ref())
                .filter(|action| action.r#type() != ActionType::Unspecified),
            badge: n.badge,
            // Without a title or a body there is nothing to show: a data message, never an
            // empty notification.
            silent: n.silent || (title.is_empty() && body.is_empty()),
        }
    }

    /// Whether the push should wake an idle device. A push that may wait for the user
    /// (`delay_while_idle`) goes at normal priority, which Android defers while the device dozes.
    pub fn high_priority(&self) -> bool {
        self.priority >= 4 && !self.delay_while_idle
    }

    /// The provider's priority word for [`AndroidView::high_priority`] (FCM's `priority`, HMS's
    /// `urgency`).
    pub fn priority_word(&self) -> &'static str {
        if self.high_priority() {
            "HIGH"
        } else {
            "NORMAL"
        }
    }

    /// The time to live left now, at most `cap` seconds, as a duration string (`"3600s"`).
    pub fn ttl(&self, target: Target<'_>, cap: u32) -> String {
        format!("{}s", target.remaining(self.ttl_seconds.min(cap)))
    }

    /// The sound when it is a file URL (the seeds' "URL of the sound file"): providers play only
    /// sounds bundled with the app, so the URL travels in the data for the app to play.
    pub fn sound_url(&self) -> Option<&'a str> {
        (self.sound.starts_with("https://") || self.sound.starts_with("http://"))
            .then_some(self.sound)
    }

    /// The push's data (see [`crate::payload::data`]).
    pub fn data(&self, n: &'a Notification, target: Target<'a>) -> Data<'a> {
        data(n, self.action, self.sound_url(), target)
    }

    /// The sound as a resource name the provider can play, if it is not a URL.
    pub fn sound_resource(&self) -> &'a str {
        if self.sound_url().is_some() {
            ""
        } else {
            self.sound
        }
    }
}
