//! Store records → API messages.

use herald_core::platform::{platform_from_name, provider_from_name};
use herald_core::status::status_from_name;
use herald_proto::bus::v1::MessageAccepted;
use herald_proto::v1::*;
use herald_store::{ApiKeyRecord, CredentialRecord, DeliveryRecord, DeviceRecord, MessageRecord};

pub(crate) fn api_key(record: ApiKeyRecord) -> ApiKey {
    ApiKey {
        key_id: record.id.into_string(),
        tenant_id: record.tenant_id.into_string(),
        name: record.name,
        prefix: record.prefix,
        created_at_ms: record.created_at,
        revoked_at_ms: record.revoked_at.unwrap_or_default(),
    }
}

fn browser_from_name(name: &str) -> Browser {
    Browser::from_str_name(name).unwrap_or(Browser::Unspecified)
}

fn device_state(state: &str) -> DeviceState {
    match state {
        "active" => DeviceState::Active,
        "inactive" => DeviceState::Inactive,
        "expired" => DeviceState::Expired,
        _ => DeviceState::Unspecified,
    }
}

pub(crate) fn device(record: DeviceRecord) -> Device {
    let profile = record.profile;
    let platform = platform_from_name(&profile.platform).unwrap_or(Platform::Unspecified);
    let web_subscription = (platform == Platform::Web).then(|| WebSubscription {
        endpoint: profile.push_token.clone(),
        p256dh: profile.web_p256dh,
        auth: profile.web_auth,
    });
    Device {
        device_id: record.id.into_string(),
        user_id: profile.user_id.unwrap_or_default(),
        customer_id: profile.customer_id.unwrap_or_default(),
        platform: platform as i32,
        push_token: profile.push_token,
        browser: browser_from_name(&profile.browser) as i32,
        web_subscription,
        sandbox: profile.sandbox,
        app_version: profile.app_version,
        locale: profile.locale,
        state: device_state(&record.state) as i32,
        state_reason: record.state_reason,
        created_at_ms: record.created_at,
        updated_at_ms: record.updated_at,
        last_active_at_ms: record.last_active_at,
    }
}

pub(crate) fn delivery(record: DeliveryRecord) -> Delivery {
    Delivery {
        delivery_id: record.id.into_string(),
        device_id: record.device_id.into_string(),
        provider: provider_from_name(&record.provider).unwrap_or(Provider::Unspecified) as i32,
        status: status_from_name(&record.status) as i32,
        reason: record.reason,
        provider_message_id: record.provider_message_id,
        attempts: u32::try_from(record.attempts).unwrap_or(u32::MAX),
        updated_at_ms: record.updated_at,
    }
}

fn message_state(state: &str) -> MessageState {
    match state {
        "accepted" => MessageState::Accepted,
        "routed" => MessageState::Routed,
        "failed" => MessageState::Failed,
        _ => MessageState::Unspecified,
    }
}

pub(crate) fn message(record: MessageRecord, accepted: MessageAccepted) -> Message {
    Message {
        message_id: record.id.into_string(),
        destination: accepted.destination,
        notification: accepted.notification,
        state: message_state(&record.state) as i32,
        reason: record.reason,
        correlation_id: accepted.correlation_id,
        callback_data: record.callback_data,
        notify_url: record.notify_url,
        created_at_ms: record.created_at,
        expires_at_ms: record.expires_at,
    }
}

pub(crate) fn credential(record: CredentialRecord) -> CredentialInfo {
    CredentialInfo {
        provider: provider_from_name(&record.provider).unwrap_or(Provider::Unspecified) as i32,
        label: record.label,
        identifier: record.identifier,
        principal: record.principal,
        updated_at_ms: record.updated_at,
    }
}
