//! A request's span with a sampled parent lasts exactly the duration its
//! metric records: both come from the request's own monotonic clock readings
//! (`otel_http::clock`).

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http_body_util::BodyExt as _;
use otel_axum::OtelLayer;
use otel_testing::{InMemory, lasted};
use std::time::Duration;
use tower::ServiceExt as _;

#[tokio::test(flavor = "current_thread")]
async fn the_span_lasts_exactly_the_recorded_duration() {
    let memory = InMemory::new();
    let app = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                "done"
            }),
        )
        .layer(
            OtelLayer::builder()
                .tracer_provider(&memory.tracer)
                .meter_provider(&memory.meters)
                .propagator(otel_http::propagation::W3cTraceContextPropagator::new())
                .build(),
        );
    let request = http::Request::get("/slow")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("response");
    response.into_body().collect().await.expect("body");

    let span = memory.only_span();
    assert!(lasted(&span) >= Duration::from_millis(20), "{span:?}");
    assert_eq!(
        lasted(&span).as_secs_f64(),
        memory.histogram_sum("http.server.request.duration")
    );
}
