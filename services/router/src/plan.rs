//! What the router decides, as pure functions over what it read: each message's deliveries (one
//! per device of a matching browser, its id derived from message and device), the messages
//! that cannot be routed and why, and the bus messages those deliveries become.

use herald_bus::Lane;
use herald_core::ids::{DeliveryId, MessageId, TenantId};
use herald_core::platform::provider_for;
use herald_proto::bus::v1::{DeliveryReceipt, MessageAccepted, Outcome, SendTask, TargetDevice};
use std::sync::Arc;

use herald_core::names::Named as _;
use herald_core::personalize::{CustomerView, Personalizer, Recipient};
use herald_proto::v1::{Browser, Notification, Platform, Provider};
use herald_store::{CustomerRecord, DeviceRecord, FailedMessage, NewDelivery, RoutedMessage};

use crate::policy::Judged;
use crate::resolve::Resolved;

/// One delivery the router decided on.
#[derive(Clone, Debug)]
pub(crate) struct Delivery<'a> {
    pub id: DeliveryId,
    pub provider: Provider,
    pub device: &'a DeviceRecord,
    /// Why the provider would refuse the message (as ingest found): the delivery fails with this
    /// instead of being sent.
    pub refused: Option<&'a str>,
}

/// A routed message and its deliveries.
#[derive(Clone, Debug)]
pub(crate) struct Routed<'a> {
    pub tenant: TenantId,
    pub message: MessageId,
    pub accepted: &'a MessageAccepted,
    pub deliveries: Vec<Delivery<'a>>,
    /// Its templates and language variants, compiled once, when it has any.
    pub personal: Option<Arc<Personalizer>>,
    /// When the devices timing held back are due (the message's next wave).
    pub next_wave: Option<i64>,
    /// The lane its send tasks travel in.
    pub lane: Lane,
}

/// A message's personalisation, compiled, when it has templates or language variants.
pub(crate) fn personalizer(
    accepted: &MessageAccepted,
) -> Result<Option<Arc<Personalizer>>, String> {
    let Some(n) = accepted.notification.as_ref() else {
        return Ok(None);
    };
    let mut p = Personalizer::new(n, &accepted.variables)
        .map_err(|err| format!("its templates do not compile: {err}"))?;
    if !accepted.event_json.is_empty() {
        // Ingest wrote it from an event it bounded: read as it is.
        let event: herald_core::triggers::Payload = serde_json::from_str(&accepted.event_json)
            .map_err(|err| format!("its event does not decode: {err}"))?;
        p = p.with_event(&event);
    }
    Ok(p.is_personal().then(|| Arc::new(p)))
}

/// What a device's templates see of it and its customer.
pub(crate) fn recipient<'a>(
    device: &'a DeviceRecord,
    customer: Option<&'a CustomerRecord>,
) -> Recipient<'a> {
    Recipient {
        user_id: device.profile.user_id.as_deref().unwrap_or_default(),
        device_platform: device.profile.platform.name(),
        device_locale: &device.profile.locale,
        app_version: &device.profile.app_version,
        customer: customer.map(|c| CustomerView {
            id: &c.id,
            name: &c.name,
            locale: &c.locale,
            time_zone: &c.time_zone,
            attributes: Some(&c.attributes),
        }),
    }
}

/// The router's decisions for a batch.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plan<'a> {
    pub routed: Vec<Routed<'a>>,
    pub failed: Vec<FailedMessage>,
    /// Messages to large audiences, handed to fan-outs.
    pub fanned: Vec<(TenantId, MessageId)>,
}

impl Plan<'_> {
    /// What the store records: every routed message's queued deliveries.
    pub fn records(&self) -> Vec<RoutedMessage> {
        self.routed
            .iter()
            .map(|r| RoutedMessage {
                tenant_id: r.tenant.clone(),
                message_id: r.message.clone(),
                deliveries: r.records(),
            })
            .collect()
    }
}

impl Routed<'_> {
    /// The queued deliveries to record.
    pub fn records(&self) -> Vec<NewDelivery> {
        self.deliveries
            .iter()
            .map(|d| NewDelivery {
                id: d.id.clone(),
                device_id: d.device.id.clone(),
                provider: d.provider,
            })
            .collect()
    }
}

/// Decides each message's deliveries from the devices it resolved to and when timing lets
/// each go (`judged`, one per message).
pub(crate) fn plan<'a>(
    messages: &'a [MessageAccepted],
    resolved: &'a [Resolved],
    judged: &'a [Judged],
) -> Plan<'a> {
    let mut plan = Plan::default();
    for ((accepted, resolved), judged) in messages.iter().zip(resolved).zip(judged) {
        let tenant = TenantId::from_trusted(accepted.tenant_id.clone());
        let message = MessageId::from_trusted(accepted.message_id.clone());
        let outcome = match resolved {
            Resolved::Devices(devices) => {
                let deliveries = deliveries(accepted, &message, devices, judged);
                // Every device held back for a later wave: routed, with none yet.
                if deliveries.is_empty() && judged.next_wave.is_none() {
                    Err("no device matches the selected providers and browsers".to_owned())
                } else {
                    personalizer(accepted).map(|personal| (deliveries, personal))
                }
            }
            Resolved::FanOut => {
                plan.fanned.push((tenant, message));
                continue;
            }
            Resolved::Unroutable(reason) => Err(reason.clone()),
        };
        match outcome {
            Ok((deliveries, personal)) => plan.routed.push(Routed {
                tenant,
                message,
                accepted,
                deliveries,
                personal,
                next_wave: judged.next_wave,
                lane: Lane::of_message(accepted.class(), false),
            }),
            Err(reason) => plan.failed.push(FailedMessage {
                tenant_id: tenant,
                message_id: message,
                reason,
            }),
        }
    }
    plan
}

