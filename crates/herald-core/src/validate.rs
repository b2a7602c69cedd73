//! Validation of what clients send, field by field, before anything is stored or published,
//! with the offending field named. What only a provider refuses (payload sizes, token formats,
//! subscription keys) is judged by that provider's `limits` in `herald-providers`.

use herald_proto::v1::{
    Action, ActionType, AndroidOptions, Browser, Destination, InteractionCategory, IosOptions,
    Notification, Platform, RegisterDeviceRequest, SendRequest, WebOptions, WebSubscription,
    destination,
};

use crate::ids::DeviceId;
use crate::{Error, Result};

/// The longest time to live the providers accept (FCM: 2,419,200 s).
pub const MAX_TTL_SECONDS: u32 = 2_419_200;
/// APNs refuses a collapse id over 64 bytes.
pub const MAX_COLLAPSE_KEY_BYTES: usize = 64;
pub const MAX_USER_ID_LEN: usize = 256;
pub const MAX_TOKEN_LEN: usize = 4096;
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 256;
/// Any one text of a notification: no provider takes a larger payload (APNs, for VoIP).
pub const MAX_TEXT_BYTES: usize = 5120;
/// A notification's data, keys and values together: a bound on the message (three times what
/// any provider takes); whether it fits a provider is that provider's limit to judge.
pub const MAX_DATA_BYTES: usize = 16_384;
pub const MAX_CORRELATION_ID_BYTES: usize = 4096;
pub const MAX_CALLBACK_DATA_BYTES: usize = 65_536;
pub const MAX_NOTIFY_URL_BYTES: usize = 2048;
/// A whole `SendRequest`, encoded: what one message may weigh, well under what the bus carries
/// (NATS: 1 MiB per message), so every accepted message can be published and routed.
pub const MAX_REQUEST_BYTES: usize = 131_072;

/// Who a validated `Send` goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every active device of a user.
    User(String),
    /// One registered device.
    Device(DeviceId),
    /// One device by platform token; registered on first use.
    PushId {
        platform: Platform,
        /// The provider token (a web subscription's endpoint).
        token: String,
        browser: Browser,
        /// A web subscription's keys.
        web: Option<WebSubscription>,
    },
    /// Every active subscriber of a topic: devices subscribed, and the devices of users subscribed.
    Topic(String),
    /// Every active device of a customer profile's linked users (and registered to it).
    Customer(String),
    /// Every active device a segment's expression holds for.
    Segment(String),
}

/// A whole request's encoded size: at most [`MAX_REQUEST_BYTES`].
pub fn request_size(req: &SendRequest) -> Result<()> {
    let size = prost::Message::encoded_len(req);
    if size > MAX_REQUEST_BYTES {
        return Err(Error::invalid(
            "request",
            format!("is {size} bytes encoded; a message may have at most {MAX_REQUEST_BYTES}"),
        ));
    }
    Ok(())
}

/// Validates a `Send` and answers with its audience.
pub fn send_request(req: &SendRequest) -> Result<Audience> {
    filled_send_request(req, crate::vars::Filled::default())
}

/// How far ahead a message may be scheduled.
pub const MAX_SCHEDULE_AHEAD_MS: i64 = 30 * 24 * 3600 * 1000;

/// When a message asking for `send_at` (Unix milliseconds, in `field`) is due, judged at `now`:
/// `None` to send at once (0, or an instant already past), the instant otherwise, at most
/// [`MAX_SCHEDULE_AHEAD_MS`] ahead.
pub fn send_at(field: &str, send_at: i64, now: i64) -> Result<Option<i64>> {
    if send_at < 0 {
        return Err(Error::invalid(
            field,
            "a Unix time in milliseconds, not negative",
        ));
    }
    if send_at > now.saturating_add(MAX_SCHEDULE_AHEAD_MS) {
        return Err(Error::invalid(field, "at most 30 days ahead"));
    }
    Ok((send_at > now).then_some(send_at))
}

