//! The one HTTP client for requests made on behalf of a tenant (the AI backend's base URL now,
//! webhooks later). A client user chooses where these go, so the server must not become their way
//! into its own machine or network:
//!
//! * every address a host name resolves to is checked when the connection is made (a resolver of
//!   our own inside reqwest, so a name that resolves elsewhere at save time — DNS rebinding — is
//!   still refused); an address written in the URL is checked before the request;
//! * refused: loopback, unspecified, link-local (incl. the cloud metadata address
//!   169.254.169.254), private (10/8, 172.16/12, 192.168/16), shared CGNAT space (100.64/10),
//!   unique-local IPv6 (fc00::/7), multicast, broadcast and other reserved ranges — also when
//!   written as IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6 addresses;
//! * unless the operator allows them in `outbound_allow`: `host` or `host:port` (as written in the
//!   URL; the host is then trusted whatever it resolves to), an address (`10.0.0.7`), or a range
//!   (`10.0.0.0/8`) that resolved addresses may be in;
//! * redirects are not followed and no proxy from the environment is used (either would send the
//!   request somewhere that was not checked).
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Why a destination is refused (user-facing, for the settings page's field error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// What the operator allows beyond the public internet (`outbound_allow`).
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    /// Hosts as written in URLs (lower case, IPv6 without brackets), with an optional port.
    hosts: Vec<(String, Option<u16>)>,
    /// Address ranges resolved addresses may be in: (network, prefix length).
    nets: Vec<(IpAddr, u8)>,
}

impl Allowlist {
    /// Parses `outbound_allow` entries: `host`, `host:port`, `[v6]:port`, `address`, `cidr`.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut out = Self::default();
        for raw in entries {
            let e = raw.trim().to_ascii_lowercase();
            if e.is_empty() {
                continue;
            }
            if let Some((net, bits)) = e.split_once('/') {
                let net: IpAddr = net.parse().map_err(|_| format!("`{raw}`: not an address range"))?;
                let max = if net.is_ipv4() { 32 } else { 128 };
                let bits: u8 = bits.parse().ok().filter(|b| *b <= max).ok_or(format!("`{raw}`: bad prefix length"))?;
                out.nets.push((net, bits));
                continue;
            }
            if let Ok(ip) = e.trim_matches(|c| c == '[' || c == ']').parse::<IpAddr>() {
                out.nets.push((ip, if ip.is_ipv4() { 32 } else { 128 }));
                out.hosts.push((ip.to_string(), None));
                continue;
            }
            let (host, port) = match e.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(':') => (
                    h.trim_matches(|c| c == '[' || c == ']').to_string(),
                    Some(p.parse().map_err(|_| format!("`{raw}`: bad port"))?),
                ),
                _ => (e.clone(), None),
            };
            if host.is_empty() || host.contains(['/', '@', ' ']) {
                return Err(format!("`{raw}`: expected host, host:port, address or address range"));
            }
            let host = host.parse::<IpAddr>().map(|ip| ip.to_string()).unwrap_or(host);
            out.hosts.push((host, port));
        }
        Ok(out)
    }

    fn allows_host(&self, host: &str, port: u16) -> bool {
        self.hosts.iter().any(|(h, p)| h == host && p.is_none_or(|p| p == port))
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|(net, bits)| in_net(ip, *net, *bits))
    }

    /// Whether a connection to `ip` may be made.
    pub fn permits(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allows_ip(ip)
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Whether an address belongs to this machine, its networks or a reserved range.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", incl. 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return is_internal_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique-local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
}

/// The IPv4 address inside IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64
/// (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::) addresses.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0; 5] && (s[5] == 0xffff || (s[5] == 0 && u128::from(ip) > 1)) {
        return Some(low);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    None
}

/// Resolves host names for the guarded client and refuses internal addresses.
struct GuardedResolver {
    allow: Arc<Allowlist>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs = checked_lookup(&allow, &host, 0).await?;
            Ok::<Addrs, Box<dyn std::error::Error + Send + Sync>>(Box::new(addrs.into_iter()))
        })
    }
}

/// Looks `host` up and refuses it if any of its addresses is internal (and not allowed).
async fn checked_lookup(allow: &Allowlist, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
    let addrs = lookup(host, port).await.map_err(|e| Refused(format!("cannot resolve {host}: {e}")))?;
    check_addrs(allow, host, &addrs)?;
    Ok(addrs)
}

async fn lookup(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}

fn check_addrs(allow: &Allowlist, host: &str, addrs: &[SocketAddr]) -> Result<(), Refused> {
    match addrs.iter().find(|a| !allow.permits(a.ip())) {
        Some(bad) => Err(Refused(format!("{host} resolves to {}, an internal address", bad.ip()))),
        None => Ok(()),
    }
}

/// Where a URL may be sent.
enum Route {
    /// The operator allows this host: no address check.
    Trusted,
    /// Any other host: every resolved address is checked at connect time.
    Guarded,
}

/// The guarded HTTP client. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    allow: Arc<Allowlist>,
    guarded: reqwest::Client,
    trusted: reqwest::Client,
}

