//! The options that decide what the span says about the client: which query
//! values are redacted.

use super::OtelLayerBuilder;

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
}
