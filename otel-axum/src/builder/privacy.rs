//! The options that decide what the span says about the client: which query
//! values are redacted, and whose forwarding headers give `client.address`.

use super::OtelLayerBuilder;
use otel_http::trust::{InvalidProxy, TRUSTED_PROXIES_ENV, TrustedProxies};

/// The proxies `OTEL_HTTP_TRUSTED_PROXIES` lists, its invalid entries warned.
pub(super) fn proxies_from_env() -> TrustedProxies {
    let (proxies, invalid) = TrustedProxies::from_env();
    warn_invalid(&invalid, TRUSTED_PROXIES_ENV);
    proxies
}

fn warn_invalid(invalid: &[InvalidProxy], source: &str) {
    for entry in invalid {
        tracing::warn!(
            "otel-axum: invalid value {:?} in {source}: expected an IP address, \
             a CIDR range (10.0.0.0/8) or *; ignoring this entry",
            entry.entry
        );
    }
}

impl OtelLayerBuilder {
    /// Adds query keys whose values are recorded as `REDACTED` in `url.query`,
    /// on top of `otel_http::redact::DEFAULT_SENSITIVE_QUERY_KEYS` and of
    /// `OTEL_HTTP_SENSITIVE_QUERY_KEYS` (case-insensitive, percent-decoded).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/login", get(|| async { "ok" }))
    ///     .layer(OtelLayer::builder().tracer_provider(&provider).sensitive_query_keys(["otp"]).build());
    /// let request = http::Request::get("/login?user=ann&OTP=123456&Password=hunter2").body(Body::empty()).unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// let span = spans.get_finished_spans().unwrap().pop().unwrap();
    /// let query = span.attributes.iter().find(|kv| kv.key.as_str() == "url.query").unwrap();
    /// assert_eq!(query.value.as_str(), "user=ann&OTP=REDACTED&Password=REDACTED");
    /// # }
    /// ```
    pub fn sensitive_query_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.redaction = self.redaction.with_keys(keys);
        self
    }

    /// Records every query value as `REDACTED` in `url.query` (the keys are
    /// kept). `OTEL_HTTP_SENSITIVE_QUERY_KEYS=*` does the same.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/search", get(|| async { "results" }))
    ///     .layer(OtelLayer::builder().tracer_provider(&provider).redact_all_query_values().build());
    /// let request = http::Request::get("/search?q=shoes&page=2").body(Body::empty()).unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// let span = spans.get_finished_spans().unwrap().pop().unwrap();
    /// let query = span.attributes.iter().find(|kv| kv.key.as_str() == "url.query").unwrap();
    /// assert_eq!(query.value.as_str(), "q=REDACTED&page=REDACTED");
    /// # }
    /// ```
    pub fn redact_all_query_values(mut self) -> Self {
        self.redaction = self.redaction.all_values();
        self
    }

    /// Proxies (IP addresses or CIDR ranges such as `10.0.0.0/8`) whose
    /// `Forwarded` / `X-Forwarded-For` headers are believed, added to those
    /// of `OTEL_HTTP_TRUSTED_PROXIES`; `*` trusts every peer. Invalid entries
    /// are warned (`tracing`) and skipped.
    ///
    /// By default no proxy is trusted: `client.address` is the connection's
    /// peer (serve the app with `into_make_service_with_connect_info::<SocketAddr>()`),
    /// and a forged header changes nothing. When the peer is a trusted proxy,
    /// `client.address` is the first address that is not one, walking the
    /// headers from the right.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_axum::OtelLayer;
    /// use std::net::SocketAddr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let app = Router::new().route("/", get(|| async { "hello" })).layer(
    ///     OtelLayer::builder()
    ///         .tracer_provider(&provider)
    ///         .trusted_proxies(["127.0.0.1"]) // e.g. a sidecar on loopback
    ///         .build(),
    /// );
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// tokio::spawn(async move {
    ///     axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
    /// });
    /// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    /// # let mut stream = tokio::net::TcpStream::connect(addr).await?;
    /// // The proxy on 127.0.0.1 forwards a request of 203.0.113.7.
    /// # stream.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n").await?;
    /// # stream.read_to_end(&mut Vec::new()).await?;
    /// # while spans.get_finished_spans()?.is_empty() { tokio::task::yield_now().await }
    /// let span = spans.get_finished_spans()?.pop().expect("the server span");
    /// let get = |key: &str| span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(get("client.address").as_deref(), Some("203.0.113.7"));
    /// assert_eq!(get("network.peer.address").as_deref(), Some("127.0.0.1"));
    /// # Ok(()) }
    /// ```
    pub fn trusted_proxies<I, S>(mut self, proxies: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let (proxies, invalid) = self.proxies.with(proxies);
        warn_invalid(&invalid, "OtelLayerBuilder::trusted_proxies");
        self.proxies = proxies;
        self
    }

    /// Believes the forwarding headers of every peer: `client.address` is
    /// the left-most forwarded address. Only for a server that nothing but
    /// your own proxies can reach, and only if they overwrite what clients
    /// send. Same as `OTEL_HTTP_TRUSTED_PROXIES=*`.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(OtelLayer::builder().tracer_provider(&provider).trust_all_proxies().build());
    /// let request = http::Request::get("/")
    ///     .header("forwarded", "for=198.51.100.4;proto=https, for=10.0.0.2")
    ///     .body(Body::empty())
    ///     .unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// let span = spans.get_finished_spans().unwrap().pop().unwrap();
    /// let client = span.attributes.iter().find(|kv| kv.key.as_str() == "client.address").unwrap();
    /// assert_eq!(client.value.as_str(), "198.51.100.4");
    /// # }
    /// ```
    pub fn trust_all_proxies(mut self) -> Self {
        self.proxies = TrustedProxies::all();
        self
    }
}