impl Outbound {
    pub fn new(allow: Allowlist, connect_timeout: Duration) -> Self {
        let allow = Arc::new(allow);
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .user_agent(concat!("handoff/", env!("CARGO_PKG_VERSION")))
        };
        let guarded =
            builder().dns_resolver(Arc::new(GuardedResolver { allow: allow.clone() })).build().expect("HTTP client");
        let trusted = builder().build().expect("HTTP client");
        Self { allow, guarded, trusted }
    }

    /// From the server configuration (`outbound_allow`); a bad entry stops the start.
    pub fn from_config(config: &crate::config::Config) -> crate::error::Result<Self> {
        let allow = Allowlist::parse(&config.outbound_allow)
            .map_err(|e| crate::error::BackendError::Internal(format!("configuration: outbound_allow: {e}")))?;
        Ok(Self::new(allow, Duration::from_secs(5).min(Duration::from_millis(config.ai_timeout_ms))))
    }

    /// Decides by the URL alone: the scheme, an address written in it, an allowed host.
    fn route(&self, url: &Url) -> Result<Route, Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused("must be an http:// or https:// URL".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused("must not contain a user name or password".into()));
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let (host, ip) = match url.host() {
            Some(url::Host::Domain(d)) => (d.trim_end_matches('.').to_ascii_lowercase(), None),
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
            None => return Err(Refused("must name a host".into())),
        };
        if self.allow.allows_host(&host, port) {
            return Ok(Route::Trusted);
        }
        match ip {
            Some(ip) if !self.allow.permits(ip) => Err(Refused(format!(
                "{ip} is an internal address; the server's operator can allow it (outbound_allow)"
            ))),
            _ => Ok(Route::Guarded),
        }
    }

    /// A POST request to `url`, or why it may not be made. Host names are checked again when the
    /// connection is made.
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, Refused> {
        let parsed = Url::parse(url).map_err(|_| Refused("not a valid URL".into()))?;
        Ok(match self.route(&parsed)? {
            Route::Trusted => self.trusted.post(parsed),
            Route::Guarded => self.guarded.post(parsed),
        })
    }

    /// Checks a URL a user wants to save: as [`Outbound::post`] would, and by resolving its host
    /// now (a name that does not resolve yet is accepted; it is checked again at request time).
    pub async fn vet(&self, url: &str) -> Result<(), Refused> {
        let parsed = Url::parse(url.trim()).map_err(|_| Refused("not a valid URL".into()))?;
        if let (Route::Guarded, Some(url::Host::Domain(host))) = (self.route(&parsed)?, parsed.host()) {
            let port = parsed.port_or_known_default().unwrap_or(0);
            if let Ok(Ok(addrs)) = tokio::time::timeout(Duration::from_secs(3), lookup(host, port)).await {
                check_addrs(&self.allow, host, &addrs)
                    .map_err(|r| Refused(format!("{}; the server's operator can allow it (outbound_allow)", r.0)))?;
            }
        }
        Ok(())
    }
}

/// The host a URL's requests go to (host and port), to tell when a stored credential must not
/// follow a changed URL.
pub fn destination(url: &str) -> Option<(String, u16)> {
    let u = Url::parse(url.trim()).ok()?;
    Some((u.host_str()?.to_ascii_lowercase(), u.port_or_known_default()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_ranges_in_every_spelling() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
        ] {
            assert!(is_internal(ip(a)), "{a} should be internal");
        }
        for a in ["93.184.215.14", "172.32.0.1", "100.128.0.1", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!is_internal(ip(a)), "{a} should be public");
        }
    }

    #[test]
    fn allowlist_entries() {
        let a = Allowlist::parse(&["127.0.0.1:11434".into(), "Ollama.internal".into(), "10.9.0.0/16".into()]).unwrap();
        assert!(a.allows_host("127.0.0.1", 11434) && !a.allows_host("127.0.0.1", 80));
        assert!(a.allows_host("ollama.internal", 8080));
        assert!(a.permits(ip("10.9.3.4")) && !a.permits(ip("10.8.3.4")) && !a.permits(ip("127.0.0.1")));
        let b = Allowlist::parse(&["127.0.0.1".into(), "[::1]:8080".into()]).unwrap();
        assert!(b.permits(ip("127.0.0.1")) && b.allows_host("::1", 8080));
        assert!(Allowlist::parse(&["10.0.0.0/40".into()]).is_err());
        assert!(Allowlist::parse(&["http://x/".into()]).is_err());
    }

    #[tokio::test]
    async fn urls_are_routed_or_refused() {
        let out = Outbound::new(Allowlist::parse(&["127.0.0.1:11434".into()]).unwrap(), Duration::from_secs(1));
        assert!(out.post("http://127.0.0.1:11434/v1").is_ok());
        for bad in [
            "http://127.0.0.1:11435/v1",
            "http://[::ffff:7f00:1]/",
            "http://2130706433/",
            "ftp://x.example/",
            "http://u:p@x.example/",
        ] {
            assert!(out.post(bad).is_err(), "{bad}");
        }
        assert!(out.post("https://api.example.com/v1").is_ok(), "host names are checked at connect time");
        assert!(out.vet("http://localhost:9/v1").await.is_err());
        assert_eq!(destination("https://A.example/v1"), Some(("a.example".into(), 443)));
    }
}
