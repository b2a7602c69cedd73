//! Any text as a webhook endpoint's URL: what is accepted parses, is https (or http where
//! allowed), has a host, carries no credentials or fragment, and the guard's check of its
//! literal host answers (never panics).
#![no_main]

use herald_webhooks::target::{MAX_URL_BYTES, endpoint_url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for allow_http in [false, true] {
        let Ok(url) = endpoint_url(text, allow_http) else {
            continue;
        };
        assert!(!text.starts_with(char::is_whitespace), "{text:?}");
        assert!(text.trim_end().len() <= MAX_URL_BYTES, "{text:?}");
        assert!(
            url.scheme() == "https" || (allow_http && url.scheme() == "http"),
            "{text:?}"
        );
        assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{text:?}");
        assert!(
            url.username().is_empty() && url.password().is_none(),
            "{text:?}"
        );
        assert!(url.fragment().is_none(), "{text:?}");
        let _ = herald_webhooks::Guard::default().check_literal(&url);
    }
});
