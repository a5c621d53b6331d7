//! What a request and its response contribute to the span and the metrics.

use axum::extract::{ConnectInfo, MatchedPath};
use http::Version;
use http::request::Parts;
use opentelemetry::{KeyValue, StringValue};
use otel_http::address::AddressStrings;
pub(crate) use otel_http::headers::capture as capture_headers;
use otel_http::redact::QueryRedaction;
use otel_http::semconv::normalize_method;
use otel_http::trust::TrustedProxies;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

/// The low-cardinality facts about a request, shared by span and metrics.
#[derive(Debug, Clone)]
pub(crate) struct RequestFacts {
    pub method: &'static str,
    pub route: Option<Arc<str>>,
    pub scheme: &'static str,
    pub protocol_version: &'static str,
}

impl RequestFacts {
    pub(crate) fn of(req: &Parts) -> Self {
        Self {
            method: normalize_method(&req.method).0,
            route: req
                .extensions
                .get::<MatchedPath>()
                .map(|m| Arc::from(m.as_str())),
            scheme: match req.uri.scheme_str() {
                Some(s) if s.eq_ignore_ascii_case("https") => "https",
                _ => "http",
            },
            protocol_version: protocol_version(req.version),
        }
    }

    /// `{method} {http.route}`, `{method}`, or `HTTP` for unknown methods.
    pub(crate) fn span_name(&self) -> Cow<'static, str> {
        let method = match self.method {
            "_OTHER" => "HTTP",
            m => m,
        };
        match &self.route {
            // Not format!: this runs for every request, sampled or not.
            Some(route) => {
                let mut name = String::with_capacity(method.len() + 1 + route.len());
                name.push_str(method);
                name.push(' ');
                name.push_str(route);
                Cow::Owned(name)
            }
            None => Cow::Borrowed(method),
        }
    }

    fn route_attribute(&self) -> Option<KeyValue> {
        self.route
            .as_ref()
            .map(|r| KeyValue::new("http.route", StringValue::from(r.clone())))
    }

    /// The attributes of `http.server.request.duration` and friends.
    pub(crate) fn metric_attributes(
        &self,
        status: Option<u16>,
        error_type: Option<&str>,
    ) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(7);
        attrs.push(KeyValue::new("http.request.method", self.method));
        attrs.push(KeyValue::new("url.scheme", self.scheme));
        attrs.push(KeyValue::new(
            "network.protocol.version",
            self.protocol_version,
        ));
        attrs.extend(self.route_attribute());
        if let Some(status) = status {
            attrs.push(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
        }
        if let Some(e) = error_type {
            attrs.push(KeyValue::new("error.type", e.to_owned()));
        }
        attrs
    }

    /// The attributes of `http.server.active_requests` (required ones only).
    pub(crate) fn active_attributes(&self) -> [KeyValue; 2] {
        [
            KeyValue::new("http.request.method", self.method),
            KeyValue::new("url.scheme", self.scheme),
        ]
    }
}

fn protocol_version(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// The span attributes samplers may use, given when the span starts.
pub(crate) fn sampling_attributes(
    req: &Parts,
    facts: &RequestFacts,
    addresses: &AddressStrings,
) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(16);
    attrs.push(KeyValue::new("http.request.method", facts.method));
    attrs.push(KeyValue::new("url.path", req.uri.path().to_owned()));
    attrs.push(KeyValue::new("url.scheme", facts.scheme));
    attrs.extend(facts.route_attribute());
    if let Some((host, port)) = addresses.of_request(req) {
        attrs.push(KeyValue::new("server.address", host));
        if let Some(port) = port {
            attrs.push(KeyValue::new("server.port", i64::from(port)));
        }
    }
    attrs
}

/// The rest of the request's span attributes, added only to recording spans.
pub(crate) fn detail_attributes(
    req: &Parts,
    facts: &RequestFacts,
    captured_headers: &[http::HeaderName],
    redaction: &QueryRedaction,
    proxies: &TrustedProxies,
    addresses: &AddressStrings,
    attrs: &mut Vec<KeyValue>,
) {
    if facts.method == "_OTHER" {
        attrs.push(KeyValue::new(
            "http.request.method_original",
            req.method.as_str().to_owned(),
        ));
    }
    if let Some(q) = req.uri.query() {
        attrs.push(KeyValue::new(
            "url.query",
            redaction.redact_query(q).into_owned(),
        ));
    }
    // network.protocol.name is only required when it is not "http".
    attrs.push(KeyValue::new(
        "network.protocol.version",
        facts.protocol_version,
    ));
    let peer = req.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if let Some(peer) = peer {
        attrs.push(KeyValue::new(
            "network.peer.address",
            addresses.peer(peer.ip()),
        ));
        attrs.push(KeyValue::new("network.peer.port", i64::from(peer.port())));
    }
    if let Some(client) = proxies.client_address(peer, &req.headers) {
        attrs.push(KeyValue::new("client.address", client.address));
        if let Some(port) = client.port {
            attrs.push(KeyValue::new("client.port", i64::from(port)));
        }
    }
    if let Some(ua) = req
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        attrs.push(KeyValue::new("user_agent.original", ua.to_owned()));
    }
    capture_headers(
        attrs,
        "http.request.header.",
        &req.headers,
        captured_headers,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_names() {
        let facts = |m: &'static str, r: Option<&str>| RequestFacts {
            method: m,
            route: r.map(Arc::from),
            scheme: "http",
            protocol_version: "1.1",
        };
        assert_eq!(facts("GET", Some("/a/{id}")).span_name(), "GET /a/{id}");
        assert_eq!(facts("GET", None).span_name(), "GET");
        assert_eq!(facts("_OTHER", None).span_name(), "HTTP");
    }

    #[test]
    fn secrets_are_never_captured() {
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "Bearer x".parse().expect("value"));
        h.insert("x-request-id", "r1".parse().expect("value"));
        let mut attrs = Vec::new();
        let allowed = [
            http::header::AUTHORIZATION,
            http::HeaderName::from_static("x-request-id"),
        ];
        capture_headers(&mut attrs, "http.request.header.", &h, &allowed);
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].key.as_str(), "http.request.header.x-request-id");
    }
}
