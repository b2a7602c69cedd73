//! The messages recalled lately, as announced on the bus: a sender that claimed one of their
//! deliveries before the recall does not hand it to its provider after it (the recalled claim
//! in the database settles every later copy of the task).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

/// How long a recall is remembered: longer than a claimed task waits for its send.
const KEEP: Duration = Duration::from_secs(10 * 60);

/// Recalled messages by `(tenant id, message id)`.
#[derive(Debug, Default)]
pub(crate) struct Recalls {
    recalled: Mutex<HashMap<(String, String), Instant>>,
}

impl Recalls {
    fn remember(&self, tenant: &str, message: &str) {
        let mut recalled = self.recalled.lock().expect("recalls");
        recalled.retain(|_, at| at.elapsed() < KEEP);
        recalled.insert((tenant.to_owned(), message.to_owned()), Instant::now());
    }

    pub(crate) fn contains(&self, tenant: &str, message: &str) -> bool {
        let recalled = self.recalled.lock().expect("recalls");
        // Most senders never see a recall: no key is built for an empty map.
        !recalled.is_empty() && recalled.contains_key(&(tenant.to_owned(), message.to_owned()))
    }

    /// Remembers every recall announced on the bus until `shutdown`.
    pub(crate) async fn listen(
        &self,
        bus: &herald_bus::Bus,
        shutdown: CancellationToken,
    ) -> herald_bus::Result<()> {
        let mut announced = bus.listen(herald_bus::subjects::MESSAGE_RECALLED).await?;
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                next = announced.next() => next,
            };
            let Some(next) = next else {
                return Ok(());
            };
            match std::str::from_utf8(&next.payload)
                .ok()
                .and_then(|text| text.split_once(' '))
            {
                Some((tenant, message)) => self.remember(tenant, message),
                None => tracing::warn!("an announced recall does not name a tenant and a message"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_recalled_message_of_its_tenant_only() {
        let recalls = Recalls::default();
        assert!(!recalls.contains("t1", "m1"));
        recalls.remember("t1", "m1");
        assert!(recalls.contains("t1", "m1"));
        assert!(!recalls.contains("t2", "m1"));
        assert!(!recalls.contains("t1", "m2"));
    }
}
