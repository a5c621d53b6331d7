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
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
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

    let spans = InMemorySpanExporter::default();
    let tracer = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let metrics = InMemoryMetricExporter::default();
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    let client = reqwest_middleware::ClientBuilder::new(
        otel_reqwest::reqwest_client_builder()
            .no_proxy()
            .build()
            .expect("client"),
    )
    .with(
        otel_reqwest::OtelMiddleware::builder()
            .tracer_provider(&tracer)
            .meter_provider(&meters)
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

    let finished = spans.get_finished_spans().expect("spans");
    let [span] = finished.as_slice() else {
        panic!("one span: {finished:?}");
    };
    let lasted = span
        .end_time
        .duration_since(span.start_time)
        .expect("ends after it starts");
    assert!(lasted >= Duration::from_millis(20), "{lasted:?}");
    meters.force_flush().expect("flush");
    let exports = metrics.get_finished_metrics().expect("metrics");
    let recorded: f64 = exports
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .filter(|m| m.name() == "http.client.request.duration")
        .map(|m| match m.data() {
            AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                h.data_points().map(|p| p.sum()).sum::<f64>()
            }
            _ => panic!("a histogram"),
        })
        .sum();
    assert_eq!(lasted.as_secs_f64(), recorded);
}
