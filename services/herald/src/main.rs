//! `herald`: run the whole stack in one process (`herald up`), and a command-line client for
//! the gRPC API.
#![forbid(unsafe_code)]

mod audiences;
#[cfg(feature = "mocks")]
mod bench;
#[cfg(feature = "mocks")]
mod chaos;
mod cli;
mod dlq;
mod events;
#[cfg(feature = "mocks")]
mod fanout;
mod import;
mod output;
mod policy;
#[cfg(feature = "mocks")]
mod probe;
#[cfg(feature = "mocks")]
mod rig;
mod schedule;
mod stats;
mod up;
#[cfg(feature = "mocks")]
mod webhook_bench;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herald_runtime::Settings;

/// Every Herald process allocates with mimalloc: the services allocate and free many small
/// buffers per delivery (protobuf, HTTP/2 frames, SQL rows) across threads, where glibc's
/// allocator spent about a seventh of the CPU in the benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "herald", version, about = "Herald push-notification platform")]
struct Args {
    /// A TOML settings file (see docs/configuration.md); the environment overrides it.
    #[arg(long, global = true, env = "HERALD_CONFIG")]
    config: Option<PathBuf>,
    /// The ingest gRPC endpoint the client commands talk to.
    #[arg(
        long,
        global = true,
        env = "HERALD_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    endpoint: String,
    /// How answers are printed: `text` for people, `json` for scripts (each answer a line of
    /// JSON, a list a line per item).
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = output::Format::Text)]
    output: output::Format,
    /// A tenant API key (hrld_…) for the client commands.
    #[arg(long, global = true, env = "HERALD_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs ingest, router, receipt, the webhook dispatcher and every provider sender in this
    /// process.
    Up(up::UpArgs),
    /// Measures throughput and latency against mock providers (see docs/benchmarks.md).
    #[cfg(feature = "mocks")]
    Bench(bench::BenchArgs),
    /// Imports devices subscribed to one topic, sends it one notification, and measures the
    /// fan-out (see docs/benchmarks.md).
    #[cfg(feature = "mocks")]
    BenchFanout(fanout::FanoutArgs),
    /// Measures webhook events posted per second, and that none is lost while the receiver is
    /// down (a whole Herald on this machine, a receiver on loopback).
    #[cfg(feature = "mocks")]
    BenchWebhooks(webhook_bench::WebhookBenchArgs),
    /// Kills processes under load and reports what was lost, duplicated and how long Herald
    /// took to recover (see docs/reliability.md).
    #[cfg(feature = "mocks")]
    Chaos(chaos::ChaosArgs),
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Prints the shell's completion script for herald (`herald completions bash >
    /// /etc/bash_completion.d/herald`; zsh, fish, elvish and powershell too).
    Completions { shell: clap_complete::Shell },
    #[command(subcommand)]
    Tenant(cli::TenantCommand),
    #[command(subcommand)]
    Key(cli::KeyCommand),
    #[command(subcommand)]
    Credentials(cli::CredentialsCommand),
    #[command(subcommand)]
    Device(cli::DeviceCommand),
    /// Topics and their subscribers.
    #[command(subcommand)]
    Topic(audiences::TopicCommand),
    /// Segments: expressions over topics and attributes.
    #[command(subcommand)]
    Segment(audiences::SegmentCommand),
    /// Customer profiles: a person's users, identities, attributes and preferences.
    #[command(subcommand)]
    Customer(audiences::CustomerCommand),
    /// Outbound webhooks: endpoints that receive delivery events, signed.
    #[command(subcommand)]
    Webhook(webhooks::WebhookCommand),
    /// Events: publish one (its triggers send), read what came of them.
    #[command(subcommand)]
    Event(events::EventCommand),
    /// Triggers: an event type, a condition and a template (the built-in call and message
    /// triggers among them).
    #[command(subcommand)]
    Trigger(events::TriggerCommand),
    /// Mobile sessions: a user's login on a device, through which calls and messages reach them.
    #[command(subcommand)]
    Mobile(events::MobileCommand),
    /// Sends a notification.
    Send(Box<cli::SendArgs>),
    #[command(subcommand)]
    Message(cli::MessageCommand),
    /// Delivery analytics: the tenant's deliveries per day and provider by the stage they
    /// reached (sent, submitted, delivered, read, clicked, failed, expired), with rates.
    Stats(stats::StatsArgs),
    /// Each stream's and consumer's backlog, the outbox, and the providers' outcomes today
    /// (talks to NATS and the database).
    Status,
    /// Asks one process to stop taking work and waits until its in-flight work is done (a
    /// rolling update's preStop hook); the process then waits for SIGTERM.
    Drain {
        /// The process's admin endpoint (its `telemetry.metrics_addr`).
        #[arg(long, default_value = "127.0.0.1:9464")]
        addr: std::net::SocketAddr,
        /// Wait this long first (ingest behind a load balancer: until it stops sending new
        /// calls).
        #[arg(long, default_value_t = 0)]
        after_secs: u64,
        /// How long to wait for it.
        #[arg(long, default_value_t = 300)]
        timeout_secs: u64,
    },
    /// The dead letters: what the services could not handle, and why (talks to NATS).
    #[command(subcommand)]
    Dlq(dlq::DlqCommand),
    /// Runs a command until this process's stdin closes, then stops it (how `herald up` makes
    /// sure the nats-server it started never outlives it).
    #[command(hide = true)]
    Guard {
        #[arg(last = true, required = true)]
        command: Vec<std::ffi::OsString>,
    },
}

