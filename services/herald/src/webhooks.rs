//! CLI commands for outbound webhooks: endpoints, their secrets, attempts and replays.

use anyhow::{Context as _, bail};
use herald_core::names::Named as _;
use herald_proto::client::AuthedChannel;
use herald_proto::v1::webhooks_client::WebhooksClient;
use herald_proto::v1::*;

#[derive(clap::Subcommand, Debug)]
pub enum WebhookCommand {
    /// Creates an endpoint after a test call to it answers 200; prints its id and signing secret
    /// (shown only now).
    Create {
        #[arg(long)]
        url: String,
        /// An event to receive (repeat it): delivery.submitted, delivery.delivered,
        /// delivery.read, delivery.failed, delivery.expired, device.inactive, interaction.
        #[arg(long = "event")]
        events: Vec<String>,
        /// standard (Standard Webhooks alone), hub-sha256 or hub-sha512 (also x-hub-signature).
        #[arg(long, default_value = "standard")]
        scheme: String,
        /// Only deliveries through this provider (apns, fcm, hms, webpush).
        #[arg(long)]
        provider: Option<String>,
        /// The waits before each retry in seconds, e.g. 5,300,1800 (default: 60,60,60).
        #[arg(long, value_delimiter = ',')]
        retry: Vec<u32>,
        /// Each attempt's timeout in seconds (default 10).
        #[arg(long, default_value_t = 0)]
        timeout: u32,
        #[command(flatten)]
        auth: Box<AuthArgs>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// The tenant's endpoints.
    List,
    /// Attempts to post, newest first, of an endpoint or a message (or all).
    Attempts {
        #[arg(long)]
        webhook: Option<String>,
        #[arg(long)]
        message: Option<String>,
    },
    /// Sends a message's reports to an endpoint again.
    Replay {
        webhook_id: String,
        message_id: String,
    },
    /// Issues a new signing secret; the old one signs beside it for 24 hours.
    Rotate {
        webhook_id: String,
    },
    /// Issues the tenant's notify URL signing secret (the first one, or a new one; the old one
    /// signs beside it for 24 hours): it signs the reports posted to a message's `--notify-url`.
    NotifySecret,
    Enable {
        webhook_id: String,
    },
    Disable {
        webhook_id: String,
    },
    Delete {
        webhook_id: String,
    },
}

/// How Herald authorizes itself to the endpoint (at most one way).
#[derive(clap::Args, Debug)]
pub struct AuthArgs {
    #[arg(long, env = "HERALD_WEBHOOK_BEARER", hide_env_values = true)]
    bearer: Option<String>,
    /// USER:PASSWORD for HTTP Basic.
    #[arg(long, env = "HERALD_WEBHOOK_BASIC", hide_env_values = true)]
    basic: Option<String>,
    /// USER:PASSWORD for HTTP Digest (answered when the endpoint challenges).
    #[arg(long, env = "HERALD_WEBHOOK_DIGEST", hide_env_values = true)]
    digest: Option<String>,
    /// NAME=VALUE sent as a header.
    #[arg(long)]
    api_key_header: Option<String>,
    /// NAME=VALUE sent in the query string.
    #[arg(long)]
    api_key_query: Option<String>,
    /// An OAuth 2.0 token endpoint (with --oauth2-client-id and --oauth2-client-secret): client
    /// credentials, or with --oauth2-authorization-code or --oauth2-refresh-token that grant.
    #[arg(long, requires_all = ["oauth2_client_id", "oauth2_client_secret"])]
    oauth2_token_url: Option<String>,
    #[arg(long, requires = "oauth2_token_url")]
    oauth2_client_id: Option<String>,
    #[arg(
        long,
        env = "HERALD_WEBHOOK_OAUTH2_SECRET",
        hide_env_values = true,
        requires = "oauth2_token_url"
    )]
    oauth2_client_secret: Option<String>,
    #[arg(long, default_value = "", requires = "oauth2_token_url")]
    oauth2_scope: String,
    /// OAuth 2.0 authorization code (with --oauth2-redirect-uri): exchanged once, now, for a
    /// refresh token that then asks for access tokens.
    #[arg(long, requires_all = ["oauth2_token_url", "oauth2_redirect_uri"], conflicts_with = "oauth2_refresh_token")]
    oauth2_authorization_code: Option<String>,
    #[arg(long, requires = "oauth2_authorization_code")]
    oauth2_redirect_uri: Option<String>,
    /// The PKCE verifier, if the authorization request had a challenge.
    #[arg(long, default_value = "", requires = "oauth2_authorization_code")]
    oauth2_code_verifier: String,
    /// OAuth 2.0 refresh token obtained elsewhere (instead of an authorization code).
    #[arg(
        long,
        env = "HERALD_WEBHOOK_OAUTH2_REFRESH_TOKEN",
        hide_env_values = true,
        requires = "oauth2_token_url"
    )]
    oauth2_refresh_token: Option<String>,
    /// AWS Signature V4 with this access key id (with --aws-secret-access-key, --aws-region
    /// and --aws-service).
    #[arg(long, requires_all = ["aws_secret_access_key", "aws_region", "aws_service"])]
    aws_access_key_id: Option<String>,
    #[arg(
        long,
        env = "HERALD_WEBHOOK_AWS_SECRET",
        hide_env_values = true,
        requires = "aws_access_key_id"
    )]
    aws_secret_access_key: Option<String>,
    /// For temporary credentials.
    #[arg(long, default_value = "", requires = "aws_access_key_id")]
    aws_session_token: String,
    /// The endpoint's region, e.g. eu-west-1.
    #[arg(long, requires = "aws_access_key_id")]
    aws_region: Option<String>,
    /// execute-api (API Gateway), lambda (function URLs), …
    #[arg(long, requires = "aws_access_key_id")]
    aws_service: Option<String>,
}

