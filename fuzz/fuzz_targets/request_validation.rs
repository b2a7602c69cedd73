//! A `SendRequest` or `RegisterDeviceRequest` as any bytes a client could send: validation
//! answers (never panics), and what it accepts every provider's limits can judge (which builds
//! each provider's payload).
#![no_main]

use herald_proto::v1::{Provider, RegisterDeviceRequest, SendRequest};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

const ALL: [Provider; 4] = [
    Provider::Fcm,
    Provider::Apns,
    Provider::Hms,
    Provider::Webpush,
];

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = SendRequest::decode(data)
        && herald_core::validate::send_request(&request).is_ok()
    {
        assert!(prost::Message::encoded_len(&request) <= herald_core::validate::MAX_REQUEST_BYTES);
        let notification = request.notification.unwrap_or_default();
        let _ = herald_providers::limits::judge(&notification, &ALL);
    }
    if let Ok(registration) = RegisterDeviceRequest::decode(data) {
        let _ = herald_core::validate::register_device(&registration, true);
        let _ = herald_providers::limits::check_push_token(
            registration.platform(),
            &registration.push_token,
        );
        if let Some(sub) = &registration.web_subscription {
            let _ =
                herald_providers::webpush::limits::check_subscription_keys(&sub.p256dh, &sub.auth);
        }
    }
});