/// Validates a `Send` whose variables were filled in as `filled` says: a notify URL made by
/// variables is not checked (the seeds: its reports are refused, the request is not).
pub fn filled_send_request(req: &SendRequest, filled: crate::vars::Filled) -> Result<Audience> {
    request_size(req)?;
    let audience = audience(req.destination.as_ref())?;
    let notification = req
        .notification
        .as_ref()
        .ok_or_else(|| Error::invalid("notification", "required"))?;
    notification_fields(notification)?;
    crate::personalize::check(notification)?;
    if req.idempotency_key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(Error::invalid(
            "idempotency_key",
            format!("at most {MAX_IDEMPOTENCY_KEY_LEN} bytes"),
        ));
    }
    if req.idempotency_key.starts_with(RESERVED_IDEMPOTENCY_PREFIX) {
        return Err(Error::invalid(
            "idempotency_key",
            format!("keys starting with {RESERVED_IDEMPOTENCY_PREFIX:?} are Herald's own"),
        ));
    }
    for (field, value, max) in [
        (
            "correlation_id",
            &req.correlation_id,
            MAX_CORRELATION_ID_BYTES,
        ),
        ("callback_data", &req.callback_data, MAX_CALLBACK_DATA_BYTES),
        ("notify_url", &req.notify_url, MAX_NOTIFY_URL_BYTES),
    ] {
        at_most(field, value, max)?;
    }
    if !req.notify_url.is_empty() && !filled.notify_url_from_variables {
        notify_url(&req.notify_url)?;
    }
    throttle(req.throttle_per_minute, &audience)?;
    Ok(audience)
}

/// Idempotency keys Herald gives the messages it makes itself (a recall's removal) start so;
/// a request's may not.
pub const RESERVED_IDEMPOTENCY_PREFIX: &str = "herald:";

/// The most deliveries a minute a throttle may ask for (100,000 a second: beyond what one
/// Herald routes, so a higher throttle would mean nothing).
pub const MAX_THROTTLE_PER_MINUTE: u32 = 6_000_000;

/// A send's throttle: only a fan-out (a topic, a segment) is paced.
fn throttle(per_minute: u32, audience: &Audience) -> Result<()> {
    if per_minute == 0 {
        return Ok(());
    }
    if per_minute > MAX_THROTTLE_PER_MINUTE {
        return Err(Error::invalid(
            "throttle_per_minute",
            format!("at most {MAX_THROTTLE_PER_MINUTE}"),
        ));
    }
    if !matches!(audience, Audience::Topic(_) | Audience::Segment(_)) {
        return Err(Error::invalid(
            "throttle_per_minute",
            "only a topic or a segment is throttled",
        ));
    }
    Ok(())
}

fn at_most(field: &str, value: &str, max: usize) -> Result<()> {
    if value.len() > max {
        return Err(Error::invalid(
            field,
            format!("is {} bytes; at most {max}", value.len()),
        ));
    }
    Ok(())
}