impl AuthArgs {
    fn into_proto(self) -> anyhow::Result<Option<WebhookAuth>> {
        let ways = [
            self.bearer.is_some(),
            self.basic.is_some(),
            self.digest.is_some(),
            self.api_key_header.is_some(),
            self.api_key_query.is_some(),
            self.oauth2_token_url.is_some(),
            self.aws_access_key_id.is_some(),
        ];
        if ways.iter().filter(|given| **given).count() > 1 {
            bail!(
                "choose one of --bearer, --basic, --digest, --api-key-header, --api-key-query, --oauth2-token-url, --aws-access-key-id"
            );
        }
        let api_key = |pair: &str, in_query: bool| -> anyhow::Result<webhook_auth::Kind> {
            let (name, value) = pair.split_once('=').context("expected NAME=VALUE")?;
            Ok(webhook_auth::Kind::ApiKey(ApiKeyAuth {
                name: name.to_owned(),
                value: value.to_owned(),
                in_query,
            }))
        };
        let kind = if let Some(token) = self.bearer {
            webhook_auth::Kind::BearerToken(token)
        } else if let Some(pair) = self.basic {
            let (username, password) = pair
                .split_once(':')
                .context("--basic: expected USER:PASSWORD")?;
            webhook_auth::Kind::Basic(BasicAuth {
                username: username.to_owned(),
                password: password.to_owned(),
            })
        } else if let Some(pair) = self.digest {
            let (username, password) = pair
                .split_once(':')
                .context("--digest: expected USER:PASSWORD")?;
            webhook_auth::Kind::Digest(DigestAuth {
                username: username.to_owned(),
                password: password.to_owned(),
            })
        } else if let Some(pair) = self.api_key_header {
            api_key(&pair, false)?
        } else if let Some(pair) = self.api_key_query {
            api_key(&pair, true)?
        } else if let (Some(token_url), true) = (
            self.oauth2_token_url.clone(),
            self.oauth2_authorization_code.is_some() || self.oauth2_refresh_token.is_some(),
        ) {
            webhook_auth::Kind::Oauth2Code(OAuth2AuthorizationCode {
                token_url,
                client_id: self.oauth2_client_id.unwrap_or_default(),
                client_secret: self.oauth2_client_secret.unwrap_or_default(),
                credentials_in_body: false,
                scope: self.oauth2_scope,
                authorization_code: self.oauth2_authorization_code.unwrap_or_default(),
                redirect_uri: self.oauth2_redirect_uri.unwrap_or_default(),
                code_verifier: self.oauth2_code_verifier,
                refresh_token: self.oauth2_refresh_token.unwrap_or_default(),
            })
        } else if let Some(token_url) = self.oauth2_token_url {
            webhook_auth::Kind::Oauth2(OAuth2ClientCredentials {
                token_url,
                client_id: self.oauth2_client_id.unwrap_or_default(),
                client_secret: self.oauth2_client_secret.unwrap_or_default(),
                scope: self.oauth2_scope,
                credentials_in_body: false,
            })
        } else if let Some(access_key_id) = self.aws_access_key_id {
            webhook_auth::Kind::AwsSigv4(AwsSigV4Auth {
                access_key_id,
                secret_access_key: self.aws_secret_access_key.unwrap_or_default(),
                session_token: self.aws_session_token,
                region: self.aws_region.unwrap_or_default(),
                service: self.aws_service.unwrap_or_default(),
            })
        } else {
            return Ok(None);
        };
        Ok(Some(WebhookAuth { kind: Some(kind) }))
    }
}

pub(crate) fn named<T: herald_core::names::Named>(what: &str, name: &str) -> anyhow::Result<T> {
    match T::from_name(name) {
        Some(value) => Ok(value),
        None => bail!(
            "{name:?} is not {what} (expected one of: {})",
            T::spellings()
        ),
    }
}

