//! `herald dlq`: the dead letters, for operators. It talks to NATS directly (the settings'
//! `nats_url`), not to the API: what the services parked there, why, and putting it back.

use anyhow::{Context as _, bail};
use herald_bus::Bus;
use herald_bus::dead::{self, DeadLetter};

#[derive(clap::Subcommand, Debug)]
pub enum DlqCommand {
    /// Lists parked messages, oldest first: where each came from, why and after how many tries.
    List {
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Publishes parked messages again where they came from, and removes them from the dead
    /// letters.
    Replay {
        /// Their sequence numbers (from `herald dlq list`).
        #[arg(required_unless_present = "all")]
        sequences: Vec<u64>,
        /// Every parked message (of --tenant, when given).
        #[arg(long, conflicts_with = "sequences")]
        all: bool,
        #[arg(long, requires = "all")]
        tenant: Option<String>,
    },
    /// Removes parked messages without replaying them.
    Discard {
        #[arg(required = true)]
        sequences: Vec<u64>,
    },
}

fn describe(letter: &DeadLetter) -> String {
    let at = herald_core::time::rfc3339(letter.at_ms);
    format!(
        "{:>6}  {at}  tenant {}  {}  parked by {} after {} tries\n        why: {}\n        holds: {}",
        letter.sequence,
        letter.tenant,
        letter.subject,
        letter.parked_by,
        letter.tries,
        letter.reason,
        letter.contents
    )
}

pub async fn run(command: DlqCommand, nats_url: &str) -> anyhow::Result<()> {
    let bus = Bus::connect(nats_url)
        .await
        .with_context(|| format!("cannot reach NATS at {nats_url}"))?;
    match command {
        DlqCommand::List { tenant, limit } => {
            let letters = dead::list(&bus, tenant.as_deref(), limit).await?;
            if letters.is_empty() {
                println!("no dead letters");
            }
            for letter in &letters {
                println!("{}", describe(letter));
            }
        }
        DlqCommand::Replay {
            sequences,
            all,
            tenant,
        } => {
            let sequences = if all {
                dead::list(&bus, tenant.as_deref(), usize::MAX)
                    .await?
                    .into_iter()
                    .map(|l| l.sequence)
                    .collect()
            } else {
                sequences
            };
            let mut failed = 0;
            for sequence in sequences {
                match dead::replay(&bus, sequence).await {
                    Ok(letter) => println!("{sequence}: replayed to {}", letter.subject),
                    Err(err) => {
                        failed += 1;
                        eprintln!("{sequence}: {err}");
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} could not be replayed");
            }
        }
        DlqCommand::Discard { sequences } => {
            for sequence in sequences {
                dead::discard(&bus, sequence).await?;
                println!("{sequence}: discarded");
            }
        }
    }
    Ok(())
}