/// Every text of a notification with its field name, to be read or (for `vars`) rewritten.
pub(crate) fn texts_mut(n: &mut Notification) -> Vec<(&'static str, &mut String)> {
    let Notification {
        title,
        body,
        sound,
        image_url,
        icon,
        notification_type,
        action,
        interactive,
        android,
        ios,
        web,
        ..
    } = n;
    let mut texts: Vec<(&'static str, &mut String)> = vec![
        ("notification.title", title),
        ("notification.body", body),
        ("notification.sound", sound),
        ("notification.image_url", image_url),
        ("notification.icon", icon),
        ("notification.notification_type", notification_type),
    ];
    let mut actions: Vec<([&'static str; 2], &mut Action)> = Vec::new();
    let mut optional: Vec<(&'static str, &mut Option<String>)> = Vec::new();
    if let Some(action) = action {
        actions.push((
            ["notification.action.url", "notification.action.html"],
            action,
        ));
    }
    if let Some(AndroidOptions {
        title,
        body,
        sound,
        image_url,
        icon,
        channel_id,
        tag,
        action,
        ..
    }) = android
    {
        if let Some(action) = action {
            actions.push((
                [
                    "notification.android.action.url",
                    "notification.android.action.html",
                ],
                action,
            ));
        }
        optional.extend([
            ("notification.android.title", title),
            ("notification.android.body", body),
            ("notification.android.sound", sound),
            ("notification.android.image_url", image_url),
            ("notification.android.icon", icon),
            ("notification.android.channel_id", channel_id),
            ("notification.android.tag", tag),
        ]);
    }
    if let Some(IosOptions {
        title,
        body,
        subtitle,
        attachment_url,
        sound,
        thread_id,
        action,
        ..
    }) = ios
    {
        if let Some(action) = action {
            actions.push((
                [
                    "notification.ios.action.url",
                    "notification.ios.action.html",
                ],
                action,
            ));
        }
        optional.extend([
            ("notification.ios.title", title),
            ("notification.ios.body", body),
            ("notification.ios.subtitle", subtitle),
            ("notification.ios.attachment_url", attachment_url),
            ("notification.ios.sound", sound),
            ("notification.ios.thread_id", thread_id),
        ]);
    }
    if let Some(WebOptions {
        title,
        body,
        on_click_url,
        icon,
        image_url,
        ..
    }) = web
    {
        optional.extend([
            ("notification.web.title", title),
            ("notification.web.body", body),
            ("notification.web.on_click_url", on_click_url),
            ("notification.web.icon", icon),
            ("notification.web.image_url", image_url),
        ]);
    }
    for ([url, html], action) in actions {
        texts.extend([(url, &mut action.url), (html, &mut action.html)]);
    }
    if let Some(i) = interactive {
        texts.push((
            "notification.interactive.push_reference",
            &mut i.push_reference,
        ));
    }
    texts.extend(
        optional
            .into_iter()
            .filter_map(|(field, v)| v.as_mut().map(|v| (field, v))),
    );
    texts
}

/// Parses a destination into its audience (the router's view of what ingest validated).
pub fn audience(dest: Option<&Destination>) -> Result<Audience> {
    use destination::Kind;
    let kind = dest.and_then(|d| d.kind.as_ref()).ok_or_else(|| {
        Error::invalid(
            "destination",
            "required: set one of customer_id, user_id, device_id, push_id, topic, segment",
        )
    })?;
    match kind {
        Kind::UserId(user) => {
            user_id("destination.user_id", user)?;
            Ok(Audience::User(user.clone()))
        }
        Kind::DeviceId(id) => Ok(Audience::Device(DeviceId::parse(
            "destination.device_id",
            id,
        )?)),
        Kind::PushId(push) => {
            let platform = push.platform();
            if platform == Platform::Unspecified {
                return Err(Error::invalid("destination.push_id.platform", "required"));
            }
            if platform != Platform::Web {
                push_token("destination.push_id.token", &push.token)?;
                return Ok(Audience::PushId {
                    platform,
                    token: push.token.clone(),
                    browser: push.browser(),
                    web: None,
                });
            }
            let sub = push.web_subscription.as_ref().ok_or_else(|| {
                Error::invalid(
                    "destination.push_id.web_subscription",
                    "required for a web push id (its endpoint, p256dh and auth)",
                )
            })?;
            if !push.token.is_empty() && push.token != sub.endpoint {
                return Err(Error::invalid(
                    "destination.push_id.token",
                    "for a web push id, empty or the subscription's endpoint",
                ));
            }
            Ok(Audience::PushId {
                platform,
                token: sub.endpoint.clone(),
                browser: push.browser(),
                web: Some(sub.clone()),
            })
        }
        Kind::CustomerId(customer) => {
            crate::customers::id("destination.customer_id", customer)?;
            Ok(Audience::Customer(customer.clone()))
        }
        Kind::Topic(topic) => {
            crate::topics::name("destination.topic", topic)?;
            Ok(Audience::Topic(topic.clone()))
        }
        Kind::Segment(segment) => {
            crate::segments::name("destination.segment", segment)?;
            Ok(Audience::Segment(segment.clone()))
        }
    }
}

/// Checks a notification's fields.
pub fn notification_fields(n: &Notification) -> Result<()> {
    let mut copy = n.clone();
    for (field, text) in texts_mut(&mut copy) {
        if text.len() > MAX_TEXT_BYTES {
            return Err(Error::invalid(
                field,
                format!(
                    "is {} bytes; at most {MAX_TEXT_BYTES} (no provider takes a larger payload)",
                    text.len()
                ),
            ));
        }
    }
    let data_bytes: usize = n.data.iter().map(|(k, v)| k.len() + v.len()).sum();
    if data_bytes > MAX_DATA_BYTES {
        return Err(Error::invalid(
            "notification.data",
            format!("holds {data_bytes} bytes of keys and values; at most {MAX_DATA_BYTES}"),
        ));
    }
    if !n.silent && n.title.is_empty() && n.body.is_empty() && n.data.is_empty() {
        return Err(Error::invalid(
            "notification",
            "needs a title, a body or data (or silent: true)",
        ));
    }
    priority("notification.priority", n.priority)?;
    if n.ttl_seconds > MAX_TTL_SECONDS {
        return Err(Error::invalid(
            "notification.ttl_seconds",
            format!("at most {MAX_TTL_SECONDS} (28 days)"),
        ));
    }
    if n.collapse_key.len() > MAX_COLLAPSE_KEY_BYTES {
        return Err(Error::invalid(
            "notification.collapse_key",
            format!("at most {MAX_COLLAPSE_KEY_BYTES} bytes"),
        ));
    }
    for key in n.data.keys() {
        data_key(key)?;
    }
    if let Some(action) = &n.action {
        action_fields("notification.action", action)?;
    }
    if !n.image_url.is_empty() {
        http_url("notification.image_url", &n.image_url)?;
    }
    if let Some(interactive) = &n.interactive
        && interactive.category() == InteractionCategory::Unspecified
    {
        return Err(Error::invalid(
            "notification.interactive.category",
            "required",
        ));
    }
    if let Some(android) = &n.android {
        priority("notification.android.priority", android.priority)?;
        if android.ttl_seconds.is_some_and(|t| t > MAX_TTL_SECONDS) {
            return Err(Error::invalid(
                "notification.android.ttl_seconds",
                format!("at most {MAX_TTL_SECONDS} (28 days)"),
            ));
        }
        if let Some(action) = &android.action {
            action_fields("notification.android.action", action)?;
        }
        optional_url("notification.android.image_url", &android.image_url)?;
        if let Some(color) = android.color.as_deref().filter(|c| !c.is_empty()) {
            android_color("notification.android.color", color)?;
        }
    }
    if let Some(web) = &n.web {
        optional_url("notification.web.on_click_url", &web.on_click_url)?;
        optional_url("notification.web.icon", &web.icon)?;
        optional_url("notification.web.image_url", &web.image_url)?;
    }
    if let Some(ios) = &n.ios {
        priority("notification.ios.priority", ios.priority)?;
        if let Some(action) = &ios.action {
            action_fields("notification.ios.action", action)?;
        }
        optional_url("notification.ios.attachment_url", &ios.attachment_url)?;
        if ios
            .collapse_id
            .as_ref()
            .is_some_and(|c| c.len() > MAX_COLLAPSE_KEY_BYTES)
        {
            return Err(Error::invalid(
                "notification.ios.collapse_id",
                format!("at most {MAX_COLLAPSE_KEY_BYTES} bytes"),
            ));
        }
    }
    Ok(())
}

/// An optional URL field: when set, an http(s) URL (never `javascript:` or `data:`).
fn optional_url(field: &str, value: &Option<String>) -> Result<()> {
    match value.as_deref() {
        Some(url) if !url.is_empty() => http_url(field, url),
        _ => Ok(()),
    }
}

/// An Android notification color as FCM and HMS take it: `#rrggbb`.
fn android_color(field: &str, color: &str) -> Result<()> {
    let hex = color.strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::invalid(field, "must be #rrggbb"))
    }
}

fn priority(field: &str, value: u32) -> Result<()> {
    if value > 5 {
        return Err(Error::invalid(
            field,
            "must be 1 (lowest) to 5 (highest), or 0 for the default",
        ));
    }
    Ok(())
}

fn data_key(key: &str) -> Result<()> {
    let field = format!("notification.data[{key}]");
    if key.is_empty() {
        return Err(Error::invalid(
            "notification.data",
            "keys must not be empty",
        ));
    }
    // FCM refuses these, APNs keeps `aps` for itself (the data sits beside it at the top of the
    // payload); the herald_ prefix carries Herald's own ids.
    let reserved = ["from", "message_type", "notification", "aps"].contains(&key)
        || ["google.", "gcm.", "herald_"]
            .iter()
            .any(|p| key.starts_with(p));
    if reserved {
        return Err(Error::invalid(field, "reserved key"));
    }
    Ok(())
}

fn action_fields(field: &str, action: &herald_proto::v1::Action) -> Result<()> {
    match action.r#type() {
        ActionType::OpenUrl | ActionType::OpenWebview => {
            http_url(&format!("{field}.url"), &action.url)
        }
        ActionType::Deeplink => match url::Url::parse(&action.url) {
            // A deep link opens the app; a scheme that runs or embeds content is no app's.
            Ok(link) if ["javascript", "data", "vbscript", "file"].contains(&link.scheme()) => {
                Err(Error::invalid(
                    format!("{field}.url"),
                    format!("a {}: URL is not a deep link", link.scheme()),
                ))
            }
            Ok(_) => Ok(()),
            Err(_) => Err(Error::invalid(
                format!("{field}.url"),
                "a deep link (scheme://…) is required",
            )),
        },
        ActionType::OpenHtml if action.html.is_empty() => Err(Error::invalid(
            format!("{field}.html"),
            "required for OPEN_HTML",
        )),
        _ => Ok(()),
    }
}

