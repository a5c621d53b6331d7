//! [`OtelLayerBuilder`]: the options, with good defaults.

use crate::layer::{Config, OtelLayer, PathMatch};
use crate::metrics::ServerMetrics;
use http::HeaderName;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider;
use opentelemetry::{InstrumentationScope, KeyValue};
use otel_http::redact::QueryRedaction;
use otel_http::trust::{IncomingPolicy, TrustedProxies};
use std::sync::Arc;

mod privacy;

pub(crate) type RequestHook = Arc<dyn Fn(&http::request::Parts) -> Vec<KeyValue> + Send + Sync>;
pub(crate) type ResponseHook = Arc<dyn Fn(&http::response::Parts) -> Vec<KeyValue> + Send + Sync>;
pub(crate) type NameHook = Arc<dyn Fn(&http::request::Parts) -> String + Send + Sync>;

/// Builds an [`OtelLayer`]. Defaults: global tracer, meter and propagator;
/// the caller's context continued; no path skipped; no header captured;
/// panics caught; no trace response header; the values of sensitive query
/// keys redacted (`otel_http::redact`, plus `OTEL_HTTP_SENSITIVE_QUERY_KEYS`);
/// `client.address` from the connection's peer, forwarding headers believed
/// only from the proxies in `OTEL_HTTP_TRUSTED_PROXIES` (none by default).
///
/// ```
/// use otel_axum::{IncomingPolicy, OtelLayer};
///
/// let layer = OtelLayer::builder()
///     .skip_paths(["/healthz", "/metrics", "/static/*"])
///     .incoming_policy(IncomingPolicy::new().public_endpoint().drop_baggage())
///     .capture_request_headers(["x-request-id"])
///     .trace_response_header("traceresponse")
///     .build();
/// ```
#[must_use]
pub struct OtelLayerBuilder {
    tracer: Option<BoxedTracer>,
    meter: Option<opentelemetry::metrics::Meter>,
    propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    skip: Vec<PathMatch>,
    policy: IncomingPolicy,
    request_headers: Vec<HeaderName>,
    response_headers: Vec<HeaderName>,
    span_name: Option<NameHook>,
    request_hook: Option<RequestHook>,
    response_hook: Option<ResponseHook>,
    trace_response_header: Option<HeaderName>,
    catch_panics: bool,
    redaction: QueryRedaction,
    proxies: TrustedProxies,
}

impl std::fmt::Debug for OtelLayerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelLayerBuilder")
            .field("skip", &self.skip)
            .field("policy", &self.policy)
            .field("request_headers", &self.request_headers)
            .field("response_headers", &self.response_headers)
            .field("trace_response_header", &self.trace_response_header)
            .field("catch_panics", &self.catch_panics)
            .field("redaction", &self.redaction)
            .field("proxies", &self.proxies)
            .finish_non_exhaustive()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url("https://opentelemetry.io/schemas/1.45.0")
        .build()
}

impl Default for OtelLayerBuilder {
    fn default() -> Self {
        Self {
            tracer: None,
            meter: None,
            propagator: None,
            skip: Vec::new(),
            policy: IncomingPolicy::new(),
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            span_name: None,
            request_hook: None,
            response_hook: None,
            trace_response_header: None,
            catch_panics: true,
            redaction: QueryRedaction::from_env(),
            proxies: privacy::proxies_from_env(),
        }
    }
}

impl OtelLayerBuilder {
    /// Uses this tracer provider instead of the global one.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/orders/{id}", get(|| async { "order" }))
    ///     .layer(OtelLayer::builder().tracer_provider(&provider).build());
    /// let response = app.oneshot(http::Request::get("/orders/7").body(Body::empty()).unwrap()).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap(); // the span ends with the body
    /// let spans = recorder.spans();
    /// assert_eq!(spans[0].name, "GET /orders/{id}");
    /// assert_eq!(spans[0].span_kind, opentelemetry::trace::SpanKind::Server);
    /// # }
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
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use opentelemetry_sdk::metrics::SdkMeterProvider;
    ///
    /// let meters = SdkMeterProvider::builder().build(); // add a reader or exporter in real code
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(OtelLayer::builder().meter_provider(&meters).build());
    /// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert_eq!(response.status(), 200);
    /// # }
    /// ```
    pub fn meter_provider(mut self, provider: &dyn MeterProvider) -> Self {
        self.meter = Some(provider.meter_with_scope(scope()));
        self
    }

