//! Wazo push requests: any body is answered (a request, or what is wrong with it field by
//! field), and an accepted request holds what wazo-webhookd's schema allows and becomes a
//! notification whose texts render as they were sent.
#![no_main]

use std::collections::BTreeMap;

use herald_core::personalize::{Personalizer, Recipient};
use herald_core::wazo::{MAX_BODY, MAX_TITLE, USER_UUID_LEN, custom_notification, notification};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match notification(data) {
        Ok(request) => {
            assert_eq!(request.user_uuid.chars().count(), USER_UUID_LEN);
            assert!(request.title.chars().count() <= MAX_TITLE);
            assert!(request.body.chars().count() <= MAX_BODY);
            let n = custom_notification(&request);
            let rendered = Personalizer::new(&n, &BTreeMap::new())
                .expect("literal texts compile")
                .render(&n, &Recipient::default())
                .expect("literal texts render");
            assert_eq!(rendered.title, request.title);
            assert_eq!(rendered.body, request.body);
        }
        Err(details) => assert!(!details.is_empty()),
    }
});
