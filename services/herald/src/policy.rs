//! `herald tenant policy`: a tenant's delivery policy from the command line — its default time
//! zone, quiet hours, frequency caps and rate limits — read from flags by pure parsers and set
//! with `UpdateTenant` (the admin key), each only when asked for.

use anyhow::{Context as _, bail};
use herald_core::names::Named as _;
use herald_proto::client::AuthedChannel;
use herald_proto::v1::admin_client::AdminClient;
use herald_proto::v1::{
    CapScope, FrequencyCap, MessageClass, Provider, QuietHours, RateLimit, Tenant, TenantSettings,
    UpdateTenantRequest,
};

/// `herald tenant policy`.
#[derive(clap::Args, Debug)]
pub struct PolicyArgs {
    /// The tenant to change.
    pub tenant: String,
    /// The zone of devices with none of their own (IANA, e.g. Europe/Vienna).
    #[arg(long)]
    time_zone: Option<String>,
    /// Quiet hours, START-END on each device's clock (22:00-07:00), or `none`: standard
    /// messages are held, marketing ones dropped, transactional ones pass.
    #[arg(long, value_parser = quiet_hours)]
    quiet_hours: Option<Option<QuietHours>>,
    /// A frequency cap, CLASS:MAX/WINDOW[/user] (marketing:3/1d/user); repeat for several, or
    /// `none` for no caps.
    #[arg(long = "cap", value_parser = cap)]
    caps: Vec<Option<FrequencyCap>>,
    /// A rate limit, PROVIDER:PER_MINUTE (fcm:600000, or all:5000 for every provider); repeat
    /// for several, or `none` for no limits.
    #[arg(long = "rate-limit", value_parser = rate_limit)]
    rate_limits: Vec<Option<RateLimit>>,
}

/// Sets what the flags ask for and prints the tenant's policy as it then stands.
pub async fn policy(channel: AuthedChannel, args: PolicyArgs) -> anyhow::Result<()> {
    let mut admin = AdminClient::new(channel);
    let mut settings = TenantSettings::default();
    let mut paths = Vec::new();
    if let Some(zone) = args.time_zone {
        settings.default_time_zone = zone;
        paths.push("settings.default_time_zone");
    }
    if let Some(quiet) = args.quiet_hours {
        settings.quiet_hours = quiet;
        paths.push("settings.quiet_hours");
    }
    if !args.caps.is_empty() {
        settings.frequency_caps = args.caps.into_iter().flatten().collect();
        paths.push("settings.frequency_caps");
    }
    if !args.rate_limits.is_empty() {
        settings.rate_limits = args.rate_limits.into_iter().flatten().collect();
        paths.push("settings.rate_limits");
    }
    if paths.is_empty() {
        bail!("nothing to change: say --time-zone, --quiet-hours, --cap or --rate-limit");
    }
    let tenant = admin
        .update_tenant(UpdateTenantRequest {
            tenant: Some(Tenant {
                tenant_id: args.tenant,
                settings: Some(settings),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.into_iter().map(str::to_owned).collect(),
            }),
        })
        .await?
        .into_inner();
    print(&tenant.settings.unwrap_or_default());
    Ok(())
}

fn print(settings: &TenantSettings) {
    crate::output::show(settings, |settings| {
        let zone = match settings.default_time_zone.as_str() {
            "" => "UTC",
            zone => zone,
        };
        println!("time zone    {zone}");
        match &settings.quiet_hours {
            Some(q) => println!("quiet hours  {}-{}", q.start, q.end),
            None => println!("quiet hours  none"),
        }
        for cap in &settings.frequency_caps {
            println!(
                "cap          {} at most {} in {} s per {}",
                cap.class().name(),
                cap.max,
                cap.window_seconds,
                if cap.per() == CapScope::User {
                    "user"
                } else {
                    "device"
                }
            );
        }
        for limit in &settings.rate_limits {
            let provider = match limit.provider() {
                Provider::Unspecified => "all providers",
                p => p.name(),
            };
            println!("rate limit   {provider} {} a minute", limit.per_minute);
        }
    });
}

