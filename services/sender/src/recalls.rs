//! The messages recalled lately, as announced on the bus: a sender that claimed one of their
//! deliveries before the recall does not hand it to its provider after it (the recalled claim
//! in the database settles every later copy of the task).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// How long a recall is remembered: longer than a claimed task waits for its send.
const KEEP: Duration = Duration::from_secs(10 * 60);

/// Recalled messages by id (message ids are unique across tenants).
#[derive(Debug, Default)]
pub(crate) struct Recalls {
    recalled: Mutex<HashMap<String, Instant>>,
}

impl Recalls {
    fn remember(&self, message: &str) {
        let mut recalled = self.recalled.lock().expect("recalls");
        recalled.retain(|_, at| at.elapsed() < KEEP);
        recalled.insert(message.to_owned(), Instant::now());
    }

    pub(crate) fn contains(&self, message: &str) -> bool {
        self.recalled.lock().expect("recalls").contains_key(message)
    }

    /// Remembers every recall announced on the bus (`<tenant id> <message id>`) until
    /// `shutdown`.
    pub(crate) async fn listen(
        &self,
        bus: &herald_bus::Bus,
        shutdown: CancellationToken,
    ) -> herald_bus::Result<()> {
        bus.announcements(
            herald_bus::subjects::MESSAGE_RECALLED,
            shutdown,
            |text| match text.split_once(' ') {
                Some((_, message)) => self.remember(message),
                None => tracing::warn!("an announced recall does not name a tenant and a message"),
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_recalled_message() {
        let recalls = Recalls::default();
        assert!(!recalls.contains("m1"));
        recalls.remember("m1");
        assert!(recalls.contains("m1"));
        assert!(!recalls.contains("m2"));
    }
}
