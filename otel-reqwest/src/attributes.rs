//! What a request, its response or its error contribute to the span and the metric.

use crate::extensions::UrlTemplate;
use http::{HeaderName, Version};
use opentelemetry::{KeyValue, StringValue};
pub(crate) use otel_http::headers::capture as capture_headers;
use otel_http::redact::QueryRedaction;
use otel_http::semconv::normalize_method;
use reqwest::{Request, Response};
use std::borrow::Cow;
use std::sync::Arc;

/// The low-cardinality facts about a request, shared by span and metric.
#[derive(Debug, Clone)]
pub(crate) struct RequestFacts {
    pub method: &'static str,
    /// The URL's host, without the brackets of an IPv6 address.
    pub server_address: Option<StringValue>,
    /// The URL's port, or the scheme's default.
    pub server_port: Option<u16>,
    pub template: Option<UrlTemplate>,
}

impl RequestFacts {
    pub(crate) fn of(request: &Request, template: Option<UrlTemplate>) -> Self {
        let url = request.url();
        let server_address = url.host_str().map(|host| {
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            StringValue::from(Arc::<str>::from(host))
        });
        Self {
            method: normalize_method(request.method()).0,
            server_address,
            server_port: url.port_or_known_default(),
            template,
        }
    }

    /// The host the context would be sent to (for the trust policy).
    pub(crate) fn host(&self) -> &str {
        self.server_address
            .as_ref()
            .map_or("", |address| address.as_str())
    }

    /// `{method} {url.template}`, `{method}`, or `HTTP` for unknown methods.
    pub(crate) fn span_name(&self) -> Cow<'static, str> {
        let method = if self.method == "_OTHER" {
            "HTTP"
        } else {
            self.method
        };
        match &self.template {
            Some(template) => {
                let template = template.as_str();
                let mut name = String::with_capacity(method.len() + 1 + template.len());
                name.push_str(method);
                name.push(' ');
                name.push_str(template);
                Cow::Owned(name)
            }
            None => Cow::Borrowed(method),
        }
    }

    /// The span attributes samplers may use, given when the span starts.
    pub(crate) fn sampling_attributes(
        &self,
        request: &Request,
        resend_count: Option<u32>,
        redaction: &QueryRedaction,
    ) -> Vec<KeyValue> {
        // Room for what the response adds, so the span's list does not grow.
        let mut attrs = Vec::with_capacity(10);
        attrs.push(KeyValue::new("http.request.method", self.method));
        attrs.extend(self.server_attributes());
        attrs.push(KeyValue::new(
            "url.full",
            url_full(request.url(), redaction),
        ));
        if let Some(template) = &self.template {
            attrs.push(KeyValue::new("url.template", template.value()));
        }
        if let Some(resends) = resend_count {
            attrs.push(KeyValue::new(
                "http.request.resend_count",
                i64::from(resends),
            ));
        }
        attrs
    }

    fn server_attributes(&self) -> impl Iterator<Item = KeyValue> + '_ {
        let address = self
            .server_address
            .as_ref()
            .map(|a| KeyValue::new("server.address", a.clone()));
        let port = self
            .server_port
            .map(|p| KeyValue::new("server.port", i64::from(p)));
        address.into_iter().chain(port)
    }

    /// The attributes of `http.client.request.duration`, on the stack (the
    /// metric is recorded on every send).
    pub(crate) fn metric_attributes(&self, outcome: &Outcome) -> MetricAttributes {
        let mut attrs = MetricAttributes::new();
        attrs.push(KeyValue::new("http.request.method", self.method));
        for server in self.server_attributes() {
            attrs.push(server);
        }
        if let Some(status) = outcome.status {
            attrs.push(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
        }
        if let Some(version) = outcome.protocol_version {
            attrs.push(KeyValue::new("network.protocol.version", version));
        }
        if let Some(error_type) = &outcome.error_type {
            attrs.push(KeyValue::new("error.type", error_type.clone()));
        }
        attrs
    }
}

