//! [`OtelClientLayer`].

use super::builder::OtelClientLayerBuilder;
use super::config::ClientConfig;
use super::service::OtelClientService;
use std::sync::Arc;
use tower::Layer;

/// Traces and measures every call made through the channel it wraps: a
/// CLIENT span per call (child of the current context, named by the full
/// method), its context injected into the request metadata, the deadline
/// (`grpc-timeout`) recorded, and `rpc.client.call.duration`.
///
/// ```
/// use opentelemetry::context::FutureExt as _;
/// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
/// use otel_tonic::OtelClientLayer;
/// use std::convert::Infallible;
/// use tower::{Layer as _, ServiceExt as _, service_fn};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let spans = InMemorySpanExporter::default();
/// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
/// let channel = service_fn(|req: http::Request<()>| async move {
///     // The server receives the CLIENT span's context in its metadata.
///     assert!(req.headers().contains_key("traceparent"));
///     let mut response = http::Response::new(http_body_util::Empty::<bytes::Bytes>::new());
///     response.headers_mut().insert("grpc-status", http::HeaderValue::from_static("0"));
///     Ok::<_, Infallible>(response)
/// });
/// opentelemetry::global::set_text_map_propagator(otel_http::propagation::W3cTraceContextPropagator::new());
/// let client = OtelClientLayer::builder().tracer_provider(&provider).build().layer(channel);
/// let request = http::Request::post("http://payment.internal:50051/shop.Payment/Charge").body(()).unwrap();
/// drop(client.oneshot(request).await.unwrap());
/// let span = &spans.get_finished_spans().unwrap()[0];
/// assert_eq!(span.name, "shop.Payment/Charge");
/// assert_eq!(span.span_kind, opentelemetry::trace::SpanKind::Client);
/// # }
/// ```
#[derive(Clone)]
pub struct OtelClientLayer {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for OtelClientLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelClientLayer")
            .field("policy", &self.config.policy.clone().unwrap_or_default())
            .field("target", &self.config.target)
            .finish_non_exhaustive()
    }
}

impl Default for OtelClientLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl OtelClientLayer {
    /// The layer with the defaults of [`OtelClientLayerBuilder`].
    ///
    /// ```
    /// let layer = otel_tonic::OtelClientLayer::new();
    /// # let _ = layer;
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the options (see [`OtelClientLayerBuilder`]).
    ///
    /// ```
    /// use otel_tonic::{OtelClientLayer, OutgoingPolicy};
    ///
    /// let endpoint = tonic::transport::Endpoint::from_static("http://payment.internal:50051");
    /// let layer = OtelClientLayer::builder()
    ///     .target(endpoint.uri())
    ///     .outgoing_policy(OutgoingPolicy::everywhere().context_only_to(["*.internal"]))
    ///     .build();
    /// # let _ = layer;
    /// ```
    pub fn builder() -> OtelClientLayerBuilder {
        OtelClientLayerBuilder::default()
    }

    pub(crate) fn from_config(config: ClientConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for OtelClientLayer {
    type Service = OtelClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OtelClientService::new(inner, self.config.clone())
    }
}