/// A message's deliveries to `devices`: one per device, except devices of providers the message
/// is not limited to (a trigger's channel), web subscriptions of browsers it does not target,
/// and devices timing held back; one timing dropped fails with the reason.
pub(crate) fn deliveries<'a>(
    accepted: &'a MessageAccepted,
    message: &MessageId,
    devices: &'a [DeviceRecord],
    judged: &'a Judged,
) -> Vec<Delivery<'a>> {
    let browsers: Vec<Browser> = accepted
        .notification
        .as_ref()
        .and_then(|n| n.web.as_ref())
        .map(|w| w.browsers().collect())
        .unwrap_or_default();
    devices
        .iter()
        .filter(|device| {
            device.profile.platform != Platform::Web
                || browsers.is_empty()
                || device
                    .profile
                    .browser
                    .is_some_and(|b| browsers.contains(&b))
        })
        .filter(|device| !judged.held.contains(&device.id))
        .filter_map(|device| {
            let provider = provider_for(device.profile.platform)?;
            if !accepted.providers.is_empty() && !accepted.providers.contains(&(provider as i32)) {
                return None;
            }
            let refused = accepted
                .refusals
                .iter()
                .find(|r| r.provider() == provider)
                .map(|r| r.reason.as_str())
                .or_else(|| judged.dropped.get(&device.id).map(String::as_str));
            Some(Delivery {
                id: DeliveryId::derive(message, &device.id),
                provider,
                device,
                refused,
            })
        })
        .collect()
}

/// The first try of a delivery, with its notification (the message's, or the recipient's own).
pub(crate) fn send_task(
    routed: &Routed<'_>,
    delivery: &Delivery<'_>,
    notification: Option<Notification>,
) -> SendTask {
    let device = delivery.device;
    let mut task = SendTask {
        tenant_id: routed.tenant.to_string(),
        message_id: routed.message.to_string(),
        delivery_id: delivery.id.to_string(),
        device: Some(TargetDevice {
            device_id: device.id.to_string(),
            platform: device.profile.platform as i32,
            push_token: device.profile.push_token.clone(),
            browser: device.profile.browser.unwrap_or_default() as i32,
            sandbox: device.profile.sandbox,
            web_p256dh: device.profile.web_p256dh.clone(),
            web_auth: device.profile.web_auth.clone(),
        }),
        notification,
        accepted_at_ms: routed.accepted.accepted_at_ms,
        expires_at_ms: routed.accepted.expires_at_ms,
        attempt: 1,
        ..Default::default()
    };
    routed.lane.mark(&mut task);
    task
}

