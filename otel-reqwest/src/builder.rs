//! [`OtelMiddlewareBuilder`]: the options, with good defaults.

use crate::metrics::ClientMetrics;
use crate::middleware::{Config, OtelMiddleware};
use http::HeaderName;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider;
use opentelemetry::{InstrumentationScope, KeyValue};
use otel_http::redact::QueryRedaction;
use otel_http::trust::OutgoingPolicy;
use std::sync::Arc;

mod privacy;

pub(crate) type RequestHook = Arc<dyn Fn(&reqwest::Request) -> Vec<KeyValue> + Send + Sync>;
pub(crate) type ResponseHook = Arc<dyn Fn(&reqwest::Response) -> Vec<KeyValue> + Send + Sync>;
pub(crate) type NameHook = Arc<dyn Fn(&reqwest::Request) -> String + Send + Sync>;

/// Builds an [`OtelMiddleware`]. Defaults: global tracer, meter and
/// propagator; the context sent to every host; no header captured; the values
/// of sensitive query keys redacted in `url.full` (`otel_http::redact`, plus
/// `OTEL_HTTP_SENSITIVE_QUERY_KEYS`).
///
/// ```
/// use otel_reqwest::{OtelMiddleware, OutgoingPolicy};
///
/// let middleware = OtelMiddleware::builder()
///     .outgoing_policy(
///         OutgoingPolicy::everywhere()
///             .context_only_to(["*.svc.cluster.local"])
///             .baggage_only_to(["billing.svc.cluster.local"]),
///     )
///     .capture_request_headers(["x-request-id"])
///     .capture_response_headers(["content-type", "retry-after"])
///     .build();
/// ```
#[must_use]
#[derive(Default)]
pub struct OtelMiddlewareBuilder {
    tracer: Option<BoxedTracer>,
    meter: Option<opentelemetry::metrics::Meter>,
    propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    policy: Option<OutgoingPolicy>,
    request_headers: Vec<HeaderName>,
    response_headers: Vec<HeaderName>,
    span_name: Option<NameHook>,
    request_hook: Option<RequestHook>,
    response_hook: Option<ResponseHook>,
    /// `None`: the defaults and `OTEL_HTTP_SENSITIVE_QUERY_KEYS`, read by `build()`.
    redaction: Option<QueryRedaction>,
}

impl std::fmt::Debug for OtelMiddlewareBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelMiddlewareBuilder")
            .field("policy", &self.policy)
            .field("request_headers", &self.request_headers)
            .field("response_headers", &self.response_headers)
            .field("redaction", &self.redaction)
            .finish_non_exhaustive()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url("https://opentelemetry.io/schemas/1.45.0")
        .build()
}

impl OtelMiddlewareBuilder {
    /// Uses this tracer provider instead of the global one.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # use otel_reqwest::reqwest_middleware::{self, ClientBuilder, Middleware, Next};
    /// # use otel_reqwest::{Extensions, OtelMiddleware, reqwest};
    /// # /// Answers every request in place of a server: no network.
    /// # struct Reply;
    /// # #[async_trait::async_trait]
    /// # impl Middleware for Reply {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut Extensions, _: Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         let response = http::Response::builder()
    /// #             .header("content-type", "text/plain")
    /// #             .header("x-cache", "HIT")
    /// #             .body("ok")
    /// #             .unwrap();
    /// #         Ok(response.into())
    /// #     }
    /// # }
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// // `provider` exports to memory; `Reply` answers in place of a server.
    /// let middleware = OtelMiddleware::builder()
    ///     .tracer_provider(&provider)
    ///     .build();
    /// let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
    ///     .with(middleware)
    ///     .with(Reply)
    ///     .build();
    /// client.get("http://orders.internal/orders/7").send().await?;
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// assert_eq!(span.name, "GET");
    /// assert_eq!(span.span_kind, opentelemetry::trace::SpanKind::Client);
    /// assert_eq!(attr(&span, "http.response.status_code").as_deref(), Some("200"));
    /// assert_eq!(attr(&span, "server.address").as_deref(), Some("orders.internal"));
    /// # Ok(()) }
    /// ```
    pub fn tracer_provider<P>(mut self, provider: &P) -> Self
    where
        P: TracerProvider,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as opentelemetry::trace::Tracer>::Span: Send + Sync + 'static,
    {
        self.tracer = Some(BoxedTracer::new(Box::new(
            provider.tracer_with_scope(scope()),
        )));
        self
    }

