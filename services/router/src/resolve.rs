//! What the router reads: the devices each message's destination resolves to, in as few queries
//! as a batch allows (its users, device ids and push ids in one query per tenant and kind). It
//! never writes: a push id was registered by ingest when the message was accepted.

use std::collections::HashMap;

use herald_core::ids::TenantId;
use herald_core::names::Named as _;
use herald_core::validate::{Audience, audience};
use herald_proto::bus::v1::MessageAccepted;
use herald_proto::v1::Platform;
use herald_store::{CustomerDevices, DeviceRecord, Store, StoreError};

/// Where one message goes.
#[derive(Clone, Debug)]
pub(crate) enum Resolved {
    /// Its active devices (at least one).
    Devices(Vec<DeviceRecord>),
    /// A large audience (a topic, a segment, a removal's recipients): routed page by page by a
    /// fan-out.
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
    let found = Found::read(store, messages, &audiences, now).await?;
    let mut resolved = Vec::with_capacity(messages.len());
    for (message, audience) in messages.iter().zip(&audiences) {
        let tenant = message.tenant_id.as_str();
        let one = match audience {
            _ if now >= message.expires_at_ms => {
                Resolved::Unroutable("the time to live ran out before routing".into())
            }
            // A removal goes to the devices another message reached, page by page.
            _ if !message.removes_message_id.is_empty() => Resolved::FanOut,
            Err(reason) => Resolved::Unroutable(reason.clone()),
            Ok(Audience::User(user)) => match found.users.get(&(tenant, user.as_str())) {
                Some(devices) => Resolved::Devices(devices.clone()),
                None => Resolved::Unroutable(format!("user {user:?} has no active devices")),
            },
            Ok(Audience::Device(id)) => active(found.by_id.get(&(tenant, id.as_str())), || {
                format!("device {id}")
            }),
            Ok(Audience::PushId {
                platform, token, ..
            }) => active(
                found.by_token.get(&(tenant, *platform, token.as_str())),
                || "push id".to_owned(),
            ),
            Ok(Audience::Topic(_) | Audience::Segment(_)) => Resolved::FanOut,
            Ok(Audience::Customer(customer)) => {
                match found.customers.get(&(tenant, customer.as_str())) {
                    Some(CustomerDevices::Devices(devices)) if !devices.is_empty() => {
                        Resolved::Devices(devices.clone())
                    }
                    Some(CustomerDevices::Devices(_)) => {
                        Resolved::Unroutable(format!("customer {customer:?} has no active devices"))
                    }
                    Some(CustomerDevices::OptedOut) => Resolved::Unroutable(format!(
                        "customer {customer:?} opted out of push notifications"
                    )),
                    Some(CustomerDevices::Unknown) | None => {
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
fn active(device: Option<&DeviceRecord>, name: impl Fn() -> String) -> Resolved {
    match device {
        Some(device) if device.is_active() => Resolved::Devices(vec![device.clone()]),
        Some(device) => Resolved::Unroutable(format!(
            "{} is {}: {}",
            name(),
            device.state.name(),
            device.state_reason
        )),
        None => Resolved::Unroutable(format!("{} is not registered", name())),
    }
}

/// What a batch's live messages are addressed to, per tenant.
#[derive(Default)]
struct Wanted<'a> {
    users: Vec<&'a str>,
    ids: Vec<&'a str>,
    tokens: Vec<(Platform, &'a str)>,
    customers: Vec<&'a str>,
}

/// The devices a batch's destinations name, read in one query per tenant and kind rather than
/// one per message; keys borrow the batch's own spelling (tenant first).
#[derive(Default)]
struct Found<'a> {
    /// Active devices per user.
    users: HashMap<(&'a str, &'a str), Vec<DeviceRecord>>,
    /// Devices by id, in any state (an inactive one is reported as such).
    by_id: HashMap<(&'a str, &'a str), DeviceRecord>,
    /// Devices by (platform, push token), in any state.
    by_token: HashMap<(&'a str, Platform, &'a str), DeviceRecord>,
    customers: HashMap<(&'a str, &'a str), CustomerDevices>,
}

impl<'a> Found<'a> {
    async fn read(
        store: &Store,
        messages: &'a [MessageAccepted],
        audiences: &'a [Result<Audience, String>],
        now: i64,
    ) -> Result<Self, StoreError> {
        let mut wanted: HashMap<&str, Wanted<'a>> = HashMap::new();
        for (m, a) in messages.iter().zip(audiences) {
            let Ok(a) = a else { continue };
            if now >= m.expires_at_ms {
                continue;
            }
            let w = wanted.entry(m.tenant_id.as_str()).or_default();
            match a {
                Audience::User(user) => w.users.push(user),
                Audience::Device(id) => w.ids.push(id.as_str()),
                Audience::PushId {
                    platform, token, ..
                } => w.tokens.push((*platform, token)),
                Audience::Customer(customer) => w.customers.push(customer),
                Audience::Topic(_) | Audience::Segment(_) => {}
            }
        }
        let mut found = Self::default();
        for (tenant, mut w) in wanted {
            let tenant_id = TenantId::from_trusted(tenant.to_owned());
            for list in [&mut w.users, &mut w.ids, &mut w.customers] {
                list.sort_unstable();
                list.dedup();
            }
            w.tokens.sort_unstable();
            w.tokens.dedup();
            for device in store.active_devices_of_users(&tenant_id, &w.users).await? {
                let owner = device.profile.user_id.as_deref().unwrap_or_default();
                if let Ok(at) = w.users.binary_search(&owner) {
                    found
                        .users
                        .entry((tenant, w.users[at]))
                        .or_default()
                        .push(device);
                }
            }
            for device in store.devices_by_ids(&tenant_id, &w.ids).await? {
                if let Ok(at) = w.ids.binary_search(&device.id.as_str()) {
                    found.by_id.insert((tenant, w.ids[at]), device);
                }
            }
            for device in store.devices_by_tokens(&tenant_id, &w.tokens).await? {
                let key = (device.profile.platform, device.profile.push_token.as_str());
                if let Ok(at) = w.tokens.binary_search(&key) {
                    let (platform, token) = w.tokens[at];
                    found.by_token.insert((tenant, platform, token), device);
                }
            }
            // A customer's devices depend on its opt-out and links: one read per customer,
            // however many of the batch's messages name it.
            for customer in w.customers {
                let devices = store.customer_devices(&tenant_id, customer).await?;
                found.customers.insert((tenant, customer), devices);
            }
        }
        Ok(found)
    }
}