    /// Uses this propagator instead of the global one. Without it, the
    /// global propagator is taken when the layer is built if it is
    /// a composite of W3C propagators only (otel-init's default; see
    /// `otel_http::propagation::owned_global`), as the global tracer and
    /// meter are, so that no request reads OpenTelemetry's lock around it;
    /// any other is looked up per request.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use otel_http::propagation::W3cTraceContextPropagator;
    ///
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(
    ///         OtelLayer::builder()
    ///             .tracer_provider(&provider)
    ///             .propagator(W3cTraceContextPropagator::new())
    ///             .build(),
    ///     );
    /// let request = http::Request::get("/")
    ///     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    ///     .body(Body::empty())
    ///     .unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// let span = &recorder.spans()[0];
    /// assert_eq!(span.span_context.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert_eq!(span.parent_span_id.to_string(), "00f067aa0ba902b7");
    /// # }
    /// ```
    pub fn propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagator = Some(Arc::new(propagator));
        self
    }

    /// Paths that are neither traced nor measured: exact paths, or prefixes ending in `*`.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/healthz", get(|| async { "ok" }))
    ///     .route("/static/{*file}", get(|| async { "file" }))
    ///     .route("/orders", get(|| async { "orders" }))
    ///     .layer(
    ///         OtelLayer::builder()
    ///             .tracer_provider(&provider)
    ///             .skip_paths(["/healthz", "/static/*"])
    ///             .build(),
    ///     );
    /// for path in ["/healthz", "/static/app.js", "/orders"] {
    ///     let response = app.clone().oneshot(http::Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    ///     axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// }
    /// let names: Vec<_> = recorder.spans().iter().map(|s| s.name.to_string()).collect();
    /// assert_eq!(names, ["GET /orders"]);
    /// # }
    /// ```
    pub fn skip_paths<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.skip
            .extend(paths.into_iter().map(|p| PathMatch::parse(p.as_ref())));
        self
    }

    /// How much of the caller's context to accept (trust boundary).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use otel_axum::IncomingPolicy;
    /// use otel_http::propagation::W3cTraceContextPropagator;
    ///
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "public" }))
    ///     .layer(
    ///         OtelLayer::builder()
    ///             .tracer_provider(&provider)
    ///             .propagator(W3cTraceContextPropagator::new())
    ///             .incoming_policy(IncomingPolicy::new().public_endpoint())
    ///             .build(),
    ///     );
    /// let request = http::Request::get("/")
    ///     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    ///     .body(Body::empty())
    ///     .unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// let span = &recorder.spans()[0];
    /// // A new trace; the caller's span is only a link.
    /// assert_ne!(span.span_context.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert_eq!(span.links.links[0].span_context.span_id().to_string(), "00f067aa0ba902b7");
    /// # }
    /// ```
    pub fn incoming_policy(mut self, policy: IncomingPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Request headers recorded as `http.request.header.<name>`. `Authorization`,
    /// `Proxy-Authorization`, `Cookie` and `Set-Cookie` are never recorded.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(
    ///         OtelLayer::builder()
    ///             .tracer_provider(&provider)
    ///             .capture_request_headers(["x-request-id", "authorization"])
    ///             .build(),
    ///     );
    /// let request = http::Request::get("/")
    ///     .header("x-request-id", "r-42")
    ///     .header("authorization", "Bearer secret")
    ///     .body(Body::empty())
    ///     .unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// let span = &recorder.spans()[0];
    /// let keys: Vec<_> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    /// assert!(keys.contains(&"http.request.header.x-request-id"));
    /// assert!(!keys.contains(&"http.request.header.authorization")); // never recorded
    /// # }
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
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(
    ///         OtelLayer::builder()
    ///             .tracer_provider(&provider)
    ///             .capture_response_headers(["content-type"])
    ///             .build(),
    ///     );
    /// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// let span = &recorder.spans()[0];
    /// assert!(span.attributes.iter().any(|kv| kv.key.as_str() == "http.response.header.content-type"));
    /// # }
    /// ```
    pub fn capture_response_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.response_headers = otel_http::headers::allow_list(names);
        self
    }

    /// Names spans with this function instead of `{method} {http.route}`.
    /// Keep names low-cardinality: never put ids or raw paths in them.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/orders/{id}", get(|| async { "order" }))
    ///     .layer(
    ///         OtelLayer::builder()
    ///             .tracer_provider(&provider)
    ///             .span_name(|req| format!("{} load order", req.method))
    ///             .build(),
    ///     );
    /// let response = app.oneshot(http::Request::get("/orders/7").body(Body::empty()).unwrap()).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// assert_eq!(recorder.spans()[0].name, "GET load order");
    /// # }
    /// ```
    pub fn span_name(
        mut self,
        name: impl Fn(&http::request::Parts) -> String + Send + Sync + 'static,
    ) -> Self {
        self.span_name = Some(Arc::new(name));
        self
    }

    /// Adds attributes computed from the request to the span (at its start,
    /// so samplers see them).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use opentelemetry::KeyValue;
    ///
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(
    ///         OtelLayer::builder()
    ///             .tracer_provider(&provider)
    ///             .request_attributes(|req| {
    ///                 let tenant = req.headers.get("x-tenant").and_then(|v| v.to_str().ok());
    ///                 vec![KeyValue::new("tenant", tenant.unwrap_or("none").to_owned())]
    ///             })
    ///             .build(),
    ///     );
    /// let request = http::Request::get("/").header("x-tenant", "acme").body(Body::empty()).unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// assert!(recorder.spans()[0].attributes.contains(&KeyValue::new("tenant", "acme")));
    /// # }
    /// ```
    pub fn request_attributes(
        mut self,
        hook: impl Fn(&http::request::Parts) -> Vec<KeyValue> + Send + Sync + 'static,
    ) -> Self {
        self.request_hook = Some(Arc::new(hook));
        self
    }

    /// Adds attributes computed from the response to the span.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use opentelemetry::KeyValue;
    ///
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { ([("x-cache", "hit")], "hello") }))
    ///     .layer(
    ///         OtelLayer::builder()
    ///             .tracer_provider(&provider)
    ///             .response_attributes(|res| {
    ///                 let hit = res.headers.get("x-cache").is_some_and(|v| v == "hit");
    ///                 vec![KeyValue::new("cache.hit", hit)]
    ///             })
    ///             .build(),
    ///     );
    /// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// assert!(recorder.spans()[0].attributes.contains(&KeyValue::new("cache.hit", true)));
    /// # }
    /// ```
    pub fn response_attributes(
        mut self,
        hook: impl Fn(&http::response::Parts) -> Vec<KeyValue> + Send + Sync + 'static,
    ) -> Self {
        self.response_hook = Some(Arc::new(hook));
        self
    }

    /// Returns the trace to the caller in this response header, as
    /// `00-{trace-id}-{span-id}-{flags}` (the W3C `traceresponse` format).
    ///
    /// The name is case-insensitive. A name that is not a valid header name
    /// sets no header (never a panic); `otel_axum` then reports it once as a
    /// `tracing` warning.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(
    ///         OtelLayer::builder()
    ///             .tracer_provider(&provider)
    ///             .trace_response_header("traceresponse")
    ///             .build(),
    ///     );
    /// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// let value = response.headers()["traceresponse"].to_str().unwrap();
    /// assert_eq!(value.len(), 55); // 00-{32 hex}-{16 hex}-01
    /// assert!(value.starts_with("00-") && value.ends_with("-01"));
    /// # }
    /// ```
    pub fn trace_response_header(mut self, name: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        self.trace_response_header =
            match HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()) {
                Ok(header) => Some(header),
                Err(_) => {
                    tracing::warn!(
                        header = name,
                        "otel-axum: not a valid header name; no trace response header is set"
                    );
                    None
                }
            };
        self
    }

    /// Whether a panicking handler is turned into a 500 response (default
    /// true). When false the panic propagates, after the span has ended.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # impl Recorder { fn spans(&self) -> Vec<SpanData> { self.0.lock().unwrap().clone() } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// async fn broken() -> &'static str {
    ///     panic!("bug")
    /// }
    /// let app: Router = Router::new()
    ///     .route("/", get(broken))
    ///     .layer(OtelLayer::builder().tracer_provider(&provider).catch_panics(true).build());
    /// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert_eq!(response.status(), 500);
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// let span = &recorder.spans()[0];
    /// assert!(span.attributes.contains(&opentelemetry::KeyValue::new("error.type", "panic")));
    /// # }
    /// ```
    pub fn catch_panics(mut self, catch: bool) -> Self {
        self.catch_panics = catch;
        self
    }

    /// The layer.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use otel_axum::OtelLayer;
    /// use tower::ServiceExt as _;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(OtelLayer::builder().skip_paths(["/healthz"]).build());
    /// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert_eq!(response.status(), 200);
    /// # }
    /// ```
    pub fn build(self) -> OtelLayer {
        let global_tracer = self.tracer.is_none();
        let tracer = self
            .tracer
            .unwrap_or_else(|| global::tracer_provider().tracer_with_scope(scope()));
        let meter = self
            .meter
            .unwrap_or_else(|| global::meter_with_scope(scope()));
        OtelLayer::from_config(Config {
            tracer,
            global_tracer,
            metrics: ServerMetrics::new(&meter),
            // The global one held when it can be (see `owned_global`): no
            // lock per request.
            propagator: self
                .propagator
                .or_else(otel_http::propagation::owned_global),
            skip: self.skip,
            policy: self.policy,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            span_name: self.span_name,
            request_hook: self.request_hook,
            response_hook: self.response_hook,
            trace_response_header: self.trace_response_header,
            catch_panics: self.catch_panics,
            redaction: self.redaction,
            proxies: self.proxies,
            addresses: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_trace_response_header_name_sets_none_and_does_not_panic() {
        let b = OtelLayerBuilder::default().trace_response_header("not a header\n");
        assert_eq!(b.trace_response_header, None);
        let b = OtelLayerBuilder::default().trace_response_header("TraceResponse");
        assert_eq!(
            b.trace_response_header,
            Some(HeaderName::from_static("traceresponse"))
        );
    }
}
