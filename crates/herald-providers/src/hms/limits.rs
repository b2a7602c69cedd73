//! What HMS refuses: a message body (without its tokens) over 4096 bytes, and a click-action or
//! image URL that is not https. A time to live past HMS's 15 days is not refused: it is sent as
//! 15 days.

use herald_proto::v1::{ActionType, Notification, Provider};

use super::payload::payload_size;
use crate::android::AndroidView;
use crate::refusal::Refusal;

/// HMS's limit on a message body, tokens excluded.
pub const MAX_PAYLOAD_BYTES: usize = 4096;

/// Whether HMS would take `n`.
pub fn check(n: &Notification) -> Result<(), Refusal> {
    let view = AndroidView::of(n);
    if !view.silent {
        let open_url = view
            .action
            .filter(|a| a.r#type() == ActionType::OpenUrl)
            .map(|a| a.url.as_str());
        for (what, url) in [("click-action", open_url), ("image", Some(view.image))] {
            if let Some(url) = url.filter(|u| !u.is_empty() && !u.starts_with("https://")) {
                return Err(Refusal {
                    provider: Provider::Hms,
                    reason: format!("HMS takes only https {what} URLs, not {url:?}"),
                });
            }
        }
    }
    Refusal::over_size(Provider::Hms, payload_size(n), MAX_PAYLOAD_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::Action;

    #[test]
    fn click_action_and_image_urls_must_be_https() {
        let n = Notification {
            title: "t".into(),
            image_url: "http://img.example.com/p.png".into(),
            ..Default::default()
        };
        assert!(check(&n).unwrap_err().reason.contains("https image"));
        let n = Notification {
            image_url: String::new(),
            action: Some(Action {
                r#type: ActionType::OpenUrl as i32,
                url: "http://example.com".into(),
                html: String::new(),
            }),
            ..n
        };
        assert!(check(&n).unwrap_err().reason.contains("https click-action"));
        let n = Notification {
            image_url: "https://img.example.com/p.png".into(),
            action: None,
            ..n
        };
        assert!(check(&n).is_ok());
    }
}
