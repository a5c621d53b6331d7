//! `OTEL_EXPORTER_OTLP_*` and their per-signal forms.

use super::endpoint::Endpoint;
use super::env::{EnvReader, parse_key_values};
use std::path::PathBuf;
use std::time::Duration;

/// A telemetry signal.
///
/// ```
/// use otel_init::{Signal, Telemetry};
/// let builder = Telemetry::builder_from_env(&[
///     ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
///     ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:4318/v1/logs"),
/// ]);
/// assert_eq!(builder.config().otlp(Signal::Traces).endpoint, "http://collector:4318/v1/traces");
/// assert_eq!(builder.config().otlp(Signal::Logs).endpoint, "http://logs:4318/v1/logs");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Metric data points.
    Metrics,
    /// Log records.
    Logs,
}

impl Signal {
    /// `TRACES`, `METRICS` or `LOGS`, as in the variable names.
    ///
    /// ```
    /// use otel_init::Signal;
    /// let variable = format!("OTEL_EXPORTER_OTLP_{}_ENDPOINT", Signal::Metrics.env_name());
    /// assert_eq!(variable, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
    /// ```
    pub fn env_name(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
        }
    }

    /// The OTLP/HTTP path: `v1/traces`, `v1/metrics` or `v1/logs`.
    ///
    /// ```
    /// assert_eq!(otel_init::Signal::Traces.http_path(), "v1/traces");
    /// ```
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "v1/traces",
            Signal::Metrics => "v1/metrics",
            Signal::Logs => "v1/logs",
        }
    }

    /// `traces`, `metrics` or `logs`, for messages.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    /// What one item of this signal is called in messages.
    ///
    /// ```
    /// use otel_init::Signal;
    /// assert_eq!(format!("3 {} lost", Signal::Logs.item_name()), "3 log records lost");
    /// ```
    pub fn item_name(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "metric points",
            Signal::Logs => "log records",
        }
    }
}

/// The OTLP transport protocol.
///
/// ```
/// use otel_init::config::{Config, Protocol};
/// use otel_init::Signal;
/// let config = Config::from_source(&[
///     ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
///     ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"),
/// ]);
/// assert_eq!(config.otlp(Signal::Traces).protocol, Protocol::Grpc);
/// assert_eq!(config.otlp(Signal::Traces).endpoint, "http://localhost:4317");
/// assert_eq!(config.otlp(Signal::Logs).protocol, Protocol::HttpJson);
/// assert_eq!(config.otlp(Signal::Logs).endpoint, "http://localhost:4318/v1/logs");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with binary protobuf bodies (the default).
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    HttpJson,
}

impl Protocol {
    /// The protocol used when none is configured: `http/protobuf` (the
    /// specification's default) when the `http-proto` feature is on, else
    /// `grpc`, else `http/json`, whichever this build has.
    ///
    /// ```
    /// use otel_init::Protocol;
    /// // With the default features:
    /// assert_eq!(Protocol::built_in_default(), Protocol::HttpProtobuf);
    /// ```
    pub fn built_in_default() -> Self {
        if cfg!(feature = "http-proto") {
            Protocol::HttpProtobuf
        } else if cfg!(feature = "grpc") {
            Protocol::Grpc
        } else {
            Protocol::HttpJson
        }
    }

    /// The cargo feature of otel-init this protocol needs.
    ///
    /// ```
    /// use otel_init::Protocol;
    /// assert_eq!(Protocol::Grpc.cargo_feature(), "grpc");
    /// assert_eq!(Protocol::HttpJson.cargo_feature(), "http-json");
    /// ```
    pub fn cargo_feature(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http-proto",
            Protocol::HttpJson => "http-json",
        }
    }

    /// Whether this build of otel-init can export over this protocol (its
    /// cargo feature is on).
    ///
    /// ```
    /// use otel_init::Protocol;
    /// // With the default features, every protocol is built in.
    /// assert!(Protocol::Grpc.is_built_in());
    /// ```
    pub fn is_built_in(self) -> bool {
        match self {
            Protocol::Grpc => cfg!(feature = "grpc"),
            Protocol::HttpProtobuf => cfg!(feature = "http-proto"),
            Protocol::HttpJson => cfg!(feature = "http-json"),
        }
    }

    /// The name used in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    ///
    /// ```
    /// assert_eq!(otel_init::Protocol::HttpProtobuf.as_str(), "http/protobuf");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    /// Parses `grpc`, `http/protobuf` or `http/json`.
    ///
    /// ```
    /// use otel_init::Protocol;
    /// assert_eq!(Protocol::parse(" HTTP/Protobuf "), Some(Protocol::HttpProtobuf));
    /// assert_eq!(Protocol::parse("http"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "grpc" => Some(Protocol::Grpc),
            "http/protobuf" => Some(Protocol::HttpProtobuf),
            "http/json" => Some(Protocol::HttpJson),
            _ => None,
        }
    }
}

