//! Topics: the rules for a topic's name and description, and who may be subscribed to one (a
//! device, or a user whose subscription covers the user's devices, present and future).

use crate::ids::DeviceId;
use crate::{Error, Result};

/// The longest topic name, in characters.
pub const MAX_NAME_LEN: usize = 256;
/// The longest topic description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 1024;

/// Who a subscription names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscriber {
    /// One device.
    Device(DeviceId),
    /// A user: every device registered to the user, now or later.
    User(String),
}

/// A topic's name: 1 to [`MAX_NAME_LEN`] of `A–Z a–z 0–9 - _ . ~ %`, the alphabet FCM allows
/// in its topic names, so a topic can later be mirrored onto a provider's topics as it is.
pub fn name(field: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.~%".contains(c);
    if name.len() > MAX_NAME_LEN || !name.chars().all(allowed) {
        return Err(Error::invalid(
            field,
            format!("1 to {MAX_NAME_LEN} of the characters A-Z a-z 0-9 - _ . ~ %"),
        ));
    }
    Ok(())
}

/// A new topic's name and description.
pub fn new_topic(topic: &str, description: &str) -> Result<()> {
    name("name", topic)?;
    if description.len() > MAX_DESCRIPTION_BYTES || description.chars().any(char::is_control) {
        return Err(Error::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION_BYTES} bytes, no control characters"),
        ));
    }
    Ok(())
}

/// The subscriber of a subscribe or unsubscribe request: exactly one of a device id or a user id.
pub fn subscriber(device_id: Option<&str>, user_id: Option<&str>) -> Result<Subscriber> {
    match (device_id, user_id) {
        (Some(device), None) => Ok(Subscriber::Device(DeviceId::parse("device_id", device)?)),
        (None, Some(user)) => {
            crate::validate::user_id("user_id", user)?;
            Ok(Subscriber::User(user.to_owned()))
        }
        _ => Err(Error::invalid(
            "subscriber",
            "required: set one of device_id, user_id",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Result<impl std::fmt::Debug>) -> String {
        match result.unwrap_err() {
            Error::InvalidArgument { field, .. } => field,
            other => panic!("not an invalid argument: {other:?}"),
        }
    }

    #[test]
    fn names_use_fcms_topic_alphabet() {
        for good in [
            "news",
            "sports.eu-west_1",
            "a~b%20c",
            &"x".repeat(MAX_NAME_LEN),
        ] {
            assert!(name("name", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "two words",
            "news/eu",
            "é",
            "a\n",
            &"x".repeat(MAX_NAME_LEN + 1),
        ] {
            assert_eq!(field_of(name("name", bad)), "name", "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_bounded_and_printable() {
        assert!(new_topic("news", "Breaking news, in brief").is_ok());
        assert!(new_topic("news", &"d".repeat(MAX_DESCRIPTION_BYTES)).is_ok());
        assert_eq!(
            field_of(new_topic("news", &"d".repeat(MAX_DESCRIPTION_BYTES + 1))),
            "description"
        );
        assert_eq!(field_of(new_topic("news", "a\u{7}")), "description");
        assert_eq!(field_of(new_topic("", "ok")), "name");
    }

    #[test]
    fn a_subscriber_is_one_device_or_one_user() {
        assert_eq!(
            subscriber(Some("dev_1"), None).unwrap(),
            Subscriber::Device(DeviceId::parse("device_id", "dev_1").unwrap())
        );
        assert_eq!(
            subscriber(None, Some("alice")).unwrap(),
            Subscriber::User("alice".into())
        );
        assert_eq!(field_of(subscriber(None, None)), "subscriber");
        assert_eq!(field_of(subscriber(Some("nope"), None)), "device_id");
        assert_eq!(field_of(subscriber(None, Some(""))), "user_id");
    }
}
