//! The configuration an [`OtelClientLayer`](crate::OtelClientLayer) shares
//! with its services (a leaf).

use crate::metadata;
use crate::method::Methods;
use crate::method::Target;
use crate::metrics::CallMetrics;
use http::{HeaderMap, HeaderName};
use opentelemetry::Context;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::propagation::TextMapPropagator;
use otel_http::propagation::inject_headers;
use otel_http::trust::OutgoingPolicy;
use std::sync::Arc;

pub(crate) struct ClientConfig {
    pub tracer: BoxedTracer,
    /// The tracer is the global provider's, so what was declared of its
    /// sampler (`otel_http::sampling`) holds for it.
    pub global_tracer: bool,
    pub metrics: CallMetrics,
    /// The methods seen, with what their calls share.
    pub methods: Methods,
    pub propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    /// `None`: the context goes everywhere (the default, checked for nothing).
    pub policy: Option<OutgoingPolicy>,
    /// The server the channel talks to, when the request URI does not say.
    pub target: Option<Target>,
    /// Request metadata keys recorded as `rpc.request.metadata.<key>`.
    pub request_metadata: Vec<HeaderName>,
    /// Response metadata keys recorded as `rpc.response.metadata.<key>`.
    pub response_metadata: metadata::Keys,
}

impl ClientConfig {
    /// Injects `cx` into the request metadata, as far as the policy allows
    /// for `host` (an unknown host gets nothing when a policy is set).
    pub(crate) fn inject(&self, cx: &Context, host: Option<&str>, headers: &mut HeaderMap) {
        let mut inject = |propagator: &dyn TextMapPropagator| match (&self.policy, host) {
            (Some(policy), Some(host)) => policy.inject(propagator, cx, host, headers),
            (Some(_), None) => {}
            (None, _) => inject_headers(propagator, cx, headers),
        };
        match &self.propagator {
            Some(p) => inject(p.as_ref()),
            None => global::get_text_map_propagator(|p| inject(p)),
        }
    }
}