fn http_url(field: &str, raw: &str) -> Result<()> {
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(Error::invalid(field, "must be an http(s) URL")),
    }
}

/// The seeds' rules: a leading space is invalid, trailing spaces are trimmed, only https; and
/// the rules the dispatcher holds every endpoint to: a host, no credentials, no fragment.
fn notify_url(raw: &str) -> Result<()> {
    const INVALID: &str = "Invalid URL, field accepts only valid URL";
    if raw.starts_with(char::is_whitespace) {
        return Err(Error::invalid(
            "notify_url",
            format!("{INVALID} (it must not start with a space)"),
        ));
    }
    match url::Url::parse(raw.trim_end()) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()) => {
            if !u.username().is_empty() || u.password().is_some() {
                Err(Error::invalid(
                    "notify_url",
                    format!("{INVALID} (no credentials)"),
                ))
            } else if u.fragment().is_some() {
                Err(Error::invalid(
                    "notify_url",
                    format!("{INVALID} (no fragment)"),
                ))
            } else {
                Ok(())
            }
        }
        _ => Err(Error::invalid("notify_url", format!("{INVALID} (https)"))),
    }
}

pub fn user_id(field: &str, user: &str) -> Result<()> {
    if user.is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    if user.len() > MAX_USER_ID_LEN || user.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_USER_ID_LEN} characters, no control characters"),
        ));
    }
    Ok(())
}

