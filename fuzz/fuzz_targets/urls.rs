//! Any text in every URL a request carries: what validation accepts is what its rules say —
//! an http(s) URL with a host where one is required, an https notify URL without leading
//! space, a deep link that is neither script nor data nor file, a web push endpoint that parses.
#![no_main]

use herald_proto::v1::{
    Action, ActionType, Destination, Notification, PushId, SendRequest, WebOptions,
    WebSubscription, destination,
};
use libfuzzer_sys::fuzz_target;

fn send(notification: Notification, notify_url: &str) -> SendRequest {
    SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("u".into())),
        }),
        notification: Some(notification),
        notify_url: notify_url.to_owned(),
        ..Default::default()
    }
}

fn hello() -> Notification {
    Notification {
        title: "t".into(),
        ..Default::default()
    }
}

fn http_with_host(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A text with template delimiters is a template, judged as one (the templates target).
    if ["{{", "{%", "{#"].iter().any(|d| text.contains(d)) {
        return;
    }
    let accepted = |n: Notification| herald_core::validate::send_request(&send(n, "")).is_ok();

    let image = accepted(Notification {
        image_url: text.into(),
        ..hello()
    });
    assert_eq!(
        image,
        text.is_empty() || http_with_host(text),
        "image_url {text:?}"
    );

    let click = accepted(Notification {
        web: Some(WebOptions {
            on_click_url: Some(text.into()),
            ..Default::default()
        }),
        ..hello()
    });
    assert_eq!(
        click,
        text.is_empty() || http_with_host(text),
        "on_click_url {text:?}"
    );

    let deep_link = accepted(Notification {
        action: Some(Action {
            r#type: ActionType::Deeplink as i32,
            url: text.into(),
            html: String::new(),
        }),
        ..hello()
    });
    if deep_link {
        let scheme = url::Url::parse(text).expect("an accepted deep link parses");
        assert!(
            !["javascript", "data", "vbscript", "file"].contains(&scheme.scheme()),
            "deep link {text:?}"
        );
    }

    if herald_core::validate::send_request(&send(hello(), text)).is_ok() && !text.is_empty() {
        assert!(
            !text.starts_with(char::is_whitespace),
            "notify_url {text:?}"
        );
        let url = url::Url::parse(text.trim_end()).expect("an accepted notify URL parses");
        assert_eq!(url.scheme(), "https", "notify_url {text:?}");
    }

    let web_push = SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::PushId(PushId {
                platform: herald_proto::v1::Platform::Web as i32,
                web_subscription: Some(WebSubscription {
                    endpoint: text.into(),
                    ..Default::default()
                }),
                ..Default::default()
            })),
        }),
        ..send(hello(), "")
    };
    if let Ok(herald_core::validate::Audience::PushId { web: Some(sub), .. }) =
        herald_core::validate::send_request(&web_push)
        && herald_core::validate::web_subscription("endpoint", &sub, false).is_ok()
    {
        let endpoint = url::Url::parse(&sub.endpoint).expect("an accepted endpoint parses");
        assert_eq!(endpoint.scheme(), "https", "endpoint {text:?}");
    }
});
