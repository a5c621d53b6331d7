//! A request's span with a sampled parent lasts exactly the duration its
//! metric records: both come from the request's own monotonic clock readings
//! (`otel_http::clock`).

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http_body_util::BodyExt as _;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use otel_axum::OtelLayer;
use std::time::Duration;
use tower::ServiceExt as _;

#[tokio::test(flavor = "current_thread")]
async fn the_span_lasts_exactly_the_recorded_duration() {
    let spans = InMemorySpanExporter::default();
    let tracer = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let metrics = InMemoryMetricExporter::default();
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
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
                .tracer_provider(&tracer)
                .meter_provider(&meters)
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
        .filter(|m| m.name() == "http.server.request.duration")
        .map(|m| match m.data() {
            AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                h.data_points().map(|p| p.sum()).sum::<f64>()
            }
            _ => panic!("a histogram"),
        })
        .sum();
    assert_eq!(lasted.as_secs_f64(), recorded);
}
