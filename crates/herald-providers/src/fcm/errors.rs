//! Classification of FCM's answers, from the table in FCM's error-code reference.

use std::time::Duration;

use serde_json::Value;

use crate::SendOutcome;
use crate::token::Classified;

/// QUOTA_EXCEEDED without `Retry-After`: FCM advises backing off starting around a minute.
const QUOTA_BACKOFF: Duration = Duration::from_secs(60);

/// Classifies an answer by status, `Retry-After` and body. A 401 without an FcmError means the
/// access token is bad.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &str) -> Classified {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        let name = json["name"].as_str().unwrap_or_default().to_owned();
        return Classified::Outcome(SendOutcome::Submitted {
            provider_message_id: name,
        });
    }
    let error = &json["error"];
    let message = error["message"].as_str().unwrap_or_default();
    let error_code = error["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["@type"].as_str().is_some_and(|t| t.ends_with("FcmError")))
        .find_map(|d| d["errorCode"].as_str());
    let outcome = match (error_code, status) {
        (Some("UNREGISTERED"), _) => SendOutcome::TokenDead {
            reason: "UNREGISTERED: the app was uninstalled or the token expired".into(),
        },
        (Some("INVALID_ARGUMENT"), _)
            if message.to_ascii_lowercase().contains("registration token") =>
        {
            SendOutcome::TokenDead {
                reason: format!("INVALID_ARGUMENT: {message}"),
            }
        }
        (Some("SENDER_ID_MISMATCH"), _) => SendOutcome::Failed {
            reason: "SENDER_ID_MISMATCH: the token belongs to another Firebase project; check the \
                     tenant's FCM project and service account"
                .into(),
        },
        (Some("THIRD_PARTY_AUTH_ERROR"), _) => SendOutcome::Failed {
            reason: "THIRD_PARTY_AUTH_ERROR: the APNs certificate or web push key in the Firebase \
                     project is invalid or missing"
                .into(),
        },
        (Some("QUOTA_EXCEEDED"), _) => SendOutcome::Retry {
            reason: "QUOTA_EXCEEDED: sending rate over the project's quota".into(),
            after: Some(retry_after.unwrap_or(QUOTA_BACKOFF)),
        },
        (Some(code @ ("UNAVAILABLE" | "INTERNAL")), _) => SendOutcome::Retry {
            reason: format!("{code}: {message}"),
            after: retry_after,
        },
        (None, 401) => {
            return Classified::AccessTokenRejected {
                reason: format!("HTTP 401: {message}"),
            };
        }
        (None, 403) => SendOutcome::Failed {
            reason: format!(
                "PERMISSION_DENIED: the service account may not send for this project ({message})"
            ),
        },
        (_, 429) => SendOutcome::Retry {
            reason: format!("HTTP 429: {message}"),
            after: retry_after,
        },
        (_, 500..=599) => SendOutcome::Retry {
            reason: format!(
                "HTTP {status}: {}",
                if message.is_empty() {
                    "server error"
                } else {
                    message
                }
            ),
            after: retry_after,
        },
        (code, _) => SendOutcome::Failed {
            reason: format!(
                "{}: {message}",
                code.map_or_else(|| format!("HTTP {status}"), str::to_owned)
            ),
        },
    };
    Classified::Outcome(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error_body(code: Option<&str>, message: &str) -> String {
        let mut error = json!({"code": 400, "message": message, "status": "X"});
        if let Some(code) = code {
            error["details"] = json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]);
        }
        json!({ "error": error }).to_string()
    }

    fn outcome(status: u16, retry_after: Option<Duration>, body: &str) -> SendOutcome {
        match classify(status, retry_after, body) {
            Classified::Outcome(o) => o,
            other => panic!("expected an outcome, got {other:?}"),
        }
    }

    #[test]
    fn success_keeps_the_message_name() {
        assert_eq!(
            outcome(200, None, r#"{"name":"projects/p/messages/1"}"#),
            SendOutcome::Submitted {
                provider_message_id: "projects/p/messages/1".into()
            }
        );
    }

    #[test]
    fn dead_tokens() {
        assert!(matches!(
            outcome(404, None, &error_body(Some("UNREGISTERED"), "x")),
            SendOutcome::TokenDead { .. }
        ));
        let invalid_token = error_body(
            Some("INVALID_ARGUMENT"),
            "The registration token is not a valid FCM registration token",
        );
        assert!(matches!(
            outcome(400, None, &invalid_token),
            SendOutcome::TokenDead { .. }
        ));
        let invalid_message = error_body(
            Some("INVALID_ARGUMENT"),
            "Invalid value at 'message.android.ttl'",
        );
        assert!(matches!(
            outcome(400, None, &invalid_message),
            SendOutcome::Failed { .. }
        ));
    }

    #[test]
    fn credential_problems_say_what_to_fix() {
        let SendOutcome::Failed { reason } =
            outcome(403, None, &error_body(Some("SENDER_ID_MISMATCH"), ""))
        else {
            panic!()
        };
        assert!(reason.contains("another Firebase project"));
        assert!(matches!(
            outcome(401, None, &error_body(Some("THIRD_PARTY_AUTH_ERROR"), "")),
            SendOutcome::Failed { .. }
        ));
        assert!(matches!(
            outcome(403, None, &error_body(None, "denied")),
            SendOutcome::Failed { .. }
        ));
    }

    #[test]
    fn throttling_and_outages_retry_honouring_retry_after() {
        let quota = outcome(429, None, &error_body(Some("QUOTA_EXCEEDED"), ""));
        assert_eq!(
            quota,
            SendOutcome::Retry {
                reason: "QUOTA_EXCEEDED: sending rate over the project's quota".into(),
                after: Some(QUOTA_BACKOFF)
            }
        );
        let unavailable = outcome(
            503,
            Some(Duration::from_secs(7)),
            &error_body(Some("UNAVAILABLE"), "busy"),
        );
        assert!(
            matches!(unavailable, SendOutcome::Retry { after: Some(d), .. } if d == Duration::from_secs(7))
        );
        assert!(matches!(
            outcome(500, None, &error_body(Some("INTERNAL"), "")),
            SendOutcome::Retry { .. }
        ));
        assert!(matches!(
            outcome(502, None, "<html>bad gateway</html>"),
            SendOutcome::Retry { .. }
        ));
    }

    #[test]
    fn a_bare_401_means_refresh_the_access_token() {
        assert_eq!(
            classify(401, None, &error_body(None, "invalid credentials")),
            Classified::AccessTokenRejected {
                reason: "HTTP 401: invalid credentials".into()
            }
        );
    }
}