/// `START-END` (`22:00-07:00`), or `none`.
fn quiet_hours(value: &str) -> anyhow::Result<Option<QuietHours>> {
    if value == "none" {
        return Ok(None);
    }
    let (start, end) = value
        .split_once('-')
        .context("START-END, e.g. 22:00-07:00, or none")?;
    for clock in [start, end] {
        herald_core::timing::clock("--quiet-hours", clock)?;
    }
    Ok(Some(QuietHours {
        start: start.to_owned(),
        end: end.to_owned(),
        ..Default::default()
    }))
}

/// `CLASS:MAX/WINDOW[/user|/device]` (`marketing:3/1d/user`), or `none`.
fn cap(value: &str) -> anyhow::Result<Option<FrequencyCap>> {
    if value == "none" {
        return Ok(None);
    }
    let usage = "CLASS:MAX/WINDOW[/user], e.g. marketing:3/1d/user, or none";
    let (class, rest) = value.split_once(':').context(usage)?;
    let mut parts = rest.split('/');
    let (Some(max), Some(window)) = (parts.next(), parts.next()) else {
        bail!(usage);
    };
    let per = match parts.next() {
        None | Some("device") => CapScope::Device,
        Some("user") => CapScope::User,
        Some(other) => bail!("{other:?}: per user or device"),
    };
    if parts.next().is_some() {
        bail!(usage);
    }
    let class = MessageClass::from_name(class)
        .with_context(|| format!("{class:?}: standard or marketing"))?;
    let max: u32 = max.parse().with_context(|| format!("{max:?}: a count"))?;
    let window = herald_core::timing::instant("--cap", &format!("+{window}"), 0)
        .with_context(|| format!("{window:?}: a span such as 90m, 12h or 1d"))?;
    Ok(Some(FrequencyCap {
        class: class as i32,
        max,
        window_seconds: u32::try_from(window / 1000).context("too long a window")?,
        per: per as i32,
    }))
}

/// `PROVIDER:PER_MINUTE` (`fcm:600000`; `all` for every provider), or `none`.
fn rate_limit(value: &str) -> anyhow::Result<Option<RateLimit>> {
    if value == "none" {
        return Ok(None);
    }
    let (provider, per_minute) = value
        .split_once(':')
        .context("PROVIDER:PER_MINUTE, e.g. fcm:600000 or all:5000, or none")?;
    let provider = match provider {
        "all" => Provider::Unspecified,
        name => Provider::from_name(name)
            .with_context(|| format!("{name:?}: fcm, apns, hms, webpush or all"))?,
    };
    Ok(Some(RateLimit {
        provider: provider as i32,
        per_minute: per_minute
            .parse()
            .with_context(|| format!("{per_minute:?}: pushes a minute"))?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_are_two_clocks_or_none() {
        let q = quiet_hours("22:00-07:30").unwrap().unwrap();
        assert_eq!((q.start.as_str(), q.end.as_str()), ("22:00", "07:30"));
        assert_eq!(quiet_hours("none").unwrap(), None);
        for bad in ["22:00", "25:00-07:00", "22:00-", "late-early"] {
            assert!(quiet_hours(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn caps_name_a_class_a_count_a_window_and_a_scope() {
        let c = cap("marketing:3/1d/user").unwrap().unwrap();
        assert_eq!(c.class(), MessageClass::Marketing);
        assert_eq!((c.max, c.window_seconds), (3, 86_400));
        assert_eq!(c.per(), CapScope::User);
        let c = cap("standard:10/90m").unwrap().unwrap();
        assert_eq!(
            (c.max, c.window_seconds, c.per()),
            (10, 5_400, CapScope::Device)
        );
        assert_eq!(cap("none").unwrap(), None);
        for bad in [
            "marketing",
            "marketing:3",
            "loud:3/1d",
            "marketing:x/1d",
            "marketing:3/soon",
            "marketing:3/1d/team",
            "marketing:3/1d/user/x",
        ] {
            assert!(cap(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rate_limits_name_a_provider_or_all() {
        let r = rate_limit("fcm:600000").unwrap().unwrap();
        assert_eq!((r.provider(), r.per_minute), (Provider::Fcm, 600_000));
        let r = rate_limit("all:5000").unwrap().unwrap();
        assert_eq!(r.provider(), Provider::Unspecified);
        assert_eq!(rate_limit("none").unwrap(), None);
        for bad in ["fcm", "pigeon:10", "fcm:fast"] {
            assert!(rate_limit(bad).is_err(), "{bad}");
        }
    }
}
