//! [`OtelServerLayer`].

use super::builder::OtelServerLayerBuilder;
use super::config::ServerConfig;
use super::service::OtelServerService;
use std::sync::Arc;
use tower::Layer;

/// Traces and measures every call of the gRPC services it wraps: a SERVER
/// span per call named by the full method (`package.Service/Method`), ended
/// when the response stream ends, and `rpc.server.call.duration`.
///
/// Add it to the whole server with `tonic::transport::Server::builder().layer(..)`,
/// or wrap one service (the wrapped service is still a `NamedService`):
///
/// ```
/// use otel_tonic::OtelServerLayer;
///
/// // After otel_init::init_telemetry(): the layer uses the global providers.
/// let router = tonic::transport::Server::builder()
///     .layer(OtelServerLayer::new())
///     .add_routes(tonic::service::Routes::default()); // or .add_service(PaymentServer::new(..))
/// // router.serve(addr).await
/// # let _ = router;
/// ```
///
/// It works on any `http` tower service that speaks gRPC:
///
/// ```
/// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
/// use otel_tonic::OtelServerLayer;
/// use std::convert::Infallible;
/// use tower::{Layer as _, ServiceExt as _, service_fn};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let spans = InMemorySpanExporter::default();
/// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
/// let grpc = service_fn(|_req: http::Request<()>| async {
///     // A trailers-only response, as tonic writes it for an error status.
///     let mut response = http::Response::new(http_body_util::Empty::<bytes::Bytes>::new());
///     response.headers_mut().insert("grpc-status", http::HeaderValue::from_static("5"));
///     Ok::<_, Infallible>(response)
/// });
/// let svc = OtelServerLayer::builder().tracer_provider(&provider).build().layer(grpc);
/// let response = svc.oneshot(http::Request::post("/shop.Payment/Charge").body(()).unwrap()).await.unwrap();
/// drop(response); // the span ends with the response stream
/// let span = &spans.get_finished_spans().unwrap()[0];
/// assert_eq!(span.name, "shop.Payment/Charge");
/// assert_eq!(span.span_kind, opentelemetry::trace::SpanKind::Server);
/// let status = span.attributes.iter().find(|kv| kv.key.as_str() == "rpc.status_code");
/// assert_eq!(status.unwrap().value.as_str(), "NOT_FOUND");
/// assert_eq!(span.status, opentelemetry::trace::Status::Unset); // NOT_FOUND is the caller's error
/// # }
/// ```
#[derive(Clone)]
pub struct OtelServerLayer {
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for OtelServerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelServerLayer")
            .field("policy", &self.config.policy)
            .field("skip", &self.config.skip)
            .field("catch_panics", &self.config.catch_panics)
            .finish_non_exhaustive()
    }
}

impl Default for OtelServerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl OtelServerLayer {
    /// The layer with the defaults of [`OtelServerLayerBuilder`]: the global
    /// tracer, meter and propagator (build it after `otel_init::init_telemetry()`).
    ///
    /// ```
    /// let layer = otel_tonic::OtelServerLayer::new();
    /// # let _ = layer;
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the options (see [`OtelServerLayerBuilder`]).
    ///
    /// ```
    /// use otel_tonic::{IncomingPolicy, OtelServerLayer};
    ///
    /// let layer = OtelServerLayer::builder()
    ///     .incoming_policy(IncomingPolicy::new().public_endpoint())
    ///     .skip_methods(["grpc.health.v1.Health/Check"])
    ///     .build();
    /// # let _ = layer;
    /// ```
    pub fn builder() -> OtelServerLayerBuilder {
        OtelServerLayerBuilder::default()
    }

    pub(crate) fn from_config(config: ServerConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for OtelServerLayer {
    type Service = OtelServerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OtelServerService::new(inner, self.config.clone())
    }
}
