//! Typed ids, parsed once at the boundary. Ids are ASCII `[a-z0-9_]` so they are safe in NATS
//! subjects and URLs.

use std::fmt;

use crate::Error;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// A new time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// Parses an id a client sent; `field` names it in the error.
            pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
                let valid = raw.len() > $prefix.len()
                    && raw.len() <= 64
                    && raw.starts_with($prefix)
                    && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if valid {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(Error::invalid(field, concat!("not a valid id (expected ", $prefix, "…)")))
                }
            }

            /// Wraps an id read back from Herald's own storage or bus.
            pub fn from_trusted(raw: String) -> Self {
                Self(raw)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A tenant: the owner of every row and subject.
    TenantId,
    "tnt_"
);
id_type!(
    /// An accepted notification.
    MessageId,
    "msg_"
);
id_type!(
    /// A registered device (or browser subscription).
    DeviceId,
    "dev_"
);
id_type!(
    /// An API key's public id (not the secret).
    KeyId,
    "key_"
);
id_type!(
    /// One message to one device.
    DeliveryId,
    "dlv_"
);

id_type!(
    /// An outbound webhook endpoint.
    WebhookId,
    "whk_"
);
id_type!(
    /// A trigger: an event type, a condition and a template (`trg_incoming_call` and the other
    /// built-in ones are named, not generated).
    TriggerId,
    "trg_"
);
id_type!(
    /// A published event.
    EventId,
    "evt_"
);
id_type!(
    /// A user's mobile session on one device.
    SessionId,
    "mss_"
);

impl DeliveryId {
    /// The delivery of `message` to `device`: derived, so a router that handles the same message
    /// twice produces the same ids and JetStream's dedup drops the second publish.
    ///
    /// It is the message's digits followed by the device's (less its last four, to stay within
    /// 64 characters): both are time-ordered, so a message's deliveries sit together in the
    /// store's key order, in device order — the order a fan-out writes them in — and writing a
    /// page of them touches a few pages of the table rather than one per delivery. Ids of
    /// another shape are hashed instead.
    pub fn derive(message: &MessageId, device: &DeviceId) -> Self {
        let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
        let m = message.as_str().strip_prefix("msg_").unwrap_or_default();
        let d = device.as_str().strip_prefix("dev_").unwrap_or_default();
        if m.len() == 32 && d.len() == 32 && hex(m) && hex(d) {
            return Self(format!("dlv_{m}{}", &d[..28]));
        }
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            format!("{message}/{device}").as_bytes(),
        );
        let hex: String = digest.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self(format!("dlv_{hex}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let id = MessageId::generate();
        assert_eq!(MessageId::parse("message_id", id.as_str()).unwrap(), id);
    }

    #[test]
    fn foreign_ids_are_refused_with_the_field() {
        let err = DeviceId::parse("device_id", "msg_0190").unwrap_err();
        assert_eq!(
            err.to_string(),
            "device_id: not a valid id (expected dev_…)"
        );
        assert!(TenantId::parse("tenant_id", "tnt_a.b").is_err());
        assert!(TenantId::parse("tenant_id", "tnt_").is_err());
    }

    #[test]
    fn delivery_ids_are_stable_per_message_and_device() {
        let m = MessageId::generate();
        let d1 = DeviceId::generate();
        let d2 = DeviceId::generate();
        assert_eq!(DeliveryId::derive(&m, &d1), DeliveryId::derive(&m, &d1));
        assert_ne!(DeliveryId::derive(&m, &d1), DeliveryId::derive(&m, &d2));
        let id = DeliveryId::derive(&m, &d1);
        assert_eq!(id.as_str().len(), 64);
        assert_eq!(DeliveryId::parse("delivery_id", id.as_str()).unwrap(), id);
        // A message's deliveries follow their devices' order, after every earlier message's.
        assert!(DeliveryId::derive(&m, &d1) < DeliveryId::derive(&m, &d2));
        let later = MessageId::generate();
        assert!(DeliveryId::derive(&m, &d2) < DeliveryId::derive(&later, &d1));
        // Foreign shapes are hashed.
        let odd = DeviceId::from_trusted("dev_x".into());
        assert!(DeliveryId::derive(&m, &odd).as_str().len() == 36);
    }
}
