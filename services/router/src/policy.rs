//! Delivery policy in the router: each device of a message gets its delivery now, waits for a
//! later wave (its local time has not come, or quiet hours hold it), or has it dropped (quiet
//! hours drop the message's class, or a frequency cap is full), judged on the wall clock of the
//! device's zone (the device's, else its customer's, else the tenant's default, else UTC) by
//! `herald_core::timing`, and against the pushes the caps counted (`herald_core::caps`). A
//! message with no local time, of a tenant without quiet hours or caps for its class, costs one
//! cached read of the tenant's settings (`SettingsCache`).

use std::collections::{HashMap, HashSet};

use herald_core::caps::{self, Cap};
use herald_core::ids::{DeliveryId, DeviceId, MessageId, TenantId};
use herald_core::timing::{LocalTime, Timing, first_zone, timing};
use herald_proto::bus::v1::MessageAccepted;
use herald_proto::v1::MessageClass;
use herald_store::{DeviceRecord, SettingsCache, Store, StoreError};

/// What timing decided for a message's devices; those in neither set go now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Judged {
    /// Devices held back: no delivery now; a later wave routes them.
    pub held: HashSet<DeviceId>,
    /// Devices whose delivery fails at once, and why.
    pub dropped: HashMap<DeviceId, String>,
    /// When the soonest held device is due.
    pub next_wave: Option<i64>,
    /// The pushes the frequency caps count once the deliveries exist: the message's class and
    /// the subjects (`device:<id>`, `user:<id>`) it reaches now.
    pub counted: Option<(&'static str, Vec<String>)>,
}

/// Pushes judged earlier in the same batch (not logged yet) that the frequency caps count, by
/// tenant, class and subject: a batch with several messages to one user counts each against
/// the next.
pub(crate) type Earlier = HashMap<(String, &'static str, String), u64>;

/// The tenants' settings as the policy reads them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policies {
    settings: SettingsCache,
}

impl Policies {
    /// When each of `devices` may have its delivery of `accepted`, at `now`.
    pub(crate) async fn judge(
        &self,
        store: &Store,
        accepted: &MessageAccepted,
        devices: &[DeviceRecord],
        now: i64,
        earlier: &mut Earlier,
    ) -> Result<Judged, StoreError> {
        let mut judged = Judged::default();
        // Ingest checked it; one that does not read (never written so) has no local time.
        let local = LocalTime::read("local_time", accepted.local_time.as_ref())
            .ok()
            .flatten();
        let class = accepted.class();
        let tenant = TenantId::from_trusted(accepted.tenant_id.clone());
        let settings = self.settings.get(store, &tenant).await?;
        let quiet_applies = settings.quiet_hours.is_some() && class != MessageClass::Transactional;
        let caps: Vec<&Cap> = settings
            .frequency_caps
            .iter()
            .filter(|cap| class != MessageClass::Transactional && cap.counts(class))
            .collect();
        if devices.is_empty() || (local.is_none() && !quiet_applies && caps.is_empty()) {
            return Ok(judged);
        }
        // A device that has its delivery already (an earlier wave, or the message routed
        // again) was judged when it got it: judging it again would hold or drop it twice.
        let message = MessageId::from_trusted(accepted.message_id.clone());
        let ids: Vec<DeliveryId> = devices
            .iter()
            .map(|d| DeliveryId::derive(&message, &d.id))
            .collect();
        let existing = store
            .existing_deliveries(&tenant, &ids.iter().collect::<Vec<_>>())
            .await?;
        let fresh: Vec<DeviceRecord> = devices
            .iter()
            .zip(&ids)
            .filter(|(_, id)| !existing.contains(*id))
            .map(|(d, _)| d.clone())
            .collect();
        let devices = fresh.as_slice();
        if local.is_none() && !quiet_applies {
            Self::cap(store, accepted, devices, &caps, now, &mut judged, earlier).await?;
            return Ok(judged);
        }
        let refs: Vec<&DeviceRecord> = devices.iter().collect();
        let customers = store.customers_of_devices(&tenant, &refs).await?;
        for device in devices {
            let customer = customers.get(device.id.as_str());
            let zone = first_zone([
                device.profile.time_zone.as_str(),
                customer.map_or("", |c| c.time_zone.as_str()),
                settings.default_time_zone.as_str(),
            ]);
            // A customer's own quiet hours replace the tenant's.
            let quiet = quiet_applies
                .then(|| {
                    customer
                        .and_then(|c| c.quiet_hours.as_ref())
                        .or(settings.quiet_hours.as_ref())
                })
                .flatten();
            match timing(
                now,
                &zone,
                local.as_ref(),
                accepted.accepted_at_ms,
                quiet,
                class,
            ) {
                Timing::Now => {}
                // A hold past the time to live would only end in its expiry.
                Timing::Hold(at) if at >= accepted.expires_at_ms => {
                    judged.dropped.insert(
                        device.id.clone(),
                        "quiet hours: they last past its time to live".to_owned(),
                    );
                }
                Timing::Hold(at) => {
                    judged.held.insert(device.id.clone());
                    judged.next_wave = Some(judged.next_wave.map_or(at, |w| w.min(at)));
                }
                Timing::Drop(reason) => {
                    judged.dropped.insert(device.id.clone(), reason);
                }
            }
        }
        if !caps.is_empty() {
            let due: Vec<DeviceRecord> = devices
                .iter()
                .filter(|d| !judged.held.contains(&d.id) && !judged.dropped.contains_key(&d.id))
                .cloned()
                .collect();
            Self::cap(store, accepted, &due, &caps, now, &mut judged, earlier).await?;
        }
        Ok(judged)
    }

