//! [`AddressStrings`]: the `network.peer.address` and `server.address` values
//! of a server's spans, made once per distinct address instead of once per
//! request.
//!
//! Formatting a peer's IP address goes through `core::fmt` (about 2,700
//! instructions for an IPv4 address, more than the rest of a span's
//! attributes), and parsing a request's authority for its host and port
//! costs a few hundred more; a server sees the same few addresses over and
//! over. Each is kept as a shared string, so a request whose span records
//! them pays a lookup and a reference count.

use crate::series::SeriesCache;
use opentelemetry::StringValue;
use std::net::IpAddr;
use std::sync::Arc;

/// How many distinct peers and authorities are kept (each); past that, the
/// strings are made for the request, as without the cache.
const MAX_KEPT: usize = 256;

/// Longer authorities are parsed for the request and not kept.
const MAX_AUTHORITY: usize = 256;

/// The address strings a server has made, bounded: 256 peers and
/// as many authorities. Shared by the requests of one layer.
///
/// ```
/// use otel_http::address::AddressStrings;
/// use std::net::{IpAddr, Ipv4Addr};
///
/// let strings = AddressStrings::default();
/// let peer = strings.peer(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)));
/// assert_eq!(peer.as_str(), "10.0.0.7");
/// fn split(a: &str) -> Option<(&str, Option<u16>)> {
///     a.split_once(':').map(|(host, port)| (host, port.parse().ok()))
/// }
/// let (host, port) = strings.server("payment.internal:50051", split).expect("an authority");
/// assert_eq!((host.as_str(), port), ("payment.internal", Some(50051)));
/// ```
pub struct AddressStrings {
    peers: SeriesCache<IpAddr, StringValue>,
    authorities: SeriesCache<Box<str>, Option<(StringValue, Option<u16>)>>,
}

impl Default for AddressStrings {
    fn default() -> Self {
        Self {
            peers: SeriesCache::new(MAX_KEPT),
            authorities: SeriesCache::new(MAX_KEPT),
        }
    }
}

impl std::fmt::Debug for AddressStrings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressStrings")
            .field("peers", &self.peers.len())
            .field("authorities", &self.authorities.len())
            .finish()
    }
}

impl AddressStrings {
    /// `network.peer.address` of a peer: its IP address as text.
    ///
    /// ```
    /// use otel_http::address::AddressStrings;
    /// let strings = AddressStrings::default();
    /// let v6 = strings.peer("::1".parse().expect("an address"));
    /// assert_eq!(v6.as_str(), "::1");
    /// ```
    pub fn peer(&self, ip: IpAddr) -> StringValue {
        let make = || StringValue::from(Arc::<str>::from(ip.to_string()));
        self.peers
            .with(ip, make, StringValue::clone)
            .unwrap_or_else(make)
    }

