//! The batch messages that carry work between the services: accepted messages (ingest →
//! router), send tasks (router → senders, and a sender's retries) and receipts (senders, router,
//! ingest → receipt) and delivery events (receipt → watchers). One message per tenant (per
//! message for events) and chunk instead of one per notification or
//! delivery keeps the broker's work per delivery small.

use std::collections::BTreeMap;

use herald_proto::bus::v1::{
    DeliveryEvent, DeliveryReceipt, EventBatch, Outcome, ReceiptBatch, SendBatch, SendTask,
};
use herald_proto::v1::{MessageClass, Provider};

use crate::{Lane, Outgoing, batch_id, chunks, subjects};

/// One stored message body (an encoded `MessageAccepted`) with its id.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub message_id: String,
    pub body: Vec<u8>,
    /// For a scheduled message released by the relay: the instant it was due. A message
    /// routed in waves (each device at its local time) is published once per wave, and each
    /// wave's publish must not be taken for a repeat of the one before.
    pub due: Option<i64>,
}

/// An `AcceptedBatch` to publish, and the ids of the messages it carries.
#[derive(Clone, Debug)]
pub struct AcceptedOut {
    pub out: Outgoing,
    pub message_ids: Vec<String>,
}

/// The class of an encoded `MessageAccepted`, read without decoding the rest of it.
#[derive(Clone, PartialEq, prost::Message)]
struct ClassOnly {
    #[prost(enumeration = "MessageClass", tag = "12")]
    class: i32,
}

/// `AcceptedBatch` messages for the router: a tenant's accepted messages, in chunks, the
/// transactional ones on the urgent subject (the router takes them before any other).
pub fn accepted_batches(tenant: &str, messages: Vec<Accepted>) -> Vec<AcceptedOut> {
    let urgent = |m: &Accepted| {
        <ClassOnly as prost::Message>::decode(m.body.as_slice())
            .is_ok_and(|c| c.class() == MessageClass::Transactional)
    };
    let (urgent, other): (Vec<_>, Vec<_>) = messages.into_iter().partition(urgent);
    let mut out = tenant_batches(subjects::urgent_ingest(tenant), urgent);
    out.extend(tenant_batches(subjects::ingest(tenant), other));
    out
}

fn tenant_batches(subject: String, messages: Vec<Accepted>) -> Vec<AcceptedOut> {
    // Each body becomes field 1 of the batch as it is: the bytes of an embedded message.
    let encoded_len = |m: &Accepted| prost::encoding::bytes::encoded_len(1, &m.body);
    chunks(messages, encoded_len)
        .into_iter()
        .map(|chunk| {
            let msg_id = batch_id(
                "accepted",
                chunk.iter().map(|m| match m.due {
                    Some(due) => format!("{}@{due}", m.message_id),
                    None => m.message_id.clone(),
                }),
            );
            let mut payload = Vec::with_capacity(chunk.iter().map(encoded_len).sum());
            for message in &chunk {
                prost::encoding::bytes::encode(1, &message.body, &mut payload);
            }
            AcceptedOut {
                out: Outgoing {
                    subject: subject.clone(),
                    msg_id,
                    payload: payload.into(),
                },
                message_ids: chunk.into_iter().map(|m| m.message_id).collect(),
            }
        })
        .collect()
}

/// Send batches for one provider's sender: per tenant and lane (each task in the lane it is
/// marked with), in chunks, each tried no earlier than `not_before_ms` (0: at once).
pub fn send_batches(provider: Provider, tasks: Vec<SendTask>, not_before_ms: i64) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for (tenant, tasks) in grouped(tasks, |t| &t.tenant_id) {
        let mut lanes: BTreeMap<Lane, Vec<SendTask>> = BTreeMap::new();
        for task in tasks {
            lanes.entry(Lane::of(&task)).or_default().push(task);
        }
        for (lane, tasks) in lanes {
            let subject = lane.subject(provider, &tenant);
            for tasks in chunks(tasks, prost::Message::encoded_len) {
                let msg_id = batch_id(
                    "send",
                    tasks
                        .iter()
                        .map(|t| format!("{}.{}", t.delivery_id, t.attempt)),
                );
                let batch = SendBatch {
                    tasks,
                    not_before_ms,
                };
                out.push(Outgoing::new(subject.clone(), msg_id, &batch));
            }
        }
    }
    out
}