    /// Drops the deliveries of `devices` that would go over one of `caps` (counting the pushes
    /// logged and those judged `earlier` in the batch), and notes what the others count.
    async fn cap(
        store: &Store,
        accepted: &MessageAccepted,
        devices: &[DeviceRecord],
        caps: &[&Cap],
        now: i64,
        judged: &mut Judged,
        earlier: &mut Earlier,
    ) -> Result<(), StoreError> {
        let tenant = TenantId::from_trusted(accepted.tenant_id.clone());
        let message = MessageId::from_trusted(accepted.message_id.clone());
        let class = herald_core::names::Named::name(match accepted.class() {
            MessageClass::Unspecified => MessageClass::Standard,
            other => other,
        });
        let subject = |device: &DeviceRecord, per_user: bool| match &device.profile.user_id {
            Some(user) if per_user => format!("user:{user}"),
            _ => format!("device:{}", device.id),
        };
        // Each cap's counts, in its own window and scope.
        let mut counts: Vec<HashMap<String, u64>> = Vec::with_capacity(caps.len());
        for cap in caps {
            let mut subjects: Vec<String> =
                devices.iter().map(|d| subject(d, cap.per_user)).collect();
            subjects.sort_unstable();
            subjects.dedup();
            let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
            counts.push(
                store
                    .count_pushes(&tenant, class, &subjects, now - cap.window_ms(), &message)
                    .await?,
            );
        }
        let key = |subject: String| (accepted.tenant_id.clone(), class, subject);
        let mut counted = Vec::new();
        for device in devices {
            let over = caps::over(caps.iter().copied(), accepted.class(), |at, cap| {
                let subject = subject(device, cap.per_user);
                let logged = counts[at].get(&subject).copied().unwrap_or_default();
                logged + earlier.get(&key(subject)).copied().unwrap_or_default()
            });
            match over {
                Some(cap) => {
                    judged.dropped.insert(device.id.clone(), cap.reason());
                }
                None => {
                    counted.push(subject(device, false));
                    if device.profile.user_id.is_some() {
                        counted.push(subject(device, true));
                    }
                }
            }
        }
        counted.sort_unstable();
        counted.dedup();
        for subject in &counted {
            *earlier.entry(key(subject.clone())).or_default() += 1;
        }
        judged.counted = Some((class, counted));
        Ok(())
    }
}
