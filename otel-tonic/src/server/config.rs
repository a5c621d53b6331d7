//! The configuration an [`OtelServerLayer`](crate::OtelServerLayer) shares
//! with its services (a leaf: nothing here knows the layer or the service).

use crate::metadata;
use crate::method::Methods;
use crate::metrics::CallMetrics;
use http::HeaderName;
use opentelemetry::global::BoxedTracer;
use opentelemetry::propagation::TextMapPropagator;
use otel_http::address::AddressStrings;
use otel_http::trust::IncomingPolicy;
use std::sync::Arc;

pub(crate) struct ServerConfig {
    pub tracer: BoxedTracer,
    /// The tracer is the global provider's, so what was declared of its
    /// sampler (`otel_http::sampling`) holds for it.
    pub global_tracer: bool,
    pub metrics: CallMetrics,
    /// The methods seen, with what their calls share.
    pub methods: Methods,
    /// `server.address` and `network.peer.address` strings, made once each.
    pub addresses: AddressStrings,
    pub propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    pub policy: IncomingPolicy,
    /// Full methods (`package.Service/Method`) neither traced nor measured.
    pub skip: Vec<String>,
    pub catch_panics: bool,
    /// Request metadata keys recorded as `rpc.request.metadata.<key>`.
    pub request_metadata: Vec<HeaderName>,
    /// Response metadata keys recorded as `rpc.response.metadata.<key>`.
    pub response_metadata: metadata::Keys,
}

impl ServerConfig {
    pub(crate) fn skipped(&self, full_method: &str) -> bool {
        self.skip.iter().any(|m| m == full_method)
    }
}