/// Receipt batches: per tenant, in chunks.
pub fn receipt_batches(receipts: Vec<DeliveryReceipt>) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for (tenant, receipts) in grouped(receipts, |r| &r.tenant_id) {
        let subject = subjects::receipt(&tenant);
        for receipts in chunks(receipts, prost::Message::encoded_len) {
            let msg_id = batch_id(
                "receipt",
                receipts.iter().map(|r| {
                    let tap = r
                        .interaction
                        .as_ref()
                        .map(|i| format!(".{}.{}", i.kind, i.button))
                        .unwrap_or_default();
                    // Each failed try of a delivery is a receipt of its own.
                    let attempt = if r.outcome() == Outcome::Retrying {
                        format!(".{}", r.attempts)
                    } else {
                        String::new()
                    };
                    format!(
                        "{}.{}{tap}{attempt}",
                        r.delivery_id,
                        r.outcome().as_str_name()
                    )
                }),
            );
            out.push(Outgoing::new(
                subject.clone(),
                msg_id,
                &ReceiptBatch { receipts },
            ));
        }
    }
    out
}

/// Event batches: per message, in chunks, each group in the order given.
pub fn event_batches(events: Vec<DeliveryEvent>) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for (message, events) in grouped(events, |e| &e.message_id) {
        let subject = subjects::event(&message, &events[0].tenant_id);
        for events in chunks(events, prost::Message::encoded_len) {
            let msg_id = batch_id(
                "event",
                events.iter().map(|e| {
                    let d = e.delivery.as_ref();
                    let tap = e
                        .interaction
                        .as_ref()
                        .map(|i| format!(".{}.{}", i.kind, i.button))
                        .unwrap_or_default();
                    format!(
                        "{}.{}.{}{tap}",
                        d.map_or("", |d| d.delivery_id.as_str()),
                        d.map_or(0, |d| d.status),
                        e.kind
                    )
                }),
            );
            out.push(Outgoing::new(
                subject.clone(),
                msg_id,
                &EventBatch { events },
            ));
        }
    }
    out
}

