//! The console's pages: each reads what it shows through the API's own handlers, with the
//! signed-in key, and a form's post makes the call its button names, then shows the page again
//! with what came of it.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use herald_core::names::Named;
use herald_core::time::now_ms;
use herald_proto::v1::admin_server::Admin;
use herald_proto::v1::credentials_server::Credentials;
use herald_proto::v1::devices_server::Devices;
use herald_proto::v1::events_server::Events;
use herald_proto::v1::notifications_server::Notifications;
use herald_proto::v1::topics_server::Topics;
use herald_proto::v1::webhooks_server::Webhooks;
use herald_proto::v1::*;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use tonic_types::StatusExt as _;

use super::chart;
use super::session::Session;
use crate::Api;

/// What an API call answered, for a template: its answer, or what it refused and why.
type Shown = Result<Value, Value>;

fn shown<T: Serialize>(answer: Result<tonic::Response<T>, tonic::Status>) -> Shown {
    answer
        .map(|r| Value::from_serialize(r.into_inner()))
        .map_err(|status| failure(&status))
}

/// A refusal as a page shows it: the message and the field at fault.
fn failure(status: &tonic::Status) -> Value {
    let field = status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default();
    context! { code => format!("{:?}", status.code()), message => status.message(), field => field }
}

/// A refusal the console makes itself (a form it cannot read).
fn refused(field: &str, message: impl std::fmt::Display) -> Value {
    context! { code => "InvalidArgument", message => message.to_string(), field => field }
}

/// The page `template` with `values` and the layout's (who is signed in, the current section).
fn show(session: &Session, nav: &str, template: &str, values: Value) -> Response {
    let status = if values
        .get_attr("error")
        .is_ok_and(|e| !e.is_undefined() && !e.is_none())
    {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    super::page(
        status,
        template,
        context! { session => session.shown(), nav => nav, ..values },
    )
}

/// Which page of each list a page shows: the list's `next_page_token` from the page before
/// (tokens are sealed to their list, so one list's cannot page another).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct More {
    #[serde(default)]
    topics: String,
    #[serde(default)]
    segments: String,
    #[serde(default)]
    triggers: String,
    #[serde(default)]
    events: String,
    #[serde(default)]
    webhooks: String,
    #[serde(default)]
    attempts: String,
}

/// The tenant's pages are not the operator's: the operator goes to the tenants page.
fn operator_away(session: &Session) -> Option<Response> {
    match session.tenant() {
        Some(_) => None,
        None => Some(Redirect::to("/console/tenants").into_response()),
    }
}

/// The value a form spells in words (`fcm`, `android`, `active`), or a refusal naming `field`.
fn named<T: Named>(field: &str, name: &str) -> Result<T, Value> {
    T::from_name(name).ok_or_else(|| refused(field, format!("one of: {}", T::spellings())))
}

/// What a form did, told to the page it redirects to (Post/Redirect/Get: reloading that page
/// repeats nothing). A fixed set of notices, so a link cannot make a page say anything else;
/// `what` names the thing (an id, a provider), kept to the characters of one.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
    #[serde(default)]
    what: String,
}

impl Done {
    /// The redirect to `page` that tells it `done` about `what`.
    fn to(page: &str, done: &str, what: &str) -> Response {
        let separator = if page.contains('?') { '&' } else { '?' };
        let what = super::urlencode(what);
        Redirect::to(&format!("{page}{separator}done={done}&what={what}")).into_response()
    }

    /// The page's notice (and what it shows beside it), if a form sent it here.
    fn notice(&self) -> Value {
        let what: String = self
            .what
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_-.:@".contains(*c))
            .take(128)
            .collect();
        let notice = match self.done.as_str() {
            "credential_saved" => format!("{what} credential saved"),
            "credential_deleted" => format!("{what} credential deleted"),
            "vapid" => {
                return context! { notice => "Web Push keys generated", vapid_public_key => what };
            }
            "device_registered" => format!("device {what} registered"),
            "topic_created" => format!("topic {what} created"),
            "segment_created" => format!("segment {what} created"),
            "trigger_created" => format!("trigger {what} created"),
            "key_revoked" => format!("key {what} revoked"),
            "replayed" if what == "1" => "1 event queued again".to_owned(),
            "replayed" => format!("{what} events queued again"),
            "test_sent" => format!(
                "Test notification sent: the provider's answer is {}",
                what.to_lowercase()
            ),
            _ => return context! {},
        };
        context! { notice => notice }
    }
}

