//! Any text as a `WWW-Authenticate` header an endpoint answers: reading its Digest challenge
//! answers (never panics), and a challenge read is answered with an `Authorization` that quotes
//! what it repeats.
#![no_main]

use herald_webhooks::digest::{authorization, challenge};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(found) = challenge(text) {
        let header = authorization(&found, ("herald", "pw"), ("POST", "/hook?x=1"), "c0ffee", 1);
        assert!(header.starts_with("Digest username=\"herald\""), "{header}");
        assert!(header.contains("response=\""), "{header}");
    }
});
