//! The web console: pages served at `/console` on the API port, for an operator signed in with
//! the admin key (tenants and their API keys) and for a tenant signed in with a server key
//! (provider credentials with Test Connection and Send Test Notification, devices, messages with
//! each delivery's timeline, topics and segments, triggers and their firings, webhooks with
//! attempts and replay, delivery analytics as charts).
//!
//! Pages are rendered on the server from the templates in `services/ingest/console/`; the only
//! script is none: forms post back. Every page calls the API's own gRPC handlers with the
//! signed-in key, so it checks, refuses and answers exactly as the API does, and shows what the
//! API shows (never a stored secret; a new API key once, as `CreateApiKey` answers it).

mod chart;
mod pages;
mod session;
mod timeline;

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::value::ValueKind;
use minijinja::{Environment, Value};

use crate::Api;

/// The console's routes, to serve beside the API's.
pub(crate) fn router(api: Api) -> axum::Router {
    axum::Router::new()
        .route("/console", get(pages::home))
        .route("/console/style.css", get(style))
        .route(
            "/console/login",
            get(session::login_page).post(session::login),
        )
        .route("/console/logout", post(session::logout))
        .route(
            "/console/tenants",
            get(pages::tenants).post(pages::tenants_action),
        )
        .route("/console/credentials", get(pages::credentials))
        .route("/console/credentials/fcm", post(pages::set_fcm))
        .route("/console/credentials/apns", post(pages::set_apns))
        .route("/console/credentials/hms", post(pages::set_hms))
        .route("/console/credentials/webpush", post(pages::set_webpush))
        .route(
            "/console/credentials/{provider}/test",
            post(pages::test_connection),
        )
        .route(
            "/console/credentials/{provider}/send-test",
            post(pages::send_test),
        )
        .route(
            "/console/credentials/{provider}/delete",
            post(pages::delete_credential),
        )
        .route(
            "/console/devices",
            get(pages::devices).post(pages::register_device),
        )
        .route("/console/messages", get(pages::messages))
        .route("/console/messages/{message_id}", get(pages::message))
        .route(
            "/console/audiences",
            get(pages::audiences).post(pages::create_audience),
        )
        .route(
            "/console/triggers",
            get(pages::triggers).post(pages::create_trigger),
        )
        .route(
            "/console/webhooks",
            get(pages::webhooks).post(pages::create_webhook),
        )
        .route(
            "/console/webhooks/{webhook_id}",
            get(pages::webhook).post(pages::replay_webhook),
        )
        .route("/console/analytics", get(pages::analytics))
        .route("/console/{*rest}", axum::routing::any(not_found))
        .with_state(api)
}

/// The templates, by name.
const SOURCES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../console/layout.html")),
    ("login.html", include_str!("../../console/login.html")),
    ("tenants.html", include_str!("../../console/tenants.html")),
    (
        "credentials.html",
        include_str!("../../console/credentials.html"),
    ),
    ("devices.html", include_str!("../../console/devices.html")),
    ("messages.html", include_str!("../../console/messages.html")),
    ("message.html", include_str!("../../console/message.html")),
    (
        "audiences.html",
        include_str!("../../console/audiences.html"),
    ),
    ("triggers.html", include_str!("../../console/triggers.html")),
    ("webhooks.html", include_str!("../../console/webhooks.html")),
    ("webhook.html", include_str!("../../console/webhook.html")),
    (
        "analytics.html",
        include_str!("../../console/analytics.html"),
    ),
];

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in SOURCES {
        env.add_template(name, source)
            .unwrap_or_else(|err| panic!("console template {name}: {err}"));
    }
    // The engine's built-in filters are left out (user templates get a chosen few, see
    // herald_core::personalize); the pages need these.
    env.add_filter("when", when);
    env.add_filter("label", label);
    env.add_filter("default", |value: Value, fallback: Option<Value>| {
        if value.is_undefined() || value.is_none() {
            fallback.unwrap_or_else(|| Value::from(""))
        } else {
            value
        }
    });
    env.add_filter("urlencode", |value: String| urlencode(&value));
    env.add_test("mapping", |value: Value| value.kind() == ValueKind::Map);
    env
});

/// A page: `template` rendered with `context`, with the headers every console page carries (no
/// caching, no framing, no script from anywhere, no referrer to other sites).
fn page(status: StatusCode, template: &str, context: Value) -> Response {
    let rendered = TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(context));
    let html = match rendered {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(%err, template, "a console page could not be rendered");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the console could not render this page",
            )
                .into_response();
        }
    };
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        // Not `no-referrer`: with it a browser sends `Origin: null` on the console's own forms,
        // which the cross-site check then refuses.
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A console path that is no page: a page saying so (not the API's JSON 404).
async fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "login.html",
        minijinja::context! { error => minijinja::context! { message => "there is no such page in the console" } },
    )
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../console/style.css"),
    )
        .into_response()
}

/// A time in milliseconds (a number, or a string as proto3 JSON writes 64-bit integers) as
/// RFC 3339 UTC; nothing for none.
fn when(value: Value) -> String {
    let ms = value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0);
    if ms <= 0 {
        return "—".into();
    }
    herald_core::time::rfc3339(ms)
}

/// An enum's name as proto3 JSON writes it, in words: `DELIVERY_STATUS_SUBMITTED` → `submitted`.
fn label(value: Value) -> String {
    const PREFIXES: &[&str] = &[
        "DELIVERY_STATUS_",
        "DEVICE_STATE_",
        "MESSAGE_STATE_",
        "MESSAGE_CLASS_",
        "PROVIDER_",
        "PLATFORM_",
        "BROWSER_",
        "WAIT_OUTCOME_",
        "API_KEY_SCOPE_",
        "ATTEMPT_OUTCOME_",
        "WEBHOOK_EVENT_",
        "SIGNATURE_SCHEME_",
        "WEBHOOK_AUTH_KIND_",
    ];
    let name = value.as_str().unwrap_or_default();
    let short = PREFIXES
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .unwrap_or(name);
    short.to_ascii_lowercase().replace('_', " ")
}

/// A query parameter's value, percent-encoded (RFC 3986: all but the unreserved characters).
fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in SOURCES {
            assert!(TEMPLATES.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            urlencode("alice smith&x=1/é"),
            "alice%20smith%26x%3D1%2F%C3%A9"
        );
        assert_eq!(urlencode("a-b_c.d~"), "a-b_c.d~");
    }

    #[test]
    fn the_pages_filters_render() {
        let env = &*TEMPLATES;
        let render = |source: &str, ctx: Value| env.render_str(source, ctx).unwrap();
        assert_eq!(render("{{ x|default(0) }}", minijinja::context! {}), "0");
        assert_eq!(
            render("{{ x|default(0) }}", minijinja::context! { x => 3 }),
            "3"
        );
        assert_eq!(
            render(
                "{{ x is mapping }} {{ y is mapping }}",
                minijinja::context! { x => minijinja::context! { a => 1 }, y => "s" }
            ),
            "True False"
        );
    }

    #[test]
    fn enums_and_times_read_as_words() {
        assert_eq!(label(Value::from("DELIVERY_STATUS_SUBMITTED")), "submitted");
        assert_eq!(label(Value::from("PROVIDER_WEBPUSH")), "webpush");
        assert_eq!(label(Value::from("ONSUBMIT")), "onsubmit");
        assert_eq!(when(Value::from("0")), "—");
        assert!(when(Value::from("1764583200000")).starts_with("2025-12-01T10:00:00"));
        assert!(when(Value::from(1764583200000_i64)).starts_with("2025-12-01T10:00:00"));
    }
}