pub(crate) async fn home(session: Session) -> Response {
    match session.tenant() {
        Some(_) => Redirect::to("/console/credentials").into_response(),
        None => Redirect::to("/console/tenants").into_response(),
    }
}

// ---- Operator: tenants and API keys ----------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TenantsForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    key_id: String,
    #[serde(default)]
    page_token: String,
}

pub(crate) async fn tenants(
    State(api): State<Api>,
    session: Session,
    Query(form): Query<TenantsForm>,
    Query(done): Query<Done>,
) -> Response {
    tenants_page(&api, &session, &form, done.notice()).await
}

/// The tenants page: the keys of the tenant `form` names, with `outcome` (what a post did).
async fn tenants_page(
    api: &Api,
    session: &Session,
    form: &TenantsForm,
    outcome: Value,
) -> Response {
    if session.tenant().is_some() {
        return Redirect::to("/console/credentials").into_response();
    }
    let keys = if form.tenant_id.is_empty() {
        None
    } else {
        Some(shown(
            api.list_api_keys(session.request(ListApiKeysRequest {
                tenant_id: form.tenant_id.clone(),
                page_size: 100,
                page_token: String::new(),
            }))
            .await,
        ))
    };
    let (keys, keys_error) = split(keys);
    let (tenants, tenants_error) = listed(
        api.list_tenants(session.request(ListTenantsRequest {
            page_size: 100,
            page_token: form.page_token.clone(),
        }))
        .await,
    );
    show(
        session,
        "tenants",
        "tenants.html",
        context! {
            tenant_id => form.tenant_id,
            keys => keys,
            keys_error => keys_error,
            tenants => tenants,
            tenants_error => tenants_error,
            ..outcome
        },
    )
}

/// A list call's answer as two template values: what it said, what it refused.
fn listed<T: Serialize>(answer: Result<tonic::Response<T>, tonic::Status>) -> (Value, Value) {
    split(Some(shown(answer)))
}

/// An optional answer as two template values: what it said, what it refused.
fn split(answer: Option<Shown>) -> (Value, Value) {
    match answer {
        Some(Ok(value)) => (value, Value::from(())),
        Some(Err(error)) => (Value::from(()), error),
        None => (Value::from(()), Value::from(())),
    }
}

pub(crate) async fn tenants_action(
    State(api): State<Api>,
    session: Session,
    Form(mut form): Form<TenantsForm>,
) -> Response {
    if session.tenant().is_some() {
        return Redirect::to("/console/credentials").into_response();
    }
    let outcome = match form.action.as_str() {
        "create_tenant" => {
            let created = api
                .create_tenant(session.request(CreateTenantRequest {
                    display_name: form.display_name.clone(),
                }))
                .await;
            match created {
                Ok(tenant) => {
                    let tenant = tenant.into_inner();
                    form.tenant_id = tenant.tenant_id.clone();
                    let key = api
                        .create_api_key(session.request(CreateApiKeyRequest {
                            tenant_id: tenant.tenant_id.clone(),
                            display_name: "first key".into(),
                            scope: ApiKeyScope::Server as i32,
                        }))
                        .await;
                    match key {
                        Ok(key) => context! {
                            created_tenant => Value::from_serialize(&tenant),
                            new_key => key.into_inner().key,
                        },
                        Err(status) => context! { error => failure(&status) },
                    }
                }
                Err(status) => context! { error => failure(&status) },
            }
        }
        "create_key" => match named::<ApiKeyScope>("scope", &form.scope) {
            Ok(scope) => match api
                .create_api_key(session.request(CreateApiKeyRequest {
                    tenant_id: form.tenant_id.clone(),
                    display_name: form.display_name.clone(),
                    scope: scope as i32,
                }))
                .await
            {
                Ok(key) => context! { new_key => key.into_inner().key },
                Err(status) => context! { error => failure(&status) },
            },
            Err(error) => context! { error => error },
        },
        "revoke_key" => match api
            .revoke_api_key(session.request(RevokeApiKeyRequest {
                tenant_id: form.tenant_id.clone(),
                key_id: form.key_id.clone(),
            }))
            .await
        {
            Ok(_) => {
                let page = format!(
                    "/console/tenants?tenant_id={}",
                    super::urlencode(&form.tenant_id)
                );
                return Done::to(&page, "key_revoked", &form.key_id);
            }
            Err(status) => context! { error => failure(&status) },
        },
        other => context! { error => refused("action", format!("no such action {other:?}")) },
    };
    tenants_page(&api, &session, &form, outcome).await
}

