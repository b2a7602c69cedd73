//! Dead letters: what a service could not handle after its tries (or could never handle, such
//! as a message that does not decode), kept in the `HERALD_DEAD` stream with the reason, where
//! `herald dlq list` shows them and `herald dlq replay` puts them back on their way.
//!
//! A dead letter is the original payload on `herald.dead.<tenant>` with headers saying where it
//! came from, why and after how many tries; its `Nats-Msg-Id` names the original delivery, so
//! parking the same message twice keeps one letter.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::StreamMessage};
use bytes::Bytes;
use herald_proto::bus::v1::{AcceptedBatch, ReceiptBatch, SendBatch};

use crate::{Bus, BusError, DEAD_STREAM, Message, Result, subjects};

const SUBJECT: &str = "Herald-Dead-Subject";
const REASON: &str = "Herald-Dead-Reason";
const TRIES: &str = "Herald-Dead-Tries";
const PARKED_BY: &str = "Herald-Dead-Parked-By";
const AT: &str = "Herald-Dead-At";

/// Longest reason a letter keeps.
const MAX_REASON: usize = 1024;

/// What to park: a payload that was (or was meant to be) published on `subject`.
#[derive(Clone, Debug)]
pub struct Letter<'a> {
    /// The subject it goes back to when replayed.
    pub subject: &'a str,
    /// The original payload; empty when that could not be kept (it was too large for the bus).
    pub payload: Bytes,
    /// Who gave up on it (a consumer, or the outbox).
    pub parked_by: &'a str,
    pub reason: &'a str,
    pub tries: i64,
    /// Names the original, so that parking it again is dropped as a repeat.
    pub dedup_id: String,
}

/// Parks `letter`.
pub async fn put(bus: &Bus, letter: Letter<'_>) -> Result<()> {
    let mut headers = HeaderMap::new();
    headers.insert(SUBJECT, letter.subject);
    headers.insert(REASON, header_text(letter.reason).as_str());
    headers.insert(TRIES, letter.tries.to_string().as_str());
    headers.insert(PARKED_BY, header_text(letter.parked_by).as_str());
    headers.insert(AT, herald_core::time::now_ms().to_string().as_str());
    let subject = subjects::dead(subjects::tenant_of(letter.subject));
    let ack = bus
        .js
        .send_publish(
            subject.clone(),
            jetstream::message::PublishMessage::build()
                .payload(letter.payload)
                .headers(headers)
                .message_id(letter.dedup_id),
        )
        .await
        .map_err(|e| crate::publish_error(subject.clone(), &e))?;
    ack.await
        .map(|_| ())
        .map_err(|e| crate::publish_error(subject, &e))
}

/// Parks a message a consumer gave up on.
pub(crate) async fn park(
    bus: &Bus,
    message: &Message,
    consumer: &str,
    reason: &str,
    tries: i64,
) -> Result<()> {
    let dedup_id = match message.info() {
        Ok(info) => format!("dead-{}-{}", info.stream, info.stream_sequence),
        Err(_) => crate::batch_id("dead", [message.subject.as_bytes(), &message.payload]),
    };
    put(
        bus,
        Letter {
            subject: &message.subject,
            payload: message.payload.clone(),
            parked_by: consumer,
            reason,
            tries,
            dedup_id,
        },
    )
    .await
}

/// A header value: one line, at most [`MAX_REASON`] bytes.
fn header_text(text: &str) -> String {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    line
}

/// A parked message, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its sequence in the dead-letter stream: what `replay` and `discard` take.
    pub sequence: u64,
    pub tenant: String,
    /// Where it was published, and goes back to.
    pub subject: String,
    pub reason: String,
    pub tries: i64,
    pub parked_by: String,
    pub at_ms: i64,
    /// What it carries: message ids, or delivery ids.
    pub contents: String,
    pub payload_bytes: usize,
}

impl DeadLetter {
    fn read(raw: &StreamMessage) -> Self {
        let header = |name: &str| {
            raw.headers
                .get(name)
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default()
        };
        let subject = header(SUBJECT);
        Self {
            sequence: raw.sequence,
            tenant: subjects::tenant_of(&raw.subject).to_owned(),
            contents: contents(&subject, &raw.payload),
            reason: header(REASON),
            tries: header(TRIES).parse().unwrap_or_default(),
            parked_by: header(PARKED_BY),
            at_ms: header(AT).parse().unwrap_or_default(),
            payload_bytes: raw.payload.len(),
            subject,
        }
    }
}

