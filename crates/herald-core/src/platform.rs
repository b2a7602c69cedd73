//! Which provider serves which platform.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Named as _;

    #[test]
    fn every_platform_has_a_provider() {
        for platform in Platform::ALL {
            assert!(provider_for(*platform).is_some(), "{platform:?}");
        }
    }
}