/// Request body compression.
///
/// ```
/// use otel_init::config::{Compression, Config};
/// use otel_init::Signal;
/// let config = Config::from_source(&[
///     ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
///     ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none"),
/// ]);
/// assert_eq!(config.otlp(Signal::Traces).compression, Some(Compression::Gzip));
/// assert_eq!(config.otlp(Signal::Metrics).compression, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip.
    Gzip,
}

/// Resolved OTLP exporter settings for one signal.
///
/// ```
/// use otel_init::config::Config;
/// use otel_init::Signal;
/// use std::time::Duration;
/// let config = Config::from_source(&[
///     ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr%C3%A9t"),
///     ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500"),
/// ]);
/// let traces = config.otlp(Signal::Traces);
/// assert_eq!(traces.headers, [("api-key".to_owned(), "s3crét".to_owned())]);
/// assert_eq!(traces.timeout, Duration::from_millis(2500));
/// assert_eq!(config.otlp(Signal::Logs).timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpConfig {
    /// Full URL: for HTTP it includes the signal path; for gRPC it is the server's address.
    pub endpoint: String,
    /// Transport protocol.
    pub protocol: Protocol,
    /// Extra request headers (e.g. an API key), values percent-decoded.
    pub headers: Vec<(String, String)>,
    /// Deadline of one export attempt.
    pub timeout: Duration,
    /// Body compression, if any.
    pub compression: Option<Compression>,
    /// PEM file of a CA to trust for the collector's certificate.
    pub certificate: Option<PathBuf>,
    /// PEM file of the client's private key (mTLS).
    pub client_key: Option<PathBuf>,
    /// PEM file of the client's certificate chain (mTLS).
    pub client_certificate: Option<PathBuf>,
    /// `OTEL_EXPORTER_OTLP_INSECURE`: accepted for compatibility; with a full URL the scheme decides TLS.
    pub insecure: bool,
}

impl OtlpConfig {
    /// The settings used when nothing is configured, for a protocol.
    ///
    /// ```
    /// use otel_init::config::{OtlpConfig, Protocol};
    /// use otel_init::Signal;
    /// let logs = OtlpConfig::default_for(Signal::Logs, Protocol::HttpProtobuf);
    /// assert_eq!(logs.endpoint, "http://localhost:4318/v1/logs");
    /// assert_eq!(logs.timeout, std::time::Duration::from_secs(10));
    /// assert_eq!(OtlpConfig::default_for(Signal::Logs, Protocol::Grpc).endpoint, "http://localhost:4317");
    /// ```
    pub fn default_for(signal: Signal, protocol: Protocol) -> Self {
        Self {
            endpoint: default_endpoint(signal, protocol),
            protocol,
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
            compression: None,
            certificate: None,
            client_key: None,
            client_certificate: None,
            insecure: false,
        }
    }

    pub(crate) fn read(r: &mut EnvReader<'_>, signal: Signal) -> Self {
        let s = signal.env_name();
        let var = |suffix: &str| {
            [
                format!("OTEL_EXPORTER_OTLP_{s}_{suffix}"),
                format!("OTEL_EXPORTER_OTLP_{suffix}"),
            ]
        };

        // A bad per-signal value is ignored in favour of the generic one.
        let mut protocol = Protocol::built_in_default();
        for name in var("PROTOCOL") {
            let Some(value) = r.string(&name) else {
                continue;
            };
            match Protocol::parse(&value) {
                Some(p) => {
                    protocol = p;
                    break;
                }
                None => r.warn(
                    &name,
                    &value,
                    "one of grpc, http/protobuf, http/json; ignoring it",
                ),
            }
        }
        let mut c = Self::default_for(signal, protocol);

        let specific = format!("OTEL_EXPORTER_OTLP_{s}_ENDPOINT");
        // A bad per-signal endpoint falls back to the generic one.
        if let Some(e) = read_endpoint(r, &specific, "ignoring it") {
            c.endpoint = e.as_is();
        } else if let Some(e) = read_endpoint(
            r,
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "using the default endpoint",
        ) {
            c.endpoint = e.for_signal(signal, protocol);
        }

        let names = var("HEADERS");
        if let Some((name, raw)) = r.first(&[&names[0], &names[1]]) {
            c.headers = read_headers(r, &name, &raw);
        }

        for name in var("TIMEOUT") {
            if let Some(t) = r.timeout_ms(&name) {
                c.timeout = t;
                break;
            }
        }

        for name in var("COMPRESSION") {
            let Some(value) = r.string(&name) else {
                continue;
            };
            match value.to_ascii_lowercase().as_str() {
                "gzip" => c.compression = Some(Compression::Gzip),
                "none" => c.compression = None,
                _ => {
                    r.warn(&name, &value, "gzip or none; ignoring it");
                    continue;
                }
            }
            break;
        }

        for (suffix, slot) in [
            ("CERTIFICATE", &mut c.certificate),
            ("CLIENT_KEY", &mut c.client_key),
            ("CLIENT_CERTIFICATE", &mut c.client_certificate),
        ] {
            let names = var(suffix);
            if let Some((_, path)) = r.first(&[&names[0], &names[1]]) {
                *slot = Some(PathBuf::from(path));
            }
        }

        let names = var("INSECURE");
        if let Some(name) = [&names[0], &names[1]]
            .into_iter()
            .find(|n| r.string(n).is_some())
        {
            c.insecure = r.bool(name);
        }
        c
    }
}