/// What a payload carries, by the stream it was meant for.
fn contents(subject: &str, payload: &Bytes) -> String {
    use prost::Message as _;
    let listed = |kind: &str, ids: Vec<String>| format!("{kind} {}", ids.join(" "));
    if payload.is_empty() {
        return "(payload too large to keep)".to_owned();
    }
    let decoded =
        if subject.starts_with("herald.ingest.") || subject.starts_with("herald.urgent.ingest.") {
            AcceptedBatch::decode(payload.clone()).map(|b| {
                listed(
                    "messages",
                    b.messages.into_iter().map(|m| m.message_id).collect(),
                )
            })
        } else if ["herald.send.", "herald.bulk.", "herald.urgent.send."]
            .iter()
            .any(|lane| subject.starts_with(lane))
        {
            SendBatch::decode(payload.clone()).map(|b| {
                listed(
                    "deliveries",
                    b.tasks.into_iter().map(|t| t.delivery_id).collect(),
                )
            })
        } else if subject.starts_with("herald.receipt.") {
            ReceiptBatch::decode(payload.clone()).map(|b| {
                listed(
                    "receipts for",
                    b.receipts.into_iter().map(|r| r.delivery_id).collect(),
                )
            })
        } else {
            return String::new();
        };
    decoded.unwrap_or_else(|_| "(does not decode)".to_owned())
}

async fn dead_stream(bus: &Bus) -> Result<jetstream::stream::Stream> {
    bus.js
        .get_stream(DEAD_STREAM)
        .await
        .map_err(|e| BusError::Setup {
            what: format!("stream {DEAD_STREAM}"),
            detail: e.to_string(),
        })
}

/// The dead letters, oldest first, at most `limit`; only `tenant`'s when given.
pub async fn list(bus: &Bus, tenant: Option<&str>, limit: usize) -> Result<Vec<DeadLetter>> {
    let mut stream = dead_stream(bus).await?;
    let state = stream
        .info()
        .await
        .map_err(|e| BusError::Setup {
            what: format!("stream {DEAD_STREAM}"),
            detail: e.to_string(),
        })?
        .state
        .clone();
    let mut letters = Vec::new();
    if state.messages == 0 {
        return Ok(letters);
    }
    for sequence in state.first_sequence..=state.last_sequence {
        if letters.len() >= limit {
            break;
        }
        // A replayed or discarded letter leaves a gap.
        let Ok(raw) = stream.get_raw_message(sequence).await else {
            continue;
        };
        let letter = DeadLetter::read(&raw);
        if tenant.is_none_or(|t| t == letter.tenant) {
            letters.push(letter);
        }
    }
    Ok(letters)
}

/// Publishes letter `sequence` again where it came from, then removes it; answers where it went.
pub async fn replay(bus: &Bus, sequence: u64) -> Result<DeadLetter> {
    let stream = dead_stream(bus).await?;
    let failed = |detail: String| BusError::Dead { sequence, detail };
    let raw = stream
        .get_raw_message(sequence)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let letter = DeadLetter::read(&raw);
    if raw.payload.is_empty() {
        return Err(failed(
            "its payload was too large for the bus and was not kept; it cannot be replayed".into(),
        ));
    }
    if letter.subject.is_empty() {
        return Err(failed("it does not say where it came from".into()));
    }
    bus.publish(crate::Outgoing {
        subject: letter.subject.clone(),
        msg_id: format!("replay-{sequence}"),
        payload: raw.payload,
    })
    .await?;
    stream
        .delete_message(sequence)
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(letter)
}

/// Removes letter `sequence` without replaying it.
pub async fn discard(bus: &Bus, sequence: u64) -> Result<()> {
    dead_stream(bus)
        .await?
        .delete_message(sequence)
        .await
        .map(|_| ())
        .map_err(|e| BusError::Dead {
            sequence,
            detail: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_becomes_one_bounded_header_line() {
        assert_eq!(header_text("a\r\nb"), "a  b");
        let long = "é".repeat(MAX_REASON);
        let line = header_text(&long);
        assert!(line.len() <= MAX_REASON && line.chars().all(|c| c == 'é'));
    }

    #[test]
    fn contents_name_what_a_payload_carries() {
        use prost::Message as _;
        let batch = SendBatch {
            tasks: vec![herald_proto::bus::v1::SendTask {
                delivery_id: "d1".into(),
                ..Default::default()
            }],
            not_before_ms: 0,
        };
        let payload = Bytes::from(batch.encode_to_vec());
        assert_eq!(contents("herald.send.fcm.t", &payload), "deliveries d1");
        assert_eq!(contents("herald.bulk.fcm.t", &payload), "deliveries d1");
        assert_eq!(
            contents("herald.urgent.send.fcm.t", &payload),
            "deliveries d1"
        );
        assert_eq!(
            contents("herald.ingest.t", &Bytes::from_static(b"\xff\xff")),
            "(does not decode)"
        );
        assert_eq!(
            contents("herald.ingest.t", &Bytes::new()),
            "(payload too large to keep)"
        );
    }
}