/// The receipt that fails a delivery its provider would refuse.
pub(crate) fn refusal_receipt(
    routed: &Routed<'_>,
    delivery: &Delivery<'_>,
    reason: &str,
    now: i64,
) -> DeliveryReceipt {
    DeliveryReceipt {
        tenant_id: routed.tenant.to_string(),
        message_id: routed.message.to_string(),
        delivery_id: delivery.id.to_string(),
        device_id: delivery.device.id.to_string(),
        provider: delivery.provider as i32,
        outcome: Outcome::Failed as i32,
        reason: reason.to_owned(),
        provider_message_id: String::new(),
        attempts: 0,
        at_ms: now,
        interaction: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::ids::DeviceId;
    use herald_proto::bus::v1::ProviderRefusal;
    use herald_proto::v1::{DeviceState, Notification, WebOptions};
    use herald_store::DeviceProfile;

    fn device(platform: Platform, browser: Option<Browser>) -> DeviceRecord {
        DeviceRecord {
            id: DeviceId::generate(),
            tenant_id: TenantId::from_trusted("tnt_1".into()),
            profile: DeviceProfile {
                platform,
                browser,
                push_token: "tok".into(),
                ..Default::default()
            },
            state: DeviceState::Active,
            state_reason: String::new(),
            created_at: 0,
            updated_at: 0,
            last_active_at: 0,
        }
    }

    /// Timing that lets every device go now.
    static NOW: std::sync::LazyLock<[Judged; 1]> = std::sync::LazyLock::new(Default::default);

    fn accepted(notification: Notification) -> MessageAccepted {
        MessageAccepted {
            tenant_id: "tnt_1".into(),
            message_id: "msg_1".into(),
            notification: Some(notification),
            expires_at_ms: i64::MAX,
            ..Default::default()
        }
    }

    #[test]
    fn every_device_gets_a_delivery_with_a_stable_id() {
        let devices = vec![device(Platform::Android, None), device(Platform::Ios, None)];
        let messages = [accepted(Notification::default())];
        let resolved = [Resolved::Devices(devices.clone())];
        let plan = plan(&messages, &resolved, &*NOW);
        assert!(plan.failed.is_empty());
        let routed = &plan.routed[0];
        let providers: Vec<Provider> = routed.deliveries.iter().map(|d| d.provider).collect();
        assert_eq!(providers, [Provider::Fcm, Provider::Apns]);
        assert_eq!(
            routed.deliveries[0].id,
            DeliveryId::derive(&routed.message, &devices[0].id)
        );
        let task = send_task(routed, &routed.deliveries[1], None);
        assert_eq!(task.device.unwrap().platform, Platform::Ios as i32);
    }

    #[test]
    fn browser_targeting_keeps_only_the_selected_browsers() {
        let devices = vec![
            device(Platform::Web, Some(Browser::Chrome)),
            device(Platform::Web, Some(Browser::Firefox)),
            device(Platform::Android, None),
        ];
        let only_firefox = accepted(Notification {
            web: Some(WebOptions {
                browsers: vec![Browser::Firefox as i32],
                ..Default::default()
            }),
            ..Default::default()
        });
        let messages = [only_firefox.clone()];
        let resolved = [Resolved::Devices(devices.clone())];
        let plan = plan(&messages, &resolved, &*NOW);
        let kept: Vec<_> = plan.routed[0]
            .deliveries
            .iter()
            .map(|d| d.device.id.clone())
            .collect();
        assert_eq!(kept, [devices[1].id.clone(), devices[2].id.clone()]);

        let messages = [only_firefox];
        let resolved = [Resolved::Devices(vec![devices[0].clone()])];
        let plan = super::plan(&messages, &resolved, &*NOW);
        assert_eq!(
            plan.failed[0].reason,
            "no device matches the selected providers and browsers"
        );
    }

    #[test]
    fn a_provider_that_refused_the_message_fails_its_deliveries_with_the_reason() {
        let mut message = accepted(Notification::default());
        message.refusals = vec![ProviderRefusal {
            provider: Provider::Fcm as i32,
            reason: "too big for FCM".into(),
        }];
        let messages = [message];
        let resolved = [Resolved::Devices(vec![
            device(Platform::Android, None),
            device(Platform::Ios, None),
        ])];
        let plan = plan(&messages, &resolved, &*NOW);
        let refused: Vec<_> = plan.routed[0]
            .deliveries
            .iter()
            .map(|d| d.refused)
            .collect();
        assert_eq!(refused, [Some("too big for FCM"), None]);
        let routed = &plan.routed[0];
        let receipt = refusal_receipt(routed, &routed.deliveries[0], "too big for FCM", 7);
        assert_eq!(
            (receipt.outcome(), receipt.reason.as_str()),
            (Outcome::Failed, "too big for FCM")
        );
    }

    #[test]
    fn timing_holds_some_devices_back_and_drops_others_with_the_reason() {
        let devices = vec![
            device(Platform::Android, None),
            device(Platform::Ios, None),
            device(Platform::Android, None),
        ];
        let messages = [accepted(Notification::default())];
        let resolved = [Resolved::Devices(devices.clone())];
        let judged = Judged {
            held: [devices[0].id.clone()].into(),
            dropped: [(devices[1].id.clone(), "dropped in quiet hours".to_owned())].into(),
            next_wave: Some(42),
            counted: None,
        };
        let plan = plan(&messages, &resolved, std::slice::from_ref(&judged));
        let routed = &plan.routed[0];
        let kept: Vec<_> = routed
            .deliveries
            .iter()
            .map(|d| (d.device.id.clone(), d.refused))
            .collect();
        assert_eq!(
            kept,
            [
                (devices[1].id.clone(), Some("dropped in quiet hours")),
                (devices[2].id.clone(), None)
            ]
        );
        assert_eq!(routed.next_wave, Some(42));

        // Every device held back: routed with none yet, not failed.
        let all_held = Judged {
            held: devices.iter().map(|d| d.id.clone()).collect(),
            dropped: Default::default(),
            next_wave: Some(42),
            counted: None,
        };
        let plan = super::plan(&messages, &resolved, std::slice::from_ref(&all_held));
        assert!(plan.failed.is_empty());
        assert!(plan.routed[0].deliveries.is_empty());
    }

    #[test]
    fn an_unroutable_message_fails_with_its_reason() {
        let messages = [accepted(Notification::default())];
        let resolved = [Resolved::Unroutable(
            "user \"x\" has no active devices".into(),
        )];
        let plan = plan(&messages, &resolved, &*NOW);
        assert!(plan.routed.is_empty());
        assert_eq!(plan.failed[0].reason, "user \"x\" has no active devices");
    }
}
