//! The SSRF guard: which addresses an endpoint may never reach. The check runs where the
//! connection is made — as the HTTP client's resolver, on every attempt, so a name that
//! resolves to an allowed address when the endpoint is created and to a private one later
//! (DNS rebinding) is refused then — and on IP-literal hosts, which no resolver sees. An
//! operator allow-list (networks in CIDR form) lets chosen internal targets through, for local
//! testing or an internal receiver.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use url::{Host, Url};

/// Why an address is refused, or `None` when it is a public unicast address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(168, 63, 129, 16) => "a cloud metadata address",
        (169, 254, _) => "link-local (cloud metadata lives here)",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, b, _) if (16..32).contains(&b) => "private",
        (100, b, _) if (64..128).contains(&b) => "shared address space (CGNAT)",
        (0, _, _) => "\"this network\"",
        (192, 0, 0) => "reserved for protocol assignments",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "reserved for documentation",
        (198, b, _) if b == 18 || b == 19 => "reserved for benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xfc00..=0xfdff => "private (unique local; cloud metadata lives here)",
        0xff00..=0xffff => "multicast",
        0x2001 if s[1] == 0x0db8 => "reserved for documentation",
        0x2001 if s[1] == 0 => "a Teredo tunnel",
        0x0100 if s[1..4] == [0, 0, 0] => "reserved for discarding",
        0 => "reserved",
        _ => return None,
    })
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible, NAT64
/// (`64:ff9b::/96`) or 6to4 (`2002::/16`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(tail(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(tail(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(tail(hi, lo)),
        [0x2002, hi, lo, ..] => Some(tail(hi, lo)),
        _ => None,
    }
}

/// An address the guard refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{ip} is {why}: webhooks may not reach it (an operator can allow it with webhooks.allow_networks)"
)]
pub struct Refused {
    pub ip: IpAddr,
    pub why: &'static str,
}

/// The guard: the forbidden ranges, less the operator's allowed networks.
#[derive(Clone, Debug, Default)]
pub struct Guard {
    allowed: Vec<IpNet>,
}

impl Guard {
    /// A guard letting `allowed` (CIDR networks or single addresses) through.
    pub fn new(allowed: &[String]) -> Result<Self, String> {
        let allowed = allowed
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not a network (CIDR) or an address"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed })
    }

    /// Whether `ip` may be reached. An allowed IPv4 network covers the IPv6 spellings of its
    /// addresses (`::ffff:127.0.0.1` is 127.0.0.1).
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        let v4 = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        let allowed = |ip: &IpAddr| self.allowed.iter().any(|net| net.contains(ip));
        match forbidden(ip) {
            Some(why) if !allowed(&ip) && !v4.is_some_and(|v4| allowed(&v4)) => {
                Err(Refused { ip, why })
            }
            _ => Ok(()),
        }
    }

    /// Checks a URL whose host is an address (no resolver sees those); names pass here and are
    /// checked as they resolve.
    pub fn check_literal(&self, url: &Url) -> Result<(), Refused> {
        match url.host() {
            Some(Host::Ipv4(ip)) => self.check(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check(IpAddr::V6(ip)),
            _ => Ok(()),
        }
    }

    /// The resolver the HTTP client connects through: the system's, less refused addresses.
    pub fn resolver(self) -> Arc<Resolver> {
        Arc::new(Resolver(Arc::new(self)))
    }
}

/// A DNS resolver that answers only addresses the guard lets through, and fails with the
/// reason when none is left.
#[derive(Clone, Debug)]
pub struct Resolver(Arc<Guard>);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let kept: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match guard.check(addr.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused.get_or_insert(why);
                        false
                    }
                })
                .collect();
            match (kept.is_empty(), refused) {
                (true, Some(why)) => Err(Box::new(why) as Box<dyn std::error::Error + Send + Sync>),
                (true, None) => Err(format!("{host} did not resolve").into()),
                (false, _) => Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> Option<&'static str> {
        forbidden(ip.parse().unwrap())
    }

    #[test]
    fn private_and_special_ranges_are_refused() {
        for (ip, why) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.0.0.1", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local (cloud metadata lives here)"),
            ("168.63.129.16", "a cloud metadata address"),
            ("100.64.0.1", "shared address space (CGNAT)"),
            ("100.127.255.254", "shared address space (CGNAT)"),
            ("100.100.100.200", "shared address space (CGNAT)"),
            ("0.0.0.0", "\"this network\""),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "reserved"),
            ("198.18.0.1", "reserved for benchmarking"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fe80::1", "link-local"),
            (
                "fd00:ec2::254",
                "private (unique local; cloud metadata lives here)",
            ),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            (
                "::ffff:169.254.169.254",
                "link-local (cloud metadata lives here)",
            ),
            ("64:ff9b::a00:1", "private"),
            ("2002:c0a8:101::1", "private"),
            ("2001:db8::1", "reserved for documentation"),
        ] {
            assert_eq!(refused(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "169.253.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    #[test]
    fn the_allow_list_lets_chosen_networks_through() {
        let guard = Guard::new(&["127.0.0.0/8".into(), "10.1.2.3".into()]).unwrap();
        assert!(guard.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(guard.check("10.1.2.3".parse().unwrap()).is_ok());
        let err = guard.check("10.1.2.4".parse().unwrap()).unwrap_err();
        assert_eq!(err.why, "private");
        // Its IPv6 spellings too.
        assert!(guard.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(guard.check("::ffff:10.1.2.4".parse().unwrap()).is_err());
        assert!(Guard::new(&["nonsense".into()]).is_err());
    }

    #[test]
    fn literal_hosts_are_checked_in_any_spelling() {
        let guard = Guard::default();
        for url in [
            "https://127.0.0.1/x",
            "https://0x7f.1/x",
            "https://2130706433/x",
            "https://[::ffff:7f00:1]/x",
            "https://[fe80::1]/x",
        ] {
            let url = Url::parse(url).unwrap();
            assert!(guard.check_literal(&url).is_err(), "{url}");
        }
        assert!(
            guard
                .check_literal(&Url::parse("https://hooks.example.com/").unwrap())
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_lead_to_loopback() {
        use reqwest::dns::Resolve as _;
        let name = || "localhost".parse::<reqwest::dns::Name>().unwrap();
        let err = Guard::default()
            .resolver()
            .resolve(name())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("loopback"), "{err}");
        let allowed = Guard::new(&["127.0.0.0/8".into(), "::1/128".into()]).unwrap();
        let addrs: Vec<_> = allowed.resolver().resolve(name()).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
