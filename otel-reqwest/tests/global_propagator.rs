//! otel-axum's layer and otel-reqwest's middleware, built without a
//! propagator of their own, use the global one: held from when they are
//! built if it is a composite of W3C propagators only (otel-init's default),
//! as the global tracer and meter are, so that no request reads
//! OpenTelemetry's lock around it; any other global propagator is looked up
//! on each request. One test: the global propagator is process-wide.

mod common;

use common::*;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::noop::NoopTextMapPropagator;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, global};
use otel_http::propagation::{PropagatorName, composite};
use otel_reqwest::OtelMiddleware;
use otel_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use otel_testing::InMemory;
use std::net::SocketAddr;

/// A server behind otel-axum's layer and a client with otel-reqwest's
/// middleware, on `memory`'s providers, each with the global propagator as
/// it is now.
async fn built(memory: &InMemory) -> (SocketAddr, ClientWithMiddleware) {
    let layer = otel_axum::OtelLayer::builder()
        .tracer_provider(&memory.tracer)
        .meter_provider(&memory.meters)
        .build();
    let middleware = OtelMiddleware::builder()
        .tracer_provider(&memory.tracer)
        .meter_provider(&memory.meters)
        .build();
    let addr = serve(service_b(layer)).await;
    (
        addr,
        ClientBuilder::new(plain_client()).with(middleware).build(),
    )
}

/// Whether a request, in a trace of the test's, joins the server's span to
/// the client's.
async fn joins(memory: &InMemory, (addr, client): &(SocketAddr, ClientWithMiddleware)) -> bool {
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
    otel_testing::server_joined_client(&memory.spans).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_w3c_global_propagator_is_held_from_the_build_and_any_other_looked_up_per_request() {
    // otel-init's propagators, global when they are built: held, so that
    // one set later does not change them.
    global::set_text_map_propagator(w3c());
    let memory = InMemory::new();
    let held = built(&memory).await;
    global::set_text_map_propagator(NoopTextMapPropagator::new());
    assert!(joins(&memory, &held).await, "held from the build");

    // None to hold when they are built: the global one of each request.
    let looked_up = built(&memory).await;
    assert!(!joins(&memory, &looked_up).await, "no propagator yet");
    global::set_text_map_propagator(w3c());
    assert!(joins(&memory, &looked_up).await, "set after the build");
    global::set_text_map_propagator(NoopTextMapPropagator::new());
    assert!(!joins(&memory, &looked_up).await, "taken away again");

    // A composite with other than W3C propagators cannot be held either.
    global::set_text_map_propagator(composite(&[PropagatorName::B3]));
    let with_b3 = built(&memory).await;
    assert!(joins(&memory, &with_b3).await, "B3 both ends");
    global::set_text_map_propagator(NoopTextMapPropagator::new());
    assert!(!joins(&memory, &with_b3).await, "B3 was not held");
}
