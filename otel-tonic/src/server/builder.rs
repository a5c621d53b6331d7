//! [`OtelServerLayerBuilder`]: the server's options, with good defaults.

use super::config::ServerConfig;
use super::layer::OtelServerLayer;
use crate::metadata;
use crate::method::Methods;
use crate::metrics::CallMetrics;
use crate::scope::scope;
use http::HeaderName;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider;
use otel_http::trust::IncomingPolicy;
use std::sync::Arc;

/// Builds an [`OtelServerLayer`]. Defaults: the global tracer, meter and
/// propagator; the caller's context continued (otel-http's
/// [`IncomingPolicy`], as otel-axum uses it); no method skipped; panics
/// caught and answered with `UNKNOWN`.
///
/// ```
/// use otel_tonic::{IncomingPolicy, OtelServerLayer};
///
/// let layer = OtelServerLayer::builder()
///     .incoming_policy(IncomingPolicy::new().public_endpoint().drop_baggage())
///     .skip_methods(["grpc.health.v1.Health/Check"])
///     .build();
/// # let _ = layer;
/// ```
#[must_use]
pub struct OtelServerLayerBuilder {
    tracer: Option<BoxedTracer>,
    meter: Option<Meter>,
    propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    policy: IncomingPolicy,
    skip: Vec<String>,
    served: Vec<String>,
    catch_panics: bool,
    request_metadata: Vec<HeaderName>,
    response_metadata: metadata::Keys,
}

impl std::fmt::Debug for OtelServerLayerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelServerLayerBuilder")
            .field("policy", &self.policy)
            .field("skip", &self.skip)
            .field("served", &self.served)
            .field("catch_panics", &self.catch_panics)
            .field("request_metadata", &self.request_metadata)
            .field("response_metadata", &self.response_metadata)
            .finish_non_exhaustive()
    }
}

impl Default for OtelServerLayerBuilder {
    fn default() -> Self {
        Self {
            tracer: None,
            meter: None,
            propagator: None,
            policy: IncomingPolicy::new(),
            skip: Vec::new(),
            served: Vec::new(),
            catch_panics: true,
            request_metadata: Vec::new(),
            response_metadata: None,
        }
    }
}

