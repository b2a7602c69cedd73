//! The one spelling of each enum where it leaves the program as text: database rows, bus
//! subjects, settings, command-line arguments. Decoded once, where a row or a setting is read;
//! an unknown spelling is an error there, never a silent `Unspecified`.

use herald_proto::v1::{
    ApiKeyScope, AttemptOutcome, Browser, DeliveryStatus, DeviceState, MessageClass, MessageState,
    Platform, Provider, QuietAction, SignatureScheme, WebhookAuthKind, WebhookEvent,
};

/// An enum with one lowercase spelling per value.
pub trait Named: Copy + Sized + 'static {
    /// Every value that has a spelling (all but `Unspecified`).
    const ALL: &'static [Self];

    /// The spelling; `Unspecified` is spelled `unspecified`, and is never stored.
    fn name(self) -> &'static str;

    /// The value spelled `name`.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.name() == name)
    }

    /// Every spelling, comma-separated (for a message naming what is accepted).
    fn spellings() -> String {
        Self::ALL
            .iter()
            .map(|value| value.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

macro_rules! named {
    ($type:ident { $($value:ident => $name:literal),+ $(,)? }) => {
        impl Named for $type {
            const ALL: &'static [Self] = &[$($type::$value),+];

            fn name(self) -> &'static str {
                match self {
                    $($type::$value => $name,)+
                    $type::Unspecified => "unspecified",
                }
            }
        }
    };
}

named!(Provider {
    Fcm => "fcm",
    Apns => "apns",
    Webpush => "webpush",
    Hms => "hms",
});

named!(Platform {
    Android => "android",
    Ios => "ios",
    Macos => "macos",
    Huawei => "huawei",
    Web => "web",
});

named!(Browser {
    Chrome => "chrome",
    Firefox => "firefox",
    Safari => "safari",
    Edge => "edge",
    Opera => "opera",
});

named!(DeliveryStatus {
    Queued => "queued",
    Submitted => "submitted",
    Delivered => "delivered",
    Read => "read",
    Failed => "failed",
    Expired => "expired",
    Cancelled => "cancelled",
});

named!(MessageState {
    Accepted => "accepted",
    Routed => "routed",
    Failed => "failed",
    Submitted => "submitted",
    PartiallyFailed => "partially_failed",
    Routing => "routing",
    Scheduled => "scheduled",
    Cancelled => "cancelled",
});

named!(MessageClass {
    Standard => "standard",
    Transactional => "transactional",
    Marketing => "marketing",
});

named!(QuietAction {
    Hold => "hold",
    Drop => "drop",
});

named!(DeviceState {
    Active => "active",
    Inactive => "inactive",
    Expired => "expired",
    Unsubscribed => "unsubscribed",
});

// The event types of a webhook's JSON body (`type`), dotted as Standard Webhooks suggests.
named!(WebhookEvent {
    DeliverySubmitted => "delivery.submitted",
    DeliveryDelivered => "delivery.delivered",
    DeliveryRead => "delivery.read",
    DeliveryFailed => "delivery.failed",
    DeliveryExpired => "delivery.expired",
    DeviceInactive => "device.inactive",
    Interaction => "interaction",
    WebhookDisabled => "webhook.disabled",
    DeliveryCancelled => "delivery.cancelled",
});

named!(SignatureScheme {
    StandardWebhooks => "standard",
    HubSha256 => "hub-sha256",
    HubSha512 => "hub-sha512",
});

named!(WebhookAuthKind {
    None => "none",
    Bearer => "bearer",
    Basic => "basic",
    ApiKey => "api_key",
    Oauth2ClientCredentials => "oauth2_client_credentials",
    Digest => "digest",
    AwsSigv4 => "aws_sigv4",
    Oauth2AuthorizationCode => "oauth2_authorization_code",
});

named!(ApiKeyScope {
    Server => "server",
    App => "app",
});

named!(AttemptOutcome {
    Succeeded => "succeeded",
    Retrying => "retrying",
    Failed => "failed",
    Refused => "refused",
});

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: Named + PartialEq + std::fmt::Debug>() {
        for value in T::ALL {
            assert_eq!(T::from_name(value.name()), Some(*value));
            assert_ne!(value.name(), "unspecified");
        }
        assert_eq!(T::from_name("unspecified"), None);
        assert_eq!(T::from_name(""), None);
    }

    #[test]
    fn every_spelling_reads_back() {
        round_trips::<Provider>();
        round_trips::<Platform>();
        round_trips::<Browser>();
        round_trips::<DeliveryStatus>();
        round_trips::<MessageState>();
        round_trips::<MessageClass>();
        round_trips::<QuietAction>();
        round_trips::<DeviceState>();
        round_trips::<WebhookEvent>();
        round_trips::<SignatureScheme>();
        round_trips::<WebhookAuthKind>();
        round_trips::<AttemptOutcome>();
    }

    #[test]
    fn browsers_are_spelled_like_platforms() {
        assert_eq!(Browser::Chrome.name(), "chrome");
        assert_eq!(Browser::from_name("BROWSER_CHROME"), None);
    }
}
