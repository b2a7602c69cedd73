//! Customer profiles: the rules for a profile's id, name, locale, time zone, custom attributes,
//! other channels' identities and preferences.

use herald_proto::v1::Customer;

use crate::{Error, Result};

/// The longest customer id, in characters.
pub const MAX_ID_LEN: usize = 256;
/// The longest name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// The most custom attributes a profile holds.
pub const MAX_ATTRIBUTES: usize = 64;
/// The longest attribute key, in characters.
pub const MAX_ATTRIBUTE_KEY_LEN: usize = 64;
/// The longest attribute value, in bytes.
pub const MAX_ATTRIBUTE_VALUE_BYTES: usize = 1024;
/// The most channel identities a profile holds.
pub const MAX_IDENTITIES: usize = 32;
/// The longest channel name and identity, in bytes.
pub const MAX_CHANNEL_LEN: usize = 32;
pub const MAX_IDENTITY_BYTES: usize = 256;
/// The most user ids a profile is created with (more can be linked one by one).
pub const MAX_USER_IDS: usize = 100;
/// The most topics a profile may opt out of.
pub const MAX_OPTED_OUT_TOPICS: usize = 256;

/// A customer id: 1 to [`MAX_ID_LEN`] characters, no control characters (a CRM's id, an email).
pub fn id(field: &str, id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    if id.chars().count() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_ID_LEN} characters, no control characters"),
        ));
    }
    Ok(())
}

/// An IANA time zone name the bundled time zone database knows: `UTC`, `Europe/Vienna`.
pub fn time_zone(field: &str, zone: &str) -> Result<()> {
    crate::timing::zone(field, zone).map(|_| ())
}

/// Everything of a profile but its id and links, each field named under `prefix`
/// (`customer.`).
pub fn profile(prefix: &str, c: &Customer) -> Result<()> {
    let field = |name: &str| format!("{prefix}{name}");
    if c.name.len() > MAX_NAME_BYTES || c.name.chars().any(char::is_control) {
        return Err(Error::invalid(
            field("name"),
            format!("at most {MAX_NAME_BYTES} bytes, no control characters"),
        ));
    }
    if !c.locale.is_empty() {
        crate::locale::tag(&field("locale"), &c.locale)?;
    }
    if !c.time_zone.is_empty() {
        time_zone(&field("time_zone"), &c.time_zone)?;
    }
    if let Some(p) = &c.preferences {
        crate::timing::QuietHours::read(&field("preferences.quiet_hours"), p.quiet_hours.as_ref())?;
    }
    if c.attributes.len() > MAX_ATTRIBUTES {
        return Err(Error::invalid(
            field("attributes"),
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    for (key, value) in &c.attributes {
        let key_ok = !key.is_empty()
            && key.len() <= MAX_ATTRIBUTE_KEY_LEN
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !key_ok {
            return Err(Error::invalid(
                field(&format!("attributes[{key:?}]")),
                format!("a key is 1 to {MAX_ATTRIBUTE_KEY_LEN} of A-Z a-z 0-9 _ . -"),
            ));
        }
        if value.len() > MAX_ATTRIBUTE_VALUE_BYTES {
            return Err(Error::invalid(
                field(&format!("attributes[{key:?}]")),
                format!("a value is at most {MAX_ATTRIBUTE_VALUE_BYTES} bytes"),
            ));
        }
    }
    if c.identities.len() > MAX_IDENTITIES {
        return Err(Error::invalid(
            field("identities"),
            format!("at most {MAX_IDENTITIES} identities"),
        ));
    }
    for (at, identity) in c.identities.iter().enumerate() {
        let channel_ok = !identity.channel.is_empty()
            && identity.channel.len() <= MAX_CHANNEL_LEN
            && identity
                .channel
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b));
        if !channel_ok {
            return Err(Error::invalid(
                field(&format!("identities[{at}].channel")),
                format!("1 to {MAX_CHANNEL_LEN} of a-z 0-9 _ - (e.g. messenger, email)"),
            ));
        }
        if identity.id.is_empty()
            || identity.id.len() > MAX_IDENTITY_BYTES
            || identity.id.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                field(&format!("identities[{at}].id")),
                format!("1 to {MAX_IDENTITY_BYTES} bytes, no control characters"),
            ));
        }
    }
    let topics = c
        .preferences
        .as_ref()
        .map(|p| p.opted_out_topics.as_slice())
        .unwrap_or_default();
    if topics.len() > MAX_OPTED_OUT_TOPICS {
        return Err(Error::invalid(
            field("preferences.opted_out_topics"),
            format!("at most {MAX_OPTED_OUT_TOPICS} topics"),
        ));
    }
    for (at, topic) in topics.iter().enumerate() {
        crate::topics::name(
            &field(&format!("preferences.opted_out_topics[{at}]")),
            topic,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{ChannelIdentity, CustomerPreferences};

    fn field_of(err: Error) -> String {
        match err {
            Error::InvalidArgument { field, .. } => field,
            other => panic!("not an invalid argument: {other}"),
        }
    }

    fn customer() -> Customer {
        Customer {
            customer_id: "crm-42".into(),
            name: "Ann Example".into(),
            locale: "de-AT".into(),
            time_zone: "Europe/Vienna".into(),
            attributes: [("tier".to_owned(), "gold".to_owned())].into(),
            identities: vec![ChannelIdentity {
                channel: "messenger".into(),
                id: "psid-123".into(),
            }],
            preferences: Some(CustomerPreferences {
                push_opt_out: false,
                opted_out_topics: vec!["sports".into()],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_full_profile_passes() {
        assert!(profile("customer.", &customer()).is_ok());
        assert!(id("customer.customer_id", "ann@example.com").is_ok());
        assert!(time_zone("tz", "America/Argentina/Buenos_Aires").is_ok());
        assert!(time_zone("tz", "UTC").is_ok());
        assert!(time_zone("tz", "Etc/GMT+5").is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(Customer, &str)> = vec![
            (
                Customer {
                    locale: "deutsch".into(),
                    ..customer()
                },
                "customer.locale",
            ),
            (
                Customer {
                    time_zone: "Europe/Vienna City".into(),
                    ..customer()
                },
                "customer.time_zone",
            ),
            (
                Customer {
                    attributes: [("bad key".to_owned(), String::new())].into(),
                    ..customer()
                },
                "customer.attributes[\"bad key\"]",
            ),
            (
                Customer {
                    identities: vec![ChannelIdentity {
                        channel: "Messenger".into(),
                        id: "x".into(),
                    }],
                    ..customer()
                },
                "customer.identities[0].channel",
            ),
            (
                Customer {
                    preferences: Some(CustomerPreferences {
                        push_opt_out: true,
                        opted_out_topics: vec!["ok".into(), "not ok".into()],
                        ..Default::default()
                    }),
                    ..customer()
                },
                "customer.preferences.opted_out_topics[1]",
            ),
            (
                Customer {
                    name: "a\u{0}b".into(),
                    ..customer()
                },
                "customer.name",
            ),
        ];
        for (c, field) in cases {
            assert_eq!(field_of(profile("customer.", &c).unwrap_err()), field);
        }
        assert_eq!(field_of(id("customer_id", "").unwrap_err()), "customer_id");
        assert!(id("customer_id", &"x".repeat(257)).is_err());
    }
}
