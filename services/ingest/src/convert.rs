//! Store records → API messages.

use herald_core::timing::QuietHours;
use herald_proto::bus::v1::MessageAccepted;
use herald_proto::v1::*;
use herald_store::{ApiKeyRecord, CredentialRecord, DeviceRecord, MessageRecord, TenantRecord};

pub(crate) fn tenant_of(record: TenantRecord) -> Tenant {
    Tenant {
        tenant_id: record.id.into_string(),
        display_name: record.display_name,
        created_at_ms: record.created_at,
        settings: Some(TenantSettings {
            allow_http_web_push: record.settings.allow_http_web_push,
            topic_messaging_disabled: record.settings.topic_messaging_disabled,
            segment_messaging_disabled: record.settings.segment_messaging_disabled,
            default_time_zone: record.settings.default_time_zone,
            quiet_hours: record.settings.quiet_hours.as_ref().map(QuietHours::to_api),
            frequency_caps: record
                .settings
                .frequency_caps
                .iter()
                .map(herald_core::caps::Cap::to_api)
                .collect(),
            rate_limits: record
                .settings
                .rate_limits
                .iter()
                .map(herald_core::caps::RateLimit::to_api)
                .collect(),
        }),
    }
}

pub(crate) fn api_key(record: ApiKeyRecord) -> ApiKey {
    ApiKey {
        key_id: record.id.into_string(),
        tenant_id: record.tenant_id.into_string(),
        display_name: record.display_name,
        prefix: record.prefix,
        created_at_ms: record.created_at,
        revoked_at_ms: record.revoked_at.unwrap_or_default(),
        scope: record.scope.into(),
    }
}

pub(crate) fn device(record: DeviceRecord) -> Device {
    let profile = record.profile;
    let web_subscription = (profile.platform == Platform::Web).then(|| WebSubscription {
        endpoint: profile.push_token.clone(),
        p256dh: profile.web_p256dh,
        auth: profile.web_auth,
    });
    Device {
        device_id: record.id.into_string(),
        user_id: profile.user_id.unwrap_or_default(),
        customer_id: profile.customer_id.unwrap_or_default(),
        platform: profile.platform as i32,
        push_token: profile.push_token,
        browser: profile.browser.unwrap_or_default() as i32,
        web_subscription,
        sandbox: profile.sandbox,
        app_version: profile.app_version,
        locale: profile.locale,
        state: record.state as i32,
        state_reason: record.state_reason,
        created_at_ms: record.created_at,
        updated_at_ms: record.updated_at,
        last_active_at_ms: record.last_active_at,
        time_zone: profile.time_zone,
    }
}

pub(crate) fn message(record: MessageRecord, accepted: MessageAccepted) -> Message {
    Message {
        message_id: record.id.into_string(),
        destination: accepted.destination,
        notification: accepted.notification,
        state: record.state as i32,
        reason: record.reason,
        correlation_id: accepted.correlation_id,
        callback_data: record.callback_data,
        notify_url: record.notify_url,
        created_at_ms: record.created_at,
        expires_at_ms: record.expires_at,
        send_at_ms: record.send_at.unwrap_or_default(),
        class: accepted.class,
        local_time: accepted.local_time,
        throttle_per_minute: accepted.throttle_per_minute,
        removes_message_id: accepted.removes_message_id,
    }
}

pub(crate) fn credential(record: CredentialRecord) -> CredentialInfo {
    CredentialInfo {
        provider: record.provider as i32,
        label: record.label,
        identifier: record.identifier,
        principal: record.principal,
        updated_at_ms: record.updated_at,
    }
}