fn print_webhook(webhook: &Webhook) {
    crate::output::show(webhook, |webhook| {
        let events: Vec<&str> = webhook.events().map(|e| e.name()).collect();
        let state = if webhook.enabled {
            "enabled".to_owned()
        } else {
            format!("disabled ({})", webhook.disabled_reason)
        };
        println!(
            "{}  {}  {}  events: {}  {}  auth: {}",
            webhook.webhook_id,
            webhook.url,
            state,
            if events.is_empty() {
                "none".to_owned()
            } else {
                events.join(",")
            },
            webhook.signature_scheme().name(),
            webhook.auth_kind().name(),
        );
    });
}

async fn set_enabled(
    client: &mut WebhooksClient<AuthedChannel>,
    webhook_id: String,
    enabled: bool,
) -> anyhow::Result<()> {
    let updated = client
        .update_webhook(UpdateWebhookRequest {
            webhook: Some(Webhook {
                webhook_id,
                enabled,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["enabled".into()],
            }),
            auth: None,
        })
        .await?
        .into_inner();
    print_webhook(&updated);
    Ok(())
}

pub async fn webhook(channel: AuthedChannel, command: WebhookCommand) -> anyhow::Result<()> {
    let mut client = WebhooksClient::new(channel);
    match command {
        WebhookCommand::Create {
            url,
            events,
            scheme,
            provider,
            retry,
            timeout,
            auth,
            description,
        } => {
            let events = events
                .iter()
                .map(|e| named::<WebhookEvent>("an event type", e).map(i32::from))
                .collect::<anyhow::Result<_>>()?;
            let scheme: SignatureScheme = named("a signature scheme", &scheme)?;
            let provider = match provider {
                Some(name) => named::<Provider>("a provider", &name)?,
                None => Provider::Unspecified,
            };
            let created = client
                .create_webhook(CreateWebhookRequest {
                    url,
                    events,
                    signature_scheme: scheme.into(),
                    auth: auth.into_proto()?,
                    provider: provider.into(),
                    retry: Some(RetryPolicy {
                        delays_secs: retry,
                        timeout_secs: timeout,
                    }),
                    description,
                })
                .await?
                .into_inner();
            if let Some(webhook) = &created.webhook {
                print_webhook(webhook);
            }
            println!("signing secret (shown only now): {}", created.secret);
        }
        WebhookCommand::List => {
            for webhook in client
                .list_webhooks(ListWebhooksRequest::default())
                .await?
                .into_inner()
                .webhooks
            {
                print_webhook(&webhook);
            }
        }
        WebhookCommand::Attempts { webhook, message } => {
            for a in client
                .list_webhook_attempts(ListWebhookAttemptsRequest {
                    webhook_id: webhook.unwrap_or_default(),
                    message_id: message.unwrap_or_default(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .attempts
            {
                crate::output::show(&a, |a| {
                    println!(
                        "{}  {}  {} #{}  {}  {}  {} ms  {}",
                        herald_core::time::rfc3339(a.at_ms),
                        if a.webhook_id.is_empty() {
                            "notify-url"
                        } else {
                            &a.webhook_id
                        },
                        a.event_type,
                        a.attempt,
                        a.outcome().name(),
                        a.status_code,
                        a.duration_ms,
                        a.detail.lines().next().unwrap_or_default(),
                    );
                });
            }
        }
        WebhookCommand::Replay {
            webhook_id,
            message_id,
        } => {
            let queued = client
                .replay_webhook(ReplayWebhookRequest {
                    webhook_id,
                    message_id,
                })
                .await?
                .into_inner()
                .queued;
            println!("{queued} report(s) queued");
        }
        WebhookCommand::Rotate { webhook_id } => {
            let secret = client
                .rotate_webhook_secret(RotateWebhookSecretRequest { webhook_id })
                .await?
                .into_inner()
                .secret;
            println!(
                "new signing secret (shown only now; the old one signs beside it for 24 h): {secret}"
            );
        }
        WebhookCommand::NotifySecret => {
            let secret = client
                .rotate_notify_secret(RotateNotifySecretRequest {})
                .await?
                .into_inner()
                .secret;
            println!("notify URL signing secret (shown only now): {secret}");
        }
        WebhookCommand::Enable { webhook_id } => set_enabled(&mut client, webhook_id, true).await?,
        WebhookCommand::Disable { webhook_id } => {
            set_enabled(&mut client, webhook_id, false).await?
        }
        WebhookCommand::Delete { webhook_id } => {
            client
                .delete_webhook(DeleteWebhookRequest {
                    webhook_id: webhook_id.clone(),
                })
                .await?;
            println!("deleted {webhook_id}");
        }
    }
    Ok(())
}
