//! Foreground work first: in one process, a campaign's writes (fan-out pages, bulk claims) wait
//! while work someone is waiting for (a single message's routing, its claim) is under way, so
//! the process's database connections and its share of the machine go to that first. A campaign
//! waits at most [`MOST`] each time, so a steady stream of foreground work slows it but never
//! stops it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest a campaign's write waits for foreground work at once.
const MOST: Duration = Duration::from_millis(50);

/// How often a waiting campaign writer looks again.
const POLL: Duration = Duration::from_millis(1);

/// The foreground work under way in this process.
#[derive(Clone, Debug, Default)]
pub struct Foreground(Arc<AtomicUsize>);

/// Foreground work under way, until dropped.
#[derive(Debug)]
pub struct InForeground(Arc<AtomicUsize>);

impl Drop for InForeground {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Foreground {
    /// Foreground work starts; it ends when the answer is dropped.
    pub fn enter(&self) -> InForeground {
        self.0.fetch_add(1, Ordering::Relaxed);
        InForeground(self.0.clone())
    }

    /// Whether foreground work is under way.
    pub fn busy(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }

    /// Campaign work waits here: until no foreground work is under way, or [`MOST`] at most.
    pub async fn yield_to(&self) {
        let started = Instant::now();
        while self.busy() && started.elapsed() < MOST {
            tokio::time::sleep(POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn campaign_work_waits_for_foreground_work_but_not_for_ever() {
        let foreground = Foreground::default();
        let started = Instant::now();
        foreground.yield_to().await;
        assert!(started.elapsed() < MOST, "nothing to wait for");
        let guard = foreground.enter();
        let copy = foreground.clone();
        assert!(copy.busy());
        let started = Instant::now();
        foreground.yield_to().await;
        assert!(started.elapsed() >= MOST, "waited its most");
        drop(guard);
        assert!(!copy.busy());
    }
}
