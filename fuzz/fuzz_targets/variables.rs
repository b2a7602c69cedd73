//! `$(name)` references in any text, with a few variables defined: expanding answers (never
//! panics), stays within its limit, and leaves no reference behind that was not written `$$(`.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let vars: BTreeMap<String, String> = [("a", "x"), ("customerID", "$(a)"), ("long.name-1", "")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if let Ok(Some(out)) = herald_core::vars::expand("f", text, &vars, LIMIT) {
        assert!(out.len() <= LIMIT);
        // Values are not expanded again: `$(a)` inside a value stays as it is.
        let allowed = text.matches("$$(").count() + text.matches("$(customerID)").count();
        assert!(out.matches("$(").count() <= allowed, "{text:?} -> {out:?}");
    }
});
