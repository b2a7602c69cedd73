//! Frequency caps, pure: at most so many pushes of a class to a device (or to a user) in a
//! rolling window, read from the tenant's settings and judged against the pushes counted.

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
