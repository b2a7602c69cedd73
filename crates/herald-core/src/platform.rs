//! Which provider serves which platform, and the provider names used in subjects and rows.

use herald_proto::v1::{Platform, Provider};

/// The provider that delivers to `platform`.
pub fn provider_for(platform: Platform) -> Option<Provider> {
    match platform {
        Platform::Android => Some(Provider::Fcm),
        Platform::Ios | Platform::Macos => Some(Provider::Apns),
        Platform::Huawei => Some(Provider::Hms),
        Platform::Web => Some(Provider::Webpush),
        Platform::Unspecified => None,
    }
}

/// The short lowercase name used in subjects (`herald.send.fcm.…`), rows and metrics.
pub fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Fcm => "fcm",
        Provider::Apns => "apns",
        Provider::Webpush => "webpush",
        Provider::Hms => "hms",
        Provider::Unspecified => "unspecified",
    }
}

/// The inverse of [`provider_name`].
pub fn provider_from_name(name: &str) -> Option<Provider> {
    [
        Provider::Fcm,
        Provider::Apns,
        Provider::Webpush,
        Provider::Hms,
    ]
    .into_iter()
    .find(|p| provider_name(*p) == name)
}

/// The stored name of a platform.
pub fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Android => "android",
        Platform::Ios => "ios",
        Platform::Macos => "macos",
        Platform::Huawei => "huawei",
        Platform::Web => "web",
        Platform::Unspecified => "unspecified",
    }
}

/// The inverse of [`platform_name`].
pub fn platform_from_name(name: &str) -> Option<Platform> {
    [
        Platform::Android,
        Platform::Ios,
        Platform::Macos,
        Platform::Huawei,
        Platform::Web,
    ]
    .into_iter()
    .find(|p| platform_name(*p) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in [
            Provider::Fcm,
            Provider::Apns,
            Provider::Webpush,
            Provider::Hms,
        ] {
            assert_eq!(provider_from_name(provider_name(p)), Some(p));
        }
        for p in [
            Platform::Android,
            Platform::Ios,
            Platform::Macos,
            Platform::Huawei,
            Platform::Web,
        ] {
            assert_eq!(platform_from_name(platform_name(p)), Some(p));
            assert!(provider_for(p).is_some());
        }
    }
}