impl OtelServerLayerBuilder {
    /// Uses this tracer provider instead of the global one.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_tonic::OtelServerLayer;
    ///
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let layer = OtelServerLayer::builder().tracer_provider(&provider).build();
    /// # let _ = layer;
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
    /// use opentelemetry_sdk::metrics::SdkMeterProvider;
    /// use otel_tonic::OtelServerLayer;
    ///
    /// let meters = SdkMeterProvider::builder().build(); // add a reader or exporter in real code
    /// let layer = OtelServerLayer::builder().meter_provider(&meters).build();
    /// # let _ = layer;
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
    /// use otel_http::propagation::W3cTraceContextPropagator;
    /// use otel_tonic::OtelServerLayer;
    ///
    /// let layer = OtelServerLayer::builder()
    ///     .propagator(W3cTraceContextPropagator::new())
    ///     .build();
    /// # let _ = layer;
    /// ```
    pub fn propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagator = Some(Arc::new(propagator));
        self
    }

    /// How much of the caller's context (from the request metadata) to
    /// accept: otel-http's [`IncomingPolicy`], the same as otel-axum's. A
    /// public endpoint starts a new trace and links the caller's context.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_http::propagation::W3cTraceContextPropagator;
    /// use otel_tonic::{IncomingPolicy, OtelServerLayer};
    /// use std::convert::Infallible;
    /// use tower::{Layer as _, ServiceExt as _, service_fn};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let layer = OtelServerLayer::builder()
    ///     .tracer_provider(&provider)
    ///     .propagator(W3cTraceContextPropagator::new())
    ///     .incoming_policy(IncomingPolicy::new().public_endpoint())
    ///     .build();
    /// let svc = layer.layer(service_fn(|_req: http::Request<()>| async {
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// }));
    /// let request = http::Request::post("/shop.Payment/Charge")
    ///     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    ///     .body(())
    ///     .unwrap();
    /// drop(svc.oneshot(request).await.unwrap());
    /// let span = &spans.get_finished_spans().unwrap()[0];
    /// assert_ne!(span.span_context.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert_eq!(span.links.links[0].span_context.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// # }
    /// ```
    pub fn incoming_policy(mut self, policy: IncomingPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Full methods (`package.Service/Method`) that are neither traced nor
    /// measured, such as health checks. The layer leaves their calls as they
    /// are: a panic of theirs unwinds on, whatever
    /// [`catch_panics`](Self::catch_panics) says.
    ///
    /// ```
    /// use otel_tonic::OtelServerLayer;
    ///
    /// let layer = OtelServerLayer::builder()
    ///     .skip_methods(["grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch"])
    ///     .build();
    /// # let _ = layer;
    /// ```
    pub fn skip_methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.skip.extend(methods.into_iter().map(Into::into));
        self
    }

    /// Full methods (`package.Service/Method`) the server is known to serve:
    /// named from their first call (`rpc.method`, given when the span
    /// starts, where a sampler sees it), whatever its status.
    ///
    /// Given this list, the layer trusts it: another method is named only
    /// once a call of it succeeds, and a failed call before that is
    /// `_OTHER` (with `rpc.method_original`), as the semantic conventions
    /// ask when an instrumentation cannot tell whether a method exists.
    ///
    /// Without it, the layer learns that a method is served when a call of
    /// it succeeds. Until then a call answered `UNIMPLEMENTED` (tonic's
    /// answer for a path it has no service for) is `_OTHER`; other failed
    /// calls are named for the first 128 method paths the layer sees, and
    /// `_OTHER` past those (a status raised before tonic's router, by a
    /// layer between this one and it, says nothing of the path, and any
    /// path can be sent).
    ///
    /// A name may start with `/`; one that is not `package.Service/Method`
    /// (two non-empty parts of visible ASCII, at most 256 bytes) is
    /// ignored, and so are those past the 256 methods a layer keeps.
    ///
    /// ```
    /// use otel_tonic::OtelServerLayer;
    ///
    /// let layer = OtelServerLayer::builder()
    ///     .served_methods(["shop.Payment/Charge", "shop.Payment/Refund"])
    ///     .build();
    /// # let _ = layer;
    /// ```
    pub fn served_methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.served.extend(methods.into_iter().map(Into::into));
        self
    }

    /// Whether the layer answers a handler that panics (the default), or lets
    /// the panic unwind on through it (`false`). A panic of the handler's
    /// future or of its response stream (a streaming handler's, which runs
    /// as the response body is polled) is recorded either way:
    /// `rpc.status_code` `UNKNOWN`, `error.type` `panic`, the span's status
    /// an error with the panic's message. Answered, the client gets
    /// `UNKNOWN` (`handler panicked`): in a trailers-only response, or in
    /// the trailers after the messages already sent.
    ///
    /// ```
    /// use otel_tonic::OtelServerLayer;
    ///
    /// let layer = OtelServerLayer::builder().catch_panics(false).build();
    /// # let _ = layer;
    /// ```
    pub fn catch_panics(mut self, catch: bool) -> Self {
        self.catch_panics = catch;
        self
    }

    /// Records these request metadata keys as span attributes
    /// `rpc.request.metadata.<key>` (semconv 1.45's name), each a string
    /// array of every value the request carries; sampled spans only. Keys are
    /// lowercased; `authorization`, `proxy-authorization`, `cookie` and
    /// `set-cookie` are never recorded, even when listed (otel-http's
    /// [`NEVER_CAPTURED`](otel_http::headers::NEVER_CAPTURED)). A binary
    /// key (`-bin`) is recorded as it travels: the base64 text of its value.
    ///
    /// ```
    /// use opentelemetry::{Array, StringValue, Value};
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_tonic::OtelServerLayer;
    /// use std::convert::Infallible;
    /// use tower::{Layer as _, ServiceExt as _, service_fn};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let layer = OtelServerLayer::builder()
    ///     .tracer_provider(&provider)
    ///     .capture_request_metadata(["x-tenant", "authorization"]) // authorization: never
    ///     .build();
    /// let svc = layer.layer(service_fn(|_req: http::Request<()>| async {
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// }));
    /// let request = http::Request::post("/shop.Payment/Charge")
    ///     .header("x-tenant", "acme")
    ///     .header("authorization", "Bearer secret")
    ///     .body(())
    ///     .unwrap();
    /// drop(svc.oneshot(request).await.unwrap());
    /// let span = &spans.get_finished_spans().unwrap()[0];
    /// let tenant = span.attributes.iter().find(|kv| kv.key.as_str() == "rpc.request.metadata.x-tenant");
    /// assert_eq!(tenant.unwrap().value, Value::Array(Array::String(vec![StringValue::from("acme")])));
    /// assert!(!span.attributes.iter().any(|kv| kv.key.as_str().ends_with("authorization")));
    /// # }
    /// ```
    pub fn capture_request_metadata<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.request_metadata = otel_http::headers::allow_list(keys);
        self
    }

    /// Records these response metadata keys as span attributes
    /// `rpc.response.metadata.<key>`: the values of the response headers
    /// (initial metadata) then of the trailers (trailing metadata, such as
    /// an error status's), in one string array; sampled spans only. The same
    /// rules as [`capture_request_metadata`](Self::capture_request_metadata).
    ///
    /// ```
    /// use otel_tonic::OtelServerLayer;
    ///
    /// let layer = OtelServerLayer::builder()
    ///     .capture_response_metadata(["x-served-by"])
    ///     .build();
    /// # let _ = layer;
    /// ```
    pub fn capture_response_metadata<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.response_metadata = metadata::keys(keys);
        self
    }

    /// The layer.
    ///
    /// ```
    /// let layer: otel_tonic::OtelServerLayer = otel_tonic::OtelServerLayer::builder().build();
    /// # let _ = layer;
    /// ```
    pub fn build(self) -> OtelServerLayer {
        let global_tracer = self.tracer.is_none();
        let tracer = self
            .tracer
            .unwrap_or_else(|| global::tracer_provider().tracer_with_scope(scope()));
        let meter = self
            .meter
            .unwrap_or_else(|| global::meter_with_scope(scope()));
        let metrics = CallMetrics::server(&meter);
        let mut methods = Methods::server(metrics.clone());
        if !self.served.is_empty() {
            methods.only_proven();
        }
        for method in &self.served {
            methods.serve(method);
        }
        OtelServerLayer::from_config(ServerConfig {
            tracer,
            global_tracer,
            methods,
            metrics,
            addresses: Default::default(),
            // The global one held when it can be (see `owned_global`): no
            // lock per request.
            propagator: self
                .propagator
                .or_else(otel_http::propagation::owned_global),
            policy: self.policy,
            skip: self.skip,
            catch_panics: self.catch_panics,
            request_metadata: self.request_metadata,
            response_metadata: self.response_metadata,
        })
    }
}
