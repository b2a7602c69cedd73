//! Frequency caps and rate limits as a tenant's settings hold them, pure. A cap: at most so
//! many pushes of a class to a device (or a user) in a rolling window, judged against the
//! pushes counted. A rate limit: pushes a minute to a provider (or to all), spent per second.

use herald_proto::v1::{self as api, CapScope, MessageClass};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The most caps a tenant may have.
pub const MAX_CAPS: usize = 16;
const MAX_PUSHES: u32 = 10_000;
const MIN_WINDOW_S: u32 = 60;
const MAX_WINDOW_S: u32 = 31 * 24 * 3600;

/// One cap, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cap {
    /// `standard` or `marketing` (a [`MessageClass`] name).
    pub class: String,
    pub max: u32,
    pub window_seconds: u32,
    /// Counted per user rather than per device.
    pub per_user: bool,
}

/// The message class a cap counts, with UNSPECIFIED taken as STANDARD.
fn counted(class: MessageClass) -> MessageClass {
    match class {
        MessageClass::Unspecified => MessageClass::Standard,
        other => other,
    }
}

impl Cap {
    /// The caps a settings change sets (`field` names them in errors).
    pub fn read_all(field: &str, caps: &[api::FrequencyCap]) -> Result<Vec<Self>> {
        if caps.len() > MAX_CAPS {
            return Err(Error::invalid(field, format!("at most {MAX_CAPS} caps")));
        }
        caps.iter()
            .enumerate()
            .map(|(at, cap)| {
                let field = |name: &str| format!("{field}[{at}].{name}");
                let class = match MessageClass::try_from(cap.class) {
                    Ok(MessageClass::Transactional) => {
                        return Err(Error::invalid(
                            field("class"),
                            "transactional messages are never capped",
                        ));
                    }
                    Ok(class) => counted(class),
                    Err(_) => return Err(Error::invalid(field("class"), "not a MessageClass")),
                };
                if !(1..=MAX_PUSHES).contains(&cap.max) {
                    return Err(Error::invalid(field("max"), format!("1 to {MAX_PUSHES}")));
                }
                if !(MIN_WINDOW_S..=MAX_WINDOW_S).contains(&cap.window_seconds) {
                    return Err(Error::invalid(
                        field("window_seconds"),
                        format!("{MIN_WINDOW_S} to {MAX_WINDOW_S} (31 days)"),
                    ));
                }
                let per_user = match CapScope::try_from(cap.per) {
                    Ok(CapScope::User) => true,
                    Ok(CapScope::Device | CapScope::Unspecified) => false,
                    Err(_) => return Err(Error::invalid(field("per"), "not a CapScope")),
                };
                Ok(Self {
                    class: crate::names::Named::name(class).to_owned(),
                    max: cap.max,
                    window_seconds: cap.window_seconds,
                    per_user,
                })
            })
            .collect()
    }

    /// As the API shows it.
    pub fn to_api(&self) -> api::FrequencyCap {
        let class = <MessageClass as crate::names::Named>::from_name(&self.class)
            .unwrap_or(MessageClass::Standard);
        api::FrequencyCap {
            class: class as i32,
            max: self.max,
            window_seconds: self.window_seconds,
            per: if self.per_user {
                CapScope::User
            } else {
                CapScope::Device
            } as i32,
        }
    }

    /// Whether it counts messages of `class`.
    pub fn counts(&self, class: MessageClass) -> bool {
        self.class == crate::names::Named::name(counted(class))
    }

    /// The window in milliseconds.
    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_seconds) * 1000
    }

    /// Why a delivery over it fails.
    pub fn reason(&self) -> String {
        let window = match self.window_seconds {
            s if s % 86_400 == 0 => plural(s / 86_400, "day"),
            s if s % 3600 == 0 => plural(s / 3600, "hour"),
            s if s % 60 == 0 => plural(s / 60, "minute"),
            s => plural(s, "second"),
        };
        format!(
            "frequency cap: at most {} {} {} per {} in {window}",
            self.max,
            self.class,
            if self.max == 1 { "push" } else { "pushes" },
            if self.per_user { "user" } else { "device" },
        )
    }
}

