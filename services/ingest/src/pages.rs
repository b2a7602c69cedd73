//! Paging for every `List*` call: a page size clamped to what one answer may hold, and opaque
//! page tokens. A token names the list it pages (and its filter), so it is refused on another
//! list instead of silently starting somewhere else; what it holds is the sort key of the last
//! item answered, which clients must not rely on.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_core::{Error, Result};

/// Items in a page when the request does not say.
pub(crate) const DEFAULT_SIZE: u32 = 100;
/// The most items in a page; a larger page size is taken as this.
pub(crate) const MAX_SIZE: u32 = 1000;

/// The page size to answer with for a request's `page_size`.
pub(crate) fn size(requested: u32) -> u32 {
    match requested {
        0 => DEFAULT_SIZE,
        n => n.min(MAX_SIZE),
    }
}

/// The token of the page after `last` in `list`.
pub(crate) fn token(list: &str, last: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1\n{list}\n{last}"))
}

/// Where a page of `list` starts: after the key a token holds, or at the start.
pub(crate) fn after(list: &str, token: &str) -> Result<Option<String>> {
    if token.is_empty() {
        return Ok(None);
    }
    let refused = || {
        Error::invalid(
            "page_token",
            "not a page token of this list (ask again from the first page)",
        )
    };
    let decoded = URL_SAFE_NO_PAD.decode(token).map_err(|_| refused())?;
    let text = String::from_utf8(decoded).map_err(|_| refused())?;
    let mut parts = text.splitn(3, '\n');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(named), Some(last)) if named == list && !last.is_empty() => {
            Ok(Some(last.to_owned()))
        }
        _ => Err(refused()),
    }
}

/// The token of the page after `items`, if it was full (the next may hold more).
pub(crate) fn next<T>(list: &str, items: &[T], limit: u32, key: impl Fn(&T) -> String) -> String {
    match items.last() {
        Some(last) if items.len() == limit as usize => token(list, &key(last)),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_only_on_its_own_list() {
        let t = token("devices/alice", "dev_0123");
        assert!(!t.contains("dev_"), "opaque: {t}");
        assert_eq!(
            after("devices/alice", &t).unwrap().as_deref(),
            Some("dev_0123")
        );
        assert_eq!(after("devices/alice", "").unwrap(), None);
        for bad in [
            after("devices/bob", &t),
            after("devices/alice", "dev_0123"),
            after("x", "%%%"),
        ] {
            let err = bad.unwrap_err();
            assert!(err.to_string().starts_with("page_token: "), "{err}");
            assert!(!err.to_string().contains("dev_"), "{err}");
        }
    }

    #[test]
    fn page_sizes_default_and_clamp() {
        assert_eq!(size(0), DEFAULT_SIZE);
        assert_eq!(size(7), 7);
        assert_eq!(size(1_000_000), MAX_SIZE);
    }

    #[test]
    fn only_a_full_page_has_a_next_token() {
        let key = |n: &u32| n.to_string();
        assert_eq!(next("l", &[1, 2], 3, key), "");
        assert_eq!(
            after("l", &next("l", &[1, 2, 3], 3, key))
                .unwrap()
                .as_deref(),
            Some("3")
        );
    }
}