/// The at most six attributes of `http.client.request.duration`, without a
/// heap allocation.
pub(crate) struct MetricAttributes {
    items: [KeyValue; 6],
    len: usize,
}

impl MetricAttributes {
    fn new() -> Self {
        Self {
            items: std::array::from_fn(|_| KeyValue::new("", false)),
            len: 0,
        }
    }

    /// Adds `attribute`; a seventh would be dropped (there are six kinds).
    fn push(&mut self, attribute: KeyValue) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = attribute;
            self.len += 1;
        }
    }

    pub(crate) fn as_slice(&self) -> &[KeyValue] {
        &self.items[..self.len]
    }
}

/// `url.full`: credentials and sensitive query values redacted, the fragment
/// dropped (`otel_http::redact`); one copy of the URL, nothing more when it
/// has nothing to redact.
fn url_full(url: &reqwest::Url, redaction: &QueryRedaction) -> String {
    // The parsed URL already knows there is nothing to redact or drop: no
    // user, password, query or fragment (the usual case; no scan needed).
    if url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
    {
        return url.as_str().to_owned();
    }
    redaction.redact_url(url.as_str()).into_owned()
}

/// How a send ended, as the span and the metric record it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub status: Option<u16>,
    pub protocol_version: Option<&'static str>,
    pub error_type: Option<Cow<'static, str>>,
}

/// The rest of the request's span attributes, added only to recording spans.
pub(crate) fn request_details(
    request: &Request,
    facts: &RequestFacts,
    captured_headers: &[HeaderName],
    attrs: &mut Vec<KeyValue>,
) {
    if facts.method == "_OTHER" {
        attrs.push(KeyValue::new(
            "http.request.method_original",
            request.method().as_str().to_owned(),
        ));
    }
    capture_headers(
        attrs,
        "http.request.header.",
        request.headers(),
        captured_headers,
    );
}

/// `network.peer.address` and `network.peer.port` of the connection the
/// response came on, if reqwest knows it.
pub(crate) fn peer_attributes(response: &Response) -> impl Iterator<Item = KeyValue> {
    response.remote_addr().into_iter().flat_map(|peer| {
        [
            KeyValue::new("network.peer.address", ip_address(peer.ip())),
            KeyValue::new("network.peer.port", i64::from(peer.port())),
        ]
    })
}

/// The response's captured headers (status code, protocol version and peer
/// are recorded by the caller).
pub(crate) fn response_details(
    response: &Response,
    captured_headers: &[HeaderName],
    attrs: &mut Vec<KeyValue>,
) {
    capture_headers(
        attrs,
        "http.response.header.",
        response.headers(),
        captured_headers,
    );
}

/// `network.peer.address`: an IPv4 address is written by hand, as the
/// formatting machinery costs ten times more on every response.
fn ip_address(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            // Written on the stack, then copied once into a string of the right size.
            let mut buf = [0u8; 15];
            let mut len = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                let digits = [octet / 100, octet / 10 % 10, octet % 10];
                let skip = if octet >= 100 {
                    0
                } else if octet >= 10 {
                    1
                } else {
                    2
                };
                let dot = usize::from(i > 0);
                if let Some(out) = buf.get_mut(len..len + dot + 3 - skip) {
                    if dot == 1 {
                        out[0] = b'.';
                    }
                    for (slot, digit) in out[dot..].iter_mut().zip(&digits[skip..]) {
                        *slot = b'0' + digit;
                    }
                }
                len += dot + 3 - skip;
            }
            String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned()
        }
        std::net::IpAddr::V6(v6) => v6.to_string(),
    }
}

/// `network.protocol.version` of a response.
pub(crate) fn protocol_version(version: Version) -> Option<&'static str> {
    match version {
        Version::HTTP_09 => Some("0.9"),
        Version::HTTP_10 => Some("1.0"),
        Version::HTTP_11 => Some("1.1"),
        Version::HTTP_2 => Some("2"),
        Version::HTTP_3 => Some("3"),
        _ => None,
    }
}