    /// Uses this meter provider instead of the global one.
    ///
    /// The duration histogram binds each attribute set once
    /// (`Histogram::bind`, opentelemetry's `experimental_metrics_bound_instruments`,
    /// enabled by this crate for `opentelemetry_sdk`). A meter provider other
    /// than the SDK's must implement `bind`: the API's default drops bound
    /// measurements.
    ///
    /// ```
    /// # use otel_reqwest::reqwest_middleware::{self, ClientBuilder, Middleware, Next};
    /// # use otel_reqwest::{Extensions, OtelMiddleware, reqwest};
    /// # /// Answers every request in place of a server: no network.
    /// # struct Reply;
    /// # #[async_trait::async_trait]
    /// # impl Middleware for Reply {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut Extensions, _: Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         let response = http::Response::builder()
    /// #             .header("content-type", "text/plain")
    /// #             .header("x-cache", "HIT")
    /// #             .body("ok")
    /// #             .unwrap();
    /// #         Ok(response.into())
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};
    ///
    /// let metrics = InMemoryMetricExporter::default();
    /// let provider = SdkMeterProvider::builder().with_periodic_exporter(metrics.clone()).build();
    /// let middleware = OtelMiddleware::builder().meter_provider(&provider).build();
    /// let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
    ///     .with(middleware)
    ///     .with(Reply) // answers in place of a server
    ///     .build();
    /// client.get("http://orders.internal/orders/7").send().await?;
    /// provider.force_flush()?;
    /// let exported = metrics.get_finished_metrics()?;
    /// let names: Vec<&str> = exported
    ///     .iter()
    ///     .flat_map(|r| r.scope_metrics())
    ///     .flat_map(|s| s.metrics())
    ///     .map(|m| m.name())
    ///     .collect();
    /// assert_eq!(names, ["http.client.request.duration"]);
    /// # Ok(()) }
    /// ```
    pub fn meter_provider(mut self, provider: &dyn MeterProvider) -> Self {
        self.meter = Some(provider.meter_with_scope(scope()));
        self
    }

    /// Uses this propagator instead of the global one. Without it, the
    /// global propagator is taken when the middleware is built if it is
    /// a composite of W3C propagators only (otel-init's default; see
    /// `otel_http::propagation::owned_global`), as the global tracer and
    /// meter are, so that no request reads OpenTelemetry's lock around it;
    /// any other is looked up per request.
    ///
    /// ```
    /// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    /// use opentelemetry::{Context, KeyValue, baggage::BaggageExt};
    /// use otel_http::propagation::{PropagatorName, composite};
    /// use otel_reqwest::{OtelMiddleware, reqwest};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let caller = SpanContext::new(
    /// #     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?,
    /// #     SpanId::from_hex("00f067aa0ba902b7")?,
    /// #     TraceFlags::SAMPLED,
    /// #     true,
    /// #     TraceState::default(),
    /// # );
    /// // The current context: a caller's span (`4bf92f35…`) and baggage.
    /// let _current = Context::new()
    ///     .with_remote_span_context(caller)
    ///     .with_baggage([KeyValue::new("user", "42")])
    ///     .attach();
    /// let middleware = OtelMiddleware::builder()
    ///     .propagator(composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]))
    ///     .build();
    /// let mut request = reqwest::Request::new(
    ///     reqwest::Method::GET,
    ///     "http://orders.internal/orders/7".parse()?,
    /// );
    /// middleware.inject(&mut request); // as a send through the middleware would
    /// let headers = request.headers();
    /// assert_eq!(headers["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    /// assert_eq!(headers["baggage"], "user=42");
    /// # Ok(()) }
    /// ```
    pub fn propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagator = Some(Arc::new(propagator));
        self
    }

    /// Which hosts receive the trace context and baggage (default: every host).
    /// The span is recorded either way.
    ///
    /// ```
    /// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    /// use opentelemetry::{Context, KeyValue, baggage::BaggageExt};
    /// use otel_http::propagation::{PropagatorName, composite};
    /// use otel_reqwest::{OtelMiddleware, reqwest};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let caller = SpanContext::new(
    /// #     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?,
    /// #     SpanId::from_hex("00f067aa0ba902b7")?,
    /// #     TraceFlags::SAMPLED,
    /// #     true,
    /// #     TraceState::default(),
    /// # );
    /// // The current context: a caller's span (`4bf92f35…`) and baggage.
    /// let _current = Context::new()
    ///     .with_remote_span_context(caller)
    ///     .with_baggage([KeyValue::new("user", "42")])
    ///     .attach();
    /// use otel_reqwest::OutgoingPolicy;
    ///
    /// let middleware = OtelMiddleware::builder()
    ///     .propagator(composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]))
    ///     .outgoing_policy(OutgoingPolicy::everywhere().context_only_to(["*.internal"]))
    ///     .build();
    /// let mut internal = reqwest::Request::new(reqwest::Method::GET, "http://orders.internal/".parse()?);
    /// let mut outside = reqwest::Request::new(reqwest::Method::GET, "https://api.stripe.com/".parse()?);
    /// middleware.inject(&mut internal);
    /// middleware.inject(&mut outside);
    /// assert!(internal.headers().contains_key("traceparent"));
    /// assert!(outside.headers().is_empty(), "no context, no baggage outside");
    /// # Ok(()) }
    /// ```
    pub fn outgoing_policy(mut self, policy: OutgoingPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Request headers recorded as `http.request.header.<name>`. `Authorization`,
    /// `Proxy-Authorization`, `Cookie` and `Set-Cookie` are never recorded.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # use otel_reqwest::reqwest_middleware::{self, ClientBuilder, Middleware, Next};
    /// # use otel_reqwest::{Extensions, OtelMiddleware, reqwest};
    /// # /// Answers every request in place of a server: no network.
    /// # struct Reply;
    /// # #[async_trait::async_trait]
    /// # impl Middleware for Reply {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut Extensions, _: Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         let response = http::Response::builder()
    /// #             .header("content-type", "text/plain")
    /// #             .header("x-cache", "HIT")
    /// #             .body("ok")
    /// #             .unwrap();
    /// #         Ok(response.into())
    /// #     }
    /// # }
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// // `provider` exports to memory; `Reply` answers in place of a server.
    /// let middleware = OtelMiddleware::builder()
    ///     .tracer_provider(&provider)
    ///     .capture_request_headers(["x-request-id", "authorization"])
    ///     .build();
    /// let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
    ///     .with(middleware)
    ///     .with(Reply)
    ///     .build();
    /// client.get("http://orders.internal/orders/7")
    ///     .header("x-request-id", "r-1")
    ///     .header("authorization", "Bearer s3cret")
    ///     .send().await?;
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// assert_eq!(attr(&span, "http.request.header.x-request-id").as_deref(), Some(r#"["r-1"]"#));
    /// assert_eq!(attr(&span, "http.request.header.authorization"), None);
    /// # Ok(()) }
    /// ```
    pub fn capture_request_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.request_headers = otel_http::headers::allow_list(names);
        self
    }

    /// Response headers recorded as `http.response.header.<name>` (same exclusions).
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # use otel_reqwest::reqwest_middleware::{self, ClientBuilder, Middleware, Next};
    /// # use otel_reqwest::{Extensions, OtelMiddleware, reqwest};
    /// # /// Answers every request in place of a server: no network.
    /// # struct Reply;
    /// # #[async_trait::async_trait]
    /// # impl Middleware for Reply {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut Extensions, _: Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         let response = http::Response::builder()
    /// #             .header("content-type", "text/plain")
    /// #             .header("x-cache", "HIT")
    /// #             .body("ok")
    /// #             .unwrap();
    /// #         Ok(response.into())
    /// #     }
    /// # }
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// // `provider` exports to memory; `Reply` answers in place of a server.
    /// let middleware = OtelMiddleware::builder()
    ///     .tracer_provider(&provider)
    ///     .capture_response_headers(["x-cache"])
    ///     .build();
    /// let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
    ///     .with(middleware)
    ///     .with(Reply)
    ///     .build();
    /// client.get("http://orders.internal/orders/7").send().await?;
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// // `Reply` answered with `x-cache: HIT`.
    /// assert_eq!(attr(&span, "http.response.header.x-cache").as_deref(), Some(r#"["HIT"]"#));
    /// assert_eq!(attr(&span, "http.response.header.content-type"), None, "not captured");
    /// # Ok(()) }
    /// ```
    pub fn capture_response_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.response_headers = otel_http::headers::allow_list(names);
        self
    }

    /// Names spans with this function instead of `{method}` or
    /// `{method} {url.template}`. Keep names low-cardinality: never put ids or
    /// raw paths in them.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # use otel_reqwest::reqwest_middleware::{self, ClientBuilder, Middleware, Next};
    /// # use otel_reqwest::{Extensions, OtelMiddleware, reqwest};
    /// # /// Answers every request in place of a server: no network.
    /// # struct Reply;
    /// # #[async_trait::async_trait]
    /// # impl Middleware for Reply {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut Extensions, _: Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         let response = http::Response::builder()
    /// #             .header("content-type", "text/plain")
    /// #             .header("x-cache", "HIT")
    /// #             .body("ok")
    /// #             .unwrap();
    /// #         Ok(response.into())
    /// #     }
    /// # }
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// // `provider` exports to memory; `Reply` answers in place of a server.
    /// let middleware = OtelMiddleware::builder()
    ///     .tracer_provider(&provider)
    ///     .span_name(|request| format!("{} orders", request.method()))
    ///     .build();
    /// let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
    ///     .with(middleware)
    ///     .with(Reply)
    ///     .build();
    /// client.get("http://orders.internal/orders/7").send().await?;
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// assert_eq!(span.name, "GET orders");
    /// # Ok(()) }
    /// ```
    pub fn span_name(
        mut self,
        name: impl Fn(&reqwest::Request) -> String + Send + Sync + 'static,
    ) -> Self {
        self.span_name = Some(Arc::new(name));
        self
    }

    /// Adds attributes computed from the request to the span (at its start,
    /// so samplers see them).
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # use otel_reqwest::reqwest_middleware::{self, ClientBuilder, Middleware, Next};
    /// # use otel_reqwest::{Extensions, OtelMiddleware, reqwest};
    /// # /// Answers every request in place of a server: no network.
    /// # struct Reply;
    /// # #[async_trait::async_trait]
    /// # impl Middleware for Reply {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut Extensions, _: Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         let response = http::Response::builder()
    /// #             .header("content-type", "text/plain")
    /// #             .header("x-cache", "HIT")
    /// #             .body("ok")
    /// #             .unwrap();
    /// #         Ok(response.into())
    /// #     }
    /// # }
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// use opentelemetry::KeyValue;
    ///
    /// // `provider` exports to memory; `Reply` answers in place of a server.
    /// let middleware = OtelMiddleware::builder()
    ///     .tracer_provider(&provider)
    ///     .request_attributes(|request| {
    ///         let tenant = request.headers().get("x-tenant").and_then(|v| v.to_str().ok());
    ///         vec![KeyValue::new("app.tenant", tenant.unwrap_or("none").to_owned())]
    ///     })
    ///     .build();
    /// let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
    ///     .with(middleware)
    ///     .with(Reply)
    ///     .build();
    /// client.get("http://orders.internal/orders/7").header("x-tenant", "acme").send().await?;
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// assert_eq!(attr(&span, "app.tenant").as_deref(), Some("acme"));
    /// # Ok(()) }
    /// ```
    pub fn request_attributes(
        mut self,
        hook: impl Fn(&reqwest::Request) -> Vec<KeyValue> + Send + Sync + 'static,
    ) -> Self {
        self.request_hook = Some(Arc::new(hook));
        self
    }

    /// Adds attributes computed from the response to the span (recording spans only).
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # use otel_reqwest::reqwest_middleware::{self, ClientBuilder, Middleware, Next};
    /// # use otel_reqwest::{Extensions, OtelMiddleware, reqwest};
    /// # /// Answers every request in place of a server: no network.
    /// # struct Reply;
    /// # #[async_trait::async_trait]
    /// # impl Middleware for Reply {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut Extensions, _: Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         let response = http::Response::builder()
    /// #             .header("content-type", "text/plain")
    /// #             .header("x-cache", "HIT")
    /// #             .body("ok")
    /// #             .unwrap();
    /// #         Ok(response.into())
    /// #     }
    /// # }
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// use opentelemetry::KeyValue;
    ///
    /// // `provider` exports to memory; `Reply` answers in place of a server.
    /// let middleware = OtelMiddleware::builder()
    ///     .tracer_provider(&provider)
    ///     .response_attributes(|response| {
    ///         let hit = response.headers().get("x-cache").is_some_and(|v| v == "HIT");
    ///         vec![KeyValue::new("app.cache_hit", hit)]
    ///     })
    ///     .build();
    /// let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
    ///     .with(middleware)
    ///     .with(Reply)
    ///     .build();
    /// client.get("http://orders.internal/orders/7").send().await?;
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// assert_eq!(attr(&span, "app.cache_hit").as_deref(), Some("true"));
    /// # Ok(()) }
    /// ```
    pub fn response_attributes(
        mut self,
        hook: impl Fn(&reqwest::Response) -> Vec<KeyValue> + Send + Sync + 'static,
    ) -> Self {
        self.response_hook = Some(Arc::new(hook));
        self
    }

    /// The middleware.
    ///
    /// ```
    /// use otel_reqwest::OtelMiddleware;
    ///
    /// let middleware = OtelMiddleware::builder().capture_request_headers(["X-Request-Id"]).build();
    /// // Cheap to clone: the clones share one configuration.
    /// let copy = middleware.clone();
    /// assert!(format!("{copy:?}").contains("x-request-id"));
    /// ```
    pub fn build(self) -> OtelMiddleware {
        let global_tracer = self.tracer.is_none();
        let tracer = self
            .tracer
            .unwrap_or_else(|| global::tracer_provider().tracer_with_scope(scope()));
        let meter = self
            .meter
            .unwrap_or_else(|| global::meter_with_scope(scope()));
        OtelMiddleware::from_config(Config {
            tracer,
            global_tracer,
            metrics: ClientMetrics::new(&meter),
            // The global one held when it can be (see `owned_global`): no
            // lock per request.
            propagator: self
                .propagator
                .or_else(otel_http::propagation::owned_global),
            policy: self.policy,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            span_name: self.span_name,
            request_hook: self.request_hook,
            response_hook: self.response_hook,
            redaction: self.redaction.unwrap_or_else(QueryRedaction::from_env),
        })
    }
}
