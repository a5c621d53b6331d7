//! A call's span with a sampled parent lasts exactly the duration its metric
//! records: both come from the call's own monotonic clock readings
//! (`otel_http::clock`).

use axum::Router;
use axum::routing::get;
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use otel_testing::{InMemory, lasted};
use std::time::Duration;

#[tokio::test(flavor = "current_thread")]
async fn the_span_lasts_exactly_the_recorded_duration() {
    let app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            "done"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let memory = InMemory::new();
    let client = reqwest_middleware::ClientBuilder::new(
        otel_reqwest::reqwest_client_builder()
            .no_proxy()
            .build()
            .expect("client"),
    )
    .with(
        otel_reqwest::OtelMiddleware::builder()
            .tracer_provider(&memory.tracer)
            .meter_provider(&memory.meters)
            .build(),
    )
    .build();
    let parent = Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(7u128),
        SpanId::from(9u64),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    ));
    let response = client
        .get(format!("http://{addr}/slow"))
        .send()
        .with_context(parent)
        .await
        .expect("response");
    assert_eq!(response.text().await.expect("body"), "done");
    server.abort();

    let span = memory.only_span();
    assert!(lasted(&span) >= Duration::from_millis(20), "{span:?}");
    assert_eq!(
        lasted(&span).as_secs_f64(),
        memory.histogram_sum("http.client.request.duration")
    );
}
