//! Retry delays: exponential backoff with jitter, never shorter than what the provider asked
//! for with `Retry-After`.

use std::time::Duration;

/// The first retry waits about this long.
pub const BASE: Duration = Duration::from_secs(1);
/// No backoff step waits longer than this.
pub const CAP: Duration = Duration::from_secs(600);

/// The delay before retry number `attempt` (1 = the first retry). `jitter` in [0, 1) spreads
/// retries of many deliveries over the upper half of the step, so they do not return in a herd.
pub fn delay(attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let step = BASE.saturating_mul(1 << exponent).min(CAP);
    let jittered = step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    retry_after.map_or(jittered, |asked| asked.max(jittered))
}

/// Parses a `Retry-After` header: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// A jitter value from the system's random source.
pub fn random_jitter() -> f64 {
    let bytes = crate::crypto::random_bytes::<4>();
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        let in_a_minute = std::time::SystemTime::now() + Duration::from_secs(61);
        let parsed = parse_retry_after(&httpdate::fmt_http_date(in_a_minute)).unwrap();
        assert!(parsed > Duration::from_secs(55) && parsed <= Duration::from_secs(61));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn delays_double_within_jitter_and_cap() {
        assert!(delay(1, None, 0.999) < BASE && delay(1, None, 0.999) > BASE.mul_f64(0.99));
        assert_eq!(delay(1, None, 0.0), Duration::from_millis(500));
        assert_eq!(delay(3, None, 0.0), Duration::from_secs(2));
        assert_eq!(delay(40, None, 0.0), CAP / 2);
        assert!(delay(40, None, 0.99) <= CAP);
    }

    #[test]
    fn retry_after_is_a_floor() {
        assert_eq!(
            delay(1, Some(Duration::from_secs(30)), 0.5),
            Duration::from_secs(30)
        );
        assert_eq!(
            delay(5, Some(Duration::from_secs(1)), 0.0),
            Duration::from_secs(8)
        );
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..100 {
            let j = random_jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