/// The low-cardinality `error.type` of a request that got no response:
/// `timeout`, `connect` (refused, unreachable, DNS, TLS handshake), `redirect`
/// (too many, or a bad `Location`), `body` (the request body failed), `request`
/// (the connection broke while sending or waiting), `builder` (the request
/// could not be sent as it is, e.g. an unsupported scheme), else `_OTHER`.
pub(crate) fn transport_error_type(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_body() {
        "body"
    } else if error.is_request() {
        "request"
    } else if error.is_builder() {
        "builder"
    } else {
        "_OTHER"
    }
}

/// `error.type` of a failed middleware chain: the transport class of a reqwest
/// error, `_OTHER` for an error of a middleware after ours.
pub(crate) fn middleware_error_type(error: &reqwest_middleware::Error) -> &'static str {
    match error {
        reqwest_middleware::Error::Reqwest(e) => transport_error_type(e),
        reqwest_middleware::Error::Middleware(_) => "_OTHER",
    }
}

/// The span status description of an error: its causes, without the URL
/// that reqwest's own message carries (it may hold credentials or signatures).
pub(crate) fn error_description(error_type: &str, error: &dyn std::error::Error) -> String {
    let mut description = match error_type {
        "timeout" => "the request timed out".to_owned(),
        "connect" => "could not connect".to_owned(),
        "redirect" => "redirect failed".to_owned(),
        "body" => "the request body failed".to_owned(),
        "request" => "sending the request failed".to_owned(),
        "builder" => "the request could not be sent".to_owned(),
        _ => "the request failed".to_owned(),
    };
    let mut source = error.source();
    while let Some(cause) = source {
        description.push_str(": ");
        description.push_str(&cause.to_string());
        source = cause.source();
    }
    description
}

