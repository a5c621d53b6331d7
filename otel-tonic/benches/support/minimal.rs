//! The least a server and a client layer written against the OpenTelemetry
//! API do to carry an unsampled trace through a call, with none of what
//! otel-tonic adds: the `minimal-declared` case of the unary bench, a lower
//! bound for any instrumentation that propagates.
//!
//! Each end holds the global tracer (as `opentelemetry::global::tracer` gives
//! it) and the SDK's `TraceContextPropagator`; starts one span, with a fixed
//! name (a real one is the method's) and no attribute; carries the context
//! over the call's future; ends the span when that future is ready (not when
//! the response body ends, as a streaming call needs). The server extracts
//! the caller's context from the headers, the client injects its own, as a
//! never-indexed header like otel-http's injector and the bench's
//! `bare-traceparent` floor. No metric, no status, no trust policy.

use opentelemetry::Context;
use opentelemetry::global::BoxedTracer;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt, Tracer};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, ready};

/// What both ends hold: the global tracer and the W3C propagator.
#[derive(Clone)]
struct Held {
    tracer: Arc<BoxedTracer>,
    propagator: Arc<TraceContextPropagator>,
}

impl Held {
    fn new() -> Self {
        Self {
            tracer: Arc::new(opentelemetry::global::tracer("minimal")),
            propagator: Arc::new(TraceContextPropagator::new()),
        }
    }

    /// A span of `kind`, child of `parent`, in a context of its own.
    fn start(&self, kind: SpanKind, parent: &Context) -> Context {
        let span = self
            .tracer
            .build_with_context(SpanBuilder::from_name("rpc").with_kind(kind), parent);
        parent.with_span(span)
    }
}

/// Which end a layer is.
#[derive(Clone, Copy)]
enum End {
    /// Extracts the caller's context, starts a SERVER span, runs the
    /// handler in its context.
    Server,
    /// Starts a CLIENT span in the current context, injects it.
    Client,
}

/// The layer of one end.
#[derive(Clone)]
pub struct MinimalLayer {
    held: Held,
    end: End,
}

impl MinimalLayer {
    /// The server's; built after the global tracer provider is set.
    pub fn server() -> Self {
        Self {
            held: Held::new(),
            end: End::Server,
        }
    }

    /// The client's; built after the global tracer provider is set.
    pub fn client() -> Self {
        Self {
            held: Held::new(),
            end: End::Client,
        }
    }
}

impl<S> tower::Layer<S> for MinimalLayer {
    type Service = Minimal<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Minimal {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Minimal<S> {
    inner: S,
    layer: MinimalLayer,
}

impl<S, B> tower::Service<http::Request<B>> for Minimal<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Ended<S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let held = &self.layer.held;
        let cx = match self.layer.end {
            End::Server => {
                let parent = held.propagator.extract(&Headers(request.headers()));
                held.start(SpanKind::Server, &parent)
            }
            End::Client => {
                let cx = held.start(SpanKind::Client, &Context::current());
                held.propagator
                    .inject_context(&cx, &mut HeadersMut(request.headers_mut()));
                cx
            }
        };
        let _attached = cx.clone().attach();
        Ended {
            inner: self.inner.call(request),
            cx,
        }
    }
}

pin_project_lite::pin_project! {
    /// The call's future, polled in the span's context; the span ends when
    /// it is ready.
    pub struct Ended<F> {
        #[pin]
        inner: F,
        cx: Context,
    }
}

impl<F: Future> Future for Ended<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, task: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _attached = this.cx.clone().attach();
        let output = ready!(this.inner.poll(task));
        this.cx.span().end();
        Poll::Ready(output)
    }
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct HeadersMut<'a>(&'a mut http::HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(mut value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::try_from(value),
        ) {
            value.set_sensitive(true);
            self.0.insert(name, value);
        }
    }
}
