//! How Herald authorizes itself to an endpoint. The configuration is sealed at rest as JSON
//! (this type's serde form) and never returned by the API; only its kind is.

use herald_proto::v1::{WebhookAuth, WebhookAuthKind, webhook_auth};
use serde::{Deserialize, Serialize};

use crate::oauth::ClientCredentials;

/// An endpoint's authorization.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Auth {
    #[default]
    None,
    Bearer {
        token: String,
    },
    Basic {
        username: String,
        password: String,
    },
    ApiKey {
        name: String,
        value: String,
        in_query: bool,
    },
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2(ClientCredentials),
    /// HTTP Digest (RFC 7616): answered when the endpoint challenges.
    Digest {
        username: String,
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Auth::{:?}(…)", self.kind())
    }
}

/// A field of the auth configuration that is wrong, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadAuth {
    pub field: &'static str,
    pub reason: &'static str,
}

/// The longest secret or name accepted.
const MAX_LEN: usize = 4096;

impl Auth {
    /// The configuration the API asked for, checked (`allow_http`: whether a token endpoint
    /// may be plain http).
    pub fn from_proto(auth: Option<&WebhookAuth>, allow_http: bool) -> Result<Self, BadAuth> {
        fn bad<T>(field: &'static str, reason: &'static str) -> Result<T, BadAuth> {
            Err(BadAuth { field, reason })
        }
        let filled = |field: &'static str, value: &str| -> Result<String, BadAuth> {
            if value.is_empty() {
                bad(field, "required")
            } else if value.len() > MAX_LEN {
                bad(field, "longer than 4096 bytes")
            } else if value.chars().any(char::is_control) {
                bad(field, "must not contain control characters")
            } else {
                Ok(value.to_owned())
            }
        };
        Ok(match auth.and_then(|a| a.kind.as_ref()) {
            None => Self::None,
            Some(webhook_auth::Kind::BearerToken(token)) => Self::Bearer {
                token: filled("auth.bearer_token", token)?,
            },
            Some(webhook_auth::Kind::Basic(basic)) => {
                if basic.username.contains(':') {
                    return bad("auth.basic.username", "must not contain ':' (RFC 7617)");
                }
                Self::Basic {
                    username: filled("auth.basic.username", &basic.username)?,
                    password: filled("auth.basic.password", &basic.password)?,
                }
            }
            Some(webhook_auth::Kind::ApiKey(key)) => {
                let name = filled("auth.api_key.name", &key.name)?;
                if !key.in_query
                    && (reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
                        || is_reserved_header(&name))
                {
                    return bad(
                        "auth.api_key.name",
                        "must be a header name Herald does not set itself",
                    );
                }
                let value = filled("auth.api_key.value", &key.value)?;
                if !key.in_query && reqwest::header::HeaderValue::from_str(&value).is_err() {
                    return bad("auth.api_key.value", "must be a valid header value");
                }
                Self::ApiKey {
                    name,
                    value,
                    in_query: key.in_query,
                }
            }
            Some(webhook_auth::Kind::Digest(digest)) => {
                if digest.username.contains(['"', '\\', ':']) || !digest.username.is_ascii() {
                    return bad("auth.digest.username", "ASCII without '\"', '\\' or ':'");
                }
                Self::Digest {
                    username: filled("auth.digest.username", &digest.username)?,
                    password: filled("auth.digest.password", &digest.password)?,
                }
            }
            Some(webhook_auth::Kind::Oauth2(grant)) => {
                let token_url =
                    crate::target::endpoint_url(&grant.token_url, allow_http).map_err(|bad| {
                        BadAuth {
                            field: "auth.oauth2.token_url",
                            reason: bad.0,
                        }
                    })?;
                if grant.scope.len() > MAX_LEN || grant.scope.chars().any(char::is_control) {
                    return bad(
                        "auth.oauth2.scope",
                        "at most 4096 bytes, without control characters",
                    );
                }
                Self::OAuth2(ClientCredentials {
                    token_url: token_url.to_string(),
                    client_id: filled("auth.oauth2.client_id", &grant.client_id)?,
                    client_secret: filled("auth.oauth2.client_secret", &grant.client_secret)?,
                    scope: grant.scope.clone(),
                    credentials_in_body: grant.credentials_in_body,
                })
            }
        })
    }

    pub fn kind(&self) -> WebhookAuthKind {
        match self {
            Self::None => WebhookAuthKind::None,
            Self::Bearer { .. } => WebhookAuthKind::Bearer,
            Self::Basic { .. } => WebhookAuthKind::Basic,
            Self::ApiKey { .. } => WebhookAuthKind::ApiKey,
            Self::OAuth2(_) => WebhookAuthKind::Oauth2ClientCredentials,
            Self::Digest { .. } => WebhookAuthKind::Digest,
        }
    }

    /// Adds the authorization to a request (`token`: the OAuth 2.0 token obtained for it).
    pub fn apply(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match self {
            // Digest is added when the endpoint challenges (see `post`).
            Self::None | Self::Digest { .. } => request,
            Self::OAuth2(_) => match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            },
            Self::Bearer { token } => request.bearer_auth(token),
            Self::Basic { username, password } => request.basic_auth(username, Some(password)),
            Self::ApiKey {
                name,
                value,
                in_query: true,
            } => request.query(&[(name, value)]),
            Self::ApiKey { name, value, .. } => request.header(name.as_str(), value.as_str()),
        }
    }
}