fn push_token(field: &str, token: &str) -> Result<()> {
    if token.is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    if token.len() > MAX_TOKEN_LEN || token.chars().any(char::is_whitespace) {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_TOKEN_LEN} characters, no white space"),
        ));
    }
    Ok(())
}

/// Validates a device registration; `allow_http_web_push` is the tenant's setting.
pub fn register_device(req: &RegisterDeviceRequest, allow_http_web_push: bool) -> Result<()> {
    if !req.user_id.is_empty() {
        user_id("user_id", &req.user_id)?;
    }
    if !req.customer_id.is_empty() {
        crate::customers::id("customer_id", &req.customer_id)?;
    }
    if !req.time_zone.is_empty() {
        crate::timing::zone("time_zone", &req.time_zone)?;
    }
    if !req.locale.is_empty() {
        crate::locale::tag("locale", &req.locale)?;
    }
    if req.app_version.len() > 64 || req.app_version.chars().any(char::is_control) {
        return Err(Error::invalid(
            "app_version",
            "at most 64 bytes, no control characters",
        ));
    }
    if req.platform() == Platform::Unspecified {
        return Err(Error::invalid("platform", "required"));
    }
    if req.platform() == Platform::Web {
        let sub = req
            .web_subscription
            .as_ref()
            .ok_or_else(|| Error::invalid("web_subscription", "required for web devices"))?;
        return web_subscription("web_subscription", sub, allow_http_web_push);
    }
    push_token("push_token", &req.push_token)
}

/// A browser's PushSubscription: an https endpoint (http only where the tenant allows it); its
/// keys are Web Push's to judge (`herald_providers::webpush::limits`).
pub fn web_subscription(field: &str, sub: &WebSubscription, allow_http: bool) -> Result<()> {
    let endpoint_field = format!("{field}.endpoint");
    let endpoint = url::Url::parse(&sub.endpoint)
        .ok()
        .filter(|u| u.host().is_some())
        .ok_or_else(|| Error::invalid(&endpoint_field, "must be a URL"))?;
    match endpoint.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(Error::invalid(
                &endpoint_field,
                "must be https (the tenant does not allow http endpoints)",
            ));
        }
        _ => {
            return Err(Error::invalid(&endpoint_field, "must be an https URL"));
        }
    }
    if sub.endpoint.len() > MAX_TOKEN_LEN {
        return Err(Error::invalid(
            &endpoint_field,
            format!("at most {MAX_TOKEN_LEN} characters"),
        ));
    }
    Ok(())
}

/// The browsers' push services (each host, or any host below it): Chrome's, Opera's and other
/// Chromium browsers' (FCM), Firefox's (Mozilla), Safari's (Apple) and Edge's (WNS).
pub const KNOWN_PUSH_SERVICES: &[&str] = &[
    "fcm.googleapis.com",
    "android.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
];

