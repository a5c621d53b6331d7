//! [`OtelServerService`]: opens the SERVER span around each call.

use super::config::ServerConfig;
use super::future::ResponseFuture;
use crate::call::{Call, Side};
use crate::code;
use crate::metadata;
use crate::method::CallTarget;
use bytes::Bytes;
use http::{Request, Response};
use opentelemetry::trace::{Link, SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue, StringValue, global};
use otel_http::sampling::SpanStart;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;
use tower::Service;

/// The service [`OtelServerLayer`](crate::OtelServerLayer) wraps around
/// yours; you rarely name it. Around a tonic service it is still a
/// `NamedService`, so it can be added to a server on its own:
///
/// ```
/// use otel_tonic::{OtelServerLayer, OtelServerService};
/// use tonic::server::NamedService;
/// use tower::Layer as _;
///
/// struct Payment; // stands for a generated `PaymentServer<T>`
/// impl NamedService for Payment {
///     const NAME: &'static str = "shop.Payment";
/// }
/// let traced: OtelServerService<Payment> = OtelServerLayer::new().layer(Payment);
/// assert_eq!(<OtelServerService<Payment> as NamedService>::NAME, "shop.Payment");
/// # let _ = traced;
/// ```
#[derive(Clone)]
pub struct OtelServerService<S> {
    inner: S,
    config: Arc<ServerConfig>,
}

impl<S> std::fmt::Debug for OtelServerService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelServerService").finish_non_exhaustive()
    }
}

impl<S> OtelServerService<S> {
    pub(crate) fn new(inner: S, config: Arc<ServerConfig>) -> Self {
        Self { inner, config }
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for OtelServerService<S> {
    const NAME: &'static str = S::NAME;
}

/// The peer of the connection, as tonic's server records it: its
/// `TcpConnectInfo` (also there on a server with tonic's own TLS), or
/// (feature `tls`) the one inside the `TlsConnectInfo`, all that tonic
/// records for the tokio-rustls streams of a server that terminates TLS
/// itself (`serve_with_incoming`).
#[cfg(feature = "transport")]
fn peer(parts: &http::request::Parts) -> Option<std::net::SocketAddr> {
    use tonic::transport::server::TcpConnectInfo;
    let tcp = parts.extensions.get::<TcpConnectInfo>();
    #[cfg(feature = "tls")]
    let tcp = tcp.or_else(|| {
        parts
            .extensions
            .get::<tonic::transport::server::TlsConnectInfo<TcpConnectInfo>>()
            .map(|tls| tls.get_ref())
    });
    tcp.and_then(TcpConnectInfo::remote_addr)
}

#[cfg(not(feature = "transport"))]
fn peer(_parts: &http::request::Parts) -> Option<std::net::SocketAddr> {
    None
}

/// The attributes of a typical sampled SERVER span: `rpc.system.name`,
/// `server.address`, `server.port`, `network.peer.address`,
/// `network.peer.port`, `rpc.status_code`, `rpc.method`, and one
/// of `error.type` or `grpc.timeout`.
const ATTRIBUTES: usize = 8;

/// The attributes given when the span starts, where a sampler can use them:
/// `rpc.system.name`, `server.address` / `server.port`, `network.peer.*`,
/// `grpc.timeout`, `rpc.method` of a method known to be served (a call of it
/// succeeded; otherwise it comes with the status, as only then is it known
/// whether the server recognised the method: tonic answers UNIMPLEMENTED),
/// and the original path of an unrecognised method. Made only for
/// a span the sampler is asked about (not for one known to be dropped), and
/// handed to the SDK as the span's own list: attributes set later each cost a
/// lock and a dynamic call.
fn start_attributes(
    parts: &http::request::Parts,
    config: &ServerConfig,
    served: Option<&Arc<str>>,
    original: Option<&str>,
    timeout: Option<std::time::Duration>,
) -> Vec<KeyValue> {
    // Room for those added later (the status, rpc.method, error.type), so
    // that a sampled call does not grow it.
    let mut attributes = Vec::with_capacity(ATTRIBUTES);
    attributes.push(KeyValue::new("rpc.system.name", "grpc"));
    if let Some((host, port)) = config.addresses.of_request(parts) {
        attributes.push(KeyValue::new("server.address", host));
        if let Some(port) = port {
            attributes.push(KeyValue::new("server.port", i64::from(port)));
        }
    }
    if let Some(peer) = peer(parts) {
        attributes.push(KeyValue::new(
            "network.peer.address",
            config.addresses.peer(peer.ip()),
        ));
        attributes.push(KeyValue::new("network.peer.port", i64::from(peer.port())));
    }
    if let Some(t) = timeout {
        attributes.push(KeyValue::new("grpc.timeout", t.as_secs_f64()));
    }
    if let Some(full) = served {
        attributes.push(KeyValue::new("rpc.method", StringValue::from(full.clone())));
    }
    if let Some(original) = original {
        attributes.push(KeyValue::new("rpc.method_original", original.to_owned()));
    }
    attributes
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for OtelServerService<S>
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

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let start = Instant::now();
        let config = &self.config;
        let (parts, body) = req.into_parts();
        let (method, original) = config.methods.of_path(parts.uri.path());
        if method.full().is_some_and(|m| config.skipped(m)) {
            let fut = self.inner.call(Request::from_parts(parts, body));
            return ResponseFuture::new(fut, Some(Context::current()), None, false);
        }
        let incoming = match &config.propagator {
            Some(p) => config.policy.extract(p.as_ref(), &parts),
            None => global::get_text_map_propagator(|p| config.policy.extract(p, &parts)),
        };
        // A span the global sampler is declared to drop (an unsampled
        // caller's, with otel-init's parent-based sampler) is started
        // without the name and attributes nobody would read.
        let mut span_start = SpanStart::new(&incoming.parent, SpanKind::Server, "grpc")
            .global_tracer(config.global_tracer)
            .started_at(start);
        if let Some(link) = incoming.link {
            span_start = span_start.links(vec![Link::with_context(link)]);
        }
        let timeout = code::timeout(&parts.headers);
        // Asked once: a call of the method may succeed meanwhile.
        let served = method.served();
        let (cx, details) = span_start.start(&config.tracer, || {
            (
                method.span_name(),
                start_attributes(
                    &parts,
                    config,
                    method.full().filter(|_| served),
                    original,
                    timeout,
                ),
            )
        });
        let recording = details.is_some();
        if let Some(mut details) = details {
            metadata::capture(
                &mut details,
                metadata::REQUEST,
                &parts.headers,
                &config.request_metadata,
            );
            if !details.is_empty() {
                cx.span().set_attributes(details);
            }
        }
        let mut call = Box::new(Call::new(
            cx,
            recording,
            &config.metrics,
            Side::Server,
            method,
            CallTarget::None,
            start,
            timeout,
        ));
        call.capture_response(&config.response_metadata);
        if served {
            call.method_given();
        }
        let request = Request::from_parts(parts, body);
        let fut = {
            let _attached = call.cx.clone().attach();
            self.inner.call(request)
        };
        ResponseFuture::new(fut, None, Some(call), config.catch_panics)
    }
}
