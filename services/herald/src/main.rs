//! `herald`: run the whole stack in one process (`herald up`), and a command-line client for
//! the gRPC API.
#![forbid(unsafe_code)]

mod bench;
mod cli;
mod up;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "herald", version, about = "Herald push-notification platform")]
struct Args {
    /// The ingest gRPC endpoint the client commands talk to.
    #[arg(
        long,
        global = true,
        env = "HERALD_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    endpoint: String,
    /// A tenant API key (hrld_…) for the client commands.
    #[arg(long, global = true, env = "HERALD_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// The operator's admin key; defaults to <data-dir>/admin.key as written by `herald up`.
    #[arg(long, global = true, env = "HERALD_ADMIN_KEY", hide_env_values = true)]
    admin_key: Option<String>,
    /// Where `herald up` keeps its state (SQLite database, NATS store, generated keys).
    #[arg(
        long,
        global = true,
        env = "HERALD_DATA_DIR",
        default_value = "herald-data"
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs ingest, router, receipt and every provider sender in this process.
    Up(up::UpArgs),
    /// Measures throughput and latency against mock providers (see docs/benchmarks.md).
    Bench(bench::BenchArgs),
    #[command(subcommand)]
    Tenant(cli::TenantCommand),
    #[command(subcommand)]
    Key(cli::KeyCommand),
    #[command(subcommand)]
    Credentials(cli::CredentialsCommand),
    #[command(subcommand)]
    Device(cli::DeviceCommand),
    /// Sends a notification.
    Send(cli::SendArgs),
    #[command(subcommand)]
    Message(cli::MessageCommand),
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Command::Up(up_args) => {
            let data_dir = args.data_dir;
            herald_telemetry::service_main("herald", move |settings, shutdown| {
                up::run(up_args, data_dir, settings, shutdown)
            })
        }
        Command::Bench(bench_args) => {
            herald_telemetry::init_logging_at("warn");
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            match runtime.block_on(bench::run(bench_args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        command => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let client =
                cli::Client::new(args.endpoint, args.api_key, args.admin_key, args.data_dir);
            match runtime.block_on(client.run(command)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