/// `items` grouped by `key`, each group in the order given.
fn grouped<T>(items: Vec<T>, key: impl Fn(&T) -> &String) -> BTreeMap<String, Vec<T>> {
    let mut groups: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for item in items {
        match groups.get_mut(key(&item)) {
            Some(group) => group.push(item),
            None => {
                groups.insert(key(&item).clone(), vec![item]);
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(tenant: &str, delivery: &str, attempt: u32) -> SendTask {
        SendTask {
            tenant_id: tenant.into(),
            delivery_id: delivery.into(),
            attempt,
            ..Default::default()
        }
    }

    #[test]
    fn send_batches_split_by_tenant_and_size_and_name_their_contents() {
        let mut tasks: Vec<SendTask> = (0..300).map(|i| task("t1", &format!("d{i}"), 1)).collect();
        tasks.push(task("t2", "x", 1));
        let out = send_batches(Provider::Fcm, tasks, 0);
        let shape: Vec<(&str, usize)> = out
            .iter()
            .map(|o| {
                let batch = <SendBatch as prost::Message>::decode(o.payload.clone()).unwrap();
                (o.subject.as_str(), batch.tasks.len())
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("herald.send.fcm.t1", 256),
                ("herald.send.fcm.t1", 44),
                ("herald.send.fcm.t2", 1)
            ]
        );
        // The same tasks make the same ids; another attempt is another batch.
        let again = send_batches(Provider::Fcm, vec![task("t2", "x", 1)], 0);
        assert_eq!(again[0].msg_id, out[2].msg_id);
        let retry = send_batches(Provider::Fcm, vec![task("t2", "x", 2)], 0);
        assert_ne!(retry[0].msg_id, out[2].msg_id);
    }

    #[test]
    fn each_task_goes_in_its_lane() {
        let bulk = SendTask {
            bulk: true,
            ..task("t1", "campaign", 1)
        };
        let urgent = SendTask {
            urgent: true,
            ..task("t1", "call", 1)
        };
        let out = send_batches(
            Provider::Apns,
            vec![bulk, task("t1", "single", 1), urgent],
            0,
        );
        let subjects: Vec<&str> = out.iter().map(|o| o.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "herald.urgent.send.apns.t1",
                "herald.send.apns.t1",
                "herald.bulk.apns.t1"
            ]
        );
        assert!(subjects.iter().all(|s| subjects::tenant_of(s) == "t1"));
    }

    #[test]
    fn transactional_messages_go_to_the_router_on_the_urgent_subject() {
        use herald_proto::bus::v1::MessageAccepted;
        let accepted = |id: &str, class: MessageClass| Accepted {
            message_id: id.into(),
            body: prost::Message::encode_to_vec(&MessageAccepted {
                message_id: id.into(),
                correlation_id: "c".repeat(300),
                class: class as i32,
                ..Default::default()
            }),
            due: None,
        };
        let out = accepted_batches(
            "t",
            vec![
                accepted("m1", MessageClass::Marketing),
                accepted("m2", MessageClass::Transactional),
                accepted("m3", MessageClass::Unspecified),
            ],
        );
        let routed: Vec<_> = out
            .iter()
            .map(|o| (o.out.subject.as_str(), o.message_ids.clone()))
            .collect();
        assert_eq!(
            routed,
            [
                ("herald.urgent.ingest.t", vec!["m2".to_owned()]),
                ("herald.ingest.t", vec!["m1".to_owned(), "m3".to_owned()]),
            ]
        );
    }

    #[test]
    fn large_items_are_chunked_by_bytes() {
        let receipts: Vec<DeliveryReceipt> = (0..5)
            .map(|i| DeliveryReceipt {
                tenant_id: "t".into(),
                delivery_id: format!("d{i}"),
                reason: "x".repeat(200 * 1024),
                ..Default::default()
            })
            .collect();
        let out = receipt_batches(receipts);
        let sizes: Vec<usize> = out
            .iter()
            .map(|o| {
                assert!(o.payload.len() <= crate::BATCH_BYTES);
                <ReceiptBatch as prost::Message>::decode(o.payload.clone())
                    .unwrap()
                    .receipts
                    .len()
            })
            .collect();
        assert_eq!(sizes, [2, 2, 1]);
    }

    #[test]
    fn accepted_bodies_travel_unchanged_as_an_accepted_batch() {
        use herald_proto::bus::v1::{AcceptedBatch, MessageAccepted};
        let messages: Vec<MessageAccepted> = (0..3)
            .map(|i| MessageAccepted {
                tenant_id: "t".into(),
                message_id: format!("m{i}"),
                correlation_id: "c".repeat(i),
                ..Default::default()
            })
            .collect();
        let out = accepted_batches(
            "t",
            messages
                .iter()
                .map(|m| Accepted {
                    message_id: m.message_id.clone(),
                    body: prost::Message::encode_to_vec(m),
                    due: None,
                })
                .collect(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].out.subject, "herald.ingest.t");
        assert_eq!(out[0].message_ids, ["m0", "m1", "m2"]);
        let batch = <AcceptedBatch as prost::Message>::decode(out[0].out.payload.clone()).unwrap();
        assert_eq!(batch.messages, messages);
    }

    #[test]
    fn receipt_ids_depend_on_the_outcome() {
        let receipt = |outcome: Outcome| DeliveryReceipt {
            tenant_id: "t".into(),
            delivery_id: "d".into(),
            outcome: outcome as i32,
            ..Default::default()
        };
        let a = receipt_batches(vec![receipt(Outcome::Submitted)]);
        let b = receipt_batches(vec![receipt(Outcome::Read)]);
        assert_eq!(a.len(), 1);
        assert_ne!(a[0].msg_id, b[0].msg_id);
        // A tap repeats READ, and is not taken for the READ before it (nor another button).
        let tap = |button: &str| DeliveryReceipt {
            interaction: Some(herald_proto::bus::v1::Interaction {
                kind: herald_proto::v1::DeviceEventKind::Button as i32,
                button: button.into(),
                at_ms: 1,
            }),
            ..receipt(Outcome::Read)
        };
        let c = receipt_batches(vec![tap("reply")]);
        let d = receipt_batches(vec![tap("later")]);
        assert_ne!(b[0].msg_id, c[0].msg_id);
        assert_ne!(c[0].msg_id, d[0].msg_id);
        // Each failed try is a receipt of its own; the same try again is the same.
        let retry = |attempts: u32| DeliveryReceipt {
            attempts,
            ..receipt(Outcome::Retrying)
        };
        let first = receipt_batches(vec![retry(1)]);
        assert_ne!(first[0].msg_id, receipt_batches(vec![retry(2)])[0].msg_id);
        assert_eq!(first[0].msg_id, receipt_batches(vec![retry(1)])[0].msg_id);
    }
}