/// [`error_description`] of a middleware chain's error; a middleware's own
/// error is described by its message and causes.
pub(crate) fn middleware_error_description(
    error_type: &str,
    error: &reqwest_middleware::Error,
) -> String {
    match error {
        reqwest_middleware::Error::Reqwest(e) => error_description(error_type, e),
        reqwest_middleware::Error::Middleware(e) => format!("{e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, url: &str) -> Request {
        Request::new(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            reqwest::Url::parse(url).expect("url"),
        )
    }

    #[test]
    fn span_names() {
        let r = request("GET", "http://a.example/users/7");
        assert_eq!(RequestFacts::of(&r, None).span_name(), "GET");
        let templated = RequestFacts::of(&r, Some(UrlTemplate::new("/users/{id}")));
        assert_eq!(templated.span_name(), "GET /users/{id}");
        let purge = request("PURGE", "http://a.example/");
        assert_eq!(RequestFacts::of(&purge, None).span_name(), "HTTP");
    }

    #[test]
    fn unknown_methods() {
        let r = request("PURGE", "http://a.example/");
        let facts = RequestFacts::of(&r, None);
        assert_eq!(facts.method, "_OTHER");
        let mut attrs = Vec::new();
        request_details(&r, &facts, &[], &mut attrs);
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].key.as_str(), "http.request.method_original");
        assert_eq!(attrs[0].value.to_string(), "PURGE");
    }

    #[test]
    fn server_address_and_port() {
        let facts = RequestFacts::of(&request("GET", "https://[::1]/x"), None);
        assert_eq!(facts.host(), "::1");
        assert_eq!(facts.server_port, Some(443));
        let facts = RequestFacts::of(&request("GET", "http://Example.COM:8080/x"), None);
        assert_eq!(facts.host(), "example.com");
        assert_eq!(facts.server_port, Some(8080));
    }

    #[test]
    fn url_full_is_redacted() {
        let r = request("GET", "https://user:pw@a.example/p?sig=s3cret&q=1#frag");
        let attrs =
            RequestFacts::of(&r, None).sampling_attributes(&r, Some(2), &QueryRedaction::new());
        let get = |k: &str| {
            attrs
                .iter()
                .find(|kv| kv.key.as_str() == k)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(
            get("url.full").as_deref(),
            Some("https://REDACTED:REDACTED@a.example/p?sig=REDACTED&q=1")
        );
        assert_eq!(get("http.request.resend_count").as_deref(), Some("2"));
        assert_eq!(get("server.port").as_deref(), Some("443"));
        // Each thing to redact or drop, alone (the fast path must see each).
        for (url, want) in [
            (
                "https://user@a.example/p",
                "https://REDACTED:REDACTED@a.example/p",
            ),
            (
                "https://:pw@a.example/p",
                "https://REDACTED:REDACTED@a.example/p",
            ),
            (
                "https://a.example/p?sig=s3cret",
                "https://a.example/p?sig=REDACTED",
            ),
            ("https://a.example/p#frag", "https://a.example/p"),
            ("https://a.example/p", "https://a.example/p"),
        ] {
            let r = request("GET", url);
            let attrs =
                RequestFacts::of(&r, None).sampling_attributes(&r, None, &QueryRedaction::new());
            let full = attrs
                .iter()
                .find(|kv| kv.key.as_str() == "url.full")
                .map(|kv| kv.value.to_string());
            assert_eq!(full.as_deref(), Some(want), "{url}");
        }
    }

    #[test]
    fn metric_attributes() {
        let r = request("GET", "http://a.example:8080/x");
        let facts = RequestFacts::of(&r, None);
        let outcome = Outcome {
            status: Some(503),
            protocol_version: Some("1.1"),
            error_type: Some(Cow::Borrowed("503")),
        };
        let attrs = facts.metric_attributes(&outcome);
        let pairs: Vec<(String, String)> = attrs
            .as_slice()
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect();
        let want = [
            ("http.request.method", "GET"),
            ("server.address", "a.example"),
            ("server.port", "8080"),
            ("http.response.status_code", "503"),
            ("network.protocol.version", "1.1"),
            ("error.type", "503"),
        ];
        assert_eq!(pairs.len(), want.len());
        for ((k, v), (wk, wv)) in pairs.iter().zip(want) {
            assert_eq!((k.as_str(), v.as_str()), (wk, wv));
        }
        let failed = facts.metric_attributes(&Outcome {
            error_type: Some(Cow::Borrowed("timeout")),
            ..Outcome::default()
        });
        assert_eq!(failed.as_slice().len(), 4);
        assert_eq!(failed.as_slice()[3].value.to_string(), "timeout");
    }

    #[test]
    fn peer_addresses() {
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        for v4 in [
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(0, 0, 0, 0),
            Ipv4Addr::new(255, 255, 255, 255),
            Ipv4Addr::new(10, 99, 100, 109),
            Ipv4Addr::new(192, 168, 1, 250),
        ] {
            assert_eq!(ip_address(IpAddr::V4(v4)), v4.to_string());
        }
        let v6 = "2001:db8::ff00:42:8329".parse::<Ipv6Addr>().expect("v6");
        assert_eq!(ip_address(IpAddr::V6(v6)), "2001:db8::ff00:42:8329");
    }

    #[test]
    fn secrets_are_never_captured() {
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "Bearer x".parse().expect("value"));
        h.append("x-request-id", "r1".parse().expect("value"));
        h.append("x-request-id", "r2".parse().expect("value"));
        let mut attrs = Vec::new();
        let allowed = [
            http::header::AUTHORIZATION,
            HeaderName::from_static("x-request-id"),
        ];
        capture_headers(&mut attrs, "http.request.header.", &h, &allowed);
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].key.as_str(), "http.request.header.x-request-id");
        assert_eq!(attrs[0].value.to_string(), r#"["r1","r2"]"#);
    }
}
