//! The command-line client: a thin layer over the gRPC API.

use std::path::PathBuf;

use herald_core::names::Named as _;
use herald_runtime::{ConfigError, Settings};
use std::time::Duration;

use anyhow::{Context as _, bail};
use herald_proto::client::{AuthedChannel, BearerAuth};
use herald_proto::v1::admin_client::AdminClient;
use herald_proto::v1::credentials_client::CredentialsClient;
use herald_proto::v1::devices_client::DevicesClient;
use herald_proto::v1::notifications_client::NotificationsClient;
use herald_proto::v1::*;
use tonic::transport::Channel;

use crate::{Command, output};

#[derive(clap::Subcommand, Debug)]
pub enum TenantCommand {
    /// Creates a tenant and its first API key (needs the admin key).
    Create { name: String },
    /// Lists the tenants (needs the admin key).
    List,
    /// Sets a tenant's delivery policy: default time zone, quiet hours, frequency caps, rate
    /// limits (needs the admin key); prints it as it then stands.
    Policy(crate::policy::PolicyArgs),
}

#[derive(clap::Subcommand, Debug)]
pub enum KeyCommand {
    /// Creates an API key: for --tenant with the admin key, else for the API key's own tenant.
    Create {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value = "")]
        name: String,
        /// An app client key, safe to embed in an app: it may only register devices and report
        /// delivery events (gRPC, or POST /v1/app/devices and
        /// /v1/app/deliveries/{id}/events).
        #[arg(long)]
        app: bool,
    },
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    Revoke {
        key_id: String,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum CredentialsCommand {
    /// Sets the tenant's FCM credential from a service-account JSON file.
    SetFcm {
        #[arg(long)]
        service_account: PathBuf,
        #[arg(long, default_value = "")]
        project_id: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Sets the tenant's APNs credential: a token key (.p8 with key and team ids) or a
    /// certificate (.p12 with its password).
    SetApns {
        #[arg(long)]
        bundle_id: String,
        /// The .p8 key file (token authentication).
        #[arg(long, requires_all = ["key_id", "team_id"], conflicts_with = "p12")]
        key_file: Option<PathBuf>,
        #[arg(long)]
        key_id: Option<String>,
        #[arg(long)]
        team_id: Option<String>,
        /// The .p12 certificate file (certificate authentication).
        #[arg(long)]
        p12: Option<PathBuf>,
        #[arg(
            long,
            env = "HERALD_APNS_P12_PASSWORD",
            hide_env_values = true,
            default_value = ""
        )]
        p12_password: String,
        /// Send to the APNs sandbox (development builds).
        #[arg(long)]
        sandbox: bool,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Sets the tenant's HMS credential (Push Kit app id and app secret).
    SetHms {
        #[arg(long)]
        app_id: String,
        #[arg(long, env = "HERALD_HMS_APP_SECRET", hide_env_values = true)]
        app_secret: String,
        /// The app's launcher activity class, for badge numbers on Huawei devices.
        #[arg(long, default_value = "")]
        badge_class: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Generates the tenant's VAPID keys and prints the public key (the page's
    /// applicationServerKey).
    GenerateVapid {
        /// A mailto: or https: contact the push services may use.
        #[arg(long)]
        subject: String,
    },
    List,
    /// Obtains a token and makes a validate-only send with the tenant's credential.
    Test {
        /// apns, fcm or hms.
        provider: String,
    },
    /// Sends a test notification to one registered device or browser subscription through the
    /// provider's credential and prints what the provider answered (the seeds' "Send Test
    /// Notification").
    TestSend {
        /// apns, fcm, hms or webpush.
        provider: String,
        #[arg(long)]
        device: String,
        #[arg(long, default_value = "Test notification")]
        title: String,
        #[arg(long, default_value = "")]
        body: String,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum DeviceCommand {
    Register {
        #[arg(long, default_value = "")]
        user: String,
        /// android, ios, macos, huawei or web.
        #[arg(long)]
        platform: String,
        /// The push token (for web: the subscription's endpoint).
        #[arg(long, required_unless_present = "subscription", default_value = "")]
        token: String,
        /// Web: a file holding the browser's `subscription.toJSON()` (endpoint and keys), as
        /// `herald up --with-mocks` writes into its data directory.
        #[arg(long, conflicts_with_all = ["token", "p256dh", "auth"])]
        subscription: Option<PathBuf>,
        /// An iOS/macOS development build (its token works with the APNs sandbox).
        #[arg(long)]
        sandbox: bool,
        /// Web: the subscription's p256dh key (base64url); --token is its endpoint.
        #[arg(long, default_value = "")]
        p256dh: String,
        /// Web: the subscription's auth secret (base64url).
        #[arg(long, default_value = "")]
        auth: String,
        /// Web: chrome, firefox, safari, edge or opera.
        #[arg(long, default_value = "")]
        browser: String,
    },
    List {
        #[arg(long, default_value = "")]
        user: String,
    },
    Unregister {
        device_id: String,
    },
    /// Imports devices from a CSV file (a header row; columns user, platform, token, locale,
    /// topics, and optionally customer, browser, app_version, sandbox, p256dh, auth) or a JSON
    /// lines file (objects with the same keys), each row subscribed to its topics. Refused rows
    /// are listed by line; the others are imported.
    Import {
        file: PathBuf,
        /// csv or jsonl (default: from the file name).
        #[arg(long, value_parser = ["csv", "jsonl"])]
        format: Option<String>,
        /// Check every row, import none.
        #[arg(long)]
        dry_run: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct SendArgs {
    /// Every active device of this user.
    #[arg(long, group = "to")]
    user: Option<String>,
    /// One registered device.
    #[arg(long, group = "to")]
    device: Option<String>,
    /// One push token (with --platform).
    #[arg(long, group = "to")]
    token: Option<String>,
    /// Every active subscriber of a topic.
    #[arg(long, group = "to")]
    topic: Option<String>,
    /// Every active device a segment holds for.
    #[arg(long, group = "to")]
    segment: Option<String>,
    /// Every active device of a customer profile.
    #[arg(long, group = "to")]
    customer: Option<String>,
    /// A variable for $(name) references, as name=value (repeatable).
    #[arg(long = "var", value_parser = parse_pair)]
    variables: Vec<(String, String)>,
    #[arg(long, default_value = "android")]
    platform: String,
    #[arg(long, default_value = "")]
    title: String,
    #[arg(long, default_value = "")]
    body: String,
    /// Extra data as key=value (repeatable).
    #[arg(long = "data", value_parser = parse_pair)]
    data: Vec<(String, String)>,
    #[arg(long, default_value_t = 0)]
    ttl: u32,
    #[arg(long, default_value_t = 0)]
    priority: u32,
    #[arg(long)]
    silent: bool,
    #[arg(long, default_value = "")]
    idempotency_key: String,
    /// An https URL that receives this message's delivery reports, signed with the tenant's
    /// notify secret (`herald webhook notify-secret` creates it); `$(name)` variables allowed.
    #[arg(long, default_value = "")]
    notify_url: String,
    /// Wait until every delivery is final and print the status.
    #[arg(long, conflicts_with = "wait_for")]
    wait: bool,
    /// Send with SendAndWait: wait until a delivery reaches this stage (or none can, or
    /// --timeout runs out) and print the outcome (ONSUBMIT, ONDRSUCCESS, ONREAD, ONDRFAIL,
    /// ONPOLICYFAIL, ONERROR or ONTIMEOUT).
    #[arg(long, value_enum)]
    wait_for: Option<Stage>,
    /// Seconds --wait-for waits at most (1 to 86,400).
    #[arg(long, default_value_t = 30, requires = "wait_for")]
    timeout: u32,
    /// Send later: an RFC 3339 instant (2026-12-01T09:00:00Z) or a span from now (+15m).
    #[arg(long, conflicts_with = "local_time")]
    at: Option<String>,
    /// Send at this wall-clock time (HH:MM) in each recipient's own time zone.
    #[arg(long)]
    local_time: Option<String>,
    /// With --local-time: on this date (YYYY-MM-DD) in each zone.
    #[arg(long, requires = "local_time")]
    local_date: Option<String>,
    /// The message's class: quiet hours hold standard messages and drop marketing ones,
    /// frequency caps count them, transactional ones pass both.
    #[arg(long, value_enum)]
    class: Option<Class>,
    /// A campaign's pace (a topic or a segment): at most this many deliveries a minute; the
    /// answer estimates the audience and when the last delivery goes.
    #[arg(long, default_value_t = 0)]
    throttle: u32,
}

/// A message class, for `send --class`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Class {
    Standard,
    Transactional,
    Marketing,
}

impl Class {
    pub(crate) fn proto(self) -> MessageClass {
        match self {
            Self::Standard => MessageClass::Standard,
            Self::Transactional => MessageClass::Transactional,
            Self::Marketing => MessageClass::Marketing,
        }
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum MessageCommand {
    /// Shows a message and the status of each delivery.
    Get {
        message_id: String,
        /// Wait until every delivery is final.
        #[arg(long)]
        wait: bool,
    },
    /// Prints each delivery of a message as it is now, then each change as it happens, until
    /// every delivery is final (read, failed or expired) or has reached `--until`.
    Watch {
        message_id: String,
        /// Stop once every delivery has reached this stage or failed.
        #[arg(long, value_enum)]
        until: Option<Stage>,
    },
    /// A message's deliveries counted by the stage they reached, with rates.
    Stats { message_id: String },
    /// The tenant's scheduled messages (sent with --at or --local-time), soonest first.
    Scheduled,
    /// Moves a scheduled message to another time.
    Reschedule {
        message_id: String,
        /// An RFC 3339 instant (2026-12-01T09:00:00Z) or a span from now (+15m).
        #[arg(long)]
        at: String,
    },
    /// Cancels a message: a scheduled one never starts; a started one is recalled (every
    /// delivery not yet handed to its provider is cancelled) and each delivery's fate printed.
    Cancel {
        message_id: String,
        /// Also ask the devices that already have it to take it down (a silent data message
        /// `herald_recall` the app turns into a removal).
        #[arg(long)]
        remove_delivered: bool,
    },
}

/// A stage of a delivery's way, for `message watch --until`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Stage {
    Submitted,
    Delivered,
    Read,
}

impl Stage {
    fn wait_for(self) -> WaitFor {
        match self {
            Self::Submitted => WaitFor::Submit,
            Self::Delivered => WaitFor::DeliveryReport,
            Self::Read => WaitFor::ReadReport,
        }
    }

    /// Whether a delivery at `status` is at this stage, past it, or will never reach it.
    fn reached_by(self, status: DeliveryStatus) -> bool {
        herald_core::status::reaches(self.wait_for(), status)
            || matches!(status, DeliveryStatus::Failed | DeliveryStatus::Expired)
    }
}

/// A browser's `PushSubscription.toJSON()`: `{"endpoint", "keys": {"p256dh", "auth"}}`.
fn read_subscription(file: &std::path::Path) -> anyhow::Result<WebSubscription> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let field = |value: &serde_json::Value, name: &str| {
        value[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{} has no {name}", file.display()))
    };
    Ok(WebSubscription {
        endpoint: field(&json, "endpoint")?,
        p256dh: field(&json["keys"], "p256dh")?,
        auth: field(&json["keys"], "auth")?,
    })
}

pub(crate) fn parse_pair(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{raw:?} is not key=value"))
}

fn platform(name: &str) -> anyhow::Result<Platform> {
    Platform::from_name(name)
        .with_context(|| format!("unknown platform {name:?} (android, ios, macos, huawei, web)"))
}

pub struct Client {
    endpoint: String,
    api_key: Option<String>,
    /// Where the admin key comes from: `HERALD_ADMIN_KEY`, else the data directory.
    settings: Result<Settings, ConfigError>,
}

impl Client {
    pub fn new(
        endpoint: String,
        api_key: Option<String>,
        settings: Result<Settings, ConfigError>,
    ) -> Self {
        Self {
            endpoint,
            api_key,
            settings,
        }
    }

    async fn channel(&self, key: &str) -> anyhow::Result<AuthedChannel> {
        let channel = Channel::from_shared(self.endpoint.clone())?
            .connect()
            .await
            .with_context(|| {
                format!(
                    "cannot reach Herald at {} (is `herald up` running?)",
                    self.endpoint
                )
            })?;
        Ok(tonic::service::interceptor::InterceptedService::new(
            channel,
            BearerAuth::new(key)?,
        ))
    }

    async fn tenant_channel(&self) -> anyhow::Result<AuthedChannel> {
        let key = self
            .api_key
            .as_deref()
            .context("set HERALD_API_KEY (or --api-key) to a tenant API key")?;
        self.channel(key).await
    }

    async fn admin_channel(&self) -> anyhow::Result<AuthedChannel> {
        let settings = self.settings.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        let key = match &settings.admin_key {
            Some(key) => key.expose().to_owned(),
            None => {
                let file = settings.data_dir.join("admin.key");
                std::fs::read_to_string(&file)
                    .with_context(|| {
                        format!(
                            "no admin key: set HERALD_ADMIN_KEY or run from where {} exists",
                            file.display()
                        )
                    })?
                    .trim()
                    .to_owned()
            }
        };
        self.channel(&key).await
    }

    /// The admin channel when acting on a named tenant, else the tenant's own key.
    async fn key_channel(&self, tenant: &Option<String>) -> anyhow::Result<AuthedChannel> {
        if tenant.is_some() {
            self.admin_channel().await
        } else {
            self.tenant_channel().await
        }
    }

    pub async fn run(&self, command: Command) -> anyhow::Result<()> {
        match command {
            Command::Up(_)
            | Command::Config(_)
            | Command::Completions { .. }
            | Command::Guard { .. } => {
                unreachable!("handled in main")
            }
            Command::Dlq(command) => {
                let settings = self.settings.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
                crate::dlq::run(command, &settings.nats_url).await?;
            }
            Command::Status => {
                let settings = self.settings.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
                herald::status::status(settings, output::json()).await?;
            }
            Command::Drain {
                addr,
                after_secs,
                timeout_secs,
            } => {
                let secs = std::time::Duration::from_secs;
                herald::status::drain(addr, secs(after_secs), secs(timeout_secs)).await?;
            }
            #[cfg(feature = "mocks")]
            Command::Bench(_)
            | Command::BenchFanout(_)
            | Command::BenchWebhooks(_)
            | Command::Chaos(_) => {
                unreachable!("handled in main")
            }
            Command::Tenant(TenantCommand::Create { name }) => {
                let mut admin = AdminClient::new(self.admin_channel().await?);
                let tenant = admin
                    .create_tenant(CreateTenantRequest { display_name: name })
                    .await?
                    .into_inner();
                let key = admin
                    .create_api_key(CreateApiKeyRequest {
                        tenant_id: tenant.tenant_id.clone(),
                        display_name: "first".into(),
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                output::show(
                    &serde_json::json!({"tenant": &tenant, "api_key": &key}),
                    |_| {
                        println!("tenant {} ({})", tenant.tenant_id, tenant.display_name);
                        println!("API key (shown once): {}", key.key);
                        println!("export HERALD_API_KEY={}", key.key);
                    },
                );
            }
            Command::Tenant(TenantCommand::List) => {
                let mut admin = AdminClient::new(self.admin_channel().await?);
                let mut page_token = String::new();
                loop {
                    let page = admin
                        .list_tenants(ListTenantsRequest {
                            page_size: 1000,
                            page_token,
                        })
                        .await?
                        .into_inner();
                    for tenant in &page.tenants {
                        output::show(tenant, |t| {
                            println!(
                                "{}  {}  {}",
                                t.tenant_id,
                                herald_core::time::rfc3339(t.created_at_ms),
                                t.display_name
                            );
                        });
                    }
                    if page.next_page_token.is_empty() {
                        break;
                    }
                    page_token = page.next_page_token;
                }
            }
            Command::Tenant(TenantCommand::Policy(args)) => {
                crate::policy::policy(self.admin_channel().await?, args).await?;
            }
            Command::Key(KeyCommand::Create { tenant, name, app }) => {
                let mut admin = AdminClient::new(self.key_channel(&tenant).await?);
                let request = CreateApiKeyRequest {
                    tenant_id: tenant.unwrap_or_default(),
                    display_name: name,
                    scope: if app {
                        ApiKeyScope::App
                    } else {
                        ApiKeyScope::Server
                    }
                    .into(),
                };
                let created = admin.create_api_key(request).await?.into_inner();
                output::show(&created, |created| {
                    let info = created.api_key.clone().unwrap_or_default();
                    println!(
                        "{} key {} for tenant {}",
                        info.scope().name(),
                        info.key_id,
                        info.tenant_id
                    );
                    println!("API key (shown once): {}", created.key);
                });
            }
            Command::Key(KeyCommand::List { tenant }) => {
                let mut admin = AdminClient::new(self.key_channel(&tenant).await?);
                let mut page_token = String::new();
                loop {
                    let page = admin
                        .list_api_keys(ListApiKeysRequest {
                            tenant_id: tenant.clone().unwrap_or_default(),
                            page_size: 0,
                            page_token,
                        })
                        .await?
                        .into_inner();
                    for key in &page.api_keys {
                        output::show(key, |key| {
                            let revoked = if key.revoked_at_ms > 0 {
                                " (revoked)"
                            } else {
                                ""
                            };
                            println!(
                                "{}  {}…  {:<6}  {}{revoked}",
                                key.key_id,
                                key.prefix,
                                key.scope().name(),
                                key.display_name
                            );
                        });
                    }
                    if page.next_page_token.is_empty() {
                        break;
                    }
                    page_token = page.next_page_token;
                }
            }
            Command::Key(KeyCommand::Revoke { key_id, tenant }) => {
                let mut admin = AdminClient::new(self.key_channel(&tenant).await?);
                admin
                    .revoke_api_key(RevokeApiKeyRequest {
                        tenant_id: tenant.unwrap_or_default(),
                        key_id,
                    })
                    .await?;
                println!("revoked");
            }
            Command::Credentials(CredentialsCommand::SetFcm {
                service_account,
                project_id,
                label,
            }) => {
                let json = std::fs::read_to_string(&service_account)
                    .with_context(|| format!("cannot read {}", service_account.display()))?;
                let mut credentials = CredentialsClient::new(self.tenant_channel().await?);
                let request = SetCredentialRequest {
                    credential: Some(set_credential_request::Credential::Fcm(FcmCredential {
                        service_account_json: json,
                        project_id,
                    })),
                    label,
                };
                let info = credentials.set_credential(request).await?.into_inner();
                output::show(&info, |info| {
                    println!(
                        "fcm credential set: project {} as {}",
                        info.identifier, info.principal
                    );
                });
            }
            Command::Credentials(CredentialsCommand::SetApns {
                bundle_id,
                key_file,
                key_id,
                team_id,
                p12,
                p12_password,
                sandbox,
                label,
            }) => {
                let read = |path: &PathBuf| {
                    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
                };
                let auth = match (key_file, p12) {
                    (Some(key_file), None) => apns_credential::Auth::Token(ApnsTokenAuth {
                        private_key_pem: String::from_utf8(read(&key_file)?)
                            .context("the .p8 key is not text")?,
                        key_id: key_id.unwrap_or_default(),
                        team_id: team_id.unwrap_or_default(),
                    }),
                    (None, Some(p12)) => apns_credential::Auth::Certificate(ApnsCertificateAuth {
                        source: Some(apns_certificate_auth::Source::P12(read(&p12)?)),
                        password: p12_password,
                        private_key_pem: String::new(),
                    }),
                    _ => bail!("give --key-file (with --key-id and --team-id) or --p12"),
                };
                let mut credentials = CredentialsClient::new(self.tenant_channel().await?);
                let credential = ApnsCredential {
                    auth: Some(auth),
                    bundle_id,
                    sandbox,
                };
                let request = SetCredentialRequest {
                    credential: Some(set_credential_request::Credential::Apns(credential)),
                    label,
                };
                let info = credentials.set_credential(request).await?.into_inner();
                output::show(&info, |info| {
                    println!(
                        "apns credential set: {} as {}",
                        info.identifier, info.principal
                    );
                });
            }
            Command::Credentials(CredentialsCommand::SetHms {
                app_id,
                app_secret,
                badge_class,
                label,
            }) => {
                let mut credentials = CredentialsClient::new(self.tenant_channel().await?);
                let request = SetCredentialRequest {
                    credential: Some(set_credential_request::Credential::Hms(HmsCredential {
                        app_id,
                        app_secret,
                        badge_class,
                    })),
                    label,
                };
                let info = credentials.set_credential(request).await?.into_inner();
                output::show(&info, |info| {
                    println!("hms credential set: app {}", info.identifier);
                });
            }
            Command::Credentials(CredentialsCommand::Test { provider }) => {
                let provider = Provider::from_name(&provider)
                    .with_context(|| format!("unknown provider {provider:?} (apns, fcm, hms)"))?;
                let mut credentials = CredentialsClient::new(self.tenant_channel().await?);
                let result = credentials
                    .test_connection(TestConnectionRequest {
                        provider: provider as i32,
                    })
                    .await?
                    .into_inner();
                output::show(&result, |result| {
                    println!(
                        "{}: {}",
                        if result.ok { "ok" } else { "FAILED" },
                        result.detail
                    );
                });
                if !result.ok {
                    bail!("the connection test failed");
                }
            }
            Command::Credentials(CredentialsCommand::TestSend {
                provider,
                device,
                title,
                body,
            }) => {
                let provider = Provider::from_name(&provider).with_context(|| {
                    format!("unknown provider {provider:?} (apns, fcm, hms, webpush)")
                })?;
                let mut credentials = CredentialsClient::new(self.tenant_channel().await?);
                let sent = credentials
                    .send_test_notification(SendTestNotificationRequest {
                        provider: provider as i32,
                        device_id: device,
                        title,
                        body,
                    })
                    .await?
                    .into_inner();
                output::show(&sent, |sent| {
                    println!(
                        "message {}  {}{}",
                        sent.message_id,
                        sent.outcome().as_str_name(),
                        because(&sent.reason)
                    );
                    if let Some(delivery) = &sent.delivery {
                        print_delivery(delivery);
                    }
                });
                if sent.outcome() != WaitOutcome::Onsubmit {
                    bail!("the provider did not accept the test notification");
                }
            }
            Command::Credentials(CredentialsCommand::GenerateVapid { subject }) => {
                let mut credentials = CredentialsClient::new(self.tenant_channel().await?);
                let key = credentials
                    .generate_vapid_keys(GenerateVapidKeysRequest { subject })
                    .await?
                    .into_inner();
                output::show(&key, |key| {
                    println!(
                        "VAPID public key (applicationServerKey): {}",
                        key.public_key
                    );
                });
            }
            Command::Credentials(CredentialsCommand::List) => {
                let mut credentials = CredentialsClient::new(self.tenant_channel().await?);
                for c in credentials
                    .list_credentials(ListCredentialsRequest::default())
                    .await?
                    .into_inner()
                    .credentials
                {
                    output::show(&c, |c| {
                        println!(
                            "{:<8} {}  {}  {}",
                            c.provider().name(),
                            c.identifier,
                            c.principal,
                            c.label
                        );
                    });
                }
            }
            Command::Device(command) => self.device(command).await?,
            Command::Topic(command) => {
                crate::audiences::topic(self.tenant_channel().await?, command).await?;
            }
            Command::Segment(command) => {
                crate::audiences::segment(self.tenant_channel().await?, command).await?;
            }
            Command::Customer(command) => {
                crate::audiences::customer(self.tenant_channel().await?, command).await?;
            }
            Command::Webhook(command) => {
                crate::webhooks::webhook(self.tenant_channel().await?, command).await?;
            }
            Command::Event(command) => {
                crate::events::event(self.tenant_channel().await?, command).await?;
            }
            Command::Trigger(command) => {
                crate::events::trigger(self.tenant_channel().await?, command).await?;
            }
            Command::Mobile(command) => {
                crate::events::mobile(self.tenant_channel().await?, command).await?;
            }
            Command::Send(args) => self.send(*args).await?,
            Command::Message(MessageCommand::Get { message_id, wait }) => {
                let mut notifications = NotificationsClient::new(self.tenant_channel().await?);
                print_message(&show(&mut notifications, &message_id, wait).await?);
            }
            Command::Message(MessageCommand::Watch { message_id, until }) => {
                let mut notifications = NotificationsClient::new(self.tenant_channel().await?);
                watch(&mut notifications, &message_id, until).await?;
            }
            Command::Message(MessageCommand::Stats { message_id }) => {
                crate::stats::message(self.tenant_channel().await?, message_id).await?;
            }
            Command::Message(MessageCommand::Scheduled) => {
                crate::schedule::list(NotificationsClient::new(self.tenant_channel().await?))
                    .await?;
            }
            Command::Message(MessageCommand::Reschedule { message_id, at }) => {
                let client = NotificationsClient::new(self.tenant_channel().await?);
                crate::schedule::reschedule(client, message_id, &at).await?;
            }
            Command::Message(MessageCommand::Cancel {
                message_id,
                remove_delivered,
            }) => {
                let client = NotificationsClient::new(self.tenant_channel().await?);
                crate::schedule::cancel(client, message_id, remove_delivered).await?;
            }
            Command::Stats(args) => {
                crate::stats::tenant(self.tenant_channel().await?, args).await?
            }
        }
        Ok(())
    }

    async fn device(&self, command: DeviceCommand) -> anyhow::Result<()> {
        if let DeviceCommand::Import {
            file,
            format,
            dry_run,
            quiet,
        } = command
        {
            let format = format.map(|f| match f.as_str() {
                "csv" => herald_core::import::Format::Csv,
                _ => herald_core::import::Format::JsonLines,
            });
            let channel = self.tenant_channel().await?;
            let outcome = crate::import::run(channel, &file, format, dry_run, !quiet).await?;
            crate::import::print(&outcome, dry_run);
            let refused = outcome.response.error_count + outcome.unreadable.len() as u64;
            anyhow::ensure!(refused == 0, "{refused} rows were refused");
            return Ok(());
        }
        let mut devices = DevicesClient::new(self.tenant_channel().await?);
        match command {
            DeviceCommand::Register {
                user,
                platform: name,
                token,
                subscription,
                sandbox,
                p256dh,
                auth,
                browser,
            } => {
                let platform = platform(&name)?;
                let browser = match browser.as_str() {
                    "" => Browser::Unspecified,
                    name => Browser::from_name(name).with_context(|| {
                        format!("unknown browser {name:?} (chrome, firefox, safari, edge, opera)")
                    })?,
                };
                let web_subscription = match subscription {
                    Some(file) => Some(read_subscription(&file)?),
                    None => (platform == Platform::Web).then(|| WebSubscription {
                        endpoint: token.clone(),
                        p256dh,
                        auth,
                    }),
                };
                let token = match &web_subscription {
                    Some(sub) => sub.endpoint.clone(),
                    None => token,
                };
                let request = RegisterDeviceRequest {
                    user_id: user,
                    platform: platform as i32,
                    push_token: token,
                    sandbox,
                    browser: browser as i32,
                    web_subscription,
                    ..Default::default()
                };
                let registered = devices.register_device(request).await?.into_inner();
                output::show(&registered, |registered| {
                    let device = registered.device.clone().unwrap_or_default();
                    let verb = if registered.created {
                        "registered"
                    } else {
                        "updated"
                    };
                    println!(
                        "{verb} device {} for user {:?}",
                        device.device_id, device.user_id
                    );
                });
            }
            DeviceCommand::List { user } => {
                let mut page_token = String::new();
                loop {
                    let page = devices
                        .list_devices(ListDevicesRequest {
                            user_id: user.clone(),
                            page_size: 500,
                            page_token,
                            ..Default::default()
                        })
                        .await?
                        .into_inner();
                    for d in &page.devices {
                        output::show(d, |d| {
                            println!(
                                "{}  {:<12} {:<12} {:<8} {}",
                                d.device_id,
                                d.state().as_str_name().trim_start_matches("DEVICE_STATE_"),
                                d.user_id,
                                d.platform().as_str_name().trim_start_matches("PLATFORM_"),
                                d.push_token
                            );
                        });
                    }
                    if page.next_page_token.is_empty() {
                        break;
                    }
                    page_token = page.next_page_token;
                }
            }
            DeviceCommand::Unregister { device_id } => {
                devices
                    .unregister_device(UnregisterDeviceRequest { device_id })
                    .await?;
                println!("unregistered");
            }
            DeviceCommand::Import { .. } => unreachable!("handled above"),
        }
        Ok(())
    }

    async fn send(&self, args: SendArgs) -> anyhow::Result<()> {
        let kind = if let Some(user) = args.user {
            destination::Kind::UserId(user)
        } else if let Some(device) = args.device {
            destination::Kind::DeviceId(device)
        } else if let Some(token) = args.token {
            destination::Kind::PushId(PushId {
                platform: platform(&args.platform)? as i32,
                token,
                ..Default::default()
            })
        } else if let Some(topic) = args.topic {
            destination::Kind::Topic(topic)
        } else if let Some(segment) = args.segment {
            destination::Kind::Segment(segment)
        } else if let Some(customer) = args.customer {
            destination::Kind::CustomerId(customer)
        } else {
            bail!("say who to send to: --user, --device, --token, --topic, --segment or --customer")
        };
        let request = SendRequest {
            destination: Some(Destination { kind: Some(kind) }),
            notification: Some(Notification {
                title: args.title,
                body: args.body,
                data: args.data.into_iter().collect(),
                ttl_seconds: args.ttl,
                priority: args.priority,
                silent: args.silent,
                ..Default::default()
            }),
            idempotency_key: args.idempotency_key,
            notify_url: args.notify_url,
            variables: args.variables.into_iter().collect(),
            send_at_ms: args
                .at
                .as_deref()
                .map(|at| herald_core::timing::instant("--at", at, herald_core::time::now_ms()))
                .transpose()?
                .unwrap_or_default(),
            local_time: args.local_time.map(|time| LocalTime {
                time,
                date: args.local_date.unwrap_or_default(),
            }),
            class: args.class.map_or(0, |c| c.proto() as i32),
            throttle_per_minute: args.throttle,
            ..Default::default()
        };
        let request_scheduled = request.send_at_ms != 0 || request.local_time.is_some();
        let mut notifications = NotificationsClient::new(self.tenant_channel().await?);
        if let Some(stage) = args.wait_for {
            let waited = notifications
                .send_and_wait(SendAndWaitRequest {
                    request: Some(request),
                    wait_for: stage.wait_for() as i32,
                    until: Some(send_and_wait_request::Until::TimeoutSeconds(args.timeout)),
                })
                .await?
                .into_inner();
            output::show(&waited, |waited| {
                println!(
                    "message {}  {}{}",
                    waited.message_id,
                    waited
                        .outcome()
                        .as_str_name()
                        .trim_start_matches("WAIT_OUTCOME_"),
                    because(&waited.reason)
                );
                waited.deliveries.iter().for_each(print_delivery);
            });
            return Ok(());
        }
        let sent = notifications.send(request).await?.into_inner();
        let note = if sent.duplicate {
            " (idempotent repeat)"
        } else {
            ""
        };
        let scheduled = if request_scheduled {
            " (scheduled: `herald message scheduled` lists it)"
        } else {
            ""
        };
        output::show(&sent, |sent| {
            println!("accepted message {}{note}{scheduled}", sent.message_id);
            if sent.estimated_finish_ms != 0 {
                println!(
                    "throttled: {} devices now, the last routed by about {}",
                    sent.audience_estimate,
                    herald_core::time::rfc3339(sent.estimated_finish_ms)
                );
            }
        });
        if args.wait {
            print_message(&show(&mut notifications, &sent.message_id, true).await?);
        }
        Ok(())
    }
}

async fn show(
    notifications: &mut NotificationsClient<AuthedChannel>,
    message_id: &str,
    wait: bool,
) -> anyhow::Result<GetMessageResponse> {
    for _ in 0..300 {
        let status = notifications
            .get_message(GetMessageRequest {
                message_id: message_id.into(),
            })
            .await?
            .into_inner();
        let state = status
            .message
            .as_ref()
            .map(|m| m.state())
            .unwrap_or_default();
        if !wait || herald_core::status::message_settled(state) {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("message {message_id} did not settle within 30 s")
}

async fn watch(
    notifications: &mut NotificationsClient<AuthedChannel>,
    message_id: &str,
    until: Option<Stage>,
) -> anyhow::Result<()> {
    let mut updates = notifications
        .watch_message(WatchMessageRequest {
            message_id: message_id.into(),
        })
        .await?
        .into_inner();
    let mut latest: std::collections::HashMap<String, DeliveryStatus> = Default::default();
    while let Some(update) = updates.message().await? {
        let Some(delivery) = update.delivery else {
            continue;
        };
        output::show(&delivery, print_delivery);
        latest.insert(delivery.delivery_id.clone(), delivery.status());
        // The watch may not have shown every delivery yet: the stored message says whether
        // all of them are there and at the stage.
        if let Some(stage) = until
            && latest.values().all(|status| stage.reached_by(*status))
            && all_reached(notifications, message_id, stage).await?
        {
            break;
        }
    }
    Ok(())
}

/// Whether a message is routed and every delivery of it has reached `stage` (or cannot).
async fn all_reached(
    notifications: &mut NotificationsClient<AuthedChannel>,
    message_id: &str,
    stage: Stage,
) -> anyhow::Result<bool> {
    let stored = notifications
        .get_message(GetMessageRequest {
            message_id: message_id.into(),
        })
        .await?
        .into_inner();
    let routing = stored
        .message
        .as_ref()
        .is_none_or(|m| matches!(m.state(), MessageState::Accepted | MessageState::Routing));
    Ok(!routing
        && stored
            .deliveries
            .iter()
            .all(|d| stage.reached_by(d.status())))
}

fn print_message(status: &GetMessageResponse) {
    output::show(status, |status| {
        let message = status.message.clone().unwrap_or_default();
        println!(
            "message {}  {}{}",
            message.message_id,
            message
                .state()
                .as_str_name()
                .trim_start_matches("MESSAGE_STATE_"),
            because(&message.reason)
        );
        status.deliveries.iter().for_each(print_delivery);
    });
}

/// `": reason"`, or nothing when there is none.
fn because(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

fn print_delivery(d: &Delivery) {
    println!(
        "  {}  device {}  {}  {}  attempts {}  {}{}",
        d.delivery_id,
        d.device_id,
        d.provider().as_str_name().trim_start_matches("PROVIDER_"),
        d.status()
            .as_str_name()
            .trim_start_matches("DELIVERY_STATUS_"),
        d.attempts,
        d.provider_message_id,
        if d.reason.is_empty() {
            String::new()
        } else {
            format!("  reason: {}", d.reason)
        },
    );
}
