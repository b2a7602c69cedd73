//! Delivery analytics: a message's counts and the tenant's per day and provider, read from the
//! counters the store keeps (no scan of deliveries).

use herald_core::ids::{MessageId, TenantId};
use herald_core::stats::{Counts, MAX_DAYS, day_of};
use herald_core::time::now_ms;
use herald_core::{Error, Result};
use herald_proto::v1::{
    DailyDeliveryStats, DeliveryStats, GetDeliveryStatsRequest, GetDeliveryStatsResponse, Provider,
};
use herald_store::Store;

const DAY_MS: i64 = 86_400_000;

/// The counts of one of the tenant's messages.
pub(crate) async fn message_stats(
    store: &Store,
    tenant: &TenantId,
    message_id: &str,
) -> Result<DeliveryStats> {
    let id = MessageId::parse("message_id", message_id)?;
    store
        .get_message(tenant, &id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("message {id}")))?;
    Ok(store.message_stats(tenant, &id).await?.to_proto())
}

/// The UTC days a request covers, first and last (`YYYY-MM-DD`).
fn days(req: &GetDeliveryStatsRequest, now: i64) -> Result<(String, String)> {
    if req.until_ms < 0 {
        return Err(Error::invalid("until_ms", "must not be negative"));
    }
    if req.since_ms < 0 {
        return Err(Error::invalid("since_ms", "must not be negative"));
    }
    let until = if req.until_ms == 0 { now } else { req.until_ms };
    let since = if req.since_ms == 0 {
        until - 6 * DAY_MS
    } else {
        req.since_ms
    };
    if since > until {
        return Err(Error::invalid("since_ms", "must not be after until_ms"));
    }
    if until.div_euclid(DAY_MS) - since.div_euclid(DAY_MS) >= MAX_DAYS {
        return Err(Error::invalid(
            "since_ms",
            format!("at most {MAX_DAYS} days from since_ms to until_ms"),
        ));
    }
    Ok((day_of(since), day_of(until)))
}

/// The tenant's counts per day and provider, with their total.
pub(crate) async fn delivery_stats(
    store: &Store,
    tenant: &TenantId,
    req: &GetDeliveryStatsRequest,
) -> Result<GetDeliveryStatsResponse> {
    let provider = match Provider::try_from(req.provider) {
        Ok(Provider::Unspecified) => None,
        Ok(provider) => Some(provider),
        Err(_) => return Err(Error::invalid("provider", "not a provider")),
    };
    let (first, last) = days(req, now_ms())?;
    let daily = store.daily_stats(tenant, &first, &last, provider).await?;
    let mut total = Counts::default();
    let days = daily
        .into_iter()
        .map(|d| {
            total.merge(&d.counts);
            DailyDeliveryStats {
                day: d.day,
                provider: d.provider as i32,
                stats: Some(d.counts.to_proto()),
            }
        })
        .collect();
    Ok(GetDeliveryStatsResponse {
        days,
        total: Some(total.to_proto()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(since_ms: i64, until_ms: i64) -> GetDeliveryStatsRequest {
        GetDeliveryStatsRequest {
            since_ms,
            until_ms,
            provider: 0,
        }
    }

    const NOW: i64 = 1_796_083_199_999; // 2026-11-30T23:59:59.999Z

    #[test]
    fn the_default_is_the_last_seven_days() {
        assert_eq!(
            days(&request(0, 0), NOW).unwrap(),
            ("2026-11-24".to_owned(), "2026-11-30".to_owned())
        );
    }

    #[test]
    fn a_range_is_checked() {
        let field = |r| match days(&r, NOW) {
            Err(Error::InvalidArgument { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(request(NOW, NOW - 1)), "since_ms");
        assert_eq!(field(request(-1, 0)), "since_ms");
        assert_eq!(field(request(0, -1)), "until_ms");
        assert_eq!(field(request(NOW - MAX_DAYS * DAY_MS, NOW)), "since_ms");
        assert!(days(&request(NOW - (MAX_DAYS - 1) * DAY_MS, NOW), NOW).is_ok());
    }
}
