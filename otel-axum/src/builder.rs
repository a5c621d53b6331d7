//! [`OtelLayerBuilder`]: the options, with good defaults.

use crate::layer::{Config, OtelLayer, PathMatch};
use crate::metrics::ServerMetrics;
use http::HeaderName;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider;
use opentelemetry::{InstrumentationScope, KeyValue};
use otel_http::trust::IncomingPolicy;
use std::sync::Arc;

pub(crate) type RequestHook = Arc<dyn Fn(&http::request::Parts) -> Vec<KeyValue> + Send + Sync>;
pub(crate) type ResponseHook = Arc<dyn Fn(&http::response::Parts) -> Vec<KeyValue> + Send + Sync>;
pub(crate) type NameHook = Arc<dyn Fn(&http::request::Parts) -> String + Send + Sync>;

/// Builds an [`OtelLayer`]. Defaults: global tracer, meter and propagator;
/// the caller's context continued; no path skipped; no header captured;
/// panics caught; no trace response header.
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
            .finish_non_exhaustive()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url("https://opentelemetry.io/schemas/1.37.0")
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
        }
    }
}

impl OtelLayerBuilder {
    /// Uses this tracer provider instead of the global one.
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
    pub fn meter_provider(mut self, provider: &dyn MeterProvider) -> Self {
        self.meter = Some(provider.meter_with_scope(scope()));
        self
    }

    /// Uses this propagator instead of the global one.
    pub fn propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagator = Some(Arc::new(propagator));
        self
    }

    /// Paths that are neither traced nor measured: exact paths, or prefixes ending in `*`.
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
    pub fn incoming_policy(mut self, policy: IncomingPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Request headers recorded as `http.request.header.<name>`. `Authorization`,
    /// `Proxy-Authorization`, `Cookie` and `Set-Cookie` are never recorded.
    pub fn capture_request_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.request_headers = otel_http::headers::allow_list(names);
        self
    }

    /// Response headers recorded as `http.response.header.<name>` (same exclusions).
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
    pub fn span_name(
        mut self,
        name: impl Fn(&http::request::Parts) -> String + Send + Sync + 'static,
    ) -> Self {
        self.span_name = Some(Arc::new(name));
        self
    }

    /// Adds attributes computed from the request to the span (at its start,
    /// so samplers see them).
    pub fn request_attributes(
        mut self,
        hook: impl Fn(&http::request::Parts) -> Vec<KeyValue> + Send + Sync + 'static,
    ) -> Self {
        self.request_hook = Some(Arc::new(hook));
        self
    }

    /// Adds attributes computed from the response to the span.
    pub fn response_attributes(
        mut self,
        hook: impl Fn(&http::response::Parts) -> Vec<KeyValue> + Send + Sync + 'static,
    ) -> Self {
        self.response_hook = Some(Arc::new(hook));
        self
    }

    /// Returns the trace to the caller in this response header, as
    /// `00-{trace-id}-{span-id}-{flags}` (the W3C `traceresponse` format).
    pub fn trace_response_header(mut self, name: &'static str) -> Self {
        self.trace_response_header = Some(HeaderName::from_static(name));
        self
    }

    /// Whether a panicking handler is turned into a 500 response (default
    /// true). When false the panic propagates, after the span has ended.
    pub fn catch_panics(mut self, catch: bool) -> Self {
        self.catch_panics = catch;
        self
    }

    /// The layer.
    pub fn build(self) -> OtelLayer {
        let tracer = self
            .tracer
            .unwrap_or_else(|| global::tracer_provider().tracer_with_scope(scope()));
        let meter = self
            .meter
            .unwrap_or_else(|| global::meter_with_scope(scope()));
        OtelLayer::from_config(Config {
            tracer,
            metrics: ServerMetrics::new(&meter),
            propagator: self.propagator,
            skip: self.skip,
            policy: self.policy,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            span_name: self.span_name,
            request_hook: self.request_hook,
            response_hook: self.response_hook,
            trace_response_header: self.trace_response_header,
            catch_panics: self.catch_panics,
        })
    }
}
