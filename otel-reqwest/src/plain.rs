//! Instrumenting a plain `reqwest::Client` call, for code that cannot change
//! its client type to `reqwest_middleware::ClientWithMiddleware`.

use crate::attributes::{error_description, transport_error_type};
use crate::call::ClientCall;
use crate::middleware::OtelMiddleware;
use http::Extensions;
use opentelemetry::context::FutureExt as _;
use opentelemetry::{Context, global};
use otel_http::propagation::inject_headers;
use reqwest::{Client, Request, Response};

/// Injects the current context into `request`'s headers with the global
/// propagator, to every host. No span is created: the server's span becomes a
/// child of the caller's current span. Prefer [`send_traced`], which also
/// records a CLIENT span and the metric.
///
/// ```
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
/// use opentelemetry::Context;
/// use otel_http::propagation::{PropagatorName, composite};
/// use otel_reqwest::reqwest;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let caller = SpanContext::new(
/// #     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?,
/// #     SpanId::from_hex("00f067aa0ba902b7")?,
/// #     TraceFlags::SAMPLED,
/// #     true,
/// #     TraceState::default(),
/// # );
/// // What otel_init::init_telemetry() does, among other things:
/// opentelemetry::global::set_text_map_propagator(composite(&[PropagatorName::TraceContext]));
/// let _current = Context::new().with_remote_span_context(caller).attach(); // a caller's span
///
/// let client = otel_reqwest::reqwest_client_builder().build()?;
/// let mut request = client.get("http://inventory.internal/items").build()?;
/// otel_reqwest::inject(&mut request);
/// // The server's span will be a child of the current span, `00f067aa0ba902b7`.
/// assert_eq!(
///     request.headers()["traceparent"],
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
/// );
/// // Then: client.execute(request).await
/// # Ok(()) }
/// ```
pub fn inject(request: &mut Request) {
    let cx = Context::current();
    global::get_text_map_propagator(|propagator| {
        inject_headers(propagator, &cx, request.headers_mut());
    });
}

/// Sends `request` with a plain `client`, traced and measured as through
/// [`OtelMiddleware`] with its defaults (global tracer, meter and propagator).
///
/// It builds that middleware for each call; on a hot path build one with
/// [`OtelMiddleware::new`] and call [`OtelMiddleware::send_traced`].
///
/// ```
/// use otel_reqwest::reqwest;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let addr = listener.local_addr()?; // a loopback server answering "ok" to every path
/// # tokio::spawn(async move {
/// #     axum::serve(listener, axum::Router::new().fallback(|| async { "ok" })).await
/// # });
/// # let inventory = format!("http://{addr}");
/// let client: reqwest::Client = otel_reqwest::reqwest_client_builder().build()?;
/// let request = client.get(format!("{inventory}/items")).build()?;
/// let response = otel_reqwest::send_traced(&client, request).await?;
/// assert_eq!(response.text().await?, "ok");
/// # Ok(()) }
/// ```
pub async fn send_traced(client: &Client, request: Request) -> reqwest::Result<Response> {
    OtelMiddleware::new().send_traced(client, request).await
}

impl OtelMiddleware {
    /// Injects the current context into `request`'s headers as this
    /// middleware would (its propagator and outgoing policy), without a span.
    ///
    /// ```
    /// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    /// use opentelemetry::Context;
    /// use otel_http::propagation::{PropagatorName, composite};
    /// use otel_reqwest::{OtelMiddleware, OutgoingPolicy, reqwest};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let caller = SpanContext::new(
    /// #     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?,
    /// #     SpanId::from_hex("00f067aa0ba902b7")?,
    /// #     TraceFlags::SAMPLED,
    /// #     true,
    /// #     TraceState::default(),
    /// # );
    /// let _current = Context::new().with_remote_span_context(caller).attach(); // a caller's span
    /// let middleware = OtelMiddleware::builder()
    ///     .propagator(composite(&[PropagatorName::TraceContext]))
    ///     .outgoing_policy(OutgoingPolicy::everywhere().context_only_to(["*.internal"]))
    ///     .build();
    /// let mut internal = reqwest::Request::new(reqwest::Method::GET, "http://orders.internal/".parse()?);
    /// middleware.inject(&mut internal);
    /// assert_eq!(
    ///     internal.headers()["traceparent"],
    ///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    /// );
    /// let mut outside = reqwest::Request::new(reqwest::Method::GET, "https://api.example.com/".parse()?);
    /// middleware.inject(&mut outside);
    /// assert!(!outside.headers().contains_key("traceparent"));
    /// # Ok(()) }
    /// ```
    pub fn inject(&self, request: &mut Request) {
        let cx = Context::current();
        let host = request
            .url()
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
            .unwrap_or_default();
        self.config.inject(&cx, &host, request.headers_mut());
    }

