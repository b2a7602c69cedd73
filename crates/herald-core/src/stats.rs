//! Delivery analytics: the stages a delivery reaches (sent, submitted, delivered, read, clicked,
//! failed, expired), how one status move counts towards them, and the counts with their rates.

use herald_proto::v1::{DeliveryStats, DeliveryStatus};

/// A stage a delivery is counted at, at most once each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The delivery was created (the router chose the device).
    Sent,
    /// Its provider accepted it.
    Submitted,
    /// The device reported it delivered (or read, which implies it).
    Delivered,
    /// The device reported it read.
    Read,
    /// It was clicked, or one of its buttons tapped (the first time).
    Clicked,
    /// Its provider refused it, or it could not be delivered.
    Failed,
    /// Its time to live ran out first.
    Expired,
    /// A recall took it before its provider did.
    Cancelled,
}

/// The success ladder's rank of a status (queued 0 … read 3); failed and expired have none.
fn rank(status: DeliveryStatus) -> Option<usize> {
    use DeliveryStatus::*;
    match status {
        Queued => Some(0),
        Submitted => Some(1),
        Delivered => Some(2),
        Read => Some(3),
        Failed | Expired | Cancelled | Unspecified => None,
    }
}

/// The stages a delivery reaches by moving from `from` to `to`: every rung of the ladder it
/// climbed (a read report for a delivery only submitted means it was delivered too, so the
/// counts form a funnel: sent ≥ submitted ≥ delivered ≥ read), or the final failed, expired or
/// cancelled.
pub fn reached(from: DeliveryStatus, to: DeliveryStatus) -> Vec<Stage> {
    const LADDER: [Stage; 3] = [Stage::Submitted, Stage::Delivered, Stage::Read];
    match (rank(from), rank(to), to) {
        (_, _, DeliveryStatus::Failed) => vec![Stage::Failed],
        (_, _, DeliveryStatus::Expired) => vec![Stage::Expired],
        (_, _, DeliveryStatus::Cancelled) => vec![Stage::Cancelled],
        (Some(a), Some(b), _) if b > a => LADDER[a..b].to_vec(),
        // A status that did not move, or a move the status machine never makes.
        _ => Vec::new(),
    }
}

/// How many deliveries reached each stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub sent: i64,
    pub submitted: i64,
    pub delivered: i64,
    pub read: i64,
    pub clicked: i64,
    pub failed: i64,
    pub expired: i64,
    pub cancelled: i64,
}

impl Counts {
    /// Counts `n` more deliveries at `stage`.
    pub fn add(&mut self, stage: Stage, n: i64) {
        *match stage {
            Stage::Sent => &mut self.sent,
            Stage::Submitted => &mut self.submitted,
            Stage::Delivered => &mut self.delivered,
            Stage::Read => &mut self.read,
            Stage::Clicked => &mut self.clicked,
            Stage::Failed => &mut self.failed,
            Stage::Expired => &mut self.expired,
            Stage::Cancelled => &mut self.cancelled,
        } += n;
    }

    /// The counts in [`Stage`] order.
    pub fn values(&self) -> [i64; 8] {
        [
            self.sent,
            self.submitted,
            self.delivered,
            self.read,
            self.clicked,
            self.failed,
            self.expired,
            self.cancelled,
        ]
    }

    /// Counts from values in [`Stage`] order.
    pub fn from_values(
        [
            sent,
            submitted,
            delivered,
            read,
            clicked,
            failed,
            expired,
            cancelled,
        ]: [i64; 8],
    ) -> Self {
        Self {
            sent,
            submitted,
            delivered,
            read,
            clicked,
            failed,
            expired,
            cancelled,
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &Counts) {
        let mut values = self.values();
        for (mine, theirs) in values.iter_mut().zip(other.values()) {
            *mine += theirs;
        }
        *self = Self::from_values(values);
    }

    /// The counts with each stage's rate: its share of the deliveries sent (0 when none were).
    pub fn to_proto(&self) -> DeliveryStats {
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        let rate = |n: i64| {
            if self.sent > 0 {
                n as f64 / self.sent as f64
            } else {
                0.0
            }
        };
        DeliveryStats {
            sent: count(self.sent),
            submitted: count(self.submitted),
            delivered: count(self.delivered),
            read: count(self.read),
            clicked: count(self.clicked),
            failed: count(self.failed),
            expired: count(self.expired),
            cancelled: count(self.cancelled),
            submitted_rate: rate(self.submitted),
            delivered_rate: rate(self.delivered),
            read_rate: rate(self.read),
            click_rate: rate(self.clicked),
            failure_rate: rate(self.failed),
            expiry_rate: rate(self.expired),
            cancel_rate: rate(self.cancelled),
        }
    }
}

/// The UTC day of an instant in Unix milliseconds, `YYYY-MM-DD`.
pub fn day_of(ms: i64) -> String {
    crate::time::rfc3339(ms)[..10].to_owned()
}

/// The most days one statistics query covers.
pub const MAX_DAYS: i64 = 366;

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    #[test]
    fn a_move_counts_every_rung_it_climbs() {
        assert_eq!(reached(Queued, Submitted), [Stage::Submitted]);
        assert_eq!(
            reached(Queued, Read),
            [Stage::Submitted, Stage::Delivered, Stage::Read]
        );
        assert_eq!(reached(Submitted, Read), [Stage::Delivered, Stage::Read]);
        assert_eq!(reached(Delivered, Read), [Stage::Read]);
    }

    #[test]
    fn failures_count_once_and_repeats_count_nothing() {
        assert_eq!(reached(Queued, Failed), [Stage::Failed]);
        assert_eq!(reached(Queued, Expired), [Stage::Expired]);
        assert_eq!(reached(Queued, Cancelled), [Stage::Cancelled]);
        assert!(reached(Read, Read).is_empty());
        assert!(reached(Read, Delivered).is_empty());
        assert!(reached(Submitted, Submitted).is_empty());
    }

    #[test]
    fn rates_are_shares_of_the_sent() {
        let mut counts = Counts::default();
        counts.add(Stage::Sent, 4);
        counts.add(Stage::Submitted, 4);
        counts.add(Stage::Delivered, 3);
        counts.add(Stage::Read, 1);
        counts.add(Stage::Failed, 0);
        let stats = counts.to_proto();
        assert_eq!((stats.sent, stats.delivered, stats.read), (4, 3, 1));
        assert!((stats.delivered_rate - 0.75).abs() < 1e-9);
        assert!((stats.read_rate - 0.25).abs() < 1e-9);
        assert_eq!(Counts::default().to_proto().delivered_rate, 0.0);
    }

    #[test]
    fn merged_counts_add_up() {
        let mut a = Counts::from_values([1, 2, 3, 4, 5, 6, 7, 8]);
        a.merge(&Counts::from_values([8, 7, 6, 5, 4, 3, 2, 1]));
        assert_eq!(a.values(), [9; 8]);
    }

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(1_796_083_199_999), "2026-11-30");
    }
}
