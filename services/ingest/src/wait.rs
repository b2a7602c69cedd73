//! `SendAndWait` (the seeds' "Wait For"): sends like `Send`, then follows the message's
//! deliveries with the same watch as `WatchMessage` until one reaches the stage asked for, none
//! can, or the wait runs out (`herald_core::status::wait_outcome` decides). Once the message is
//! accepted the call always answers with its id: a watch cut short (the bus, a shutdown, the
//! client's own deadline) answers ONTIMEOUT with the reason, never an error a client would
//! retry by sending again.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt as _;
use herald_core::ids::{MessageId, TenantId};
use herald_core::status::wait_outcome;
use herald_core::time::now_ms;
use herald_core::{Error, Result};
use herald_proto::v1::{
    Delivery, DeliveryStatus, SendAndWaitRequest, SendAndWaitResponse, WaitFor, WaitOutcome,
    send_and_wait_request,
};

use crate::Api;

/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// The most deliveries an answer lists (a topic's message may have millions).
pub const MAX_LISTED: usize = 1_000;

/// How much of the client's own deadline is kept for the answer to reach it.
const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// How long to wait from `now_ms`, as the request asks; refused if missing or out of range.
pub fn wait_of(until: Option<&send_and_wait_request::Until>, now_ms: i64) -> Result<Duration> {
    use send_and_wait_request::Until;
    let max = MAX_WAIT.as_secs();
    match until {
        None => Err(Error::invalid(
            "timeout_seconds",
            "a wait is required: timeout_seconds or until_ms",
        )),
        Some(Until::TimeoutSeconds(secs)) if (1..=max).contains(&u64::from(*secs)) => {
            Ok(Duration::from_secs(u64::from(*secs)))
        }
        Some(Until::TimeoutSeconds(_)) => Err(Error::invalid(
            "timeout_seconds",
            format!("must be 1 to {max}"),
        )),
        Some(Until::UntilMs(at)) => match u64::try_from(at.saturating_sub(now_ms)) {
            Ok(ms) if ms > 0 && ms <= max * 1000 => Ok(Duration::from_millis(ms)),
            _ => Err(Error::invalid(
                "until_ms",
                "must be a UTC instant (Unix milliseconds) in the next 24 hours",
            )),
        },
    }
}

/// The deadline the client gave its call (`grpc-timeout`), if any.
pub(crate) fn client_deadline(metadata: &tonic::metadata::MetadataMap) -> Option<Duration> {
    metadata
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(grpc_timeout)
}