    /// Sends `request` with a plain `client`, with the CLIENT span, the
    /// context injection and the metric of this middleware.
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
    /// # let inventory = format!("http://{addr}");
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let client: reqwest::Client = otel_reqwest::reqwest_client_builder().build()?;
    /// // Once, next to the client (on the global providers if not told otherwise).
    /// let traced = OtelMiddleware::builder().tracer_provider(&provider).build();
    /// let request = client.get(format!("{inventory}/items")).build()?;
    /// let response = traced.send_traced(&client, request).await?;
    /// assert_eq!(response.status(), 200);
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// assert_eq!(span.span_kind, opentelemetry::trace::SpanKind::Client);
    /// # Ok(()) }
    /// ```
    pub async fn send_traced(
        &self,
        client: &Client,
        request: Request,
    ) -> reqwest::Result<Response> {
        self.send_traced_with_extensions(client, request, &mut Extensions::new())
            .await
    }

    /// [`send_traced`](Self::send_traced) with `extensions` that may carry a
    /// [`UrlTemplate`](crate::UrlTemplate). Passing the same `extensions` to
    /// every attempt of your own retry loop counts the resends.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_reqwest::{OtelMiddleware, UrlTemplate, reqwest};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let addr = listener.local_addr()?; // a loopback server answering "ok" to every path
    /// # tokio::spawn(async move {
    /// #     axum::serve(listener, axum::Router::new().fallback(|| async { "ok" })).await
    /// # });
    /// # let inventory = format!("http://{addr}");
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let traced = OtelMiddleware::builder().tracer_provider(&provider).build();
    /// let client: reqwest::Client = otel_reqwest::reqwest_client_builder().build()?;
    ///
    /// let mut extensions = otel_reqwest::Extensions::new();
    /// extensions.insert(UrlTemplate::new("/items/{id}"));
    /// for _attempt in 0..2 {
    ///     // Your retry loop: the same request, the same extensions.
    ///     let request = client.get(format!("{inventory}/items/7")).build()?;
    ///     traced
    ///         .send_traced_with_extensions(&client, request, &mut extensions)
    ///         .await?;
    /// }
    /// let [first, resend] = <[_; 2]>::try_from(spans.get_finished_spans()?).expect("two spans");
    /// assert_eq!(first.name, "GET /items/{id}");
    /// let resend_count = |span: &opentelemetry_sdk::trace::SpanData| {
    ///     span.attributes
    ///         .iter()
    ///         .find(|kv| kv.key.as_str() == "http.request.resend_count")
    ///         .map(|kv| kv.value.to_string())
    /// };
    /// assert_eq!(resend_count(&first), None);
    /// assert_eq!(resend_count(&resend).as_deref(), Some("1"));
    /// # Ok(()) }
    /// ```
    pub async fn send_traced_with_extensions(
        &self,
        client: &Client,
        mut request: Request,
        extensions: &mut Extensions,
    ) -> reqwest::Result<Response> {
        let mut call = ClientCall::start(&self.config, &mut request, extensions);
        let cx = call.context().clone();
        let outcome = client.execute(request).with_context(cx).await;
        match &outcome {
            Ok(response) => call.respond(response),
            Err(error) => {
                let error_type = transport_error_type(error);
                call.fail(error_type, || error_description(error_type, error));
            }
        }
        outcome
    }
}
