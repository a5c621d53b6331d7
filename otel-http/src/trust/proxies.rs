//! Which proxies may tell a server who the client is (`Forwarded`,
//! `X-Forwarded-For`), and the `client.address` that follows.

use http::HeaderMap;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

/// The environment variable listing the trusted proxies:
/// `OTEL_HTTP_TRUSTED_PROXIES`, comma-separated IP addresses and CIDR ranges
/// (`10.0.0.0/8`, `2001:db8::/32`), or `*` for every address.
///
/// ```
/// assert_eq!(otel_http::trust::TRUSTED_PROXIES_ENV, "OTEL_HTTP_TRUSTED_PROXIES");
/// ```
pub const TRUSTED_PROXIES_ENV: &str = "OTEL_HTTP_TRUSTED_PROXIES";

/// At most this many hops of the forwarding headers are looked at, from the
/// right: a longer list cannot make the server work harder.
const MAX_HOPS: usize = 32;

/// A forwarded entry longer than this is not recorded.
const MAX_ENTRY_LEN: usize = 256;

/// An IP range: an address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    fn parse(entry: &str) -> Option<Self> {
        let (address, prefix) = match entry.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (entry, None),
        };
        let network = address.trim_start_matches('[').trim_end_matches(']');
        let network = network.parse::<IpAddr>().ok()?.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { network, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u128::from(n.to_bits()) << 96, self.prefix)
                    == masked(u128::from(a.to_bits()) << 96, self.prefix)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(n.to_bits(), self.prefix) == masked(a.to_bits(), self.prefix)
            }
            _ => false,
        }
    }
}

/// The `prefix` leading bits of `bits`.
fn masked(bits: u128, prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => bits & (u128::MAX << (128 - u32::from(p.min(128)))),
    }
}

/// An entry of a trusted-proxy list that is neither an IP address, a CIDR
/// range nor `*`; it is skipped.
///
/// ```
/// use otel_http::trust::TrustedProxies;
/// let (_, invalid) = TrustedProxies::parse_list("10.0.0.0/8, proxy.local, 10.0.0.0/33");
/// assert_eq!(invalid[0].entry, "proxy.local");
/// assert_eq!(invalid[1].to_string(), "invalid trusted proxy \"10.0.0.0/33\": expected an IP address, a CIDR range (10.0.0.0/8) or *");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidProxy {
    /// The entry as written.
    pub entry: String,
}

impl std::fmt::Display for InvalidProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid trusted proxy {:?}: expected an IP address, a CIDR range (10.0.0.0/8) or *",
            self.entry
        )
    }
}

impl std::error::Error for InvalidProxy {}

/// Which peers a server believes when they say, in `Forwarded` or
/// `X-Forwarded-For`, whom they forward for.
///
/// By default none: `client.address` is the connection's peer address, and
/// the headers, which any caller can write, are ignored. Behind proxies you
/// run, list them (or, when only your proxies can reach the server, trust
/// every peer): `client.address` is then the closest address that is not a
/// trusted proxy, walking from the peer leftwards through the forwarding
/// headers, as the HTTP semantic conventions describe.
///
/// ```
/// use otel_http::trust::TrustedProxies;
/// use std::net::SocketAddr;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2".parse().unwrap());
/// let peer: SocketAddr = "10.0.0.1:41000".parse().unwrap();
///
/// // The default: the peer, whatever the headers say.
/// let client = TrustedProxies::none().client_address(Some(peer), &headers).unwrap();
/// assert_eq!((client.address.as_str(), client.port), ("10.0.0.1", Some(41000)));
///
/// // Our proxies are 10.0.0.0/8: the client is the first address outside it,
/// // and the forged 6.6.6.6 further left is not believed.
/// let proxies = TrustedProxies::none().with(["10.0.0.0/8"]).0;
/// let client = proxies.client_address(Some(peer), &headers).unwrap();
/// assert_eq!((client.address.as_str(), client.port), ("203.0.113.7", None));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    all: bool,
    ranges: Vec<IpRange>,
}

/// `client.address` and, when known, `client.port`.
///
/// ```
/// use otel_http::trust::TrustedProxies;
/// let peer = "192.0.2.1:5000".parse().unwrap();
/// let client = TrustedProxies::none().client_address(Some(peer), &http::HeaderMap::new()).unwrap();
/// assert_eq!(client.address, "192.0.2.1");
/// assert_eq!(client.port, Some(5000));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress {
    /// An IP address, or a forwarded node name that is not one (e.g. `unknown`).
    pub address: String,
    /// The port, when the peer or the forwarding header gives it.
    pub port: Option<u16>,
}

