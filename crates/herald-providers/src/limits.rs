//! What each provider refuses, judged before anything is sent: payload sizes counted the way
//! each provider counts them (each provider's `limits` module), so a notification no provider
//! would take is refused at ingest with the provider and its limit named.

use herald_proto::v1::{Notification, Platform, Provider};

pub use crate::refusal::{Refusal, display_name};
use crate::{apns, fcm, hms, webpush};

/// Whether `provider` would take `n`.
pub fn check(provider: Provider, n: &Notification) -> Result<(), Refusal> {
    match provider {
        Provider::Fcm => fcm::limits::check(n),
        Provider::Apns => apns::limits::check(n),
        Provider::Hms => hms::limits::check(n),
        Provider::Webpush => webpush::limits::check(n),
        Provider::Unspecified => Ok(()),
    }
}

/// Judges `n` against the limits of every provider in `reachable`: it is accepted when at least
/// one would take it (answering the refusals of the others, whose deliveries will fail), and
/// refused with every refusal when none would. An empty `reachable` accepts.
pub fn judge(n: &Notification, reachable: &[Provider]) -> Result<Vec<Refusal>, Vec<Refusal>> {
    let refusals: Vec<Refusal> = reachable
        .iter()
        .filter_map(|provider| check(*provider, n).err())
        .collect();
    if !reachable.is_empty() && refusals.len() == reachable.len() {
        Err(refusals)
    } else {
        Ok(refusals)
    }
}

/// Whether a device token is one `platform`'s provider can address; answers why not.
pub fn check_push_token(platform: Platform, token: &str) -> Result<(), &'static str> {
    match platform {
        Platform::Ios | Platform::Macos => apns::limits::check_device_token(token),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{ApnsPushType, IosOptions};

    #[test]
    fn each_provider_counts_its_own_payload() {
        let long = Notification {
            body: "x".repeat(4100),
            ..Default::default()
        };
        for provider in [
            Provider::Fcm,
            Provider::Hms,
            Provider::Apns,
            Provider::Webpush,
        ] {
            let refusal = check(provider, &long).unwrap_err();
            assert_eq!(refusal.provider, provider);
            assert!(refusal.reason.contains("accepts at most"), "{refusal:?}");
        }
        let short = Notification {
            body: "x".repeat(100),
            ..Default::default()
        };
        assert!(check(Provider::Fcm, &short).is_ok());
    }

    #[test]
    fn voip_pushes_may_use_apns_larger_limit() {
        let big = Notification {
            data: [("sdp".to_string(), "x".repeat(4500))].into(),
            ..Default::default()
        };
        let err = check(Provider::Fcm, &big).unwrap_err();
        assert!(err.reason.contains("FCM payload would be"), "{err:?}");
        let voip = Notification {
            ios: Some(IosOptions {
                push_type: ApnsPushType::Voip as i32,
                ..Default::default()
            }),
            ..big
        };
        assert!(check(Provider::Apns, &voip).is_ok());
        let too_big = Notification {
            data: [("sdp".to_string(), "x".repeat(5200))].into(),
            ..voip
        };
        assert!(
            check(Provider::Apns, &too_big)
                .unwrap_err()
                .reason
                .contains("APNs accepts at most 5120")
        );
    }

    #[test]
    fn a_notification_is_refused_only_when_no_reachable_provider_takes_it() {
        let voip = Notification {
            data: [("sdp".to_string(), "x".repeat(4500))].into(),
            ios: Some(IosOptions {
                push_type: ApnsPushType::Voip as i32,
                ..Default::default()
            }),
            ..Default::default()
        };
        // An iPhone and an Android phone: APNs takes it, FCM's deliveries will fail.
        let refusals = judge(&voip, &[Provider::Fcm, Provider::Apns]).unwrap();
        assert_eq!(refusals.len(), 1);
        assert_eq!(refusals[0].provider, Provider::Fcm);
        // Only Android phones: refused, naming FCM's limit.
        let refused = judge(&voip, &[Provider::Fcm]).unwrap_err();
        assert!(
            refused[0].reason.contains("FCM accepts at most 4096"),
            "{refused:?}"
        );
        assert_eq!(judge(&voip, &[]), Ok(vec![]));
    }

    #[test]
    fn apple_tokens_are_hex_and_others_are_free_form() {
        assert!(check_push_token(Platform::Ios, "not-hex").is_err());
        assert!(check_push_token(Platform::Macos, "abc").is_err());
        assert!(check_push_token(Platform::Ios, &"ab".repeat(32)).is_ok());
        assert!(check_push_token(Platform::Android, "not-hex:but-fine").is_ok());
    }

    #[test]
    fn a_subscription_needs_a_p256_point_and_a_16_byte_secret() {
        use crate::webpush::{b64url, ece, limits::check_subscription_keys};
        let key = ece::random_secret_key().public_key().to_sec1_bytes();
        let auth = b64url(&[7; 16]);
        assert!(check_subscription_keys(&b64url(&key), &auth).is_ok());
        assert_eq!(
            check_subscription_keys(&b64url(&key[..64]), &auth)
                .unwrap_err()
                .0,
            "p256dh"
        );
        assert_eq!(
            check_subscription_keys(&b64url(&key), &b64url(&[1; 8]))
                .unwrap_err()
                .0,
            "auth"
        );
    }
}
