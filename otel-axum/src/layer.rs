//! [`OtelLayer`] and the configuration it shares with its services.

use crate::builder::{NameHook, OtelLayerBuilder, RequestHook, ResponseHook};
use crate::metrics::ServerMetrics;
use crate::service::OtelService;
use http::HeaderName;
use opentelemetry::global::BoxedTracer;
use opentelemetry::propagation::TextMapPropagator;
use otel_http::trust::IncomingPolicy;
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
}

impl Config {
    pub(crate) fn skipped(&self, path: &str) -> bool {
        self.skip.iter().any(|m| m.matches(path))
    }
}

/// Traces and measures every request of the services it wraps.
///
/// ```
/// use axum::{Router, routing::get};
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(otel_axum::OtelLayer::new());
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
    /// The layer with the defaults of [`OtelLayerBuilder`].
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the options.
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