    /// `server.address` and `server.port` of an authority (`host[:port]`,
    /// from a URI or a `Host` header), split by `parse` the first time it is
    /// seen; `None` when `parse` rejects it.
    ///
    /// ```
    /// use otel_http::address::AddressStrings;
    /// let strings = AddressStrings::default();
    /// fn split(a: &str) -> Option<(&str, Option<u16>)> {
    ///     match a.rsplit_once(':') {
    ///         Some((host, port)) => port.parse().ok().map(|port| (host, Some(port))),
    ///         None => (!a.is_empty()).then_some((a, None)),
    ///     }
    /// }
    /// let (host, port) = strings.server("[::1]:8080", split).expect("valid");
    /// assert_eq!((host.as_str(), port), ("[::1]", Some(8080)));
    /// assert_eq!(strings.server("shop:http", split), None); // rejected, and kept so
    /// ```
    pub fn server<'a>(
        &self,
        authority: &'a str,
        parse: impl FnOnce(&'a str) -> Option<(&'a str, Option<u16>)>,
    ) -> Option<(StringValue, Option<u16>)> {
        let own =
            |(host, port): (&str, Option<u16>)| (StringValue::from(Arc::<str>::from(host)), port);
        if authority.len() > MAX_AUTHORITY {
            return parse(authority).map(own);
        }
        let mut parse = Some(parse);
        let kept = self.authorities.with_borrowed(
            authority,
            || {
                let split = parse.take().and_then(|p| p(authority)).map(own);
                Some((authority.into(), split))
            },
            Option::clone,
        );
        match kept {
            Some(kept) => kept,
            // The cache is full: parsed for this request.
            None => parse.and_then(|p| p(authority)).map(own),
        }
    }

    /// `server.address` and `server.port` of a request a server received:
    /// from its URI's authority (HTTP/2's `:authority`, or an absolute-form
    /// target), else from its `Host` header (`host`, `host:port`, `[v6]` or
    /// `[v6]:port`, RFC 9110 §7.2); `None` without either, or for a `Host`
    /// value that is none of these. Made once per distinct authority.
    ///
    /// ```
    /// use otel_http::address::AddressStrings;
    /// let strings = AddressStrings::default();
    /// let (parts, ()) = http::Request::get("/orders")
    ///     .header("host", "shop.example:8080")
    ///     .body(())
    ///     .expect("a request")
    ///     .into_parts();
    /// let (host, port) = strings.of_request(&parts).expect("a Host header");
    /// assert_eq!((host.as_str(), port), ("shop.example", Some(8080)));
    /// ```
    pub fn of_request(&self, parts: &http::request::Parts) -> Option<(StringValue, Option<u16>)> {
        if let Some(authority) = parts.uri.authority() {
            return self.server(authority.as_str(), |_| {
                Some((authority.host(), authority.port_u16()))
            });
        }
        let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
        self.server(host, split_host_port)
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` (a `Host` header's grammar,
/// RFC 9110 §7.2), checked as cheaply as this per-request path allows: the
/// host must be non-empty and free of characters a URI authority cannot
/// hold, and the port digits only.
fn split_host_port(value: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if value.starts_with('[') {
        let end = value.find(']')?;
        let (host, rest) = value.split_at(end + 1);
        match rest {
            "" => (host, None),
            rest => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match value.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=[]:%".contains(&b));
    if !valid_host {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok()?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::net::Ipv4Addr;

    #[test]
    fn each_address_is_made_once_and_shared() {
        let strings = AddressStrings::default();
        let ip = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));
        let (a, b) = (strings.peer(ip), strings.peer(ip));
        assert_eq!(a.as_str(), "192.168.1.20");
        assert_eq!(a.as_str().as_ptr(), b.as_str().as_ptr(), "shared");
        let parses = Cell::new(0);
        let split = |a: &'static str| {
            parses.set(parses.get() + 1);
            a.split_once(':').map(|(h, p)| (h, p.parse().ok()))
        };
        for _ in 0..3 {
            let (host, port) = strings.server("payment:50051", split).expect("valid");
            assert_eq!((host.as_str(), port), ("payment", Some(50051)));
            assert_eq!(strings.server("nocolon", split), None);
        }
        assert_eq!(
            parses.get(),
            2,
            "each authority parsed once, a rejection too"
        );
    }

    #[test]
    fn host_header_forms() {
        assert_eq!(
            split_host_port("shop.example:8080"),
            Some(("shop.example", Some(8080)))
        );
        assert_eq!(
            split_host_port("shop.example"),
            Some(("shop.example", None))
        );
        assert_eq!(split_host_port("[::1]:3000"), Some(("[::1]", Some(3000))));
        assert_eq!(split_host_port("[::1]"), Some(("[::1]", None)));
        assert_eq!(
            split_host_port("127.0.0.1:80"),
            Some(("127.0.0.1", Some(80)))
        );
        for bad in [
            "", ":80", "a:99999", "a:8o", "a b", "a:", "[::1", "[::1]x", "a/b:1", "a@b",
        ] {
            assert_eq!(split_host_port(bad), None, "{bad:?}");
        }
    }

    // The URI's authority first (userinfo is not the host), else Host.
    #[test]
    fn a_request_names_its_server_by_authority_then_host() {
        let strings = AddressStrings::default();
        let of = |uri: &str, host: Option<&str>| {
            let mut request = http::Request::get(uri);
            if let Some(host) = host {
                request = request.header("host", host);
            }
            let (parts, ()) = request.body(()).expect("request").into_parts();
            strings
                .of_request(&parts)
                .map(|(h, p)| (h.as_str().to_owned(), p))
        };
        let named = |h: &str, p| Some((h.to_owned(), p));
        assert_eq!(
            of("http://user@api.example:81/x", Some("other:1")),
            named("api.example", Some(81))
        );
        assert_eq!(of("/x", Some("[::1]:3000")), named("[::1]", Some(3000)));
        assert_eq!(of("/x", Some("a b")), None);
        assert_eq!(of("/x", None), None);
    }

    #[test]
    fn past_the_bound_addresses_are_still_made() {
        let strings = AddressStrings::default();
        for i in 0..MAX_KEPT {
            let [a, b] = (i as u16).to_be_bytes();
            strings.peer(IpAddr::V4(Ipv4Addr::new(10, 0, a, b)));
            strings.server(&format!("h{i}"), |h| Some((h, None)));
        }
        let late = strings.peer(IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9)));
        assert_eq!(late.as_str(), "10.9.9.9");
        let (host, _) = strings
            .server("late:1", |a| a.split_once(':').map(|(h, _)| (h, Some(1))))
            .expect("parsed for the request");
        assert_eq!(host.as_str(), "late");
        assert_eq!(strings.server("bad", |_| None), None);
        let long = "h".repeat(MAX_AUTHORITY + 1);
        let (host, _) = strings.server(&long, |h| Some((h, None))).expect("parsed");
        assert_eq!(host.as_str(), long);
        assert_eq!(strings.peers.len(), MAX_KEPT);
        assert_eq!(strings.authorities.len(), MAX_KEPT);
    }
}
