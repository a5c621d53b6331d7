//! opentelemetry-otlp's own exporters, added with `with_span_exporter`,
//! `with_log_exporter` and `with_metric_exporter` instead of the built-in
//! OTLP client, deliver every signal through the real rotel collector; the
//! guard flushes and shuts them down within its deadline.

use opentelemetry_otlp::WithExportConfig as _;
use otel_init::opentelemetry::KeyValue;
use otel_init::opentelemetry::metrics::MeterProvider as _;
use otel_init::{Telemetry, TelemetryGuard};
use otel_testing::{ThroughRotel, attr};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt as _;

/// The service's telemetry: opentelemetry-otlp's gRPC exporters to `endpoint`,
/// every built-in exporter off.
fn telemetry(endpoint: &str) -> TelemetryGuard {
    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .expect("span exporter");
    let logs = opentelemetry_otlp::LogExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .expect("log exporter");
    let metrics = opentelemetry_otlp::MetricExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .expect("metric exporter");
    Telemetry::builder_from_env(&[
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .service_name("extensions-otlp")
    .with_span_exporter(spans)
    .with_log_exporter(logs)
    .with_metric_exporter(metrics)
    .without_globals()
    .build()
    .expect("init")
}

#[test]
fn opentelemetry_otlp_exporters_deliver_every_signal_through_rotel() {
    let Some(ThroughRotel { rotel, receiver }) = ThroughRotel::start(2) else {
        return;
    };
    let endpoint = rotel.grpc_endpoint();
    // tonic's channel needs a Tokio runtime when it is made and while it
    // exports (the SDK's batch threads drive it): the service's own runtime.
    let app = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let guard = app.block_on(async { telemetry(&endpoint) });

    let subscriber = tracing_subscriber::registry().with(guard.layer());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("checkout", order = 42).in_scope(|| {
            tracing::warn!(items = 3, "cart is large");
        });
    });
    let meter = guard.meter_provider().expect("a metric exporter was added");
    meter
        .meter("tests")
        .u64_counter("test.orders")
        .build()
        .add(1, &[KeyValue::new("payment.method", "card")]);

    // The shutdown flushes all three within its deadline.
    let report = guard.shutdown();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.export.traces.exported, 1);
    assert_eq!(report.export.logs.exported, 1);

    let arrived = receiver.wait_for(Duration::from_secs(15), |r| {
        !r.spans().is_empty()
            && !r.log_records().is_empty()
            && r.metric_names().contains(&"test.orders".to_owned())
    });
    assert!(
        arrived,
        "spans {:?}, logs {}, metrics {:?}; rotel said: {}",
        receiver.spans().len(),
        receiver.log_records().len(),
        receiver.metric_names(),
        rotel.log()
    );
    let span = receiver.spans().remove(0);
    assert_eq!(span.name, "checkout");
    let record = receiver.log_records().remove(0);
    assert_eq!(record.trace_id, span.trace_id, "the record names its span");
    let (resource, _, _) = receiver.spans_with_resource().remove(0);
    assert_eq!(
        attr(&resource, "service.name").as_deref(),
        Some("extensions-otlp")
    );
    drop(app);
}
