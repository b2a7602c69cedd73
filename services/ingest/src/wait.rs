//! `SendAndWait` (the seeds' "Wait For"): sends like `Send`, then follows the message's
//! deliveries with the same watch as `WatchMessage` until one reaches the stage asked for, none
//! can, or the wait runs out (`herald_core::status::wait_outcome` decides).

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt as _;
use herald_core::ids::{MessageId, TenantId};
use herald_core::status::wait_outcome;
use herald_core::time::now_ms;
use herald_core::{Error, Result};
use herald_proto::v1::{
    Delivery, SendAndWaitRequest, SendAndWaitResponse, WaitFor, WaitOutcome, send_and_wait_request,
};

use crate::Api;

/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

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

pub(crate) async fn send_and_wait(
    api: &Api,
    tenant: TenantId,
    request: SendAndWaitRequest,
) -> Result<SendAndWaitResponse> {
    let wait_for = request.wait_for();
    if wait_for == WaitFor::Unspecified {
        return Err(Error::invalid("wait_for", "required"));
    }
    let wait = wait_of(request.until.as_ref(), now_ms())?;
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
    let mut updates =
        crate::watch::watch(api.store.clone(), &api.bus, tenant.clone(), message.clone())
            .await
            .map_err(|status| Error::Unavailable(status.message().to_owned()))?;
    let mut latest: BTreeMap<String, Delivery> = BTreeMap::new();
    let statuses = |latest: &BTreeMap<String, Delivery>| -> Vec<_> {
        latest.values().map(Delivery::status).collect()
    };
    let outcome = tokio::time::timeout_at(deadline, async {
        loop {
            match updates.next().await {
                Some(Ok(update)) => {
                    if let Some(d) = update.delivery {
                        latest.insert(d.delivery_id.clone(), d);
                    }
                    if let Some(outcome) = wait_outcome(wait_for, &statuses(&latest), false) {
                        return Ok(outcome);
                    }
                }
                Some(Err(status)) => return Err(Error::Unavailable(status.message().to_owned())),
                None => {
                    return Ok(wait_outcome(wait_for, &statuses(&latest), true)
                        .unwrap_or(WaitOutcome::Ondrfail));
                }
            }
        }
    })
    .await
    .unwrap_or(Ok(WaitOutcome::Ontimeout))?;
    let reason = match outcome {
        WaitOutcome::Onerror => api
            .store
            .get_message(&tenant, &message)
            .await?
            .map(|m| m.reason)
            .unwrap_or_default(),
        WaitOutcome::Ondrfail => latest
            .values()
            .find(|d| !d.reason.is_empty())
            .map(|d| d.reason.clone())
            .unwrap_or_default(),
        _ => String::new(),
    };
    Ok(SendAndWaitResponse {
        message_id: sent.message_id,
        outcome: outcome as i32,
        reason,
        deliveries: latest.into_values().collect(),
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
}
