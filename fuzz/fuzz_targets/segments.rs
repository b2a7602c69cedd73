//! Segment expressions: parsing any text answers (never panics, never recurses without bound),
//! and an expression that parses names at most the allowed number of terms and only valid
//! topic names.
#![no_main]

use herald_core::segments::{MAX_TERMS, parse, topics};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = parse("expression", text) {
        let named = topics(&expr);
        assert!(named.len() <= MAX_TERMS);
        for topic in named {
            assert!(herald_core::topics::name("t", topic).is_ok(), "{topic:?}");
        }
    }
});