/// The settings.
#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Checks the settings of this environment and prints them as a TOML file, secrets redacted.
    Show,
    /// Prints the reference of every setting (docs/configuration.md).
    Reference,
}

fn load(config: Option<&std::path::Path>) -> Result<Settings, herald_runtime::ConfigError> {
    Settings::from_layers(config, |name| std::env::var(name).ok())
}

fn main() -> ExitCode {
    herald_runtime::tune_memory();
    let args = Args::parse();
    output::use_json(args.output == output::Format::Json);
    let settings = load(args.config.as_deref());
    match args.command {
        Command::Up(up_args) => herald_runtime::service_main_with("herald", settings, |s, stop| {
            up::run(up_args, s, stop)
        }),
        #[cfg(feature = "mocks")]
        Command::Bench(bench_args) => {
            herald_runtime::init_logging(herald_runtime::LogFormat::Text, "warn");
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            report(
                settings
                    .map_err(anyhow::Error::from)
                    .and_then(|settings| runtime.block_on(bench::run(bench_args, settings))),
            )
        }
        #[cfg(feature = "mocks")]
        Command::BenchFanout(fanout_args) => {
            herald_runtime::init_logging(herald_runtime::LogFormat::Text, "warn");
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            report(
                settings
                    .map_err(anyhow::Error::from)
                    .and_then(|settings| runtime.block_on(fanout::run(fanout_args, settings))),
            )
        }
        #[cfg(feature = "mocks")]
        Command::BenchWebhooks(bench_args) => {
            herald_runtime::init_logging(herald_runtime::LogFormat::Text, "warn");
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            report(
                settings.map_err(anyhow::Error::from).and_then(|settings| {
                    runtime.block_on(webhook_bench::run(bench_args, settings))
                }),
            )
        }
        #[cfg(feature = "mocks")]
        Command::Chaos(chaos_args) => {
            herald_runtime::init_logging(herald_runtime::LogFormat::Text, "warn");
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            report(
                settings
                    .map_err(anyhow::Error::from)
                    .and_then(|settings| runtime.block_on(chaos::run(chaos_args, settings))),
            )
        }
        Command::Config(ConfigCommand::Show) => match settings {
            Ok(settings) => {
                print!("{}", settings.to_toml());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::from(64)
            }
        },
        Command::Guard { command } => match up::guard(&command) {
            Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(0)).unwrap_or(1)),
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        },
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            clap_complete::generate(
                shell,
                &mut Args::command(),
                "herald",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Command::Config(ConfigCommand::Reference) => {
            print!("{}", herald_runtime::settings::reference());
            ExitCode::SUCCESS
        }
        command => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            // The client reads the admin key and the data directory from the settings, where
            // `herald up` keeps them; a bad setting only matters if the command needs it.
            let client = cli::Client::new(args.endpoint, args.api_key, settings);
            report(runtime.block_on(client.run(command)))
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
