//! Why a provider would refuse a notification, in words that name the provider and its limit;
//! each provider's `limits` answers one.

use herald_proto::v1::Provider;

/// Why a provider would refuse a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub provider: Provider,
    /// What the provider would object to, in words that name the provider and its limit.
    pub reason: String,
}

impl Refusal {
    /// A refusal when `size` passes `limit`.
    pub(crate) fn over_size(provider: Provider, size: usize, limit: usize) -> Result<(), Self> {
        if size <= limit {
            return Ok(());
        }
        let name = display_name(provider);
        Err(Self {
            provider,
            reason: format!(
                "the {name} payload would be {size} bytes; {name} accepts at most {limit}"
            ),
        })
    }
}

/// How the providers are called in messages to people.
pub fn display_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Fcm => "FCM",
        Provider::Apns => "APNs",
        Provider::Hms => "HMS",
        Provider::Webpush => "Web Push",
        Provider::Unspecified => "no provider",
    }
}