// ---- Provider credentials ------------------------------------------------------------------

pub(crate) async fn credentials(
    State(api): State<Api>,
    session: Session,
    Query(done): Query<Done>,
) -> Response {
    credentials_page(&api, &session, done.notice()).await
}

async fn credentials_page(api: &Api, session: &Session, outcome: Value) -> Response {
    if let Some(to) = operator_away(session) {
        return to;
    }
    let (list, list_error) = listed(
        api.list_credentials(session.request(ListCredentialsRequest {
            page_size: 100,
            page_token: String::new(),
        }))
        .await,
    );
    show(
        session,
        "credentials",
        "credentials.html",
        context! { credentials => list, list_error => list_error, ..outcome },
    )
}

/// A multipart form's fields, each as text (a service-account JSON and a .p8 key are text).
async fn fields(mut form: Multipart) -> Result<HashMap<String, String>, Value> {
    let mut fields = HashMap::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| refused("form", e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let text = field
            .text()
            .await
            .map_err(|e| refused(&name, format!("not text: {}", e.body_text())))?;
        fields.insert(name, text);
    }
    Ok(fields)
}

/// Stores a credential from the form's fields and shows the credentials page with the result.
async fn set_credential(
    api: &Api,
    session: &Session,
    credential: Result<set_credential_request::Credential, Value>,
) -> Response {
    let outcome = match credential {
        Ok(credential) => match api
            .set_credential(session.request(SetCredentialRequest {
                credential: Some(credential),
                label: String::new(),
            }))
            .await
        {
            Ok(info) => {
                let provider = Provider::try_from(info.into_inner().provider).unwrap_or_default();
                return Done::to("/console/credentials", "credential_saved", provider.name());
            }
            Err(status) => context! { error => failure(&status) },
        },
        Err(error) => context! { error => error },
    };
    credentials_page(api, session, outcome).await
}

/// A form field, or a refusal naming it.
fn field(fields: &HashMap<String, String>, name: &str) -> Result<String, Value> {
    fields
        .get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| refused(name, format!("{name} is required")))
}

pub(crate) async fn set_fcm(State(api): State<Api>, session: Session, form: Multipart) -> Response {
    let credential = fields(form).await.and_then(|f| {
        Ok(set_credential_request::Credential::Fcm(FcmCredential {
            service_account_json: field(&f, "service_account")?,
            project_id: f.get("project_id").cloned().unwrap_or_default(),
        }))
    });
    set_credential(&api, &session, credential).await
}

pub(crate) async fn set_apns(
    State(api): State<Api>,
    session: Session,
    form: Multipart,
) -> Response {
    let credential = fields(form).await.and_then(|f| {
        Ok(set_credential_request::Credential::Apns(ApnsCredential {
            auth: Some(apns_credential::Auth::Token(ApnsTokenAuth {
                private_key_pem: field(&f, "key_file")?,
                key_id: field(&f, "key_id")?,
                team_id: field(&f, "team_id")?,
            })),
            bundle_id: field(&f, "bundle_id")?,
            sandbox: f.get("environment").is_some_and(|e| e == "sandbox"),
        }))
    });
    set_credential(&api, &session, credential).await
}

