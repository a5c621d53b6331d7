//! Layers built without a propagator of their own use the global one: held
//! from when they are built if it is a composite of W3C propagators only
//! (otel-init's default), as the global tracer and meter are, so that no
//! call reads OpenTelemetry's lock around it; any other global propagator is
//! looked up on each call. One test: the global propagator is process-wide.

mod common;

use common::*;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::noop::NoopTextMapPropagator;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, global};
use otel_http::propagation::{PropagatorName, composite};
use otel_tonic::{OtelClientLayer, OtelClientService, OtelServerLayer};
use tonic::transport::Channel;

/// A server and a client of `telemetry`'s providers, each with the global
/// propagator as it is now.
struct Pair {
    _server: TestServer,
    client: EchoClient<OtelClientService<Channel>>,
}

async fn built(telemetry: &Telemetry) -> Pair {
    let server = serve(
        OtelServerLayer::builder()
            .tracer_provider(&telemetry.tracer)
            .meter_provider(&telemetry.meters)
            .build(),
    )
    .await;
    let client_layer = OtelClientLayer::builder()
        .tracer_provider(&telemetry.tracer)
        .meter_provider(&telemetry.meters)
        .build();
    let client = client(server.addr, client_layer).await;
    Pair {
        _server: server,
        client,
    }
}

/// Whether a call, in a trace of the test's, joins the server's span to the
/// client's.
async fn joins(telemetry: &Telemetry, pair: &mut Pair) -> bool {
    let cx = Context::current_with_span(telemetry.tracer.tracer("test").start("parent"));
    pair.client
        .unary(request("ok"))
        .with_context(cx)
        .await
        .expect("call");
    otel_testing::server_joined_client(&telemetry.spans).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_w3c_global_propagator_is_held_from_the_build_and_any_other_looked_up_per_call() {
    // otel-init's propagators, global when the layers are built: held, so
    // that one set later does not change them.
    global::set_text_map_propagator(w3c());
    let telemetry = Telemetry::new();
    let mut held = built(&telemetry).await;
    global::set_text_map_propagator(NoopTextMapPropagator::new());
    assert!(joins(&telemetry, &mut held).await, "held from the build");

    // None to hold when they are built: the global one of each call.
    let mut looked_up = built(&telemetry).await;
    assert!(
        !joins(&telemetry, &mut looked_up).await,
        "no propagator yet"
    );
    global::set_text_map_propagator(w3c());
    assert!(
        joins(&telemetry, &mut looked_up).await,
        "set after the build"
    );
    global::set_text_map_propagator(NoopTextMapPropagator::new());
    assert!(!joins(&telemetry, &mut looked_up).await, "taken away again");

    // A composite with other than W3C propagators cannot be held either.
    global::set_text_map_propagator(composite(&[PropagatorName::B3]));
    let mut with_b3 = built(&telemetry).await;
    assert!(joins(&telemetry, &mut with_b3).await, "B3 both ends");
    global::set_text_map_propagator(NoopTextMapPropagator::new());
    assert!(!joins(&telemetry, &mut with_b3).await, "B3 was not held");
}