/// The endpoint used when none is configured.
pub(crate) fn default_endpoint(signal: Signal, protocol: Protocol) -> String {
    match protocol {
        Protocol::Grpc => "http://localhost:4317".to_owned(),
        _ => format!("http://localhost:4318/{}", signal.http_path()),
    }
}

/// An endpoint variable, parsed as a URL; each mistake is warned once with
/// the variable's name (the value shown with its user-info and query
/// values redacted). `None`: unset or unusable (`fallback` says what is used).
fn read_endpoint(r: &mut EnvReader<'_>, name: &str, fallback: &str) -> Option<Endpoint> {
    let raw = r.string(name)?;
    let shown = crate::redact::url(&raw);
    match Endpoint::parse(&raw) {
        Ok((endpoint, notes)) => {
            for note in notes {
                r.warn(name, &shown, note);
            }
            Some(endpoint)
        }
        Err(problem) => {
            r.warn(name, &shown, format!("{problem}; {fallback}"));
            None
        }
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS` or a per-signal form: the valid headers.
/// A warning names the variable, the header (or the member's position when
/// it has no name) and the problem, never the value.
fn read_headers(r: &mut EnvReader<'_>, name: &str, raw: &str) -> Vec<(String, String)> {
    const EXPECTED: &str = "comma-separated name=value pairs with percent-encoded values";
    let (pairs, bad) = parse_key_values(raw);
    let mut valid = Vec::new();
    for (k, v) in pairs {
        let problem = if http::HeaderName::from_bytes(k.as_bytes()).is_err() {
            "a name that is not a valid HTTP header name"
        } else if http::HeaderValue::from_str(&v).is_err() {
            "a value with characters an HTTP header cannot hold (after percent-decoding)"
        } else {
            valid.push((k.to_ascii_lowercase(), v));
            continue;
        };
        r.warn(
            name,
            &format!("{}=(value not shown)", shown_key(&k)),
            format!("{EXPECTED}; this header has {problem}; ignoring it"),
        );
    }
    for b in bad {
        let shown = match &b.key {
            Some(k) => format!("{}=(value not shown)", shown_key(k)),
            None => format!("(member {} not shown)", b.position),
        };
        r.warn(
            name,
            &shown,
            format!("{EXPECTED}; this member has {}; ignoring it", b.problem),
        );
    }
    valid
}

/// A header name for a message: as is when valid, else only its leading
/// name characters (a malformed "name" may have swallowed a value).
fn shown_key(k: &str) -> String {
    if http::HeaderName::from_bytes(k.as_bytes()).is_ok() {
        return k.to_owned();
    }
    let prefix: String = k
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(*c))
        .collect();
    format!("{prefix}...")
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT` is a base: OTLP/HTTP appends the signal path
/// (after the base's path, before its query).
pub(crate) fn signal_endpoint_from_base(base: &str, signal: Signal, protocol: Protocol) -> String {
    match Endpoint::parse(base) {
        Ok((e, _)) => e.for_signal(signal, protocol),
        Err(_) => base.to_owned(),
    }
}

/// The base of an OTLP/HTTP endpoint for `signal` (its `/v1/<signal>`
/// removed, the query kept), for a switch to gRPC.
pub(crate) fn base_of_signal_endpoint(endpoint: &str, signal: Signal) -> Option<String> {
    Endpoint::parse(endpoint)
        .ok()
        .and_then(|(e, _)| e.without_signal_path(signal))
}

/// An endpoint given in code must be an absolute `http` or `https` URL,
/// without user-info or fragment (neither would be sent).
pub(crate) fn validate_url(v: &str) -> Result<(), String> {
    match Endpoint::parse(v) {
        Ok((_, notes)) => match notes.first() {
            Some(note) => Err((*note).to_owned()),
            None => Ok(()),
        },
        Err(problem) => Err(problem),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_endpoint_gets_signal_path_for_http_only() {
        assert_eq!(
            signal_endpoint_from_base("http://c:4318", Signal::Logs, Protocol::HttpProtobuf),
            "http://c:4318/v1/logs"
        );
        assert_eq!(
            signal_endpoint_from_base("http://c:4318/base/", Signal::Traces, Protocol::HttpJson),
            "http://c:4318/base/v1/traces"
        );
        assert_eq!(
            signal_endpoint_from_base("http://c:4317", Signal::Traces, Protocol::Grpc),
            "http://c:4317"
        );
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(validate_url("https://collector:4318").is_ok());
        assert!(validate_url("collector:4318").is_err());
        assert!(validate_url("ftp://x").is_err());
        assert!(validate_url("http://").is_err());
        assert!(validate_url("http://user:pw@collector:4318").is_err());
    }
}
