//! An endpoint's sealed parts: its signing secrets (newest first, each with the instant it stops
//! signing, 0 for never) and its authorization, sealed under the master key in the context of
//! the tenant and the endpoint, so a row copied to another endpoint does not open.

use herald_core::crypto::{MasterKey, webhook_context};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Auth, Secret};

/// What a tenant's notify URL secrets are sealed for, in place of an endpoint's id (no endpoint
/// id looks like it).
pub const NOTIFY_SECRETS: &str = "notify-url";

/// How long a replaced secret keeps signing beside the new one.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

#[derive(Serialize, Deserialize)]
struct StoredSecret {
    secret: String,
    until_ms: i64,
}

/// An endpoint's signing secrets, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets(Vec<(Secret, i64)>);

/// Sealed parts that do not open (another key, or a damaged row).
#[derive(Debug, thiserror::Error)]
#[error("the endpoint's {0} cannot be opened with this master key")]
pub struct Unopenable(&'static str);

impl Secrets {
    /// One new secret.
    pub fn new(secret: Secret) -> Self {
        Self(vec![(secret, 0)])
    }

    /// A new secret first; the current one signs for [`ROTATION_OVERLAP_MS`] more; older ones go.
    pub fn rotated(&self, fresh: Secret, now_ms: i64) -> Self {
        let mut kept = vec![(fresh, 0)];
        if let Some(current) = self.active(now_ms).into_iter().next() {
            kept.push((current, now_ms + ROTATION_OVERLAP_MS));
        }
        Self(kept)
    }

    /// The secrets that sign at `now_ms`, newest first.
    pub fn active(&self, now_ms: i64) -> Vec<Secret> {
        self.0
            .iter()
            .filter(|(_, until)| *until == 0 || *until > now_ms)
            .map(|(secret, _)| secret.clone())
            .collect()
    }

    pub fn seal(&self, key: &MasterKey, tenant: &str, webhook: &str) -> Vec<u8> {
        let stored: Vec<StoredSecret> = self
            .0
            .iter()
            .map(|(secret, until_ms)| StoredSecret {
                secret: secret.shown().to_owned(),
                until_ms: *until_ms,
            })
            .collect();
        seal(key, (tenant, webhook, "secrets"), &stored)
    }

    pub fn open(
        key: &MasterKey,
        tenant: &str,
        webhook: &str,
        sealed: &[u8],
    ) -> Result<Self, Unopenable> {
        let stored: Vec<StoredSecret> = open(key, (tenant, webhook, "secrets"), sealed)?;
        stored
            .into_iter()
            .map(|s| Some((Secret::parse(&s.secret)?, s.until_ms)))
            .collect::<Option<Vec<_>>>()
            .filter(|secrets| !secrets.is_empty())
            .map(Self)
            .ok_or(Unopenable("secrets"))
    }
}

impl Auth {
    pub fn seal(&self, key: &MasterKey, tenant: &str, webhook: &str) -> Vec<u8> {
        seal(key, (tenant, webhook, "auth"), self)
    }

    pub fn open(
        key: &MasterKey,
        tenant: &str,
        webhook: &str,
        sealed: &[u8],
    ) -> Result<Self, Unopenable> {
        open(key, (tenant, webhook, "auth"), sealed)
    }
}

/// Which part of which endpoint: (tenant, webhook, part).
type Part<'a> = (&'a str, &'a str, &'static str);

/// `value` as JSON, sealed for one part of one endpoint.
fn seal<T: Serialize + ?Sized>(
    key: &MasterKey,
    (tenant, webhook, what): Part<'_>,
    value: &T,
) -> Vec<u8> {
    let json = serde_json::to_vec(value).expect("an endpoint's parts serialize");
    key.seal(&webhook_context(tenant, webhook, what), &json)
}

fn open<T: DeserializeOwned>(
    key: &MasterKey,
    (tenant, webhook, what): Part<'_>,
    sealed: &[u8],
) -> Result<T, Unopenable> {
    let json = key
        .open(&webhook_context(tenant, webhook, what), sealed)
        .map_err(|_| Unopenable(what))?;
    serde_json::from_slice(&json).map_err(|_| Unopenable(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap()
    }

    #[test]
    fn sealed_parts_open_only_for_their_endpoint() {
        let key = key();
        let secrets = Secrets::new(Secret::generate());
        let sealed = secrets.seal(&key, "tnt_a", "whk_1");
        assert_eq!(
            Secrets::open(&key, "tnt_a", "whk_1", &sealed).unwrap(),
            secrets
        );
        assert!(Secrets::open(&key, "tnt_a", "whk_2", &sealed).is_err());
        let auth = Auth::Bearer { token: "t".into() };
        let sealed = auth.seal(&key, "tnt_a", "whk_1");
        assert_eq!(Auth::open(&key, "tnt_a", "whk_1", &sealed).unwrap(), auth);
        assert!(Auth::open(&key, "tnt_b", "whk_1", &sealed).is_err());
    }

    #[test]
    fn a_rotation_keeps_the_old_secret_for_a_day() {
        let (first, second, third) = (Secret::generate(), Secret::generate(), Secret::generate());
        let now = 1_000_000;
        let rotated = Secrets::new(first.clone()).rotated(second.clone(), now);
        let active = rotated.active(now);
        assert_eq!(active, vec![second.clone(), first.clone()]);
        assert_eq!(rotated.active(now + ROTATION_OVERLAP_MS).len(), 1);
        // Rotating again drops the oldest at once.
        let again = rotated.rotated(third.clone(), now + 1);
        let active = again.active(now + 1);
        assert_eq!(active, vec![third, second]);
    }
}