/// Headers a request carries anyway, which an API key must not replace.
fn is_reserved_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("webhook-")
        || matches!(
            name.as_str(),
            "content-type"
                | "content-length"
                | "host"
                | "user-agent"
                | "x-hub-signature"
                | "transfer-encoding"
                | "connection"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{ApiKeyAuth, BasicAuth};

    fn of(kind: webhook_auth::Kind) -> Result<Auth, BadAuth> {
        Auth::from_proto(Some(&WebhookAuth { kind: Some(kind) }), false)
    }

    #[test]
    fn each_kind_reads_from_the_api_and_round_trips_as_json() {
        let basic = of(webhook_auth::Kind::Basic(BasicAuth {
            username: "herald".into(),
            password: "s3cret".into(),
        }))
        .unwrap();
        let key = of(webhook_auth::Kind::ApiKey(ApiKeyAuth {
            name: "X-Api-Key".into(),
            value: "k".into(),
            in_query: false,
        }))
        .unwrap();
        let bearer = of(webhook_auth::Kind::BearerToken("t".into())).unwrap();
        for auth in [Auth::None, basic, key, bearer] {
            let json = serde_json::to_string(&auth).unwrap();
            assert_eq!(serde_json::from_str::<Auth>(&json).unwrap(), auth);
            assert!(!format!("{auth:?}").contains("s3cret"));
        }
        assert_eq!(
            Auth::from_proto(None, false).unwrap().kind(),
            WebhookAuthKind::None
        );
        let grant = of(webhook_auth::Kind::Oauth2(
            herald_proto::v1::OAuth2ClientCredentials {
                token_url: "https://auth.example/token".into(),
                client_id: "herald".into(),
                client_secret: "s3cret".into(),
                scope: "hooks".into(),
                credentials_in_body: false,
            },
        ))
        .unwrap();
        assert_eq!(grant.kind(), WebhookAuthKind::Oauth2ClientCredentials);
        let json = serde_json::to_string(&grant).unwrap();
        assert_eq!(serde_json::from_str::<Auth>(&json).unwrap(), grant);
        assert!(!format!("{grant:?}").contains("s3cret"));
        let err = of(webhook_auth::Kind::Oauth2(
            herald_proto::v1::OAuth2ClientCredentials {
                token_url: "http://auth.example/token".into(),
                client_id: "herald".into(),
                client_secret: "s3cret".into(),
                ..Default::default()
            },
        ))
        .unwrap_err();
        assert_eq!(err.field, "auth.oauth2.token_url");
    }

    #[test]
    fn bad_configurations_name_their_field() {
        let err = of(webhook_auth::Kind::Basic(BasicAuth {
            username: "a:b".into(),
            password: "p".into(),
        }))
        .unwrap_err();
        assert_eq!(err.field, "auth.basic.username");
        let err = of(webhook_auth::Kind::ApiKey(ApiKeyAuth {
            name: "webhook-signature".into(),
            value: "v".into(),
            in_query: false,
        }))
        .unwrap_err();
        assert_eq!(err.field, "auth.api_key.name");
        let err = of(webhook_auth::Kind::BearerToken(String::new())).unwrap_err();
        assert_eq!((err.field, err.reason), ("auth.bearer_token", "required"));
        let err = of(webhook_auth::Kind::ApiKey(ApiKeyAuth {
            name: "X-Key".into(),
            value: "line\nbreak".into(),
            in_query: false,
        }))
        .unwrap_err();
        assert_eq!(err.field, "auth.api_key.value");
    }
}
