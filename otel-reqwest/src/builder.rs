//! [`OtelMiddlewareBuilder`]: the options, with good defaults.

use crate::metrics::ClientMetrics;
use crate::middleware::{Config, OtelMiddleware};
use http::HeaderName;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider;
use opentelemetry::{InstrumentationScope, KeyValue};
use otel_http::trust::OutgoingPolicy;
use std::sync::Arc;

pub(crate) type RequestHook = Arc<dyn Fn(&reqwest::Request) -> Vec<KeyValue> + Send + Sync>;
pub(crate) type ResponseHook = Arc<dyn Fn(&reqwest::Response) -> Vec<KeyValue> + Send + Sync>;
pub(crate) type NameHook = Arc<dyn Fn(&reqwest::Request) -> String + Send + Sync>;

/// Builds an [`OtelMiddleware`]. Defaults: global tracer, meter and
/// propagator; the context sent to every host; no header captured.
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
}

impl std::fmt::Debug for OtelMiddlewareBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelMiddlewareBuilder")
            .field("policy", &self.policy)
            .field("request_headers", &self.request_headers)
            .field("response_headers", &self.response_headers)
            .finish_non_exhaustive()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url("https://opentelemetry.io/schemas/1.37.0")
        .build()
}

impl OtelMiddlewareBuilder {
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
    ///
    /// The duration histogram binds each attribute set once
    /// (`Histogram::bind`, opentelemetry's `experimental_metrics_bound_instruments`,
    /// enabled by this crate for `opentelemetry_sdk`). A meter provider other
    /// than the SDK's must implement `bind`: the API's default drops bound
    /// measurements.
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

    /// Which hosts receive the trace context and baggage (default: every host).
    /// The span is recorded either way.
    pub fn outgoing_policy(mut self, policy: OutgoingPolicy) -> Self {
        self.policy = Some(policy);
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

    /// Names spans with this function instead of `{method}` or
    /// `{method} {url.template}`. Keep names low-cardinality: never put ids or
    /// raw paths in them.
    pub fn span_name(
        mut self,
        name: impl Fn(&reqwest::Request) -> String + Send + Sync + 'static,
    ) -> Self {
        self.span_name = Some(Arc::new(name));
        self
    }

    /// Adds attributes computed from the request to the span (at its start,
    /// so samplers see them).
    pub fn request_attributes(
        mut self,
        hook: impl Fn(&reqwest::Request) -> Vec<KeyValue> + Send + Sync + 'static,
    ) -> Self {
        self.request_hook = Some(Arc::new(hook));
        self
    }

    /// Adds attributes computed from the response to the span (recording spans only).
    pub fn response_attributes(
        mut self,
        hook: impl Fn(&reqwest::Response) -> Vec<KeyValue> + Send + Sync + 'static,
    ) -> Self {
        self.response_hook = Some(Arc::new(hook));
        self
    }

    /// The middleware.
    pub fn build(self) -> OtelMiddleware {
        let tracer = self
            .tracer
            .unwrap_or_else(|| global::tracer_provider().tracer_with_scope(scope()));
        let meter = self
            .meter
            .unwrap_or_else(|| global::meter_with_scope(scope()));
        OtelMiddleware::from_config(Config {
            tracer,
            metrics: ClientMetrics::new(&meter),
            propagator: self.propagator,
            policy: self.policy,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            span_name: self.span_name,
            request_hook: self.request_hook,
            response_hook: self.response_hook,
        })
    }
}