pub(crate) async fn set_hms(State(api): State<Api>, session: Session, form: Multipart) -> Response {
    let credential = fields(form).await.and_then(|f| {
        Ok(set_credential_request::Credential::Hms(HmsCredential {
            app_id: field(&f, "app_id")?,
            app_secret: field(&f, "app_secret")?,
            badge_class: f.get("badge_class").cloned().unwrap_or_default(),
        }))
    });
    set_credential(&api, &session, credential).await
}

#[derive(Deserialize)]
pub(crate) struct VapidForm {
    subject: String,
}

pub(crate) async fn set_webpush(
    State(api): State<Api>,
    session: Session,
    Form(form): Form<VapidForm>,
) -> Response {
    let outcome = match api
        .generate_vapid_keys(session.request(GenerateVapidKeysRequest {
            subject: form.subject,
        }))
        .await
    {
        Ok(key) => {
            return Done::to(
                "/console/credentials",
                "vapid",
                &key.into_inner().public_key,
            );
        }
        Err(status) => context! { error => failure(&status) },
    };
    credentials_page(&api, &session, outcome).await
}

pub(crate) async fn test_connection(
    State(api): State<Api>,
    session: Session,
    Path(provider): Path<String>,
) -> Response {
    let outcome = match named::<Provider>("provider", &provider) {
        Ok(p) => match api
            .test_connection(session.request(TestConnectionRequest { provider: p as i32 }))
            .await
        {
            Ok(answer) => {
                let answer = answer.into_inner();
                context! { tested => context! { provider => provider, ok => answer.ok, detail => answer.detail } }
            }
            Err(status) => context! { error => failure(&status) },
        },
        Err(error) => context! { error => error },
    };
    credentials_page(&api, &session, outcome).await
}

#[derive(Deserialize)]
pub(crate) struct SendTestForm {
    device_id: String,
    title: String,
    #[serde(default)]
    body: String,
}

pub(crate) async fn send_test(
    State(api): State<Api>,
    session: Session,
    Path(provider): Path<String>,
    Form(form): Form<SendTestForm>,
) -> Response {
    let outcome = match named::<Provider>("provider", &provider) {
        Ok(p) => match shown(
            api.send_test_notification(session.request(SendTestNotificationRequest {
                provider: p as i32,
                device_id: form.device_id.trim().to_owned(),
                title: form.title,
                body: form.body,
            }))
            .await,
        ) {
            Ok(sent) => {
                let (id, outcome) = (sent.get_attr("message_id"), sent.get_attr("outcome"));
                let id = id.map(|v| v.to_string()).unwrap_or_default();
                let outcome = outcome.map(|v| v.to_string()).unwrap_or_default();
                let outcome = outcome.trim_start_matches("WAIT_OUTCOME_");
                return Done::to(&format!("/console/messages/{id}"), "test_sent", outcome);
            }
            Err(error) => context! { error => error },
        },
        Err(error) => context! { error => error },
    };
    credentials_page(&api, &session, outcome).await
}

pub(crate) async fn delete_credential(
    State(api): State<Api>,
    session: Session,
    Path(provider): Path<String>,
) -> Response {
    let outcome = match named::<Provider>("provider", &provider) {
        Ok(p) => match api
            .delete_credential(session.request(DeleteCredentialRequest { provider: p as i32 }))
            .await
        {
            Ok(_) => return Done::to("/console/credentials", "credential_deleted", &provider),
            Err(status) => context! { error => failure(&status) },
        },
        Err(error) => context! { error => error },
    };
    credentials_page(&api, &session, outcome).await
}

// ---- Devices -------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct DeviceFilter {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    page_token: String,
}

impl DeviceFilter {
    fn request(&self) -> Result<ListDevicesRequest, Value> {
        let platform = match self.platform.as_str() {
            "" => Platform::Unspecified,
            name => named("platform", name)?,
        };
        let state = match self.state.as_str() {
            "" => DeviceState::Unspecified,
            name => named("state", name)?,
        };
        Ok(ListDevicesRequest {
            user_id: self.user_id.trim().to_owned(),
            page_size: 50,
            page_token: self.page_token.clone(),
            platform: platform as i32,
            browser: 0,
            state: state as i32,
        })
    }
}

