//! What this sender tried but has not yet published the outcome of (the bus was down when it
//! tried): a batch delivered to it again publishes that outcome instead of sending again.
//! Entries go once their batch is acked, or after [`KEEP`] at the latest.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use herald_proto::bus::v1::SendTask;

use crate::Tried;

/// How long an unpublished outcome is kept; a bus outage longer than this forgets it, and the
/// delivery may be sent again.
const KEEP: Duration = Duration::from_secs(15 * 60);

/// A try: the delivery and its attempt.
pub(crate) type Key = (String, u32);

pub(crate) fn key(task: &SendTask) -> Key {
    (task.delivery_id.clone(), task.attempt.max(1))
}

#[derive(Debug, Default)]
pub(crate) struct Recent {
    tries: Mutex<HashMap<Key, (Tried, Instant)>>,
}

impl Recent {
    pub(crate) fn remember(&self, key: Key, tried: Tried) {
        let mut tries = self.tries.lock().expect("recent tries");
        // Forgotten entries go when the map grows, so it stays as small as the unpublished set.
        if tries.len() >= 4096 {
            tries.retain(|_, (_, at)| at.elapsed() < KEEP);
        }
        tries.insert(key, (tried, Instant::now()));
    }

    pub(crate) fn recall(&self, key: &Key) -> Option<Tried> {
        let tries = self.tries.lock().expect("recent tries");
        tries
            .get(key)
            .filter(|(_, at)| at.elapsed() < KEEP)
            .map(|(tried, _)| tried.clone())
    }

    /// The outcomes of these tries are published.
    pub(crate) fn forget(&self, keys: &[Key]) {
        let mut tries = self.tries.lock().expect("recent tries");
        for key in keys {
            tries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::bus::v1::DeliveryReceipt;

    #[test]
    fn an_unpublished_outcome_is_recalled_until_forgotten() {
        let recent = Recent::default();
        let task = SendTask {
            delivery_id: "d1".into(),
            attempt: 2,
            ..Default::default()
        };
        let receipt = DeliveryReceipt {
            delivery_id: "d1".into(),
            ..Default::default()
        };
        assert!(recent.recall(&key(&task)).is_none());
        recent.remember(key(&task), Tried::Done(receipt.clone()));
        assert!(matches!(recent.recall(&key(&task)), Some(Tried::Done(r)) if r == receipt));
        let next = SendTask {
            attempt: 3,
            ..task.clone()
        };
        assert!(recent.recall(&key(&next)).is_none(), "another attempt");
        recent.forget(&[key(&task)]);
        assert!(recent.recall(&key(&task)).is_none());
    }
}
