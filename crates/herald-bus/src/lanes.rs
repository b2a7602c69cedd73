//! The lanes work travels in, so that no kind of work waits behind another: transactional
//! messages routed on their own (calls, codes) in the urgent lane, campaigns (fan-outs that are
//! not transactional) in the bulk lane, every other send in the standard one. Each lane has its
//! stream or subjects and its own consumers, which the router and every sender consume side by
//! side.

use herald_core::names::Named as _;
use herald_proto::bus::v1::SendTask;
use herald_proto::v1::{MessageClass, Provider};

use crate::{BULK_STREAM, SEND_STREAM, URGENT_STREAM, subjects};

/// A lane of send tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lane {
    Urgent,
    Standard,
    Bulk,
}

impl Lane {
    /// Every lane, the urgent one first.
    pub const ALL: [Lane; 3] = [Lane::Urgent, Lane::Standard, Lane::Bulk];

    /// The lane of a message's send tasks: a fan-out's (`fan_out`) or one routed on its own.
    pub fn of_message(class: MessageClass, fan_out: bool) -> Lane {
        match (class, fan_out) {
            // A transactional message to a large audience is not let ahead of every other send.
            (MessageClass::Transactional, false) => Lane::Urgent,
            (MessageClass::Transactional, true) => Lane::Standard,
            (_, true) => Lane::Bulk,
            (_, false) => Lane::Standard,
        }
    }

    /// The lane a task travels in, as its flags say.
    pub fn of(task: &SendTask) -> Lane {
        if task.urgent {
            Lane::Urgent
        } else if task.bulk {
            Lane::Bulk
        } else {
            Lane::Standard
        }
    }

    /// Marks `task` as travelling in this lane.
    pub fn mark(self, task: &mut SendTask) {
        task.urgent = self == Lane::Urgent;
        task.bulk = self == Lane::Bulk;
    }

    /// The stream that holds the lane's send tasks.
    pub fn stream(self) -> &'static str {
        match self {
            Lane::Urgent => URGENT_STREAM,
            Lane::Standard => SEND_STREAM,
            Lane::Bulk => BULK_STREAM,
        }
    }

    /// The subject of a tenant's tasks for `provider` in this lane.
    pub fn subject(self, provider: Provider, tenant: &str) -> String {
        match self {
            Lane::Urgent => subjects::urgent_send(provider, tenant),
            Lane::Standard => subjects::send(provider, tenant),
            Lane::Bulk => subjects::bulk(provider, tenant),
        }
    }

    /// The filter of `provider`'s sender consumer of this lane.
    pub fn filter(self, provider: Provider) -> String {
        match self {
            Lane::Urgent => subjects::urgent_send_filter(provider),
            Lane::Standard => subjects::send_filter(provider),
            Lane::Bulk => subjects::bulk_filter(provider),
        }
    }

    /// The durable name of `provider`'s sender consumer of this lane; replicas share it.
    pub fn consumer(self, provider: Provider) -> String {
        match self {
            Lane::Urgent => format!("sender-{}-urgent", provider.name()),
            Lane::Standard => format!("sender-{}", provider.name()),
            Lane::Bulk => format!("sender-{}-bulk", provider.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_transactional_message_routed_on_its_own_is_urgent() {
        use MessageClass::*;
        assert_eq!(Lane::of_message(Transactional, false), Lane::Urgent);
        assert_eq!(Lane::of_message(Transactional, true), Lane::Standard);
        for class in [Unspecified, Standard, Marketing] {
            assert_eq!(Lane::of_message(class, false), Lane::Standard);
            assert_eq!(Lane::of_message(class, true), Lane::Bulk);
        }
    }

    #[test]
    fn a_task_travels_in_the_lane_it_is_marked_with() {
        for lane in Lane::ALL {
            let mut task = SendTask::default();
            lane.mark(&mut task);
            assert_eq!(Lane::of(&task), lane);
        }
        // Every lane's consumers filter apart: a work queue refuses overlapping ones.
        let filters: Vec<_> = Lane::ALL.iter().map(|l| l.filter(Provider::Fcm)).collect();
        assert_eq!(
            filters,
            [
                "herald.urgent.send.fcm.>",
                "herald.send.fcm.>",
                "herald.bulk.fcm.>"
            ]
        );
    }
}
