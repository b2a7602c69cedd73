//! The delivery status machine: queued → submitted → delivered → read, or queued → failed /
//! expired / cancelled. Receipts arrive at least once and out of order; a status never moves backwards.

use herald_proto::bus::v1::{DeliveryReceipt, Outcome};
use herald_proto::v1::{DeliveryStatus, MessageState, WaitFor, WaitOutcome};

use crate::names::Named as _;
use crate::stats::Counts;

/// The status a receipt's outcome leads to.
pub fn status_for(outcome: Outcome) -> DeliveryStatus {
    match outcome {
        Outcome::Submitted => DeliveryStatus::Submitted,
        Outcome::Retrying => DeliveryStatus::Queued,
        Outcome::Failed | Outcome::TokenDead => DeliveryStatus::Failed,
        Outcome::Expired => DeliveryStatus::Expired,
        Outcome::Delivered => DeliveryStatus::Delivered,
        Outcome::Read => DeliveryStatus::Read,
        Outcome::Cancelled => DeliveryStatus::Cancelled,
        Outcome::Unspecified => DeliveryStatus::Unspecified,
    }
}

/// The receipt that records a delivery of a recalled message cancelled.
pub fn recalled_receipt(
    tenant_id: &str,
    message_id: &str,
    delivery_id: &str,
    device_id: &str,
    provider: i32,
    at_ms: i64,
) -> DeliveryReceipt {
    DeliveryReceipt {
        tenant_id: tenant_id.to_owned(),
        message_id: message_id.to_owned(),
        delivery_id: delivery_id.to_owned(),
        device_id: device_id.to_owned(),
        provider,
        outcome: Outcome::Cancelled as i32,
        reason: "its message was recalled before the provider took it".to_owned(),
        at_ms,
        ..Default::default()
    }
}