/// A web subscription registered with an app client key (a key anyone may read out of an app)
/// must point at a browser's push service, so the key cannot make Herald's senders post to
/// an address of the attacker's choosing.
pub fn known_push_service(field: &str, sub: &WebSubscription) -> Result<()> {
    let host = url::Url::parse(&sub.endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let known = KNOWN_PUSH_SERVICES
        .iter()
        .any(|service| host == *service || host.ends_with(&format!(".{service}")));
    if known {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("{field}.endpoint"),
            format!(
                "with an app client key, must be at a browser push service ({})",
                KNOWN_PUSH_SERVICES.join(", ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_at_is_now_a_due_instant_or_refused() {
        let now = 1_800_000_000_000;
        assert_eq!(send_at("send_at_ms", 0, now).unwrap(), None);
        assert_eq!(send_at("send_at_ms", now - 1, now).unwrap(), None);
        assert_eq!(send_at("send_at_ms", now, now).unwrap(), None);
        assert_eq!(send_at("send_at_ms", now + 1, now).unwrap(), Some(now + 1));
        let last = now + MAX_SCHEDULE_AHEAD_MS;
        assert_eq!(send_at("send_at_ms", last, now).unwrap(), Some(last));
        for bad in [-1, last + 1, i64::MAX] {
            let err = send_at("send_at_ms", bad, now).unwrap_err();
            assert!(err.to_string().starts_with("send_at_ms: "), "{err}");
        }
    }

    #[test]
    fn app_keys_register_web_subscriptions_at_browser_push_services_only() {
        let sub = |endpoint: &str| WebSubscription {
            endpoint: endpoint.into(),
            ..Default::default()
        };
        for endpoint in [
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/abc",
            "https://web.push.apple.com/QGx",
            "https://wns2-by3p.notify.windows.com/w/?token=abc",
        ] {
            assert!(
                known_push_service("w", &sub(endpoint)).is_ok(),
                "{endpoint}"
            );
        }
        for endpoint in [
            "https://localhost/p/1",
            "https://169.254.169.254/latest",
            "https://evilpush.apple.com.example/x",
            "https://notpush.apple.com/x",
            "not a url",
        ] {
            assert!(
                known_push_service("w", &sub(endpoint)).is_err(),
                "{endpoint}"
            );
        }
    }
    use herald_proto::v1::{Action, Interactive, PushId};

    fn send(dest: destination::Kind, n: Notification) -> SendRequest {
        SendRequest {
            destination: Some(Destination { kind: Some(dest) }),
            notification: Some(n),
            ..Default::default()
        }
    }

    fn hello() -> Notification {
        Notification {
            title: "Hi".into(),
            ..Default::default()
        }
    }

    fn field_of(err: Error) -> String {
        match err {
            Error::InvalidArgument { field, .. } => field,
            other => panic!("expected invalid argument, got {other:?}"),
        }
    }

    #[test]
    fn herald_s_own_idempotency_keys_are_not_a_request_s() {
        let keyed = |key: &str| SendRequest {
            idempotency_key: key.into(),
            ..send(destination::Kind::UserId("u".into()), hello())
        };
        assert!(send_request(&keyed("recall:msg_1")).is_ok());
        let err = send_request(&keyed("herald:recall:msg_1")).unwrap_err();
        assert_eq!(field_of(err), "idempotency_key");
    }

    #[test]
    fn only_a_topic_or_a_segment_is_throttled_and_within_bounds() {
        let throttled = |dest: destination::Kind, per_minute: u32| SendRequest {
            throttle_per_minute: per_minute,
            ..send(dest, hello())
        };
        let topic = || destination::Kind::Topic("news".into());
        let segment = || destination::Kind::Segment("vip".into());
        assert!(send_request(&throttled(topic(), 60)).is_ok());
        assert!(send_request(&throttled(segment(), MAX_THROTTLE_PER_MINUTE)).is_ok());
        assert!(send_request(&throttled(destination::Kind::UserId("u".into()), 0)).is_ok());
        for bad in [
            throttled(topic(), MAX_THROTTLE_PER_MINUTE + 1),
            throttled(destination::Kind::UserId("u".into()), 60),
            throttled(destination::Kind::CustomerId("c".into()), 60),
        ] {
            assert_eq!(
                field_of(send_request(&bad).unwrap_err()),
                "throttle_per_minute"
            );
        }
    }

    #[test]
    fn a_user_destination_is_accepted() {
        let req = send(destination::Kind::UserId("u1".into()), hello());
        assert_eq!(send_request(&req).unwrap(), Audience::User("u1".into()));
    }

    #[test]
    fn each_bad_field_is_named() {
        let user = || destination::Kind::UserId("u1".into());
        let cases: Vec<(SendRequest, &str)> = vec![
            (SendRequest::default(), "destination"),
            (
                send(destination::Kind::UserId(String::new()), hello()),
                "destination.user_id",
            ),
            (
                send(destination::Kind::DeviceId("nope".into()), hello()),
                "destination.device_id",
            ),
            (
                send(
                    destination::Kind::PushId(PushId {
                        platform: 0,
                        token: "t".into(),
                        ..Default::default()
                    }),
                    hello(),
                ),
                "destination.push_id.platform",
            ),
            (
                send(
                    destination::Kind::PushId(PushId {
                        platform: Platform::Web as i32,
                        token: "https://push.example/p/1".into(),
                        ..Default::default()
                    }),
                    hello(),
                ),
                "destination.push_id.web_subscription",
            ),
            (
                send(
                    destination::Kind::PushId(PushId {
                        platform: Platform::Web as i32,
                        token: "https://push.example/p/1".into(),
                        web_subscription: Some(WebSubscription {
                            endpoint: "https://push.example/p/2".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    hello(),
                ),
                "destination.push_id.token",
            ),
            (
                SendRequest {
                    destination: Some(Destination { kind: Some(user()) }),
                    ..Default::default()
                },
                "notification",
            ),
            (send(user(), Notification::default()), "notification"),
            (
                send(
                    user(),
                    Notification {
                        priority: 6,
                        ..hello()
                    },
                ),
                "notification.priority",
            ),
            (
                send(
                    user(),
                    Notification {
                        ttl_seconds: MAX_TTL_SECONDS + 1,
                        ..hello()
                    },
                ),
                "notification.ttl_seconds",
            ),
            (
                send(
                    user(),
                    Notification {
                        collapse_key: "k".repeat(65),
                        ..hello()
                    },
                ),
                "notification.collapse_key",
            ),
            (
                send(
                    user(),
                    Notification {
                        data: [("google.x".to_string(), "1".to_string())].into(),
                        ..hello()
                    },
                ),
                "notification.data[google.x]",
            ),
            (
                send(
                    user(),
                    Notification {
                        data: [("aps".to_string(), "1".to_string())].into(),
                        ..hello()
                    },
                ),
                "notification.data[aps]",
            ),
            (
                send(
                    user(),
                    Notification {
                        action: Some(Action {
                            r#type: ActionType::OpenUrl as i32,
                            url: "not a url".into(),
                            html: String::new(),
                        }),
                        ..hello()
                    },
                ),
                "notification.action.url",
            ),
            (
                send(
                    user(),
                    Notification {
                        interactive: Some(Interactive::default()),
                        ..hello()
                    },
                ),
                "notification.interactive.category",
            ),
            (
                send(
                    user(),
                    Notification {
                        web: Some(herald_proto::v1::WebOptions {
                            on_click_url: Some("javascript:alert(1)".into()),
                            ..Default::default()
                        }),
                        ..hello()
                    },
                ),
                "notification.web.on_click_url",
            ),
            (
                send(
                    user(),
                    Notification {
                        action: Some(Action {
                            r#type: ActionType::Deeplink as i32,
                            url: "JavaScript:alert(2)".into(),
                            html: String::new(),
                        }),
                        ..hello()
                    },
                ),
                "notification.action.url",
            ),
            (
                send(
                    user(),
                    Notification {
                        ios: Some(herald_proto::v1::IosOptions {
                            attachment_url: Some("file:///etc/passwd".into()),
                            ..Default::default()
                        }),
                        ..hello()
                    },
                ),
                "notification.ios.attachment_url",
            ),
            (
                send(
                    user(),
                    Notification {
                        android: Some(herald_proto::v1::AndroidOptions {
                            color: Some("red".into()),
                            ..Default::default()
                        }),
                        ..hello()
                    },
                ),
                "notification.android.color",
            ),
            (
                SendRequest {
                    notify_url: " https://example.com".into(),
                    ..send(user(), hello())
                },
                "notify_url",
            ),
            (
                SendRequest {
                    notify_url: "http://example.com".into(),
                    ..send(user(), hello())
                },
                "notify_url",
            ),
            (
                SendRequest {
                    notify_url: "https://user:pw@example.com/dr".into(),
                    ..send(user(), hello())
                },
                "notify_url",
            ),
            (
                SendRequest {
                    notify_url: "https://example.com/dr#part".into(),
                    ..send(user(), hello())
                },
                "notify_url",
            ),
        ];
        for (req, field) in cases {
            assert_eq!(field_of(send_request(&req).unwrap_err()), field);
        }
    }

    #[test]
    fn a_notify_url_with_trailing_space_is_accepted() {
        let req = SendRequest {
            notify_url: "https://example.com/dr  ".into(),
            ..send(destination::Kind::UserId("u".into()), hello())
        };
        assert!(send_request(&req).is_ok());
    }

    #[test]
    fn topic_and_segment_destinations_are_named_by_their_rules() {
        let req = send(destination::Kind::Segment("vip".into()), hello());
        assert_eq!(send_request(&req).unwrap(), Audience::Segment("vip".into()));
        let req = send(destination::Kind::Topic("news".into()), hello());
        assert_eq!(send_request(&req).unwrap(), Audience::Topic("news".into()));
        let req = send(destination::Kind::Topic("no spaces".into()), hello());
        assert_eq!(
            field_of(send_request(&req).unwrap_err()),
            "destination.topic"
        );
    }

    #[test]
    fn device_registration_needs_platform_and_token() {
        let mut req = RegisterDeviceRequest {
            push_token: "t".into(),
            ..Default::default()
        };
        assert_eq!(
            field_of(register_device(&req, false).unwrap_err()),
            "platform"
        );
        req.platform = Platform::Android as i32;
        assert!(register_device(&req, false).is_ok());
        req.push_token = "a b".into();
        assert_eq!(
            field_of(register_device(&req, false).unwrap_err()),
            "push_token"
        );
        req.platform = Platform::Ios as i32;
        req.push_token = "ab".repeat(32);
        assert!(register_device(&req, false).is_ok());
        req.platform = Platform::Web as i32;
        assert_eq!(
            field_of(register_device(&req, false).unwrap_err()),
            "web_subscription"
        );
    }

    #[test]
    fn web_subscriptions_need_https_unless_the_tenant_allows_http() {
        let good = WebSubscription {
            endpoint: "https://push.example/p/1".into(),
            p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4".into(),
            auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
        };
        let req = |sub: WebSubscription| RegisterDeviceRequest {
            platform: Platform::Web as i32,
            web_subscription: Some(sub),
            ..Default::default()
        };
        assert!(register_device(&req(good.clone()), false).is_ok());
        let http = WebSubscription {
            endpoint: "http://localhost:8080/p/1".into(),
            ..good.clone()
        };
        assert_eq!(
            field_of(register_device(&req(http.clone()), false).unwrap_err()),
            "web_subscription.endpoint"
        );
        assert!(register_device(&req(http), true).is_ok());
        let not_a_url = WebSubscription {
            endpoint: "push.example/p/1".into(),
            ..good
        };
        assert_eq!(
            field_of(register_device(&req(not_a_url), true).unwrap_err()),
            "web_subscription.endpoint"
        );
    }

    #[test]
    fn every_field_and_the_whole_message_have_a_limit() {
        use herald_proto::v1::{AndroidOptions, ApnsPushType, IosOptions};
        let user = || destination::Kind::UserId("u1".into());
        let voip_with_a_huge_android_title = Notification {
            android: Some(AndroidOptions {
                title: Some("t".repeat(1_000_000)),
                ..Default::default()
            }),
            ios: Some(IosOptions {
                push_type: ApnsPushType::Voip as i32,
                ..Default::default()
            }),
            ..hello()
        };
        let too_much_data = Notification {
            data: (0..20)
                .map(|i| (format!("k{i}"), "v".repeat(1000)))
                .collect(),
            ..hello()
        };
        let cases: Vec<(SendRequest, &str)> = vec![
            (
                SendRequest {
                    correlation_id: "c".repeat(MAX_CORRELATION_ID_BYTES + 1),
                    ..send(user(), hello())
                },
                "correlation_id",
            ),
            (
                SendRequest {
                    callback_data: "c".repeat(MAX_CALLBACK_DATA_BYTES + 1),
                    ..send(user(), hello())
                },
                "callback_data",
            ),
            (
                SendRequest {
                    notify_url: format!("https://example.com/{}", "p".repeat(MAX_NOTIFY_URL_BYTES)),
                    ..send(user(), hello())
                },
                "notify_url",
            ),
            (send(user(), voip_with_a_huge_android_title), "request"),
            (
                send(
                    user(),
                    Notification {
                        android: Some(AndroidOptions {
                            title: Some("t".repeat(MAX_TEXT_BYTES + 1)),
                            ..Default::default()
                        }),
                        ..hello()
                    },
                ),
                "notification.android.title",
            ),
            (
                send(
                    user(),
                    Notification {
                        web: Some(herald_proto::v1::WebOptions {
                            icon: Some(
                                "https://x.example/".to_owned() + &"i".repeat(MAX_TEXT_BYTES),
                            ),
                            ..Default::default()
                        }),
                        ..hello()
                    },
                ),
                "notification.web.icon",
            ),
            (send(user(), too_much_data), "notification.data"),
        ];
        for (req, field) in cases {
            assert_eq!(field_of(send_request(&req).unwrap_err()), field);
        }
        // A message at the limits of each field is still well under the whole message's.
        let full = Notification {
            title: "t".repeat(MAX_TEXT_BYTES),
            body: "b".repeat(MAX_TEXT_BYTES),
            ..hello()
        };
        assert!(send_request(&send(user(), full)).is_ok());
        const { assert!(MAX_REQUEST_BYTES * 4 < 1024 * 1024) };
    }
}