/// One node of a forwarding chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node<'a> {
    Ip(IpAddr, Option<u16>),
    /// Not an address (`unknown`, an obfuscated `_name`, garbage).
    Other(&'a str),
}

impl<'a> Node<'a> {
    fn parse(raw: &'a str) -> Self {
        let raw = raw.trim().trim_matches('"');
        if let Ok(ip) = raw.parse::<IpAddr>() {
            return Node::Ip(ip, None);
        }
        if let Ok(socket) = raw.parse::<SocketAddr>() {
            return Node::Ip(socket.ip(), Some(socket.port()));
        }
        // `[v6]` without a port, or `v4:port` written with a bad port.
        if let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']'))
            && let Ok(ip) = inner.parse::<IpAddr>()
        {
            return Node::Ip(ip, None);
        }
        Node::Other(raw)
    }

    fn into_client(self) -> Option<ClientAddress> {
        match self {
            Node::Ip(ip, port) => Some(ClientAddress {
                address: ip.to_canonical().to_string(),
                port,
            }),
            Node::Other(name) if !name.is_empty() && name.len() <= MAX_ENTRY_LEN => {
                Some(ClientAddress {
                    address: name.to_owned(),
                    port: None,
                })
            }
            Node::Other(_) => None,
        }
    }
}

impl TrustedProxies {
    /// No proxy is trusted: `client.address` is the peer (the default).
    ///
    /// ```
    /// use otel_http::trust::TrustedProxies;
    /// assert!(!TrustedProxies::none().is_trusted("10.0.0.1".parse().unwrap()));
    /// ```
    pub fn none() -> Self {
        Self::default()
    }

    /// Every peer is trusted: the left-most forwarded address is the client.
    /// Only for a server that nothing but your own proxies can reach (they
    /// must overwrite, not append to, what the client sent). Without the
    /// connection's peer address, this is the only setting that uses the headers.
    ///
    /// ```
    /// use otel_http::trust::TrustedProxies;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("forwarded", "for=198.51.100.4;proto=https, for=10.0.0.2".parse().unwrap());
    /// let client = TrustedProxies::all().client_address(None, &headers).unwrap();
    /// assert_eq!(client.address, "198.51.100.4");
    /// ```
    pub fn all() -> Self {
        Self {
            all: true,
            ranges: Vec::new(),
        }
    }

