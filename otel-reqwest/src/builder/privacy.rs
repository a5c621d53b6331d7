//! The options that decide which query values `url.full` keeps.

use super::OtelMiddlewareBuilder;
use otel_http::redact::QueryRedaction;

impl OtelMiddlewareBuilder {
    fn take_redaction(&mut self) -> QueryRedaction {
        self.redaction
            .take()
            .unwrap_or_else(QueryRedaction::from_env)
    }

    /// Adds query keys whose values are recorded as `REDACTED` in `url.full`,
    /// on top of `otel_http::redact::DEFAULT_SENSITIVE_QUERY_KEYS` and of
    /// `OTEL_HTTP_SENSITIVE_QUERY_KEYS` (case-insensitive, percent-decoded).
    /// The request itself is sent unchanged.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_reqwest::{OtelMiddleware, reqwest};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let addr = listener.local_addr()?; // a loopback server answering "ok" to every path
    /// # tokio::spawn(async move {
    /// #     axum::serve(listener, axum::Router::new().fallback(|| async { "ok" })).await
    /// # });
    /// # let bank = format!("http://{addr}");
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let traced = OtelMiddleware::builder()
    ///     .tracer_provider(&provider)
    ///     .sensitive_query_keys(["iban"])
    ///     .build();
    /// let client = otel_reqwest::reqwest_client_builder().build()?;
    /// let request = client.get(format!("{bank}/pay?IBAN=DE89&Token=t&amount=5")).build()?;
    /// traced.send_traced(&client, request).await?;
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// let url = span.attributes.iter().find(|kv| kv.key.as_str() == "url.full").unwrap();
    /// assert_eq!(url.value.as_str(), format!("{bank}/pay?IBAN=REDACTED&Token=REDACTED&amount=5"));
    /// # Ok(()) }
    /// ```
    pub fn sensitive_query_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.redaction = Some(self.take_redaction().with_keys(keys));
        self
    }

    /// Records every query value of `url.full` as `REDACTED` (the keys are
    /// kept). `OTEL_HTTP_SENSITIVE_QUERY_KEYS=*` does the same.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_reqwest::{OtelMiddleware, reqwest};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let addr = listener.local_addr()?; // a loopback server answering "ok" to every path
    /// # tokio::spawn(async move {
    /// #     axum::serve(listener, axum::Router::new().fallback(|| async { "ok" })).await
    /// # });
    /// # let search = format!("http://{addr}");
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let traced = OtelMiddleware::builder()
    ///     .tracer_provider(&provider)
    ///     .redact_all_query_values()
    ///     .build();
    /// let client = otel_reqwest::reqwest_client_builder().build()?;
    /// let request = client.get(format!("{search}/find?q=shoes&page=2")).build()?;
    /// traced.send_traced(&client, request).await?;
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// let url = span.attributes.iter().find(|kv| kv.key.as_str() == "url.full").unwrap();
    /// assert_eq!(url.value.as_str(), format!("{search}/find?q=REDACTED&page=REDACTED"));
    /// # Ok(()) }
    /// ```
    pub fn redact_all_query_values(mut self) -> Self {
        self.redaction = Some(self.take_redaction().all_values());
        self
    }
}
