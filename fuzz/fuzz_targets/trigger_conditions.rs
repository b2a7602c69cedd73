//! Trigger conditions and event payloads: compiling any text answers (never panics, never
//! exhausts the stack), and a compiled condition evaluated against any payload that parses
//! answers true, false or a reason, never a panic. The input is the condition, then a NUL, then
//! the payload's JSON.
#![no_main]

use herald_core::triggers::{Condition, parse_payload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (condition, payload) = text.split_once('\0').unwrap_or((text, "{}"));
    let Ok(Some(compiled)) = Condition::compile("condition", condition) else {
        return;
    };
    if let Ok(event) = parse_payload("payload_json", payload) {
        let _ = compiled.holds("fuzz", &event);
    }
});