    /// Adds IP addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`); `*`
    /// trusts every peer. Entries that are none of these are returned, and
    /// skipped.
    ///
    /// ```
    /// use otel_http::trust::TrustedProxies;
    /// let (proxies, invalid) = TrustedProxies::none().with(["10.0.0.0/8", "fd00::/8", "lb.local"]);
    /// assert!(proxies.is_trusted("10.1.2.3".parse().unwrap()));
    /// assert!(proxies.is_trusted("fd00::1".parse().unwrap()));
    /// assert!(!proxies.is_trusted("192.0.2.1".parse().unwrap()));
    /// assert_eq!(invalid.len(), 1);
    /// ```
    pub fn with<I, S>(mut self, entries: I) -> (Self, Vec<InvalidProxy>)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut invalid = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                self.all = true;
            } else if let Some(range) = IpRange::parse(entry) {
                if !self.ranges.contains(&range) {
                    self.ranges.push(range);
                }
            } else {
                invalid.push(InvalidProxy {
                    entry: entry.to_owned(),
                });
            }
        }
        (self, invalid)
    }

    /// A comma-separated list, as in [`TRUSTED_PROXIES_ENV`].
    ///
    /// ```
    /// use otel_http::trust::TrustedProxies;
    /// let (proxies, invalid) = TrustedProxies::parse_list(" 10.0.0.1 , ,192.168.0.0/16");
    /// assert!(invalid.is_empty());
    /// assert!(proxies.is_trusted("192.168.4.4".parse().unwrap()));
    /// assert_eq!(TrustedProxies::parse_list("*").0, TrustedProxies::all());
    /// ```
    pub fn parse_list(list: &str) -> (Self, Vec<InvalidProxy>) {
        Self::none().with(list.split(','))
    }

    /// What [`TRUSTED_PROXIES_ENV`] says (none when unset), and its invalid
    /// entries, for the caller to warn about.
    ///
    /// ```
    /// use otel_http::trust::TrustedProxies;
    /// # if std::env::var_os(otel_http::trust::TRUSTED_PROXIES_ENV).is_none() {
    /// assert_eq!(TrustedProxies::from_env(), (TrustedProxies::none(), vec![]));
    /// # }
    /// ```
    pub fn from_env() -> (Self, Vec<InvalidProxy>) {
        match std::env::var_os(TRUSTED_PROXIES_ENV) {
            Some(value) => Self::parse_list(&value.to_string_lossy()),
            None => (Self::none(), Vec::new()),
        }
    }

    /// Whether `ip` is a trusted proxy.
    ///
    /// ```
    /// use otel_http::trust::TrustedProxies;
    /// let proxies = TrustedProxies::parse_list("10.0.0.0/8").0;
    /// assert!(proxies.is_trusted("::ffff:10.0.0.9".parse().unwrap()), "IPv4-mapped IPv6 too");
    /// assert!(!proxies.is_trusted("11.0.0.1".parse().unwrap()));
    /// ```
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.all || self.ranges.iter().any(|r| r.contains(ip))
    }

    /// Whether any proxy is trusted, i.e. whether the headers are read at all.
    ///
    /// ```
    /// use otel_http::trust::TrustedProxies;
    /// assert!(!TrustedProxies::none().trusts_any());
    /// assert!(TrustedProxies::all().trusts_any());
    /// ```
    pub fn trusts_any(&self) -> bool {
        self.all || !self.ranges.is_empty()
    }

    /// `client.address` (and `client.port`) of a request that came from
    /// `peer` with `headers`: the peer, unless it is a trusted proxy; then
    /// the forwarding headers (`Forwarded`'s `for=`, else `X-Forwarded-For`,
    /// every line in order) are walked from the right, and the first address
    /// that is not a trusted proxy is the client (the left-most one if all
    /// are). `None` when there is no peer and the headers are not used.
    ///
    /// ```
    /// use otel_http::trust::TrustedProxies;
    ///
    /// let proxies = TrustedProxies::parse_list("10.0.0.1").0;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
    /// // From the proxy: believed.
    /// let via_proxy = proxies.client_address(Some("10.0.0.1:3000".parse().unwrap()), &headers).unwrap();
    /// assert_eq!(via_proxy.address, "203.0.113.7");
    /// // Straight from a caller who wrote the header itself: not believed.
    /// let direct = proxies.client_address(Some("198.51.100.9:3000".parse().unwrap()), &headers).unwrap();
    /// assert_eq!(direct.address, "198.51.100.9");
    /// ```
    pub fn client_address(
        &self,
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
    ) -> Option<ClientAddress> {
        let peer_client = || {
            peer.map(|p| ClientAddress {
                address: p.ip().to_canonical().to_string(),
                port: Some(p.port()),
            })
        };
        let believe_peer = match peer {
            Some(p) => self.is_trusted(p.ip()),
            // Without the peer, only "trust every peer" may use the headers.
            None => self.all,
        };
        if !believe_peer {
            return peer_client();
        }
        let hops = forwarded_for(headers);
        if hops.is_empty() {
            return peer_client();
        }
        let mut client = None;
        for node in hops.iter().rev() {
            client = Some(*node);
            match node {
                Node::Ip(ip, _) if self.is_trusted(*ip) => continue,
                _ => break,
            }
        }
        client.and_then(Node::into_client).or_else(peer_client)
    }
}

