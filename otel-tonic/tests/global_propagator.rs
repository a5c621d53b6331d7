//! Layers built without a propagator of their own use the global one: held
//! from when they are built if it is otel-init's (a W3C composite), as the
//! global tracer and meter are, so that no call reads OpenTelemetry's lock
//! around it; any other global propagator is looked up on each call.
//! One test: the global propagator is process-wide.

mod common;

use common::*;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::noop::NoopTextMapPropagator;
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, global};
use otel_tonic::{OtelClientLayer, OtelServerLayer};

/// Layers of `telemetry`'s providers, with the global propagator.
fn layers(telemetry: &Telemetry) -> (OtelServerLayer, OtelClientLayer) {
    (
        OtelServerLayer::builder()
            .tracer_provider(&telemetry.tracer)
            .meter_provider(&telemetry.meters)
            .build(),
        OtelClientLayer::builder()
            .tracer_provider(&telemetry.tracer)
            .meter_provider(&telemetry.meters)
            .build(),
    )
}

/// Whether a call through these layers, in a trace of the test's, joins the
/// server's span to the client's.
async fn joined(
    telemetry: &Telemetry,
    (server, client_layer): (OtelServerLayer, OtelClientLayer),
) -> bool {
    let server = serve(server).await;
    let mut client = client(server.addr, client_layer).await;
    let parent = telemetry.tracer.tracer("test").start("parent");
    let cx = Context::current_with_span(parent);
    client
        .unary(request("ok"))
        .with_context(cx)
        .await
        .expect("call");
    let client_span = telemetry.span(SpanKind::Client, UNARY).await;
    let server_span = telemetry.span(SpanKind::Server, UNARY).await;
    server_span.parent_span_id == client_span.span_context.span_id()
        && server_span.span_context.trace_id() == client_span.span_context.trace_id()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otel_inits_global_propagator_is_held_from_the_build_and_any_other_looked_up_per_call() {
    // otel-init's propagator, global when the layers are built: held, so
    // that one set later does not change them.
    global::set_text_map_propagator(w3c());
    let held = Telemetry::new();
    let built = layers(&held);
    global::set_text_map_propagator(NoopTextMapPropagator::new());
    assert!(
        joined(&held, built).await,
        "the W3C propagators held from the build join the trace"
    );

    // No propagator to hold when they are built (none set yet, or one that
    // cannot be copied): the global one is looked up on each call.
    let looked_up = Telemetry::new();
    let built = layers(&looked_up);
    global::set_text_map_propagator(w3c());
    assert!(
        joined(&looked_up, built).await,
        "the propagator set after the build is used"
    );
}