pub(crate) async fn devices(
    State(api): State<Api>,
    session: Session,
    Query(filter): Query<DeviceFilter>,
    Query(done): Query<Done>,
) -> Response {
    devices_page(&api, &session, &filter, done.notice()).await
}

async fn devices_page(
    api: &Api,
    session: &Session,
    filter: &DeviceFilter,
    outcome: Value,
) -> Response {
    if let Some(to) = operator_away(session) {
        return to;
    }
    let (list, list_error) = match filter.request() {
        Ok(request) => listed(api.list_devices(session.request(request)).await),
        Err(error) => (Value::from(()), error),
    };
    show(
        session,
        "devices",
        "devices.html",
        context! {
            filter => Value::from_serialize(filter),
            devices => list,
            list_error => list_error,
            platforms => Platform::ALL.iter().map(|p| p.name()).collect::<Vec<_>>(),
            states => DeviceState::ALL.iter().map(|s| s.name()).collect::<Vec<_>>(),
            browsers => Browser::ALL.iter().map(|b| b.name()).collect::<Vec<_>>(),
            ..outcome
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct DeviceForm {
    user_id: String,
    platform: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    browser: String,
    /// A browser's `PushSubscription.toJSON()`.
    #[serde(default)]
    subscription: String,
    #[serde(default)]
    locale: String,
}

impl DeviceForm {
    fn request(&self) -> Result<RegisterDeviceRequest, Value> {
        let platform: Platform = named("platform", &self.platform)?;
        let mut request = RegisterDeviceRequest {
            user_id: self.user_id.trim().to_owned(),
            platform: platform as i32,
            push_token: self.token.trim().to_owned(),
            locale: self.locale.trim().to_owned(),
            ..Default::default()
        };
        if !self.browser.is_empty() {
            request.browser = named::<Browser>("browser", &self.browser)? as i32;
        }
        if !self.subscription.trim().is_empty() {
            let subscription: herald_core::import::BrowserSubscription =
                serde_json::from_str(&self.subscription).map_err(|err| {
                    refused(
                        "subscription",
                        format!("not a PushSubscription's JSON: {err}"),
                    )
                })?;
            request.web_subscription = Some(subscription.into());
        }
        Ok(request)
    }
}

pub(crate) async fn register_device(
    State(api): State<Api>,
    session: Session,
    Form(form): Form<DeviceForm>,
) -> Response {
    let outcome = match form.request() {
        Ok(request) => match api.register_device(session.request(request)).await {
            Ok(answer) => {
                let device = answer.into_inner().device.unwrap_or_default();
                let page = format!(
                    "/console/devices?user_id={}",
                    super::urlencode(&device.user_id)
                );
                return Done::to(&page, "device_registered", &device.device_id);
            }
            Err(status) => context! { error => failure(&status) },
        },
        Err(error) => context! { error => error },
    };
    devices_page(&api, &session, &DeviceFilter::default(), outcome).await
}

// ---- Messages ------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MessagesQuery {
    #[serde(default)]
    message_id: String,
    #[serde(default)]
    page_token: String,
}

pub(crate) async fn messages(
    State(api): State<Api>,
    session: Session,
    Query(query): Query<MessagesQuery>,
) -> Response {
    if let Some(to) = operator_away(&session) {
        return to;
    }
    let id = query.message_id.trim();
    if !id.is_empty() {
        if id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Redirect::to(&format!("/console/messages/{id}")).into_response();
        }
        return show(
            &session,
            "messages",
            "messages.html",
            context! { error => refused("message_id", "not a message id") },
        );
    }
    let (list, list_error) = listed(
        api.list_messages(session.request(ListMessagesRequest {
            page_size: 50,
            page_token: query.page_token,
        }))
        .await,
    );
    show(
        &session,
        "messages",
        "messages.html",
        context! { messages => list, list_error => list_error },
    )
}

/// The deliveries a message's page lists (its counts cover them all).
const SHOWN_DELIVERIES: usize = 100;

pub(crate) async fn message(
    State(api): State<Api>,
    session: Session,
    Path(message_id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let Some(tenant) = session.tenant().cloned() else {
        return Redirect::to("/console/tenants").into_response();
    };
    let message = match shown(
        api.get_message(session.request(GetMessageRequest {
            message_id: message_id.clone(),
        }))
        .await,
    ) {
        Ok(message) => message,
        Err(error) => {
            return show(
                &session,
                "messages",
                "message.html",
                context! { error => error },
            );
        }
    };
    let stats = shown(
        api.get_message_stats(session.request(GetMessageStatsRequest {
            message_id: message_id.clone(),
        }))
        .await,
    )
    .ok();
    let steps = super::timeline::steps(&api.bus, &tenant, &message_id).await;
    let delivery_count = message
        .get_attr("deliveries")
        .ok()
        .and_then(|d| d.len())
        .unwrap_or(0);
    show(
        &session,
        "messages",
        "message.html",
        context! {
            m => message,
            stats => stats,
            steps => Value::from_serialize(&steps),
            delivery_count => delivery_count,
            shown_deliveries => SHOWN_DELIVERIES,
            ..done.notice()
        },
    )
}

// ---- Audiences, triggers, webhooks -----------------------------------------------------------

pub(crate) async fn audiences(
    State(api): State<Api>,
    session: Session,
    Query(done): Query<Done>,
    Query(more): Query<More>,
) -> Response {
    audiences_page(&api, &session, &more, done.notice()).await
}

async fn audiences_page(api: &Api, session: &Session, more: &More, outcome: Value) -> Response {
    if let Some(to) = operator_away(session) {
        return to;
    }
    let (topics, topics_error) = listed(
        api.list_topics(session.request(ListTopicsRequest {
            page_size: 100,
            page_token: more.topics.clone(),
        }))
        .await,
    );
    let (segments, segments_error) = listed(
        api.list_segments(session.request(ListSegmentsRequest {
            page_size: 50,
            page_token: more.segments.clone(),
            with_audience_size: true,
        }))
        .await,
    );
    show(
        session,
        "audiences",
        "audiences.html",
        context! { topics, topics_error, segments, segments_error, ..outcome },
    )
}

#[derive(Deserialize)]
pub(crate) struct AudienceForm {
    action: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    expression: String,
}

pub(crate) async fn create_audience(
    State(api): State<Api>,
    session: Session,
    Form(form): Form<AudienceForm>,
) -> Response {
    let name = form.name.trim().to_owned();
    let outcome = match form.action.as_str() {
        "create_topic" => match api
            .create_topic(session.request(CreateTopicRequest {
                name,
                description: form.description,
            }))
            .await
        {
            Ok(topic) => {
                return Done::to(
                    "/console/audiences",
                    "topic_created",
                    &topic.into_inner().name,
                );
            }
            Err(status) => context! { error => failure(&status) },
        },
        "create_segment" => match api
            .create_segment(session.request(CreateSegmentRequest {
                name,
                expression: form.expression,
            }))
            .await
        {
            Ok(segment) => {
                let name = segment.into_inner().name;
                return Done::to("/console/audiences", "segment_created", &name);
            }
            Err(status) => context! { error => failure(&status) },
        },
        other => context! { error => refused("action", format!("no such action {other:?}")) },
    };
    audiences_page(&api, &session, &More::default(), outcome).await
}

pub(crate) async fn triggers(
    State(api): State<Api>,
    session: Session,
    Query(done): Query<Done>,
    Query(more): Query<More>,
) -> Response {
    triggers_page(&api, &session, &more, done.notice()).await
}

async fn triggers_page(api: &Api, session: &Session, more: &More, outcome: Value) -> Response {
    if let Some(to) = operator_away(session) {
        return to;
    }
    let (triggers, triggers_error) = listed(
        api.list_triggers(session.request(ListTriggersRequest {
            page_size: 100,
            page_token: more.triggers.clone(),
            ..Default::default()
        }))
        .await,
    );
    let (events, events_error) = listed(
        api.list_events(session.request(ListEventsRequest {
            page_size: 25,
            page_token: more.events.clone(),
            ..Default::default()
        }))
        .await,
    );
    show(
        session,
        "triggers",
        "triggers.html",
        context! { triggers, triggers_error, events, events_error, ..outcome },
    )
}

#[derive(Deserialize)]
pub(crate) struct TriggerForm {
    display_name: String,
    event_type: String,
    #[serde(default)]
    condition: String,
    title: String,
    #[serde(default)]
    body: String,
    /// `user_id`, `topic` or `mobile_sessions`.
    to: String,
    /// The destination's template (`{{ event.user }}`), for a user or a topic.
    #[serde(default)]
    target: String,
}

impl TriggerForm {
    fn request(self) -> Result<CreateTriggerRequest, Value> {
        let target = self.target.trim().to_owned();
        let (destination, mobile_sessions) = match self.to.as_str() {
            "user_id" => (Some(destination::Kind::UserId(target)), false),
            "topic" => (Some(destination::Kind::Topic(target)), false),
            "mobile_sessions" => (None, true),
            other => return Err(refused("to", format!("no such destination {other:?}"))),
        };
        Ok(CreateTriggerRequest {
            display_name: self.display_name,
            event_type: self.event_type.trim().to_owned(),
            condition: self.condition,
            template: Some(Notification {
                title: self.title,
                body: self.body,
                ..Default::default()
            }),
            destination: destination.map(|kind| Destination { kind: Some(kind) }),
            mobile_sessions,
            ..Default::default()
        })
    }
}

pub(crate) async fn create_trigger(
    State(api): State<Api>,
    session: Session,
    Form(form): Form<TriggerForm>,
) -> Response {
    let outcome = match form.request() {
        Ok(request) => match api.create_trigger(session.request(request)).await {
            Ok(trigger) => {
                let id = trigger.into_inner().trigger_id;
                return Done::to("/console/triggers", "trigger_created", &id);
            }
            Err(status) => context! { error => failure(&status) },
        },
        Err(error) => context! { error => error },
    };
    triggers_page(&api, &session, &More::default(), outcome).await
}

pub(crate) async fn webhooks(
    State(api): State<Api>,
    session: Session,
    Query(more): Query<More>,
) -> Response {
    webhooks_page(&api, &session, &more, context! {}).await
}

async fn webhooks_page(api: &Api, session: &Session, more: &More, outcome: Value) -> Response {
    if let Some(to) = operator_away(session) {
        return to;
    }
    let (webhooks, webhooks_error) = listed(
        api.list_webhooks(session.request(ListWebhooksRequest {
            page_size: 100,
            page_token: more.webhooks.clone(),
        }))
        .await,
    );
    show(
        session,
        "webhooks",
        "webhooks.html",
        context! {
            webhooks,
            webhooks_error,
            events => WebhookEvent::ALL.iter().map(|e| e.name()).collect::<Vec<_>>(),
            schemes => SignatureScheme::ALL.iter().map(|s| s.name()).collect::<Vec<_>>(),
            ..outcome
        },
    )
}

/// A new endpoint from the form's fields: `url`, `description`, `scheme`, and an `event` for
/// each event it chose.
fn webhook_request(fields: &[(String, String)]) -> Result<CreateWebhookRequest, Value> {
    let mut request = CreateWebhookRequest::default();
    for (name, value) in fields {
        match name.as_str() {
            "url" => request.url = value.trim().to_owned(),
            "description" => request.description = value.clone(),
            "scheme" => {
                request.signature_scheme = named::<SignatureScheme>("scheme", value)? as i32
            }
            "event" => request
                .events
                .push(named::<WebhookEvent>("events", value)? as i32),
            other => return Err(refused(other, "not a field of this form")),
        }
    }
    Ok(request)
}

pub(crate) async fn create_webhook(
    State(api): State<Api>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let outcome = match webhook_request(&fields) {
        Ok(request) => match api.create_webhook(session.request(request)).await {
            Ok(created) => {
                let created = created.into_inner();
                context! {
                    notice => format!(
                        "endpoint {} created: its test call was answered",
                        created.webhook.unwrap_or_default().webhook_id
                    ),
                    new_secret => created.secret,
                }
            }
            Err(status) => context! { error => failure(&status) },
        },
        Err(error) => context! { error => error },
    };
    webhooks_page(&api, &session, &More::default(), outcome).await
}

pub(crate) async fn webhook(
    State(api): State<Api>,
    session: Session,
    Path(webhook_id): Path<String>,
    Query(done): Query<Done>,
    Query(more): Query<More>,
) -> Response {
    webhook_page(&api, &session, &webhook_id, &more, done.notice()).await
}

async fn webhook_page(
    api: &Api,
    session: &Session,
    webhook_id: &str,
    more: &More,
    outcome: Value,
) -> Response {
    if let Some(to) = operator_away(session) {
        return to;
    }
    let (webhook, webhook_error) = listed(
        api.get_webhook(session.request(GetWebhookRequest {
            webhook_id: webhook_id.to_owned(),
        }))
        .await,
    );
    let (attempts, attempts_error) = listed(
        api.list_webhook_attempts(session.request(ListWebhookAttemptsRequest {
            webhook_id: webhook_id.to_owned(),
            page_size: 50,
            page_token: more.attempts.clone(),
            ..Default::default()
        }))
        .await,
    );
    show(
        session,
        "webhooks",
        "webhook.html",
        context! { webhook, webhook_error, attempts, attempts_error, ..outcome },
    )
}

#[derive(Deserialize)]
pub(crate) struct ReplayForm {
    message_id: String,
}

pub(crate) async fn replay_webhook(
    State(api): State<Api>,
    session: Session,
    Path(webhook_id): Path<String>,
    Form(form): Form<ReplayForm>,
) -> Response {
    let outcome = match api
        .replay_webhook(session.request(ReplayWebhookRequest {
            webhook_id: webhook_id.clone(),
            message_id: form.message_id.trim().to_owned(),
        }))
        .await
    {
        Ok(answer) => {
            let page = format!("/console/webhooks/{}", super::urlencode(&webhook_id));
            return Done::to(&page, "replayed", &answer.into_inner().queued.to_string());
        }
        Err(status) => context! { error => failure(&status) },
    };
    webhook_page(&api, &session, &webhook_id, &More::default(), outcome).await
}

// ---- Analytics -----------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(crate) struct AnalyticsQuery {
    #[serde(default = "a_week")]
    days: u32,
    #[serde(default)]
    provider: String,
}

fn a_week() -> u32 {
    7
}

const DAY_MS: i64 = 24 * 3600 * 1000;

pub(crate) async fn analytics(
    State(api): State<Api>,
    session: Session,
    Query(query): Query<AnalyticsQuery>,
) -> Response {
    if let Some(to) = operator_away(&session) {
        return to;
    }
    let days = query.days.clamp(1, 90);
    let provider = match query.provider.as_str() {
        "" => Ok(Provider::Unspecified),
        name => named::<Provider>("provider", name),
    };
    let now = now_ms();
    let period: Vec<String> = (0..i64::from(days))
        .rev()
        .map(|back| herald_core::time::rfc3339(now - back * DAY_MS)[..10].to_owned())
        .collect();
    let answer = match provider {
        Ok(provider) => api
            .get_delivery_stats(session.request(GetDeliveryStatsRequest {
                since_ms: now - i64::from(days - 1) * DAY_MS,
                until_ms: now,
                provider: provider as i32,
            }))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| failure(&status)),
        Err(error) => Err(error),
    };
    let values = match answer {
        Ok(stats) => {
            let per_day = chart::per_day(&stats, &period);
            context! {
                chart => Value::from_serialize(chart::lay_out(&per_day)),
                series => chart::SERIES,
                per_day => Value::from_serialize(&per_day),
                stats => Value::from_serialize(&stats),
            }
        }
        Err(error) => context! { error => error },
    };
    show(
        &session,
        "analytics",
        "analytics.html",
        context! {
            days => days,
            provider => query.provider,
            providers => Provider::ALL.iter().map(|p| p.name()).collect::<Vec<_>>(),
            ..values
        },
    )
}
