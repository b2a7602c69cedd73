//! `herald stats` and `herald message stats`: delivery analytics as tables.

use herald_core::names::Named as _;
use herald_proto::client::AuthedChannel;
use herald_proto::v1::notifications_client::NotificationsClient;
use herald_proto::v1::{DeliveryStats, GetDeliveryStatsRequest, GetMessageStatsRequest, Provider};

/// The tenant's deliveries per UTC day and provider, by the stage they reached.
#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// How many days, today included.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..=366))]
    days: u16,
    /// Only this provider's deliveries (apns, fcm, hms, webpush).
    #[arg(long)]
    provider: Option<String>,
}

const HEADER: &str =
    "      sent  submitted  delivered       read    clicked     failed    expired  cancelled";

fn row(stats: &DeliveryStats) -> String {
    format!(
        "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        stats.sent,
        stats.submitted,
        stats.delivered,
        stats.read,
        stats.clicked,
        stats.failed,
        stats.expired,
        stats.cancelled
    )
}

fn rates(stats: &DeliveryStats) -> String {
    let pct = |r: f64| format!("{:.1} %", r * 100.0);
    format!(
        "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "",
        pct(stats.submitted_rate),
        pct(stats.delivered_rate),
        pct(stats.read_rate),
        pct(stats.click_rate),
        pct(stats.failure_rate),
        pct(stats.expiry_rate),
        pct(stats.cancel_rate)
    )
}

/// `herald stats`.
pub async fn tenant(channel: AuthedChannel, args: StatsArgs) -> anyhow::Result<()> {
    let provider = match args.provider {
        Some(name) => crate::webhooks::named::<Provider>("a provider", &name)?,
        None => Provider::Unspecified,
    };
    let now = herald_core::time::now_ms();
    let answer = NotificationsClient::new(channel)
        .get_delivery_stats(GetDeliveryStatsRequest {
            since_ms: now - (i64::from(args.days) - 1) * 86_400_000,
            until_ms: now,
            provider: provider.into(),
        })
        .await?
        .into_inner();
    crate::output::show(&answer, |answer| {
        println!("day         provider {HEADER}");
        for day in &answer.days {
            println!(
                "{}  {:<8} {}",
                day.day,
                day.provider().name(),
                row(&day.stats.unwrap_or_default())
            );
        }
        let total = answer.total.unwrap_or_default();
        println!("total                {}", row(&total));
        println!("rate                 {}", rates(&total));
    });
    Ok(())
}

/// `herald message stats ID`.
pub async fn message(channel: AuthedChannel, message_id: String) -> anyhow::Result<()> {
    let stats = NotificationsClient::new(channel)
        .get_message_stats(GetMessageStatsRequest { message_id })
        .await?
        .into_inner();
    crate::output::show(&stats, |stats| {
        println!("      {HEADER}");
        println!("count {}", row(stats));
        println!("rate  {}", rates(stats));
    });
    Ok(())
}