/// The last [`MAX_HOPS`] nodes of `Forwarded: for=` (every line, in order)
/// or, without a `Forwarded` header, of `X-Forwarded-For`.
fn forwarded_for<'a>(headers: &'a HeaderMap) -> VecDeque<Node<'a>> {
    let mut nodes = VecDeque::new();
    let mut push = |node: Node<'a>| {
        if nodes.len() == MAX_HOPS {
            nodes.pop_front();
        }
        nodes.push_back(node);
    };
    let forwarded = headers.get_all("forwarded");
    if forwarded.iter().next().is_some() {
        for value in forwarded.iter().filter_map(|v| v.to_str().ok()) {
            for element in value.split(',') {
                let node = element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| Node::parse(v))
                });
                // An element without `for=` is a hop we know nothing about.
                push(node.unwrap_or(Node::Other("")));
            }
        }
        return nodes;
    }
    for value in headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for entry in value.split(',') {
            push(Node::parse(entry));
        }
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    fn client(proxies: &TrustedProxies, peer: Option<&str>, h: &HeaderMap) -> Option<String> {
        let peer = peer.map(|p| p.parse().expect("peer"));
        proxies.client_address(peer, h).map(|c| match c.port {
            Some(port) => format!("{} {port}", c.address),
            None => c.address,
        })
    }

    #[test]
    fn ranges() {
        let r = IpRange::parse("10.0.0.0/8").expect("range");
        assert!(r.contains("10.255.0.1".parse().expect("ip")));
        assert!(!r.contains("11.0.0.1".parse().expect("ip")));
        let all4 = IpRange::parse("0.0.0.0/0").expect("range");
        assert!(all4.contains("8.8.8.8".parse().expect("ip")));
        assert!(!all4.contains("::1".parse().expect("ip")));
        let v6 = IpRange::parse("[2001:db8::]/32").expect("range");
        assert!(v6.contains("2001:db8:1::1".parse().expect("ip")));
        assert!(!v6.contains("2001:db9::1".parse().expect("ip")));
        let one = IpRange::parse("::ffff:192.0.2.1").expect("range");
        assert!(one.contains("192.0.2.1".parse().expect("ip")));
        for bad in [
            "",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "x",
            "10.0.0.0/-1",
            "1.2.3",
        ] {
            assert_eq!(IpRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn table() {
        let none = TrustedProxies::none();
        let lb = TrustedProxies::parse_list("10.0.0.0/8, fd00::/8").0;
        let all = TrustedProxies::all();
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")]);
        let cases: [(&TrustedProxies, Option<&str>, &HeaderMap, Option<&str>); 14] = [
            // Nobody trusted: the peer, whatever the headers.
            (&none, Some("10.0.0.1:1"), &xff, Some("10.0.0.1 1")),
            (&none, None, &xff, None),
            // Trusted peer: walk from the right, stop at the first untrusted.
            (&lb, Some("10.0.0.1:1"), &xff, Some("203.0.113.7")),
            // Untrusted peer: its forged headers are ignored.
            (&lb, Some("198.51.100.1:2"), &xff, Some("198.51.100.1 2")),
            // Without the peer, a list cannot be checked.
            (&lb, None, &xff, None),
            // Every hop trusted: the left-most.
            (&all, None, &xff, Some("6.6.6.6")),
            (&all, Some("10.0.0.1:1"), &xff, Some("6.6.6.6")),
            (
                &lb,
                Some("10.0.0.1:1"),
                &headers(&[("x-forwarded-for", "10.1.1.1, 10.2.2.2")]),
                Some("10.1.1.1"),
            ),
            // Trusted peer, no header: the peer.
            (
                &lb,
                Some("10.0.0.1:1"),
                &HeaderMap::new(),
                Some("10.0.0.1 1"),
            ),
            // Forwarded beats X-Forwarded-For; quoted IPv6 with port; lines joined in order.
            (
                &lb,
                Some("[fd00::1]:1"),
                &headers(&[
                    ("x-forwarded-for", "192.0.2.99"),
                    ("forwarded", "for=192.0.2.60;proto=http"),
                    (
                        "forwarded",
                        "for=\"[2001:db8:cafe::17]:4711\", For=10.0.0.3",
                    ),
                ]),
                Some("2001:db8:cafe::17 4711"),
            ),
            // An unknown or obfuscated node is the client as written.
            (
                &lb,
                Some("10.0.0.1:1"),
                &headers(&[("forwarded", "for=unknown, for=10.0.0.3")]),
                Some("unknown"),
            ),
            (
                &lb,
                Some("10.0.0.1:1"),
                &headers(&[("forwarded", "for=_hidden")]),
                Some("_hidden"),
            ),
            // An element without for=: nothing is known behind it, the peer stays.
            (
                &lb,
                Some("10.0.0.1:1"),
                &headers(&[("forwarded", "proto=https")]),
                Some("10.0.0.1 1"),
            ),
            // X-Forwarded-For entries with a port; IPv4-mapped peer.
            (
                &lb,
                Some("[::ffff:10.0.0.1]:1"),
                &headers(&[("x-forwarded-for", "203.0.113.9:5555")]),
                Some("203.0.113.9 5555"),
            ),
        ];
        for (i, (proxies, peer, h, want)) in cases.into_iter().enumerate() {
            assert_eq!(client(proxies, peer, h).as_deref(), want, "case {i}");
        }
    }

    #[test]
    fn long_chains_are_bounded() {
        let chain = vec!["10.0.0.5"; 1000].join(",");
        let h = headers(&[("x-forwarded-for", &chain)]);
        assert_eq!(forwarded_for(&h).len(), MAX_HOPS);
        let lb = TrustedProxies::parse_list("10.0.0.0/8").0;
        assert_eq!(
            client(&lb, Some("10.0.0.1:1"), &h).as_deref(),
            Some("10.0.0.5")
        );
        let long = "x".repeat(MAX_ENTRY_LEN + 1);
        let h = headers(&[("x-forwarded-for", &long)]);
        assert_eq!(
            client(&lb, Some("10.0.0.1:1"), &h).as_deref(),
            Some("10.0.0.1 1")
        );
    }
}
