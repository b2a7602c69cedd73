//! Notification templates: compiling any text answers (never panics); one that compiles renders
//! for a recipient within its fuel, or answers why it cannot, and never panics either.
#![no_main]

use std::collections::BTreeMap;

use herald_core::personalize::{CustomerView, Personalizer, Recipient};
use herald_proto::v1::Notification;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let n = Notification {
        title: text.to_owned(),
        body: "{{ user.name }}".into(),
        ..Default::default()
    };
    let vars: BTreeMap<String, String> = [("code".to_owned(), "X1".to_owned())].into();
    let Ok(p) = Personalizer::new(&n, &vars) else {
        return;
    };
    let attributes: BTreeMap<String, String> = [("tier".to_owned(), "gold".to_owned())].into();
    let recipient = Recipient {
        user_id: "u",
        device_platform: "android",
        device_locale: "de-AT",
        app_version: "1.0",
        customer: Some(CustomerView {
            id: "c",
            name: "Ann",
            locale: "de",
            time_zone: "Europe/Vienna",
            attributes: Some(&attributes),
        }),
    };
    let _ = p.render(&n, &recipient);
});
