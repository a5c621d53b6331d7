//! [`OtelClientLayerBuilder`]: the client's options, with good defaults.

use super::config::ClientConfig;
use super::layer::OtelClientLayer;
use crate::metadata;
use crate::method::Methods;
use crate::method::Target;
use crate::metrics::CallMetrics;
use crate::scope::scope;
use http::HeaderName;
use opentelemetry::StringValue;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider;
use otel_http::trust::OutgoingPolicy;
use std::sync::Arc;

/// Builds an [`OtelClientLayer`]. Defaults: the global tracer, meter and
/// propagator; the context sent to every server; the target taken from the
/// request URI (tonic's generated clients leave it out unless built
/// `with_origin`: name it with [`target`](Self::target)).
///
/// ```
/// use otel_tonic::{OtelClientLayer, OutgoingPolicy};
///
/// let endpoint = tonic::transport::Endpoint::from_static("http://payment.internal:50051");
/// let layer = OtelClientLayer::builder()
///     .target(endpoint.uri())
///     .outgoing_policy(OutgoingPolicy::everywhere().baggage_only_to(["*.internal"]))
///     .build();
/// # let _ = layer;
/// ```
#[must_use]
#[derive(Default)]
pub struct OtelClientLayerBuilder {
    tracer: Option<BoxedTracer>,
    meter: Option<Meter>,
    propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    policy: Option<OutgoingPolicy>,
    target: Option<Target>,
    request_metadata: Vec<HeaderName>,
    response_metadata: metadata::Keys,
}

impl std::fmt::Debug for OtelClientLayerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelClientLayerBuilder")
            .field("policy", &self.policy)
            .field("target", &self.target)
            .field("request_metadata", &self.request_metadata)
            .field("response_metadata", &self.response_metadata)
            .finish_non_exhaustive()
    }
}

