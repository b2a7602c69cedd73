//! Signing in to the console: a key (the admin key, or a tenant's server key) checked as the API
//! checks it, then kept sealed under the master key in an HttpOnly, SameSite=Strict cookie for
//! eight hours. Each page opens it and calls the API with the key, so a revoked key ends its
//! sessions at once; signing out ends the session in the store too, so a copy of the cookie
//! opens nothing afterwards.

use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_core::ids::TenantId;
use herald_core::time::now_ms;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::metadata::MetadataMap;

use crate::Api;
use crate::auth::Caller;

const COOKIE: &str = "herald_console";
/// What the sealed cookie is bound to: nothing else opens it.
const SEAL_CONTEXT: &str = "console-session";
const LIFETIME_MS: i64 = 8 * 3600 * 1000;

/// Who is signed in.
#[derive(Clone, Debug)]
pub(crate) enum Who {
    Operator,
    Tenant(TenantId),
}

/// A signed-in console user: the key every page calls the API with.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    key: String,
    pub who: Who,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    /// The session's own id (random), which signing out ends.
    id: String,
    key: String,
    expires_at_ms: i64,
}

impl Sealed {
    /// The session a request's cookie carries, if it opens and has not expired.
    fn of(api: &Api, headers: &HeaderMap) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(cookie(headers)?).ok()?;
        let opened = api.config.master_key.open(SEAL_CONTEXT, &bytes).ok()?;
        let sealed: Sealed = serde_json::from_slice(&opened).ok()?;
        (sealed.expires_at_ms >= now_ms()).then_some(sealed)
    }
}

impl Session {
    /// `message` as a call of this session's key.
    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Ok(value) = format!("Bearer {}", self.key).parse() {
            request.metadata_mut().insert("authorization", value);
        }
        request
    }

    /// What the layout shows of the session (never the key).
    pub(crate) fn shown(&self) -> minijinja::Value {
        match &self.who {
            Who::Operator => context! { operator => true },
            Who::Tenant(tenant) => context! { operator => false, tenant => tenant.as_str() },
        }
    }

    /// The tenant signed in; a console page of a tenant's data refuses the operator.
    pub(crate) fn tenant(&self) -> Option<&TenantId> {
        match &self.who {
            Who::Tenant(tenant) => Some(tenant),
            Who::Operator => None,
        }
    }
}

/// Who `key` is, as the API would take it: the admin key, or a tenant's server key (an app
/// client key may not sign in).
async fn check(api: &Api, key: &str) -> Result<Who, String> {
    let mut metadata = MetadataMap::new();
    let value = format!("Bearer {key}")
        .parse()
        .map_err(|_| "that is not an API key".to_owned())?;
    metadata.insert("authorization", value);
    match api.caller(&metadata).await {
        Ok(Caller::Admin) => Ok(Who::Operator),
        Ok(Caller::Tenant(tenant)) => Ok(Who::Tenant(tenant)),
        Ok(Caller::App(_)) => {
            Err("an app client key cannot sign in: use a server key or the admin key".into())
        }
        Err(err) => Err(err.to_string()),
    }
}

impl FromRequestParts<Api> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Self::Rejection> {
        if parts.method == Method::POST && !same_origin(&parts.headers) {
            return Err((StatusCode::FORBIDDEN, "cross-origin form refused").into_response());
        }
        let to_login = || Redirect::to("/console/login").into_response();
        let sealed = Sealed::of(api, &parts.headers).ok_or_else(to_login)?;
        if api
            .store
            .console_session_ended(&sealed.id)
            .await
            .unwrap_or(true)
        {
            return Err(to_login());
        }
        let who = check(api, &sealed.key).await.map_err(|_| to_login())?;
        Ok(Session {
            key: sealed.key,
            who,
        })
    }
}

/// The session cookie's value, if the request has one.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// A form posted from a console page: a browser sends `Origin` with every POST, and it must be
/// this server's (SameSite=Strict already keeps the cookie off other sites' forms).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority == host)
}

pub(crate) async fn login_page() -> Response {
    super::page(StatusCode::OK, "login.html", context! {})
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    key: String,
}

pub(crate) async fn login(
    State(api): State<Api>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form refused").into_response();
    }
    let key = form.key.trim();
    let who = match check(&api, key).await {
        Ok(who) => who,
        Err(error) => {
            return super::page(
                StatusCode::UNAUTHORIZED,
                "login.html",
                context! { error => context! { message => error } },
            );
        }
    };
    let sealed = serde_json::to_vec(&Sealed {
        id: herald_core::crypto::hex(&herald_core::crypto::random_bytes::<16>()),
        key: key.to_owned(),
        expires_at_ms: now_ms() + LIFETIME_MS,
    })
    .unwrap_or_default();
    let value = URL_SAFE_NO_PAD.encode(api.config.master_key.seal(SEAL_CONTEXT, &sealed));
    let cookie = format!(
        "{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}",
        LIFETIME_MS / 1000
    );
    let start = match who {
        Who::Operator => "/console/tenants",
        Who::Tenant(_) => "/console/credentials",
    };
    let mut response = Redirect::to(start).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub(crate) async fn logout(State(api): State<Api>, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form refused").into_response();
    }
    if let Some(sealed) = Sealed::of(&api, &headers)
        && let Err(err) = api
            .store
            .end_console_session(&sealed.id, sealed.expires_at_ms)
            .await
    {
        tracing::error!(%err, "a console session could not be ended");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the session could not be ended; try again",
        )
            .into_response();
    }
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "herald_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; herald_console=abc; b=2"),
        );
        assert_eq!(cookie(&headers), Some("abc"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("herald_console_x=1"),
        );
        assert_eq!(cookie(&headers), None);
    }

    #[test]
    fn a_form_from_another_origin_is_told_apart() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:50051"));
        assert!(
            same_origin(&headers),
            "no Origin: not a cross-site browser form"
        );
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:50051"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&headers));
    }
}
