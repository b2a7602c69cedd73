//! Classification of HMS answers (`{"code", "msg", "requestId"}`), from Push Kit's result codes.

use std::time::Duration;

use serde_json::Value;

use crate::SendOutcome;
use crate::token::Classified;

/// Classifies an answer to a send for `token` by HTTP status, `Retry-After` and body.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &str, token: &str) -> Classified {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = json["code"].as_str().unwrap_or_default();
    let msg = json["msg"].as_str().unwrap_or_default();
    let outcome = match code {
        "80000000" => SendOutcome::Submitted {
            provider_message_id: json["requestId"].as_str().unwrap_or_default().to_owned(),
        },
        // Some tokens failed: `msg` is itself JSON listing them.
        "80100000" => {
            let detail: Value = serde_json::from_str(msg).unwrap_or(Value::Null);
            let illegal = detail["illegal_tokens"].as_array().into_iter().flatten();
            if illegal.filter_map(Value::as_str).any(|t| t == token) {
                SendOutcome::TokenDead {
                    reason: "80100000: HMS reports the token illegal".into(),
                }
            } else {
                SendOutcome::Submitted {
                    provider_message_id: json["requestId"].as_str().unwrap_or_default().to_owned(),
                }
            }
        }
        "80300007" => SendOutcome::TokenDead {
            reason: "80300007: all tokens are invalid".into(),
        },
        // An expired or refused access token: a new one is fetched and the send tried again;
        // if a fresh one is refused too, the reason says what to fix.
        "80200003" => {
            return Classified::AccessTokenRejected {
                reason: format!("80200003: {msg}"),
            };
        }
        "80200001" => {
            return Classified::AccessTokenRejected {
                reason: "80200001: HMS authentication failed; check the tenant's HMS app id and \
                         app secret"
                    .into(),
            };
        }
        "80300002" => SendOutcome::Failed {
            reason:
                "80300002: the app may not send to this token (does it belong to another app id?)"
                    .into(),
        },
        "80100003" => SendOutcome::Failed {
            reason: format!("80100003: HMS refused the message: {msg}"),
        },
        "80300010" => SendOutcome::Failed {
            reason: format!("80300010: too many tokens: {msg}"),
        },
        _ if status == 401 => {
            return Classified::AccessTokenRejected {
                reason: format!(
                    "HTTP 401{}",
                    if msg.is_empty() {
                        String::new()
                    } else {
                        format!(": {msg}")
                    }
                ),
            };
        }
        _ if status == 429 || status >= 500 => SendOutcome::Retry {
            reason: format!(
                "HTTP {status}{}",
                if code.is_empty() {
                    String::new()
                } else {
                    format!(" ({code}: {msg})")
                }
            ),
            after: retry_after,
        },
        "" => SendOutcome::Failed {
            reason: format!("HTTP {status}: unreadable answer"),
        },
        code => SendOutcome::Failed {
            reason: format!("{code}: {msg}"),
        },
    };
    Classified::Outcome(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(status: u16, body: Value) -> SendOutcome {
        match classify(
            status,
            Some(Duration::from_secs(3)),
            &body.to_string(),
            "tok-1",
        ) {
            Classified::Outcome(o) => o,
            other => panic!("expected an outcome, got {other:?}"),
        }
    }

    #[test]
    fn success_keeps_the_request_id() {
        let o = outcome(
            200,
            json!({"code": "80000000", "msg": "Success", "requestId": "r-1"}),
        );
        assert_eq!(
            o,
            SendOutcome::Submitted {
                provider_message_id: "r-1".into()
            }
        );
    }

    #[test]
    fn illegal_and_invalid_tokens_are_dead() {
        let partial = |tokens: Value| json!({"code": "80100000", "msg": json!({"success": 0, "failure": 1, "illegal_tokens": tokens}).to_string(), "requestId": "r"});
        assert!(matches!(
            outcome(200, partial(json!(["tok-1"]))),
            SendOutcome::TokenDead { .. }
        ));
        assert!(matches!(
            outcome(200, partial(json!(["other"]))),
            SendOutcome::Submitted { .. }
        ));
        assert!(matches!(
            outcome(
                200,
                json!({"code": "80300007", "msg": "All the tokens are invalid"})
            ),
            SendOutcome::TokenDead { .. }
        ));
    }

    #[test]
    fn credential_problems_say_what_to_fix() {
        let Classified::AccessTokenRejected { reason } = classify(
            401,
            None,
            &json!({"code": "80200001", "msg": "Oauth authentication error"}).to_string(),
            "t",
        ) else {
            panic!("a refused token is refreshed first")
        };
        assert!(reason.contains("app id and app secret"));
        assert!(matches!(
            outcome(200, json!({"code": "80300002"})),
            SendOutcome::Failed { .. }
        ));
        assert!(matches!(
            outcome(400, json!({"code": "80100003", "msg": "Illegal payload"})),
            SendOutcome::Failed { .. }
        ));
    }

    #[test]
    fn an_expired_access_token_asks_for_a_refresh() {
        let answer = classify(
            401,
            None,
            &json!({"code": "80200003", "msg": "Oauth Token expired"}).to_string(),
            "t",
        );
        assert_eq!(
            answer,
            Classified::AccessTokenRejected {
                reason: "80200003: Oauth Token expired".into()
            }
        );
    }

    #[test]
    fn flow_control_and_server_errors_retry_with_retry_after() {
        let o = outcome(503, json!({}));
        assert_eq!(
            o,
            SendOutcome::Retry {
                reason: "HTTP 503".into(),
                after: Some(Duration::from_secs(3))
            }
        );
        assert!(matches!(
            outcome(500, Value::Null),
            SendOutcome::Retry { .. }
        ));
        assert!(matches!(
            outcome(429, Value::Null),
            SendOutcome::Retry { .. }
        ));
    }
}
