//! Classification of push services' answers (RFC 8030 §5 and §8).

use std::time::Duration;

use crate::SendOutcome;

/// Classifies an answer by status, `Retry-After`, `Location` and body.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    location: &str,
    body: &str,
) -> SendOutcome {
    let detail = body.trim().chars().take(200).collect::<String>();
    let with_detail = |what: String| {
        if detail.is_empty() {
            what
        } else {
            format!("{what}: {detail}")
        }
    };
    match status {
        200..=202 => SendOutcome::Submitted {
            provider_message_id: location.to_owned(),
        },
        404 | 410 => SendOutcome::TokenDead {
            reason: with_detail(format!(
                "HTTP {status}: the subscription expired or was unsubscribed"
            )),
        },
        413 => SendOutcome::Failed {
            reason: with_detail(
                "HTTP 413: the push service refused the payload as too large".into(),
            ),
        },
        429 => SendOutcome::Retry {
            reason: "HTTP 429: the push service asked to slow down".into(),
            after: retry_after,
        },
        500..=599 => SendOutcome::Retry {
            reason: with_detail(format!("HTTP {status}")),
            after: retry_after,
        },
        401 | 403 => SendOutcome::Failed {
            reason: with_detail(format!(
                "HTTP {status}: the push service refused the VAPID authorization"
            )),
        },
        _ => SendOutcome::Failed {
            reason: with_detail(format!("HTTP {status}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_class() {
        assert_eq!(
            classify(201, None, "https://push.example/m/1", ""),
            SendOutcome::Submitted {
                provider_message_id: "https://push.example/m/1".into()
            }
        );
        assert!(matches!(
            classify(410, None, "", ""),
            SendOutcome::TokenDead { .. }
        ));
        assert!(matches!(
            classify(404, None, "", ""),
            SendOutcome::TokenDead { .. }
        ));
        assert!(matches!(
            classify(413, None, "", ""),
            SendOutcome::Failed { .. }
        ));
        let slow = classify(429, Some(Duration::from_secs(9)), "", "");
        assert!(
            matches!(slow, SendOutcome::Retry { after: Some(d), .. } if d == Duration::from_secs(9))
        );
        assert!(matches!(
            classify(503, None, "", "busy"),
            SendOutcome::Retry { .. }
        ));
        let SendOutcome::Failed { reason } = classify(403, None, "", "bad jwt") else {
            panic!()
        };
        assert_eq!(
            reason,
            "HTTP 403: the push service refused the VAPID authorization: bad jwt"
        );
        assert!(matches!(
            classify(400, None, "", "bad TTL"),
            SendOutcome::Failed { .. }
        ));
    }
}
