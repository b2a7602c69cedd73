//! Paging for every `List*` call: a page size clamped to what one answer may hold, and page
//! tokens that are opaque and tamper-proof. A token is the sort key of the last item answered,
//! sealed (AES-256-GCM under the master key) to the list it pages and its filter, so it reveals
//! nothing, cannot be edited to jump elsewhere, and is refused on any other list.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_core::crypto::MasterKey;
use herald_core::{Error, Result};

/// Items in a page when the request does not say.
pub(crate) const DEFAULT_SIZE: u32 = 100;
/// The most items in a page; a larger page size is taken as this.
pub(crate) const MAX_SIZE: u32 = 1000;

/// One page of a list, as a request asks for it.
#[derive(Debug)]
pub(crate) struct Page<'k> {
    key: &'k MasterKey,
    /// The list and its filter, e.g. `devices/<tenant>/<user>`.
    list: String,
    /// The sort key the page starts after; `None` for the first page.
    pub after: Option<String>,
    /// At most this many items.
    pub limit: u32,
}

impl<'k> Page<'k> {
    /// The page a request's `page_size` and `page_token` ask for in `list`.
    pub(crate) fn read(
        key: &'k MasterKey,
        list: String,
        page_size: u32,
        page_token: &str,
    ) -> Result<Self> {
        let after = if page_token.is_empty() {
            None
        } else {
            let refused = || {
                Error::invalid(
                    "page_token",
                    "not a page token of this list (ask again from the first page)",
                )
            };
            let sealed = URL_SAFE_NO_PAD.decode(page_token).map_err(|_| refused())?;
            let last = key.open(&context(&list), &sealed).map_err(|_| refused())?;
            Some(String::from_utf8(last).map_err(|_| refused())?)
        };
        let limit = match page_size {
            0 => DEFAULT_SIZE,
            n => n.min(MAX_SIZE),
        };
        Ok(Self {
            key,
            list,
            after,
            limit,
        })
    }

    /// The token of the page after `items`, if they filled this one (the next may hold more);
    /// `sort_key` is what the list is ordered by.
    pub(crate) fn next_token<T>(&self, items: &[T], sort_key: impl Fn(&T) -> String) -> String {
        match items.last() {
            Some(last) if items.len() == self.limit as usize => URL_SAFE_NO_PAD.encode(
                self.key
                    .seal(&context(&self.list), sort_key(last).as_bytes()),
            ),
            _ => String::new(),
        }
    }
}

fn context(list: &str) -> String {
    format!("page/v1/{list}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_key() -> MasterKey {
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap()
    }

    #[test]
    fn a_token_reads_back_only_on_its_own_list_and_reveals_nothing() {
        let key = new_key();
        let first = Page::read(&key, "devices/alice".into(), 2, "").unwrap();
        assert_eq!(first.after, None);
        let token = first.next_token(&["dev_0001", "dev_0123"], |d| (*d).to_owned());
        let decoded = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert!(
            !String::from_utf8_lossy(&decoded).contains("dev_"),
            "opaque"
        );
        let second = Page::read(&key, "devices/alice".into(), 2, &token).unwrap();
        assert_eq!(second.after.as_deref(), Some("dev_0123"));

        let mut tampered = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(tampered);
        let handmade = URL_SAFE_NO_PAD.encode("v1\ndevices/alice\ndev_9999");
        for bad in [
            Page::read(&key, "devices/bob".into(), 2, &token),
            Page::read(&new_key(), "devices/alice".into(), 2, &token),
            Page::read(&key, "devices/alice".into(), 2, &tampered),
            Page::read(&key, "devices/alice".into(), 2, &handmade),
            Page::read(&key, "devices/alice".into(), 2, "%%%"),
        ] {
            let err = bad.unwrap_err();
            assert!(err.to_string().starts_with("page_token: "), "{err}");
            assert!(!err.to_string().contains("dev_"), "{err}");
        }
    }

    #[test]
    fn page_sizes_default_and_clamp() {
        let key = new_key();
        let size = |n| Page::read(&key, "l".into(), n, "").unwrap().limit;
        assert_eq!(size(0), DEFAULT_SIZE);
        assert_eq!(size(7), 7);
        assert_eq!(size(1_000_000), MAX_SIZE);
    }

    #[test]
    fn only_a_full_page_has_a_next_token() {
        let key = new_key();
        let page = Page::read(&key, "l".into(), 3, "").unwrap();
        let sort_key = |n: &u32| n.to_string();
        assert_eq!(page.next_token(&[1, 2], sort_key), "");
        let token = page.next_token(&[1, 2, 3], sort_key);
        let next = Page::read(&key, "l".into(), 3, &token).unwrap();
        assert_eq!(next.after.as_deref(), Some("3"));
    }
}
