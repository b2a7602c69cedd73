//! How Herald authorizes itself to an endpoint. The configuration is sealed at rest as JSON
//! (this type's serde form) and never returned by the API; only its kind is.

use herald_proto::v1::{WebhookAuth, WebhookAuthKind, webhook_auth};
use serde::{Deserialize, Serialize};

use crate::oauth::{ClientCredentials, RefreshGrant};
use crate::sigv4::AwsKeys;

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
    /// AWS Signature Version 4: each request signed (see `post`).
    #[serde(rename = "aws_sigv4")]
    AwsSigV4(AwsKeys),
    /// OAuth 2.0 authorization code: the refresh token it was exchanged for.
    #[serde(rename = "oauth2_authorization_code")]
    OAuth2Code(RefreshGrant),
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
            Some(webhook_auth::Kind::AwsSigv4(aws)) => {
                let scope_part = |field: &'static str, value: &str| -> Result<String, BadAuth> {
                    let value = filled(field, value)?;
                    if value.len() > 64
                        || !value
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    {
                        return bad(field, "lowercase letters, digits and '-' (at most 64)");
                    }
                    Ok(value)
                };
                let access_key_id = filled("auth.aws_sigv4.access_key_id", &aws.access_key_id)?;
                if !access_key_id.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return bad("auth.aws_sigv4.access_key_id", "letters and digits only");
                }
                if aws.session_token.len() > MAX_LEN
                    || aws.session_token.chars().any(char::is_control)
                {
                    return bad(
                        "auth.aws_sigv4.session_token",
                        "at most 4096 bytes, without control characters",
                    );
                }
                Self::AwsSigV4(AwsKeys {
                    access_key_id,
                    secret_access_key: filled(
                        "auth.aws_sigv4.secret_access_key",
                        &aws.secret_access_key,
                    )?,
                    session_token: aws.session_token.clone(),
                    region: scope_part("auth.aws_sigv4.region", &aws.region)?,
                    service: scope_part("auth.aws_sigv4.service", &aws.service)?,
                })
            }
            Some(webhook_auth::Kind::Oauth2Code(grant)) => {
                let token_url =
                    crate::target::endpoint_url(&grant.token_url, allow_http).map_err(|bad| {
                        BadAuth {
                            field: "auth.oauth2_code.token_url",
                            reason: bad.0,
                        }
                    })?;
                if grant.scope.len() > MAX_LEN || grant.scope.chars().any(char::is_control) {
                    return bad(
                        "auth.oauth2_code.scope",
                        "at most 4096 bytes, without control characters",
                    );
                }
                let refresh_token = match (
                    grant.authorization_code.is_empty(),
                    grant.refresh_token.is_empty(),
                ) {
                    (false, true) => {
                        filled(
                            "auth.oauth2_code.authorization_code",
                            &grant.authorization_code,
                        )?;
                        filled("auth.oauth2_code.redirect_uri", &grant.redirect_uri)?;
                        if grant.code_verifier.len() > 128 {
                            return bad("auth.oauth2_code.code_verifier", "at most 128 characters");
                        }
                        // Exchanged for one by the caller (see `Code`).
                        String::new()
                    }
                    (true, false) => {
                        filled("auth.oauth2_code.refresh_token", &grant.refresh_token)?
                    }
                    _ => {
                        return bad(
                            "auth.oauth2_code.authorization_code",
                            "give either an authorization code (with its redirect_uri) or a refresh token",
                        );
                    }
                };
                Self::OAuth2Code(RefreshGrant {
                    client: ClientCredentials {
                        token_url: token_url.to_string(),
                        client_id: filled("auth.oauth2_code.client_id", &grant.client_id)?,
                        client_secret: filled(
                            "auth.oauth2_code.client_secret",
                            &grant.client_secret,
                        )?,
                        scope: grant.scope.clone(),
                        credentials_in_body: grant.credentials_in_body,
                    },
                    refresh_token,
                })
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
            Self::AwsSigV4(_) => WebhookAuthKind::AwsSigv4,
            Self::OAuth2Code(_) => WebhookAuthKind::Oauth2AuthorizationCode,
        }
    }

    /// Adds the authorization to a request (`token`: the OAuth 2.0 token obtained for it).
    pub fn apply(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match self {
            // Digest is added when the endpoint challenges, SigV4 over the finished request
            // (see `post`).
            Self::None | Self::Digest { .. } | Self::AwsSigV4(_) => request,
            Self::OAuth2(_) | Self::OAuth2Code(_) => match token {
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
        let aws = |region: &str, key: &str| {
            of(webhook_auth::Kind::AwsSigv4(
                herald_proto::v1::AwsSigV4Auth {
                    access_key_id: key.into(),
                    secret_access_key: "s3cret".into(),
                    session_token: String::new(),
                    region: region.into(),
                    service: "execute-api".into(),
                },
            ))
        };
        let signed = aws("eu-west-1", "AKIDEXAMPLE").unwrap();
        assert_eq!(signed.kind(), WebhookAuthKind::AwsSigv4);
        let json = serde_json::to_string(&signed).unwrap();
        assert_eq!(serde_json::from_str::<Auth>(&json).unwrap(), signed);
        assert!(!format!("{signed:?}").contains("s3cret"));
        assert_eq!(
            aws("eu west", "AKIDEXAMPLE").unwrap_err().field,
            "auth.aws_sigv4.region"
        );
        let code = |authorization_code: &str, refresh_token: &str| {
            of(webhook_auth::Kind::Oauth2Code(
                herald_proto::v1::OAuth2AuthorizationCode {
                    token_url: "https://auth.example/token".into(),
                    client_id: "herald".into(),
                    client_secret: "s3cret".into(),
                    authorization_code: authorization_code.into(),
                    redirect_uri: "https://app.example/cb".into(),
                    refresh_token: refresh_token.into(),
                    ..Default::default()
                },
            ))
        };
        let refreshing = code("", "r-1").unwrap();
        assert_eq!(refreshing.kind(), WebhookAuthKind::Oauth2AuthorizationCode);
        let json = serde_json::to_string(&refreshing).unwrap();
        assert_eq!(serde_json::from_str::<Auth>(&json).unwrap(), refreshing);
        assert!(!format!("{refreshing:?}").contains("r-1"));
        assert!(code("c-1", "").is_ok(), "a code to exchange");
        for (authorization_code, refresh_token) in [("", ""), ("c-1", "r-1")] {
            assert_eq!(
                code(authorization_code, refresh_token).unwrap_err().field,
                "auth.oauth2_code.authorization_code"
            );
        }
        assert_eq!(
            aws("eu-west-1", "AKID/1").unwrap_err().field,
            "auth.aws_sigv4.access_key_id"
        );
    }
}