/// A `grpc-timeout` header's value (`30S`, `500m`, …), as the gRPC HTTP/2 protocol spells it.
pub fn grpc_timeout(value: &str) -> Option<Duration> {
    let unit = value.get(value.len().checked_sub(1)?..)?;
    let amount: u64 = value[..value.len() - 1].parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

pub(crate) async fn send_and_wait(
    api: &Api,
    tenant: TenantId,
    request: SendAndWaitRequest,
    client_deadline: Option<Duration>,
) -> Result<SendAndWaitResponse> {
    let wait_for = request.wait_for();
    if wait_for == WaitFor::Unspecified {
        return Err(Error::invalid("wait_for", "required"));
    }
    let asked = wait_of(request.until.as_ref(), now_ms())?;
    let wait = client_deadline.map_or(asked, |d| asked.min(d.saturating_sub(DEADLINE_MARGIN)));
    let deadline = tokio::time::Instant::now() + wait;
    let send = request
        .request
        .ok_or_else(|| Error::invalid("request", "required"))?;
    let sent = match api.send_one(&tenant, send).await {
        Ok(sent) => sent,
        Err(Error::FailedPrecondition(reason)) => {
            return Ok(SendAndWaitResponse {
                outcome: WaitOutcome::Onpolicyfail as i32,
                reason,
                ..Default::default()
            });
        }
        Err(err) => return Err(err.within("request")),
    };
    let message = MessageId::from_trusted(sent.message_id.clone());
    let mut latest: BTreeMap<String, Delivery> = BTreeMap::new();
    let waited = tokio::time::timeout_at(deadline, async {
        let mut updates = crate::watch::watch(
            api.store.clone(),
            &api.bus,
            tenant.clone(),
            message.clone(),
            api.shutdown.clone(),
        )
        .await?;
        loop {
            match updates.next().await {
                Some(Ok(update)) => {
                    let Some(delivery) = update.delivery else {
                        continue;
                    };
                    // One delivery at the stage decides: no need to look at the others.
                    let decided = wait_outcome(wait_for, &[delivery.status()], false);
                    latest.insert(delivery.delivery_id.clone(), delivery);
                    if let Some(outcome) = decided {
                        return Ok(outcome);
                    }
                }
                Some(Err(status)) => return Err(status),
                None => {
                    let statuses: Vec<DeliveryStatus> =
                        latest.values().map(Delivery::status).collect();
                    return Ok(
                        wait_outcome(wait_for, &statuses, true).unwrap_or(WaitOutcome::Ondrfail)
                    );
                }
            }
        }
    })
    .await;
    let (outcome, cut_short) = match waited {
        Ok(Ok(outcome)) => (outcome, None),
        Ok(Err(status)) => (WaitOutcome::Ontimeout, Some(status.message().to_owned())),
        Err(_) if wait < asked => (
            WaitOutcome::Ontimeout,
            Some("the call's own deadline came first".to_owned()),
        ),
        Err(_) => (WaitOutcome::Ontimeout, None),
    };
    let reason = match outcome {
        WaitOutcome::Onerror => api
            .store
            .get_message(&tenant, &message)
            .await
            .ok()
            .flatten()
            .map(|m| m.reason)
            .unwrap_or_default(),
        WaitOutcome::Ondrfail => latest
            .values()
            .find(|d| !d.reason.is_empty())
            .map(|d| d.reason.clone())
            .unwrap_or_default(),
        _ => cut_short
            .map(|why| format!("the wait was cut short: {why}"))
            .unwrap_or_default(),
    };
    Ok(SendAndWaitResponse {
        message_id: sent.message_id,
        outcome: outcome as i32,
        reason,
        deliveries: latest.into_values().take(MAX_LISTED).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use send_and_wait_request::Until;

    #[test]
    fn a_wait_is_one_second_to_a_day_from_now() {
        let now = 1_000_000;
        assert_eq!(
            wait_of(Some(&Until::TimeoutSeconds(30)), now).unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            wait_of(Some(&Until::UntilMs(now + 1_500)), now).unwrap(),
            Duration::from_millis(1_500)
        );
        let field = |e: Error| match e {
            Error::InvalidArgument { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(wait_of(None, now).unwrap_err()), "timeout_seconds");
        assert_eq!(
            field(wait_of(Some(&Until::TimeoutSeconds(0)), now).unwrap_err()),
            "timeout_seconds"
        );
        assert_eq!(
            field(wait_of(Some(&Until::TimeoutSeconds(86_401)), now).unwrap_err()),
            "timeout_seconds"
        );
        assert_eq!(
            field(wait_of(Some(&Until::UntilMs(now)), now).unwrap_err()),
            "until_ms",
            "not in the past or now"
        );
        assert_eq!(
            field(wait_of(Some(&Until::UntilMs(now + 86_400_001)), now).unwrap_err()),
            "until_ms"
        );
    }

    #[test]
    fn grpc_timeouts_are_read_in_every_unit() {
        assert_eq!(grpc_timeout("30S"), Some(Duration::from_secs(30)));
        assert_eq!(grpc_timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(grpc_timeout("500m"), Some(Duration::from_millis(500)));
        assert_eq!(grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(grpc_timeout("9n"), Some(Duration::from_nanos(9)));
        for bad in ["", "S", "10", "10x", "-1S", "1.5S", "é"] {
            assert_eq!(grpc_timeout(bad), None, "{bad:?}");
        }
    }
}
