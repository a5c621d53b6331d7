//! OTLP endpoints, parsed as URLs (the OTLP exporter specification's
//! "Endpoint URLs for OTLP/HTTP"): the generic `OTEL_EXPORTER_OTLP_ENDPOINT`
//! is a base, to whose path OTLP/HTTP appends `v1/<signal>`; a per-signal
//! endpoint is used as is. A query is kept, after the path (URL semantics:
//! `http://h:4318/?k=v` sends to `http://h:4318/v1/traces?k=v`); a fragment
//! is never sent, and neither is user-info (both are dropped, with a
//! warning). Messages never quote user-info or query values.

use super::otlp::{Protocol, Signal};

/// An endpoint, split where the signal path goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `scheme://host[:port]`, IPv6 hosts in brackets.
    origin: String,
    /// The path as written (`/` when none), or empty when there was none at all.
    path: String,
    /// The query, without `?`.
    query: Option<String>,
}

/// A problem that leaves the endpoint usable (what was dropped).
pub(crate) type Note = &'static str;

/// What is wrong with an endpoint that cannot be used.
pub(crate) type Problem = String;

const USER_INFO: Note = "a URL without a user name or password (they are not sent to \
    the collector: put credentials in OTEL_EXPORTER_OTLP_HEADERS, e.g. \
    authorization=Basic%20...); using the URL without them";
const FRAGMENT: Note = "a URL without a #fragment (it is never sent); using the URL without it";

impl Endpoint {
    /// Parses `raw`; `Err` says what is wrong, without quoting `raw`.
    ///
    /// A small parser of absolute `http(s)` URLs (RFC 3986's
    /// `scheme://[userinfo@]host[:port][/path][?query][#fragment]`), so that
    /// a build with only OTLP/HTTP needs no URL crate and its Unicode tables.
    pub(crate) fn parse(raw: &str) -> Result<(Self, Vec<Note>), Problem> {
        let raw = raw.trim();
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(if raw.contains(':') && !raw.starts_with('/') {
                // `collector:4318`: a scheme `collector`, or none at all.
                "an absolute http:// or https:// URL (the scheme is missing or is not http or https)"
                    .to_owned()
            } else {
                "an absolute http:// or https:// URL (no scheme)".to_owned()
            });
        };
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https") {
            return Err(
                "an absolute http:// or https:// URL (the scheme is missing or is not http or https)"
                    .to_owned(),
            );
        }
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(
                "an absolute http:// or https:// URL (no spaces or control characters)".to_owned(),
            );
        }
        let mut notes = Vec::new();
        let (rest, fragment) = match rest.split_once('#') {
            Some((before, _)) => (before, true),
            None => (rest, false),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((before, q)) => (before, Some(q.to_owned())),
            None => (rest, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        let host_port = match authority.rsplit_once('@') {
            Some((_, host_port)) => {
                notes.push(USER_INFO);
                host_port
            }
            None => authority,
        };
        let (host, port) = split_host_port(host_port)?;
        if fragment {
            notes.push(FRAGMENT);
        }
        let origin = match port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        };
        let endpoint = Self {
            origin,
            path: path.to_owned(),
            query,
        };
        Ok((endpoint, notes))
    }

    /// A per-signal endpoint: used as is.
    pub(crate) fn as_is(&self) -> String {
        self.render(&self.path)
    }

    /// The generic endpoint for one signal: OTLP/HTTP appends `v1/<signal>`
    /// to the path (one `/` between them, however many were written); gRPC
    /// uses it as is.
    pub(crate) fn for_signal(&self, signal: Signal, protocol: Protocol) -> String {
        match protocol {
            Protocol::Grpc => self.as_is(),
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                let base = self.path.trim_end_matches('/');
                self.render(&format!("{base}/{}", signal.http_path()))
            }
        }
    }

    /// The base of an OTLP/HTTP signal endpoint: without its trailing
    /// `/v1/<signal>` (the query kept); `None` when it has no such path.
    pub(crate) fn without_signal_path(&self, signal: Signal) -> Option<String> {
        let suffix = format!("/{}", signal.http_path());
        self.path
            .strip_suffix(&suffix)
            .map(|base| self.render(base))
    }

    fn render(&self, path: &str) -> String {
        match &self.query {
            Some(q) => format!("{}{path}?{q}", self.origin),
            None => format!("{}{path}", self.origin),
        }
    }
}

const BAD_HOST: &str = "an http:// or https:// URL with a valid host (IPv6 addresses in brackets, \
    as in http://[::1]:4318)";
const BAD_PORT: &str = "an http:// or https:// URL with a port from 1 to 65535";

