//! The delivery status machine: queued → submitted → delivered → read, or queued → failed /
//! expired. Receipts arrive at least once and out of order; a status never moves backwards.

use herald_proto::bus::v1::Outcome;
use herald_proto::v1::DeliveryStatus;

use crate::names::Named as _;

/// The status a receipt's outcome leads to.
pub fn status_for(outcome: Outcome) -> DeliveryStatus {
    match outcome {
        Outcome::Submitted => DeliveryStatus::Submitted,
        Outcome::Failed | Outcome::TokenDead => DeliveryStatus::Failed,
        Outcome::Expired => DeliveryStatus::Expired,
        Outcome::Delivered => DeliveryStatus::Delivered,
        Outcome::Read => DeliveryStatus::Read,
        Outcome::Unspecified => DeliveryStatus::Unspecified,
    }
}

/// Whether a delivery in `from` may move to `to`.
///
/// Device reports (delivered, read) can overtake the sender's receipt, so submitted, delivered
/// and read form a ladder that only climbs; failed and expired are final and only follow queued.
pub fn can_transition(from: DeliveryStatus, to: DeliveryStatus) -> bool {
    use DeliveryStatus::*;
    let rank = |s: DeliveryStatus| match s {
        Queued => Some(0),
        Submitted => Some(1),
        Delivered => Some(2),
        Read => Some(3),
        Failed | Expired | Unspecified => None,
    };
    match (from, to) {
        (Queued, Failed | Expired) => true,
        (_, Unspecified) | (Unspecified, _) => false,
        (from, to) => match (rank(from), rank(to)) {
            (Some(a), Some(b)) => b > a,
            _ => false,
        },
    }
}

/// The statuses from which a move to `to` is allowed (for a guarded SQL update).
pub fn allowed_predecessors(to: DeliveryStatus) -> Vec<&'static str> {
    use DeliveryStatus::*;
    [Queued, Submitted, Delivered, Read, Failed, Expired]
        .into_iter()
        .filter(|from| can_transition(*from, to))
        .map(|status| status.name())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    #[test]
    fn the_ladder_only_climbs() {
        assert!(can_transition(Queued, Submitted));
        assert!(can_transition(Submitted, Delivered));
        assert!(can_transition(Queued, Read));
        assert!(!can_transition(Read, Delivered));
        assert!(!can_transition(Submitted, Submitted));
    }

    #[test]
    fn failure_is_final_and_only_follows_queued() {
        assert!(can_transition(Queued, Failed));
        assert!(can_transition(Queued, Expired));
        assert!(!can_transition(Submitted, Failed));
        assert!(!can_transition(Failed, Submitted));
        assert!(!can_transition(Expired, Delivered));
    }

    #[test]
    fn predecessors_match_the_machine() {
        assert_eq!(allowed_predecessors(Submitted), vec!["queued"]);
        assert_eq!(
            allowed_predecessors(Read),
            vec!["queued", "submitted", "delivered"]
        );
        assert_eq!(allowed_predecessors(Failed), vec!["queued"]);
    }
}