/// Whether a delivery in `from` may move to `to`.
///
/// Device reports (delivered, read) can overtake the sender's receipt, so submitted, delivered
/// and read form a ladder that only climbs; failed, expired and cancelled are final and only
/// follow queued.
pub fn can_transition(from: DeliveryStatus, to: DeliveryStatus) -> bool {
    use DeliveryStatus::*;
    let rank = |s: DeliveryStatus| match s {
        Queued => Some(0),
        Submitted => Some(1),
        Delivered => Some(2),
        Read => Some(3),
        Failed | Expired | Cancelled | Unspecified => None,
    };
    match (from, to) {
        (Queued, Failed | Expired | Cancelled) => true,
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
    [
        Queued, Submitted, Delivered, Read, Failed, Expired, Cancelled,
    ]
    .into_iter()
    .filter(|from| can_transition(*from, to))
    .map(|status| status.name())
    .collect()
}

/// Whether a message's state is final: every delivery settled, or the message was not routed
/// (or was cancelled).
pub fn message_settled(state: MessageState) -> bool {
    !matches!(
        state,
        MessageState::Scheduled
            | MessageState::Accepted
            | MessageState::Routing
            | MessageState::Routed
            | MessageState::Unspecified
    )
}

/// What a message answers: its stored state, until every delivery of a routed message has
/// settled; then SUBMITTED (all reached their provider), FAILED (none did) or PARTIALLY_FAILED,
/// the last two with a reason that counts the failures and gives the first one's cause.
/// `deliveries` are each delivery's status and reason.
pub fn message_state(
    stored: MessageState,
    deliveries: &[(DeliveryStatus, &str)],
) -> (MessageState, Option<String>) {
    use DeliveryStatus::*;
    if stored != MessageState::Routed
        || deliveries.is_empty()
        || deliveries
            .iter()
            .any(|(status, _)| matches!(status, Queued | Unspecified))
    {
        return (stored, None);
    }
    let failures: Vec<&str> = deliveries
        .iter()
        .filter(|(status, _)| matches!(status, Failed | Expired))
        .map(|(_, reason)| *reason)
        .collect();
    let Some(first) = failures.first() else {
        return (MessageState::Submitted, None);
    };
    let (total, failed) = (deliveries.len(), failures.len());
    let reason = match (failed, total) {
        (1, 1) => format!("its delivery failed: {first}"),
        (n, t) if n == t => format!("all {t} deliveries failed or expired; the first: {first}"),
        (n, t) => format!("{n} of {t} deliveries failed or expired; the first: {first}"),
    };
    let state = if failed == total {
        MessageState::Failed
    } else {
        MessageState::PartiallyFailed
    };
    (state, Some(reason))
}

/// What a message answers judged from its delivery counts alone (a list of messages reads one
/// counter row per message rather than every delivery): [`message_state`]'s state, without its
/// reason.
pub fn message_state_of_counts(stored: MessageState, counts: &Counts) -> MessageState {
    let settled = counts.submitted + counts.failed + counts.expired + counts.cancelled;
    let failed = counts.failed + counts.expired;
    if stored != MessageState::Routed || counts.sent == 0 || settled < counts.sent {
        stored
    } else if failed == 0 {
        MessageState::Submitted
    } else if failed >= counts.sent {
        MessageState::Failed
    } else {
        MessageState::PartiallyFailed
    }
}

/// Whether a delivery at `status` has reached the stage `wait_for` names, or gone past it
/// (never for an unspecified stage).
pub fn reaches(wait_for: WaitFor, status: DeliveryStatus) -> bool {
    let stage = match wait_for {
        WaitFor::Submit => DeliveryStatus::Submitted,
        WaitFor::DeliveryReport => DeliveryStatus::Delivered,
        WaitFor::ReadReport => DeliveryStatus::Read,
        WaitFor::Unspecified => return false,
    };
    status == stage || can_transition(stage, status)
}

/// What a `SendAndWait` answers, given its deliveries' statuses so far: the success outcome of
/// `wait_for` once a delivery has reached that stage (or gone past it); once `finished` (no
/// delivery will change any more) with none there, ONDRFAIL, or ONERROR if the message has no
/// delivery at all; otherwise nothing yet.
pub fn wait_outcome(
    wait_for: WaitFor,
    statuses: &[DeliveryStatus],
    finished: bool,
) -> Option<WaitOutcome> {
    let success = match wait_for {
        WaitFor::Submit => WaitOutcome::Onsubmit,
        WaitFor::DeliveryReport => WaitOutcome::Ondrsuccess,
        WaitFor::ReadReport => WaitOutcome::Onread,
        WaitFor::Unspecified => return None,
    };
    if statuses.iter().any(|s| reaches(wait_for, *s)) {
        return Some(success);
    }
    match (finished, statuses.is_empty()) {
        (false, _) => None,
        (true, true) => Some(WaitOutcome::Onerror),
        (true, false) => Some(WaitOutcome::Ondrfail),
    }
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
    fn a_message_answers_for_its_settled_deliveries() {
        use MessageState as M;
        assert_eq!(message_state(M::Accepted, &[]), (M::Accepted, None));
        assert_eq!(
            message_state(M::Routed, &[(Submitted, ""), (Queued, "")]),
            (M::Routed, None)
        );
        assert_eq!(
            message_state(M::Routed, &[(Submitted, ""), (Read, "")]),
            (M::Submitted, None)
        );
        assert_eq!(
            message_state(
                M::Routed,
                &[(Submitted, ""), (Failed, "UNREGISTERED"), (Expired, "ttl")]
            ),
            (
                M::PartiallyFailed,
                Some("2 of 3 deliveries failed or expired; the first: UNREGISTERED".into())
            )
        );
        assert_eq!(
            message_state(M::Routed, &[(Failed, "no fcm credential")]),
            (
                M::Failed,
                Some("its delivery failed: no fcm credential".into())
            )
        );
        assert_eq!(
            message_state(M::Routed, &[(Failed, "a"), (Expired, "b")])
                .1
                .as_deref(),
            Some("all 2 deliveries failed or expired; the first: a")
        );
        assert_eq!(message_state(M::Failed, &[]), (M::Failed, None));
        // From counts, the same states (the read delivery counts as submitted too).
        let counts = |sent, submitted, failed, expired| Counts {
            sent,
            submitted,
            failed,
            expired,
            ..Default::default()
        };
        assert_eq!(
            message_state_of_counts(M::Routed, &counts(2, 1, 0, 0)),
            M::Routed
        );
        assert_eq!(
            message_state_of_counts(M::Routed, &counts(2, 2, 0, 0)),
            M::Submitted
        );
        assert_eq!(
            message_state_of_counts(M::Routed, &counts(2, 1, 0, 1)),
            M::PartiallyFailed
        );
        assert_eq!(
            message_state_of_counts(M::Routed, &counts(2, 0, 1, 1)),
            M::Failed
        );
        assert_eq!(
            message_state_of_counts(M::Routed, &counts(0, 0, 0, 0)),
            M::Routed
        );
        assert_eq!(
            message_state_of_counts(M::Scheduled, &counts(2, 2, 0, 0)),
            M::Scheduled
        );
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

    #[test]
    fn a_wait_ends_at_its_stage_or_when_nothing_can_reach_it() {
        use WaitFor::*;
        assert_eq!(
            wait_outcome(Submit, &[Queued, Submitted], false),
            Some(WaitOutcome::Onsubmit)
        );
        assert_eq!(
            wait_outcome(Submit, &[Read], false),
            Some(WaitOutcome::Onsubmit),
            "past the stage counts"
        );
        assert_eq!(wait_outcome(DeliveryReport, &[Submitted], false), None);
        assert_eq!(
            wait_outcome(DeliveryReport, &[Failed, Read], false),
            Some(WaitOutcome::Ondrsuccess)
        );
        assert_eq!(wait_outcome(ReadReport, &[Delivered], false), None);
        assert_eq!(
            wait_outcome(ReadReport, &[Read], false),
            Some(WaitOutcome::Onread)
        );
        assert_eq!(
            wait_outcome(Submit, &[Failed, Expired], true),
            Some(WaitOutcome::Ondrfail)
        );
        assert_eq!(
            wait_outcome(ReadReport, &[Delivered], true),
            Some(WaitOutcome::Ondrfail),
            "the watch ended without the report"
        );
        assert_eq!(wait_outcome(Submit, &[], true), Some(WaitOutcome::Onerror));
        assert_eq!(wait_outcome(Submit, &[Failed], false), None);
        assert_eq!(wait_outcome(Unspecified, &[Read], true), None);
    }
}
