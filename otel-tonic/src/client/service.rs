//! [`OtelClientService`]: opens the CLIENT span around each call and
//! injects its context into the request metadata.

use super::config::ClientConfig;
use super::future::ResponseFuture;
use crate::call::{Call, Side};
use crate::code;
use crate::metadata;
use crate::method::{CallTarget, Method, Target};
use bytes::Bytes;
use http::{Request, Response};
use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue, StringValue};
use otel_http::sampling::SpanStart;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;
use tower::Service;

/// The service [`OtelClientLayer`](crate::OtelClientLayer) wraps around a
/// channel; a generated client takes it in place of the channel:
///
/// ```
/// use otel_tonic::{OtelClientLayer, OtelClientService};
/// use tonic::transport::{Channel, Endpoint};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let endpoint = Endpoint::from_static("http://payment.internal:50051");
/// let channel: Channel = endpoint.connect_lazy();
/// let traced: OtelClientService<Channel> = tower::ServiceBuilder::new()
///     .layer(OtelClientLayer::builder().target(endpoint.uri()).build())
///     .service(channel);
/// // let mut payment = PaymentClient::new(traced);
/// # let _ = traced;
/// # }
/// ```
#[derive(Clone)]
pub struct OtelClientService<S> {
    inner: S,
    config: Arc<ClientConfig>,
}

impl<S> std::fmt::Debug for OtelClientService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelClientService").finish_non_exhaustive()
    }
}

impl<S> OtelClientService<S> {
    pub(crate) fn new(inner: S, config: Arc<ClientConfig>) -> Self {
        Self { inner, config }
    }
}

/// The attributes a sampler may use: `rpc.system.name`, `rpc.method`
/// (with `rpc.method_original` when not recognised), `server.address` /
/// `server.port` of the target.
fn start_attributes(
    method: &Method,
    original: Option<&str>,
    target: Option<&Target>,
) -> Vec<KeyValue> {
    // The SDK keeps this vector as the span's attributes: room for those
    // added later (the status, `grpc.timeout`, `error.type`), so that a
    // sampled call does not grow it.
    let mut attributes = Vec::with_capacity(8);
    attributes.push(KeyValue::new("rpc.system.name", "grpc"));
    attributes.push(match method.full() {
        // The method's own `Arc`: no copy of the name per call.
        Some(m) => KeyValue::new("rpc.method", StringValue::from(m.clone())),
        None => KeyValue::new("rpc.method", "_OTHER"),
    });
    if let Some(original) = original {
        attributes.push(KeyValue::new("rpc.method_original", original.to_owned()));
    }
    if let Some(t) = target {
        attributes.push(KeyValue::new("server.address", t.address.clone()));
        if let Some(port) = t.port {
            attributes.push(KeyValue::new("server.port", i64::from(port)));
        }
    }
    attributes
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for OtelClientService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<crate::OtelBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let start = Instant::now();
        let config = &self.config;
        let (method, original) = config.methods.of_path(req.uri().path());
        let call_target = match (req.uri().authority(), &config.target) {
            (Some(a), _) => method.target(
                a.host(),
                a.port_u16().or(match req.uri().scheme_str() {
                    Some("https") => Some(443),
                    Some("http") => Some(80),
                    _ => None,
                }),
            ),
            (None, Some(layer)) => method.layer_target(layer),
            (None, None) => CallTarget::None,
        };
        let target = method.resolve(&call_target);
        let parent = Context::current();
        // A span the global sampler is declared to drop (inside an unsampled
        // server call, with otel-init's parent-based sampler) is started
        // without the name and attributes nobody would read.
        let (cx, details) = SpanStart::new(&parent, SpanKind::Client, "grpc")
            .global_tracer(config.global_tracer)
            .started_at(start)
            .start(&config.tracer, || {
                (
                    method.span_name(),
                    start_attributes(&method, original, target),
                )
            });
        let timeout = code::timeout(req.headers());
        let recording = details.is_some();
        if let Some(mut details) = details {
            if let Some(t) = timeout {
                details.push(KeyValue::new("grpc.timeout", t.as_secs_f64()));
            }
            if !details.is_empty() {
                cx.span().set_attributes(details);
            }
        }
        let host = target.map(|t| t.address.as_str());
        config.inject(&cx, host, req.headers_mut());
        // (otel-http's injector marks the traceparent never-indexed, so that
        // HTTP/2's header compression does not store a value new on every call.)
        if recording && !config.request_metadata.is_empty() {
            // After the injection: the metadata as it is sent.
            let mut captured = Vec::new();
            metadata::capture(
                &mut captured,
                metadata::REQUEST,
                req.headers(),
                &config.request_metadata,
            );
            if !captured.is_empty() {
                cx.span().set_attributes(captured);
            }
        }
        let mut call = Box::new(Call::new(
            cx,
            recording,
            &config.metrics,
            Side::Client,
            method,
            call_target,
            start,
            timeout,
        ));
        call.capture_response(&config.response_metadata);
        ResponseFuture::new(self.inner.call(req), call)
    }
}
