//! What the router reads: the devices each message's destination resolves to, in as few queries
//! as a batch allows (the users of a batch in one query per tenant). It never writes: a push id
//! was registered by ingest when the message was accepted.

use std::collections::HashMap;

use herald_core::ids::TenantId;
use herald_core::names::Named as _;
use herald_core::validate::{Audience, audience};
use herald_proto::bus::v1::MessageAccepted;
use herald_store::{CustomerDevices, DeviceRecord, Store, StoreError};

/// Where one message goes.
#[derive(Clone, Debug)]
pub(crate) enum Resolved {
    /// Its active devices (at least one).
    Devices(Vec<DeviceRecord>),
    /// A large audience (a topic): routed page by page by a fan-out.
    FanOut,
    /// Nothing to send, and why.
    Unroutable(String),
}

/// The destination of each of `messages`, in order; a message whose time to live has run out by
/// `now` is not looked up.
pub(crate) async fn resolve(
    store: &Store,
    messages: &[MessageAccepted],
    now: i64,
) -> Result<Vec<Resolved>, StoreError> {
    // Ingest validated the whole request; only the destination is parsed again here.
    let audiences: Vec<Result<Audience, String>> = messages
        .iter()
        .map(|m| audience(m.destination.as_ref()).map_err(|e| e.to_string()))
        .collect();
    let users = user_devices(store, messages, &audiences, now).await?;
    let mut resolved = Vec::with_capacity(messages.len());
    for (message, audience) in messages.iter().zip(&audiences) {
        let tenant = TenantId::from_trusted(message.tenant_id.clone());
        let one = match audience {
            _ if now >= message.expires_at_ms => {
                Resolved::Unroutable("the time to live ran out before routing".into())
            }
            Err(reason) => Resolved::Unroutable(reason.clone()),
            Ok(Audience::User(user)) => {
                match users.get(&(message.tenant_id.as_str(), user.as_str())) {
                    Some(devices) => Resolved::Devices(devices.clone()),
                    None => Resolved::Unroutable(format!("user {user:?} has no active devices")),
                }
            }
            Ok(Audience::Device(id)) => active(store.get_device(&tenant, id).await?, || {
                format!("device {id}")
            }),
            Ok(Audience::PushId {
                platform, token, ..
            }) => active(
                store.device_by_token(&tenant, *platform, token).await?,
                || "push id".to_owned(),
            ),
            Ok(Audience::Topic(_) | Audience::Segment(_)) => Resolved::FanOut,
            Ok(Audience::Customer(customer)) => {
                match store.customer_devices(&tenant, customer).await? {
                    CustomerDevices::Devices(devices) if !devices.is_empty() => {
                        Resolved::Devices(devices)
                    }
                    CustomerDevices::Devices(_) => {
                        Resolved::Unroutable(format!("customer {customer:?} has no active devices"))
                    }
                    CustomerDevices::OptedOut => Resolved::Unroutable(format!(
                        "customer {customer:?} opted out of push notifications"
                    )),
                    CustomerDevices::Unknown => {
                        Resolved::Unroutable(format!("customer {customer:?} was deleted"))
                    }
                }
            }
        };
        resolved.push(one);
    }
    Ok(resolved)
}

/// One device, if it is there and active.
fn active(device: Option<DeviceRecord>, name: impl Fn() -> String) -> Resolved {
    match device {
        Some(device) if device.is_active() => Resolved::Devices(vec![device]),
        Some(device) => Resolved::Unroutable(format!(
            "{} is {}: {}",
            name(),
            device.state.name(),
            device.state_reason
        )),
        None => Resolved::Unroutable(format!("{} is not registered", name())),
    }
}

/// Active devices per (tenant, user) of a batch's user destinations.
type UserDevices<'a> = HashMap<(&'a str, &'a str), Vec<DeviceRecord>>;

/// The active devices of every user the batch's live messages go to, read in one query per
/// tenant rather than one per message.
async fn user_devices<'a>(
    store: &Store,
    messages: &'a [MessageAccepted],
    audiences: &'a [Result<Audience, String>],
    now: i64,
) -> Result<UserDevices<'a>, StoreError> {
    let mut wanted: HashMap<&str, Vec<&str>> = HashMap::new();
    for (m, a) in messages.iter().zip(audiences) {
        if let Ok(Audience::User(user)) = a
            && now < m.expires_at_ms
        {
            wanted.entry(m.tenant_id.as_str()).or_default().push(user);
        }
    }
    let mut found = UserDevices::new();
    for (tenant, mut users) in wanted {
        users.sort_unstable();
        users.dedup();
        let tenant_id = TenantId::from_trusted(tenant.to_owned());
        for device in store.active_devices_of_users(&tenant_id, &users).await? {
            let owner = device.profile.user_id.as_deref().unwrap_or_default();
            // The key borrows the batch's own spelling of the user (`users` is sorted).
            if let Ok(at) = users.binary_search(&owner) {
                found.entry((tenant, users[at])).or_default().push(device);
            }
        }
    }
    Ok(found)
}
