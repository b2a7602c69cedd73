//! Classification of APNs answers (`{"reason": …}`), from Apple's reason table.

use std::time::Duration;

use serde_json::Value;

use crate::SendOutcome;
use crate::token::Classified;

/// Classifies an answer. `mismatch` explains a sandbox/production mix-up between the device's
/// build and the credential's environment, when there is one: APNs answers it only with
/// `BadDeviceToken`, which the seeds warn otherwise fails silently.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    apns_id: &str,
    body: &str,
    mismatch: Option<&str>,
) -> Classified {
    if status == 200 {
        return Classified::Outcome(SendOutcome::Submitted {
            provider_message_id: apns_id.to_owned(),
        });
    }
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let reason = json["reason"].as_str().unwrap_or_default();
    let outcome = match reason {
        "Unregistered" | "ExpiredToken" => {
            let since = json["timestamp"]
                .as_u64()
                .map(|ms| format!(" (since {ms} ms after the epoch)"))
                .unwrap_or_default();
            SendOutcome::TokenDead {
                reason: format!("{reason}: the device token is no longer active{since}"),
            }
        }
        "BadDeviceToken" => SendOutcome::TokenDead {
            reason: match mismatch {
                Some(explanation) => format!("BadDeviceToken: {explanation}"),
                None => "BadDeviceToken".into(),
            },
        },
        "ExpiredProviderToken" => {
            return Classified::AccessTokenRejected {
                reason: reason.into(),
            };
        }
        // The connection sat idle too long and was closed: the push goes again on a new one.
        "IdleTimeout" => SendOutcome::Retry {
            reason: "IdleTimeout: APNs closed an idle connection".into(),
            after: None,
        },
        "TooManyRequests" | "TooManyProviderTokenUpdates" => SendOutcome::Retry {
            reason: reason.into(),
            after: retry_after,
        },
        _ if status == 429 || status >= 500 => SendOutcome::Retry {
            reason: if reason.is_empty() {
                format!("HTTP {status}")
            } else {
                reason.into()
            },
            after: retry_after,
        },
        "" => SendOutcome::Failed {
            reason: format!("HTTP {status}"),
        },
        // Every other reason is kept verbatim, including ones a2's ErrorReason lacks.
        other => SendOutcome::Failed {
            reason: other.into(),
        },
    };
    Classified::Outcome(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(status: u16, body: Value, mismatch: Option<&str>) -> SendOutcome {
        match classify(
            status,
            Some(Duration::from_secs(2)),
            "id-1",
            &body.to_string(),
            mismatch,
        ) {
            Classified::Outcome(o) => o,
            other => panic!("expected an outcome, got {other:?}"),
        }
    }

    #[test]
    fn success_keeps_the_apns_id() {
        assert_eq!(
            outcome(200, Value::Null, None),
            SendOutcome::Submitted {
                provider_message_id: "id-1".into()
            }
        );
    }

    #[test]
    fn gone_and_bad_tokens_are_dead_and_a_mismatch_is_explained() {
        let gone = outcome(
            410,
            json!({"reason": "Unregistered", "timestamp": 1_700_000_000_000u64}),
            None,
        );
        assert!(
            matches!(gone, SendOutcome::TokenDead { ref reason } if reason.starts_with("Unregistered"))
        );
        assert!(matches!(
            outcome(410, json!({"reason": "ExpiredToken"}), None),
            SendOutcome::TokenDead { .. }
        ));
        let mixed = outcome(
            400,
            json!({"reason": "BadDeviceToken"}),
            Some("sandbox build, production credential"),
        );
        assert_eq!(
            mixed,
            SendOutcome::TokenDead {
                reason: "BadDeviceToken: sandbox build, production credential".into()
            }
        );
    }

    #[test]
    fn throttling_and_outages_retry() {
        let throttled = outcome(429, json!({"reason": "TooManyRequests"}), None);
        assert_eq!(
            throttled,
            SendOutcome::Retry {
                reason: "TooManyRequests".into(),
                after: Some(Duration::from_secs(2))
            }
        );
        assert!(matches!(
            outcome(503, json!({"reason": "ServiceUnavailable"}), None),
            SendOutcome::Retry { .. }
        ));
        assert!(matches!(
            outcome(500, json!({"reason": "InternalServerError"}), None),
            SendOutcome::Retry { .. }
        ));
    }

    #[test]
    fn an_expired_provider_token_asks_for_a_new_one() {
        let answer = classify(
            403,
            None,
            "",
            &json!({"reason": "ExpiredProviderToken"}).to_string(),
            None,
        );
        assert_eq!(
            answer,
            Classified::AccessTokenRejected {
                reason: "ExpiredProviderToken".into()
            }
        );
    }

    #[test]
    fn an_idle_timeout_is_a_retry() {
        assert!(matches!(
            outcome(400, json!({"reason": "IdleTimeout"}), None),
            SendOutcome::Retry { .. }
        ));
    }

    #[test]
    fn other_reasons_are_kept_verbatim() {
        for reason in [
            "DeviceTokenNotForTopic",
            "TopicDisallowed",
            "InvalidProviderToken",
            "BadPath",
            "PayloadTooLarge",
            "UnrelatedKeyIdInToken",
        ] {
            assert_eq!(
                outcome(400, json!({"reason": reason}), None),
                SendOutcome::Failed {
                    reason: reason.into()
                }
            );
        }
    }
}
