//! OAuth2 client credentials (app id and app secret) for HMS, cached in a [`TokenCache`].

use std::time::Duration;

use crate::http::HttpClient;
use crate::token::{AccessTokens, TokenCache, TokenError, fetch_form};

/// Access tokens for one HMS app.
pub struct AppTokens {
    app_id: String,
    app_secret: String,
    token_url: String,
    http: HttpClient,
    cache: TokenCache,
}

impl std::fmt::Debug for AppTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppTokens")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl AppTokens {
    pub fn new(app_id: String, app_secret: String, token_url: String, http: HttpClient) -> Self {
        Self {
            app_id,
            app_secret,
            token_url,
            http,
            cache: TokenCache::default(),
        }
    }

    #[tracing::instrument(skip(self), fields(app_id = %self.app_id))]
    async fn fetch(&self) -> Result<(String, Duration), TokenError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.app_id.as_str()),
            ("client_secret", self.app_secret.as_str()),
        ];
        fetch_form(&self.http, &self.token_url, &form).await
    }
}

impl AccessTokens for AppTokens {
    async fn token(&self) -> Result<String, TokenError> {
        self.cache
            .get(herald_proto::v1::Provider::Hms, || self.fetch())
            .await
    }

    async fn invalidate(&self, stale: &str) {
        self.cache.invalidate(stale).await;
    }
}
