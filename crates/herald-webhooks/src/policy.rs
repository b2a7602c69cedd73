//! When a failed attempt is tried again. The default is the seeds' (Webex Connect's): three
//! retries 60 seconds apart, a 10-second timeout, and no retry for the status codes they list.
//! An endpoint can have its own schedule (say Standard Webhooks' 5 s, 5 min, 30 min, 2 h, 5 h,
//! 10 h, 10 h); a `Retry-After` answer (429, 503) waits at least as long as it asks, within an
//! hour. 410 disables the endpoint. A pure function of the attempt and its answer.

use std::time::Duration;

/// The statuses the seeds never retry. The 2xx among them count as received.
pub const NO_RETRY: &[u16] = &[
    202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308, 400, 402,
    404, 405, 406, 407, 408, 409, 410, 411, 414, 415, 416, 418, 505,
];

/// The seeds' schedule: three retries, 60 seconds apart.
pub const SEED_DELAYS: [Duration; 3] = [Duration::from_secs(60); 3];
/// The seeds' timeout per attempt.
pub const SEED_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest timeout an endpoint may ask for.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);
/// The most retries a schedule may hold.
pub const MAX_RETRIES: usize = 20;
/// The longest wait a schedule or a `Retry-After` may ask for.
pub const MAX_DELAY: Duration = Duration::from_secs(24 * 3600);
/// The longest a `Retry-After` stretches a wait.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// An endpoint's retry policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait before each retry.
    pub delays: Vec<Duration>,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            delays: SEED_DELAYS.to_vec(),
            timeout: SEED_TIMEOUT,
        }
    }
}

impl RetryPolicy {
    /// The policy of the API's fields (empty: the seeds'), or what is wrong with them.
    pub fn from_parts(delays_secs: &[u32], timeout_secs: u32) -> Result<Self, &'static str> {
        if delays_secs.len() > MAX_RETRIES {
            return Err("at most 20 retries");
        }
        let delays: Vec<Duration> = delays_secs
            .iter()
            .map(|s| Duration::from_secs(u64::from(*s)))
            .collect();
        if delays.iter().any(|d| d.is_zero() || *d > MAX_DELAY) {
            return Err("each retry waits 1 s to 24 h");
        }
        let timeout = match timeout_secs {
            0 => SEED_TIMEOUT,
            s => Duration::from_secs(u64::from(s)),
        };
        if timeout > MAX_TIMEOUT {
            return Err("the timeout is at most 30 s");
        }
        Ok(Self {
            delays: if delays.is_empty() {
                SEED_DELAYS.to_vec()
            } else {
                delays
            },
            timeout,
        })
    }
}

/// What came of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The endpoint answered with this status (and maybe a `Retry-After`).
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// No answer: a connection, TLS or protocol failure, or the timeout.
    Unanswered(String),
    /// Not sent: the guard refused the address, or the URL is not allowed.
    Refused(String),
}

/// What to do after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The endpoint has it.
    Succeeded,
    /// Try again after this wait.
    Retry(Duration),
    /// Give up on this event; the reason says why.
    Failed(String),
    /// Give up on this event and disable the endpoint.
    Disable(String),
    /// Not sent, and not tried again.
    Refused(String),
}

/// The verdict on attempt number `attempt` (1 = the first) of an event.
pub fn judge(policy: &RetryPolicy, attempt: u32, answer: &Answer) -> Verdict {
    let retry = |asked: Option<Duration>, what: String| {
        let index = usize::try_from(attempt)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        match policy.delays.get(index) {
            Some(wait) => Verdict::Retry(
                asked
                    .map_or(*wait, |asked| asked.min(MAX_RETRY_AFTER).max(*wait))
                    .min(MAX_DELAY),
            ),
            None => Verdict::Failed(format!(
                "{what}; gave up after {} retries",
                policy.delays.len()
            )),
        }
    };
    match answer {
        Answer::Status { code, .. } if (200..300).contains(code) => Verdict::Succeeded,
        Answer::Status { code: 410, .. } => {
            Verdict::Disable("the endpoint answered 410 Gone".to_owned())
        }
        Answer::Status { code, .. } if NO_RETRY.contains(code) => {
            Verdict::Failed(format!("answered {code}, which is not retried"))
        }
        Answer::Status { code, retry_after } => retry(*retry_after, format!("answered {code}")),
        Answer::Unanswered(detail) => retry(None, detail.clone()),
        Answer::Refused(detail) => Verdict::Refused(detail.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Answer {
        Answer::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn the_seed_policy_retries_three_times_a_minute_apart() {
        let policy = RetryPolicy::default();
        let down = Answer::Unanswered("connection refused".into());
        for attempt in 1..=3 {
            assert_eq!(
                judge(&policy, attempt, &down),
                Verdict::Retry(Duration::from_secs(60))
            );
        }
        assert_eq!(
            judge(&policy, 4, &down),
            Verdict::Failed("connection refused; gave up after 3 retries".into())
        );
        assert_eq!(
            judge(&policy, 1, &status(500)),
            Verdict::Retry(Duration::from_secs(60))
        );
        assert_eq!(policy.timeout, Duration::from_secs(10));
    }

    #[test]
    fn the_listed_codes_are_never_retried() {
        let policy = RetryPolicy::default();
        for code in NO_RETRY.iter().copied().filter(|c| *c >= 300 && *c != 410) {
            assert_eq!(
                judge(&policy, 1, &status(code)),
                Verdict::Failed(format!("answered {code}, which is not retried")),
                "{code}"
            );
        }
        for code in [200, 201, 202, 204, 208, 226] {
            assert_eq!(judge(&policy, 1, &status(code)), Verdict::Succeeded);
        }
        for code in [401, 403, 412, 413, 429, 500, 502, 503, 504] {
            assert!(
                matches!(judge(&policy, 1, &status(code)), Verdict::Retry(_)),
                "{code}"
            );
        }
        assert!(matches!(
            judge(&policy, 1, &status(410)),
            Verdict::Disable(_)
        ));
    }

    #[test]
    fn retry_after_stretches_a_wait_within_an_hour() {
        let policy = RetryPolicy::default();
        let asked = |secs| Answer::Status {
            code: 429,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            judge(&policy, 1, &asked(120)),
            Verdict::Retry(Duration::from_secs(120))
        );
        assert_eq!(
            judge(&policy, 1, &asked(5)),
            Verdict::Retry(Duration::from_secs(60))
        );
        assert_eq!(
            judge(&policy, 1, &asked(86_400)),
            Verdict::Retry(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn schedules_are_checked() {
        assert_eq!(RetryPolicy::from_parts(&[], 0), Ok(RetryPolicy::default()));
        let own = RetryPolicy::from_parts(&[1, 2], 3).unwrap();
        assert_eq!(
            judge(&own, 2, &status(503)),
            Verdict::Retry(Duration::from_secs(2))
        );
        assert!(matches!(judge(&own, 3, &status(503)), Verdict::Failed(_)));
        assert!(RetryPolicy::from_parts(&[0], 0).is_err());
        assert!(RetryPolicy::from_parts(&[1; 21], 0).is_err());
        assert!(RetryPolicy::from_parts(&[], 31).is_err());
        // Standard Webhooks' suggested schedule fits.
        assert!(RetryPolicy::from_parts(&[5, 300, 1800, 7200, 18000, 36000, 36000], 15).is_ok());
    }

    #[test]
    fn refusals_are_final() {
        assert_eq!(
            judge(
                &RetryPolicy::default(),
                1,
                &Answer::Refused("loopback".into())
            ),
            Verdict::Refused("loopback".into())
        );
    }
}
