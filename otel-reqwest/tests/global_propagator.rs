//! otel-axum's layer and otel-reqwest's middleware, built without a
//! propagator of their own, use the global one: held from when they are
//! built if it is otel-init's (a W3C composite), as the global tracer and
//! meter are, so that no request reads OpenTelemetry's lock around it; any
//! other global propagator is looked up on each request. One test: the
//! global propagator is process-wide.

mod common;

use common::*;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::noop::NoopTextMapPropagator;
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, global};
use opentelemetry_sdk::trace::SpanData;
use otel_reqwest::OtelMiddleware;
use otel_reqwest::reqwest_middleware::ClientBuilder;
use otel_testing::InMemory;
use std::time::Duration;

/// The layer and the middleware on `memory`'s providers, with the global
/// propagator.
fn built(memory: &InMemory) -> (otel_axum::OtelLayer, OtelMiddleware) {
    (
        otel_axum::OtelLayer::builder()
            .tracer_provider(&memory.tracer)
            .meter_provider(&memory.meters)
            .build(),
        OtelMiddleware::builder()
            .tracer_provider(&memory.tracer)
            .meter_provider(&memory.meters)
            .build(),
    )
}

/// The first ended span of `kind`, waiting up to 5 s.
async fn ended(memory: &InMemory, kind: SpanKind) -> SpanData {
    for _ in 0..500 {
        let spans = memory.spans.get_finished_spans().unwrap_or_default();
        if let Some(span) = spans.into_iter().find(|s| s.span_kind == kind) {
            return span;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no {kind:?} span");
}

/// Whether a request through these, in a trace of the test's, joins the
/// server's span to the client's.
async fn joined(
    memory: &InMemory,
    (layer, middleware): (otel_axum::OtelLayer, OtelMiddleware),
) -> bool {
    let addr = serve(service_b(layer)).await;
    let client = ClientBuilder::new(plain_client()).with(middleware).build();
    let cx = Context::current_with_span(memory.tracer.tracer("test").start("parent"));
    client
        .get(format!("http://{addr}/echo/1"))
        .send()
        .with_context(cx)
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let client_span = ended(memory, SpanKind::Client).await;
    let server_span = ended(memory, SpanKind::Server).await;
    server_span.parent_span_id == client_span.span_context.span_id()
        && server_span.span_context.trace_id() == client_span.span_context.trace_id()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otel_inits_global_propagator_is_held_from_the_build_and_any_other_looked_up_per_request() {
    // otel-init's propagator, global when they are built: held, so that one
    // set later does not change them.
    global::set_text_map_propagator(w3c());
    let held = InMemory::new();
    let layers = built(&held);
    global::set_text_map_propagator(NoopTextMapPropagator::new());
    assert!(
        joined(&held, layers).await,
        "the W3C propagators held from the build join the trace"
    );

    // No propagator to hold when they are built (none set yet, or one that
    // cannot be copied): the global one is looked up on each request.
    let looked_up = InMemory::new();
    let layers = built(&looked_up);
    global::set_text_map_propagator(w3c());
    assert!(
        joined(&looked_up, layers).await,
        "the propagator set after the build is used"
    );
}
