//! [`OtelService`]: opens the server span around each call.

use crate::attributes::{RequestFacts, detail_attributes, sampling_attributes};
use crate::extract::SkippedByLayer;
use crate::finish::Finisher;
use crate::future::ResponseFuture;
use crate::layer::Config;
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Link, SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue, global};
use otel_http::sampling::SpanStart;
use std::borrow::Cow;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;
use tower::Service;

/// The service [`OtelLayer`](crate::OtelLayer) wraps around yours; you
/// rarely name it. It works on any `http` tower service, not only axum's
/// (without axum's `MatchedPath` the span is named `{method}` and has no
/// `http.route`):
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use otel_axum::{OtelBody, OtelLayer, OtelService};
/// use std::convert::Infallible;
/// use tower::{Layer as _, ServiceExt as _, service_fn};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let hello = service_fn(|_req: http::Request<()>| async {
///     Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"hello"))))
/// });
/// let service: OtelService<_> = OtelLayer::new().layer(hello);
/// let response: http::Response<OtelBody<Full<Bytes>>> =
///     service.oneshot(http::Request::new(())).await.unwrap();
/// assert_eq!(response.status(), 200);
/// # }
/// ```
#[derive(Clone)]
pub struct OtelService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> std::fmt::Debug for OtelService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelService").finish_non_exhaustive()
    }
}

impl<S> OtelService<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }
}

/// The span's name: the `span_name` hook's, or `{method} {route}`.
fn span_name(config: &Config, parts: &Parts, facts: &RequestFacts) -> Cow<'static, str> {
    match &config.span_name {
        Some(hook) => hook(parts).into(),
        None => facts.span_name(),
    }
}

/// The attributes a sampler may use, and the request hook's.
fn start_attributes(config: &Config, parts: &Parts, facts: &RequestFacts) -> Vec<KeyValue> {
    let mut attributes = sampling_attributes(parts, facts, &config.addresses);
    if let Some(hook) = &config.request_hook {
        attributes.extend(hook(parts));
    }
    attributes
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for OtelService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<crate::body::OtelBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let config = &self.config;
        if config.skipped(req.uri().path()) {
            // So that `TraceIds` can tell "skipped" from "no layer".
            req.extensions_mut().insert(SkippedByLayer);
            let fut = self.inner.call(req).with_context(Context::current());
            return ResponseFuture::new(fut, None, false);
        }
        let start = Instant::now();
        let (parts, body) = req.into_parts();

        let incoming = match &config.propagator {
            Some(p) => config.policy.extract(p.as_ref(), &parts),
            None => global::get_text_map_propagator(|p| config.policy.extract(p, &parts)),
        };
        let facts = RequestFacts::of(&parts);
        // A span the sampler is known to drop (an unsampled caller, at 10 %
        // sampling nine requests in ten) is started without the name and
        // attributes nobody would read.
        let mut span_start = SpanStart::new(&incoming.parent, SpanKind::Server, facts.method)
            .global_tracer(config.global_tracer)
            .started_at(start)
            .details_capacity(8);
        if let Some(link) = incoming.link {
            span_start = span_start.links(vec![Link::with_context(link)]);
        }
        let (cx, attributes) = span_start.start(&config.tracer, || {
            (
                span_name(config, &parts, &facts),
                start_attributes(config, &parts, &facts),
            )
        });
        if let Some(mut attributes) = attributes {
            detail_attributes(
                &parts,
                &facts,
                &config.request_headers,
                &config.redaction,
                &config.proxies,
                &config.addresses,
                &mut attributes,
            );
            cx.span().set_attributes(attributes);
        }
        let active = config.metrics.start_active(&facts);
        let request_bytes = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let finisher = Finisher::new(
            config.clone(),
            cx.clone(),
            facts,
            active,
            start,
            request_bytes,
        );
        let catch_panics = config.catch_panics;
        let request = Request::from_parts(parts, body);
        let fut = {
            let _attached = cx.clone().attach();
            self.inner.call(request)
        };
        ResponseFuture::new(fut.with_context(cx), Some(finisher), catch_panics)
    }
}