fn plural(n: u32, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// The first of `caps` that a push of `class` would go over, given how many pushes each has
/// counted already (`counted(i, cap)` for the `i`th, in its own window and scope).
pub fn over<'a>(
    caps: impl IntoIterator<Item = &'a Cap>,
    class: MessageClass,
    counted: impl Fn(usize, &Cap) -> u64,
) -> Option<&'a Cap> {
    if class == MessageClass::Transactional {
        return None;
    }
    caps.into_iter()
        .enumerate()
        .find(|(at, cap)| cap.counts(class) && counted(*at, cap) >= u64::from(cap.max))
        .map(|(_, cap)| cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(class: MessageClass, max: u32, window_seconds: u32, per: CapScope) -> api::FrequencyCap {
        api::FrequencyCap {
            class: class as i32,
            max,
            window_seconds,
            per: per as i32,
        }
    }

    #[test]
    fn caps_read_or_are_refused_with_the_field() {
        let caps = Cap::read_all(
            "settings.frequency_caps",
            &[
                cap(MessageClass::Marketing, 3, 86_400, CapScope::User),
                cap(MessageClass::Unspecified, 10, 3600, CapScope::Unspecified),
            ],
        )
        .unwrap();
        assert_eq!(
            caps[0].reason(),
            "frequency cap: at most 3 marketing pushes per user in 1 day"
        );
        assert_eq!(
            caps[1].reason(),
            "frequency cap: at most 10 standard pushes per device in 1 hour"
        );
        assert_eq!(
            caps[0].to_api(),
            cap(MessageClass::Marketing, 3, 86_400, CapScope::User)
        );
        for (bad, field) in [
            (
                cap(MessageClass::Transactional, 3, 3600, CapScope::Device),
                "class",
            ),
            (
                cap(MessageClass::Marketing, 0, 3600, CapScope::Device),
                "max",
            ),
            (
                cap(MessageClass::Marketing, 3, 59, CapScope::Device),
                "window_seconds",
            ),
            (
                api::FrequencyCap {
                    per: 9,
                    ..cap(MessageClass::Marketing, 3, 60, CapScope::Device)
                },
                "per",
            ),
        ] {
            let err = Cap::read_all("settings.frequency_caps", &[bad]).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("settings.frequency_caps[0].{field}: ")),
                "{err}"
            );
        }
        let many = vec![cap(MessageClass::Marketing, 3, 60, CapScope::Device); MAX_CAPS + 1];
        assert!(Cap::read_all("caps", &many).is_err());
    }

    #[test]
    fn a_push_goes_over_the_first_cap_of_its_class_that_is_full() {
        let caps = Cap::read_all(
            "caps",
            &[
                cap(MessageClass::Marketing, 3, 86_400, CapScope::Device),
                cap(MessageClass::Marketing, 5, 604_800, CapScope::User),
            ],
        )
        .unwrap();
        assert_eq!(over(&caps, MessageClass::Marketing, |_, _| 2), None);
        assert_eq!(
            over(&caps, MessageClass::Marketing, |_, _| 3),
            Some(&caps[0])
        );
        assert_eq!(
            over(&caps, MessageClass::Marketing, |at, _| if at == 1 {
                5
            } else {
                0
            }),
            Some(&caps[1])
        );
        assert_eq!(over(&caps, MessageClass::Standard, |_, _| 100), None);
        assert_eq!(over(&caps, MessageClass::Transactional, |_, _| 100), None);
    }
}

/// A rate limit, as stored: pushes a minute to one provider, or to all of them (`provider`
/// empty), spent second by second.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// A provider's name, or empty for the tenant's pushes to every provider.
    pub provider: String,
    pub per_minute: u32,
}

/// The rates a limit may have, in pushes a minute.
pub const RATE_PER_MINUTE: std::ops::RangeInclusive<u32> = 60..=100_000_000;

impl RateLimit {
    /// The limits a settings change sets: at most one per provider and one for all.
    pub fn read_all(field: &str, limits: &[api::RateLimit]) -> Result<Vec<Self>> {
        let mut read: Vec<Self> = Vec::with_capacity(limits.len());
        for (at, limit) in limits.iter().enumerate() {
            let field = |name: &str| format!("{field}[{at}].{name}");
            let provider = match api::Provider::try_from(limit.provider) {
                Ok(api::Provider::Unspecified) => String::new(),
                Ok(p) => crate::names::Named::name(p).to_owned(),
                Err(_) => return Err(Error::invalid(field("provider"), "not a Provider")),
            };
            if !RATE_PER_MINUTE.contains(&limit.per_minute) {
                return Err(Error::invalid(
                    field("per_minute"),
                    format!("{} to {}", RATE_PER_MINUTE.start(), RATE_PER_MINUTE.end()),
                ));
            }
            if read.iter().any(|r| r.provider == provider) {
                return Err(Error::invalid(
                    field("provider"),
                    "a second limit for the same provider",
                ));
            }
            read.push(Self {
                provider,
                per_minute: limit.per_minute,
            });
        }
        Ok(read)
    }

    /// As the API shows it.
    pub fn to_api(&self) -> api::RateLimit {
        api::RateLimit {
            provider: <api::Provider as crate::names::Named>::from_name(&self.provider)
                .unwrap_or(api::Provider::Unspecified) as i32,
            per_minute: self.per_minute,
        }
    }

    /// Whether it limits pushes to `provider`.
    pub fn limits(&self, provider: api::Provider) -> bool {
        self.provider.is_empty() || self.provider == crate::names::Named::name(provider)
    }

    /// The limiter's name for it: the provider, or `*` for all.
    pub fn scope(&self) -> &str {
        if self.provider.is_empty() {
            "*"
        } else {
            &self.provider
        }
    }
}

#[cfg(test)]
mod rate_tests {
    use super::*;

    #[test]
    fn rate_limits_read_once_per_provider() {
        let limits = RateLimit::read_all(
            "settings.rate_limits",
            &[
                api::RateLimit {
                    provider: api::Provider::Fcm as i32,
                    per_minute: 600_000,
                },
                api::RateLimit {
                    provider: 0,
                    per_minute: 100,
                },
            ],
        )
        .unwrap();
        assert_eq!((limits[0].per_minute, limits[1].per_minute), (600_000, 100));
        assert_eq!((limits[0].scope(), limits[1].scope()), ("fcm", "*"));
        assert!(limits[0].limits(api::Provider::Fcm) && !limits[0].limits(api::Provider::Apns));
        assert!(limits[1].limits(api::Provider::Apns));
        assert_eq!(limits[0].to_api().provider, api::Provider::Fcm as i32);
        let twice = [limits[0].to_api(), limits[0].to_api()];
        let err = RateLimit::read_all("settings.rate_limits", &twice).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("settings.rate_limits[1].provider: "),
            "{err}"
        );
        let slow = [api::RateLimit {
            provider: 0,
            per_minute: 59,
        }];
        let err = RateLimit::read_all("settings.rate_limits", &slow).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("settings.rate_limits[0].per_minute: "),
            "{err}"
        );
    }
}