impl OtelClientLayerBuilder {
    /// Uses this tracer provider instead of the global one.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_tonic::OtelClientLayer;
    ///
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(InMemorySpanExporter::default()).build();
    /// let layer = OtelClientLayer::builder().tracer_provider(&provider).build();
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
    /// use otel_tonic::OtelClientLayer;
    ///
    /// let meters = SdkMeterProvider::builder().build(); // add a reader or exporter in real code
    /// let layer = OtelClientLayer::builder().meter_provider(&meters).build();
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
    /// use otel_tonic::OtelClientLayer;
    ///
    /// let layer = OtelClientLayer::builder().propagator(W3cTraceContextPropagator::new()).build();
    /// # let _ = layer;
    /// ```
    pub fn propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagator = Some(Arc::new(propagator));
        self
    }

    /// Which servers receive the context and the baggage: otel-http's
    /// [`OutgoingPolicy`], the same host allow-lists as otel-reqwest's. The
    /// host is the target's ([`target`](Self::target), or the request URI's);
    /// with a policy and no known host, nothing is sent.
    ///
    /// ```
    /// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    /// use opentelemetry::context::FutureExt as _;
    /// use otel_http::propagation::W3cTraceContextPropagator;
    /// use otel_tonic::{OtelClientLayer, OutgoingPolicy};
    /// use std::convert::Infallible;
    /// use tower::{Layer as _, ServiceExt as _, service_fn};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let caller = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
    ///     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
    ///     SpanId::from_hex("00f067aa0ba902b7").unwrap(),
    ///     TraceFlags::SAMPLED,
    ///     true,
    ///     TraceState::default(),
    /// ));
    /// let channel = service_fn(|req: http::Request<()>| async move {
    ///     assert!(!req.headers().contains_key("traceparent"), "outside the allow-list");
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// });
    /// let endpoint = tonic::transport::Endpoint::from_static("http://partner.example.com:443");
    /// let client = OtelClientLayer::builder()
    ///     .propagator(W3cTraceContextPropagator::new())
    ///     .target(endpoint.uri())
    ///     .outgoing_policy(OutgoingPolicy::everywhere().context_only_to(["*.internal"]))
    ///     .build()
    ///     .layer(channel);
    /// let request = http::Request::post("/partner.Api/Call").body(()).unwrap();
    /// client.oneshot(request).with_context(caller).await.unwrap();
    /// # }
    /// ```
    pub fn outgoing_policy(mut self, policy: OutgoingPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The server the channel talks to (`Endpoint::uri()`): `server.address`,
    /// `server.port` (the scheme's default when the URI has none), and the
    /// host the outgoing policy checks. A request URI with an authority
    /// takes precedence.
    ///
    /// ```
    /// use otel_tonic::OtelClientLayer;
    ///
    /// let endpoint = tonic::transport::Endpoint::from_static("https://payment.internal");
    /// let layer = OtelClientLayer::builder().target(endpoint.uri()).build(); // port 443
    /// # let _ = layer;
    /// ```
    pub fn target(mut self, uri: &http::Uri) -> Self {
        self.target = uri.host().map(|host| Target {
            address: StringValue::from(std::sync::Arc::<str>::from(host)),
            port: uri.port_u16().or(match uri.scheme_str() {
                Some("https") => Some(443),
                Some("http") => Some(80),
                _ => None,
            }),
        });
        self
    }

    /// Records these request metadata keys as span attributes
    /// `rpc.request.metadata.<key>` (semconv 1.45's name), each a string
    /// array of every value sent (the metadata after the context's
    /// injection); sampled spans only. Keys are lowercased;
    /// `authorization`, `proxy-authorization`, `cookie` and `set-cookie` are
    /// never recorded, even when listed (otel-http's
    /// [`NEVER_CAPTURED`](otel_http::headers::NEVER_CAPTURED)). A binary
    /// key (`-bin`) is recorded as it travels: the base64 text of its value.
    ///
    /// ```
    /// use opentelemetry::{Array, StringValue, Value};
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// use otel_tonic::OtelClientLayer;
    /// use std::convert::Infallible;
    /// use tower::{Layer as _, ServiceExt as _, service_fn};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let channel = service_fn(|_req: http::Request<()>| async {
    ///     let mut response = http::Response::new(http_body_util::Empty::<bytes::Bytes>::new());
    ///     response.headers_mut().insert("grpc-status", http::HeaderValue::from_static("0"));
    ///     Ok::<_, Infallible>(response)
    /// });
    /// let client = OtelClientLayer::builder()
    ///     .tracer_provider(&provider)
    ///     .capture_request_metadata(["x-tenant", "cookie"]) // cookie: never
    ///     .build()
    ///     .layer(channel);
    /// let request = http::Request::post("http://payment.internal/shop.Payment/Charge")
    ///     .header("x-tenant", "acme")
    ///     .header("cookie", "session=secret")
    ///     .body(())
    ///     .unwrap();
    /// drop(client.oneshot(request).await.unwrap());
    /// let span = &spans.get_finished_spans().unwrap()[0];
    /// let tenant = span.attributes.iter().find(|kv| kv.key.as_str() == "rpc.request.metadata.x-tenant");
    /// assert_eq!(tenant.unwrap().value, Value::Array(Array::String(vec![StringValue::from("acme")])));
    /// assert!(!span.attributes.iter().any(|kv| kv.key.as_str().ends_with("cookie")));
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
    /// use otel_tonic::OtelClientLayer;
    ///
    /// let layer = OtelClientLayer::builder()
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
    /// let layer: otel_tonic::OtelClientLayer = otel_tonic::OtelClientLayer::builder().build();
    /// # let _ = layer;
    /// ```
    pub fn build(self) -> OtelClientLayer {
        let global_tracer = self.tracer.is_none();
        let tracer = self
            .tracer
            .unwrap_or_else(|| global::tracer_provider().tracer_with_scope(scope()));
        let meter = self
            .meter
            .unwrap_or_else(|| global::meter_with_scope(scope()));
        let metrics = CallMetrics::client(&meter);
        OtelClientLayer::from_config(ClientConfig {
            tracer,
            global_tracer,
            methods: Methods::client(metrics.clone(), self.target.clone()),
            metrics,
            // The global one held when it can be (see `owned_global`): no
            // lock per request.
            propagator: self
                .propagator
                .or_else(otel_http::propagation::owned_global),
            policy: self.policy,
            target: self.target,
            request_metadata: self.request_metadata,
            response_metadata: self.response_metadata,
        })
    }
}