/// `host[:port]` or `[v6]:port`: the host (lowercase, IPv6 in brackets) and
/// the port, checked.
fn split_host_port(host_port: &str) -> Result<(String, Option<u16>), Problem> {
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let Some((address, after)) = v6.split_once(']') else {
            return Err(BAD_HOST.to_owned());
        };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(BAD_HOST.to_owned());
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| BAD_HOST.to_owned())?),
        };
        (format!("[{}]", address.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~' | '%');
        if !host.chars().all(valid) {
            return Err(BAD_HOST.to_owned());
        }
        (host.to_ascii_lowercase(), port)
    };
    if host.is_empty() {
        return Err("an http:// or https:// URL with a host".to_owned());
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(BAD_PORT.to_owned()),
            Ok(port) => Some(port),
        },
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The endpoint for traces from the generic variable (HTTP), or the problem.
    fn generic(raw: &str) -> Result<(String, Vec<Note>), Problem> {
        Endpoint::parse(raw)
            .map(|(e, notes)| (e.for_signal(Signal::Traces, Protocol::HttpProtobuf), notes))
    }

    #[test]
    fn generic_endpoints_get_the_signal_path_after_their_own() {
        let ok = |raw: &str, want: &str| {
            assert_eq!(generic(raw), Ok((want.to_owned(), vec![])), "{raw}");
        };
        ok("http://h:4318", "http://h:4318/v1/traces");
        ok("http://h:4318/", "http://h:4318/v1/traces");
        ok("http://h:4318//", "http://h:4318/v1/traces");
        ok("https://h/base", "https://h/base/v1/traces");
        ok("https://h/base/", "https://h/base/v1/traces");
        // The query stays after the path, instead of `/?k=v/v1/traces`.
        ok("http://h:4318/?k=v", "http://h:4318/v1/traces?k=v");
        ok("http://h:4318?k=v&x=1", "http://h:4318/v1/traces?k=v&x=1");
        ok("http://[::1]:4318", "http://[::1]:4318/v1/traces");
        ok("http://[::1]", "http://[::1]/v1/traces");
        ok(" http://H:4318 ", "http://h:4318/v1/traces");
    }

    #[test]
    fn per_signal_and_grpc_endpoints_are_used_as_written() {
        let as_is = |raw: &str| Endpoint::parse(raw).map(|(e, _)| e.as_is());
        assert_eq!(
            as_is("http://h:4318/ingest?k=v"),
            Ok("http://h:4318/ingest?k=v".into())
        );
        assert_eq!(as_is("http://h:4317"), Ok("http://h:4317".into()));
        assert_eq!(as_is("http://h:4318/"), Ok("http://h:4318/".into()));
        assert_eq!(
            as_is("http://[2001:db8::1]:4317"),
            Ok("http://[2001:db8::1]:4317".into())
        );
        let (e, _) = Endpoint::parse("http://c:4317").expect("valid");
        assert_eq!(e.for_signal(Signal::Logs, Protocol::Grpc), "http://c:4317");
        let (e, _) = Endpoint::parse("http://c:4318/otlp/v1/logs?k=v").expect("valid");
        assert_eq!(
            e.without_signal_path(Signal::Logs).as_deref(),
            Some("http://c:4318/otlp?k=v")
        );
        assert_eq!(e.without_signal_path(Signal::Traces), None);
    }

    #[test]
    fn user_info_and_fragments_are_dropped_with_a_note() {
        assert_eq!(
            generic("https://user:s3cret@h:4318/#top"),
            Ok((
                "https://h:4318/v1/traces".to_owned(),
                vec![USER_INFO, FRAGMENT]
            ))
        );
        assert_eq!(
            generic("http://token@h"),
            Ok(("http://h/v1/traces".to_owned(), vec![USER_INFO]))
        );
    }

    #[test]
    fn mistakes_are_named_without_quoting_the_value() {
        for (raw, problem) in [
            ("collector:4318", "the scheme is missing"),
            ("/v1/metrics", "no scheme"),
            ("ftp://h", "is not http or https"),
            ("http://h:99999", "a port from 1 to 65535"),
            ("http://h:port", "a port from 1 to 65535"),
            ("http://h:0", "a port from 1 to 65535"),
            ("http://[::1:4318", "IPv6 addresses in brackets"),
            ("http://", "with a host"),
            ("http://:4318", "with a host"),
            ("http://[zz::1]:4318", "IPv6 addresses in brackets"),
            ("http://h!x:4318", "with a valid host"),
            ("http://h /v1", "no spaces"),
        ] {
            let err = generic(raw).expect_err(raw);
            assert!(err.contains(problem), "{raw}: {err}");
        }
    }
}
