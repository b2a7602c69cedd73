//! What an endpoint URL may be: absolute, https (http only where the operator allows it), with a
//! host, without credentials or a fragment, at most [`MAX_URL_BYTES`]. The seeds' rule for typed
//! URLs holds: a leading space is invalid, trailing spaces are trimmed. A pure function: where
//! the host leads is the guard's business, at every attempt.

use url::Url;

/// The longest URL accepted.
pub const MAX_URL_BYTES: usize = 2048;

/// Why a URL is refused; the message names the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadUrl(pub &'static str);

/// The endpoint `raw` names, or why it cannot be one.
pub fn endpoint_url(raw: &str, allow_http: bool) -> Result<Url, BadUrl> {
    if raw.starts_with(char::is_whitespace) {
        return Err(BadUrl("must not start with a space"));
    }
    let raw = raw.trim_end();
    if raw.is_empty() {
        return Err(BadUrl("required"));
    }
    if raw.len() > MAX_URL_BYTES {
        return Err(BadUrl("longer than 2048 bytes"));
    }
    let url = Url::parse(raw).map_err(|_| BadUrl("not a valid absolute URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err(BadUrl("must be https (this server does not allow http)")),
        _ => return Err(BadUrl("must be an https URL")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(BadUrl("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BadUrl(
            "must not carry credentials (configure the endpoint's auth instead)",
        ));
    }
    if url.fragment().is_some() {
        return Err(BadUrl("must not have a fragment"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_url_ingest_accepts_fits_an_endpoint_url() {
        assert_eq!(herald_core::validate::MAX_NOTIFY_URL_BYTES, MAX_URL_BYTES);
    }

    #[test]
    fn https_urls_pass_and_trailing_spaces_go() {
        let url = endpoint_url("https://hooks.example.com/herald?x=1  ", false).unwrap();
        assert_eq!(url.as_str(), "https://hooks.example.com/herald?x=1");
    }

    #[test]
    fn what_is_refused_and_why() {
        for (raw, why) in [
            (" https://a.example", "must not start with a space"),
            ("", "required"),
            ("   ", "must not start with a space"),
            ("hooks.example.com/x", "not a valid absolute URL"),
            ("ftp://a.example/", "must be an https URL"),
            (
                "http://a.example/",
                "must be https (this server does not allow http)",
            ),
            (
                "https://user:pw@a.example/",
                "must not carry credentials (configure the endpoint's auth instead)",
            ),
            ("https://a.example/#top", "must not have a fragment"),
            ("mailto:someone@a.example", "must be an https URL"),
        ] {
            assert_eq!(endpoint_url(raw, false), Err(BadUrl(why)), "{raw:?}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_BYTES));
        assert_eq!(
            endpoint_url(&long, false),
            Err(BadUrl("longer than 2048 bytes"))
        );
    }

    #[test]
    fn http_only_where_allowed() {
        assert!(endpoint_url("http://127.0.0.1:8080/hook", true).is_ok());
        assert!(endpoint_url("http://127.0.0.1:8080/hook", false).is_err());
    }
}
