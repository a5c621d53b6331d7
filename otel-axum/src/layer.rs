//! [`OtelLayer`] and the configuration it shares with its services.

use crate::builder::{NameHook, OtelLayerBuilder, RequestHook, ResponseHook};
use crate::metrics::ServerMetrics;
use crate::service::OtelService;
use http::HeaderName;
use opentelemetry::global::BoxedTracer;
use opentelemetry::propagation::TextMapPropagator;
use otel_http::address::AddressStrings;
use otel_http::redact::QueryRedaction;
use otel_http::trust::{IncomingPolicy, TrustedProxies};
use std::sync::Arc;
use tower::Layer;

/// A path that is not traced: exact, or a prefix when written with a trailing `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathMatch {
    Exact(String),
    Prefix(String),
}

impl PathMatch {
    pub(crate) fn parse(p: &str) -> Self {
        match p.strip_suffix('*') {
            Some(prefix) => PathMatch::Prefix(prefix.to_owned()),
            None => PathMatch::Exact(p.to_owned()),
        }
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Exact(p) => path == p,
            PathMatch::Prefix(p) => path.starts_with(p.as_str()),
        }
    }
}

pub(crate) struct Config {
    pub tracer: BoxedTracer,
    /// The tracer is the global provider's, so what was declared of its
    /// sampler ([`otel_http::sampling`]) holds for it.
    pub global_tracer: bool,
    pub metrics: ServerMetrics,
    pub propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    pub skip: Vec<PathMatch>,
    pub policy: IncomingPolicy,
    pub request_headers: Vec<HeaderName>,
    pub response_headers: Vec<HeaderName>,
    pub span_name: Option<NameHook>,
    pub request_hook: Option<RequestHook>,
    pub response_hook: Option<ResponseHook>,
    pub trace_response_header: Option<HeaderName>,
    pub catch_panics: bool,
    pub redaction: QueryRedaction,
    pub proxies: TrustedProxies,
    /// `server.address` and `network.peer.address` strings, made once each.
    pub addresses: AddressStrings,
}

impl Config {
    pub(crate) fn skipped(&self, path: &str) -> bool {
        self.skip.iter().any(|m| m.matches(path))
    }
}

/// Traces and measures every request of the services it wraps: a SERVER span
/// per request (ended when the response body has been sent) and the HTTP
/// server metrics.
///
/// Add it with `Router::layer`, so that axum's `MatchedPath` gives the route
/// template for span names and metric attributes:
///
/// ```
/// use axum::{Router, body::Body, routing::get};
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
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # let recorder = Recorder::default();
/// # let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
/// # opentelemetry::global::set_tracer_provider(provider);
/// // After otel_init::init_telemetry(): the layer uses the global providers.
/// let app: Router = Router::new()
///     .route("/products/{id}", get(|| async { "a product" }))
///     .layer(otel_axum::OtelLayer::new());
/// let response = app.oneshot(http::Request::get("/products/7").body(Body::empty()).unwrap()).await.unwrap();
/// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
/// # let spans = recorder.0.lock().unwrap();
/// # assert_eq!(spans[0].name, "GET /products/{id}");
/// // one span: "GET /products/{id}", kind SERVER, http.route = "/products/{id}"
/// # }
/// ```
#[derive(Clone)]
pub struct OtelLayer {
    config: Arc<Config>,
}

impl std::fmt::Debug for OtelLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelLayer").finish_non_exhaustive()
    }
}

impl Default for OtelLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl OtelLayer {
    /// The layer with the defaults of [`OtelLayerBuilder`]: the global tracer,
    /// meter and propagator (build it after `otel_init::init_telemetry()`).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use tower::ServiceExt as _;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(otel_axum::OtelLayer::new());
    /// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert_eq!(response.status(), 200);
    /// # }
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the options (see [`OtelLayerBuilder`] for each one).
    ///
    /// ```
    /// use otel_axum::OtelLayer;
    ///
    /// let layer: OtelLayer = OtelLayer::builder()
    ///     .skip_paths(["/healthz"])
    ///     .trace_response_header("traceresponse")
    ///     .build();
    /// ```
    pub fn builder() -> OtelLayerBuilder {
        OtelLayerBuilder::default()
    }

    pub(crate) fn from_config(config: Config) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for OtelLayer {
    type Service = OtelService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OtelService::new(inner, self.config.clone())
    }
}
