//! Nanoseconds per event on the application thread: our JSON layer against
//! tracing-subscriber's own JSON formatter, both writing to `io::sink()`, in
//! the same run; then the same with the OpenTelemetry logs bridge on.
//!
//! Every event is `info!(amount = 42, card = "visa", "charged")` inside a
//! tracing span with two fields (`order`, `user`), under an OpenTelemetry
//! context with a sampled span, so that our layer writes the ids:
//!
//! - `formatter/*`: the span's context is attached through the OpenTelemetry
//!   API (as otel-axum does), no tracing-opentelemetry: the formatters alone,
//!   with their default span fields, then with none on either side.
//! - `otlp_bridge/*`: plus opentelemetry-appender-tracing's bridge to an SDK
//!   logger provider with a batch processor and an exporter that discards.
//! - `full_stack/*`: tracing-opentelemetry (which also records each event on
//!   the span), the bridge and the formatter, as `otel-init` installs them.
//! - `dev_null/*`: the formatters alone again, writing to `/dev/null` instead
//!   of `io::sink()`, so that each write is a real system call, as with a
//!   pipe or a file (Unix only).
//!
//! `cargo bench -p otel-logging --bench json_layer`; figures in
//! `docs/logging.md` (section "Cost").

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otel_logging::{Delivery, JsonLayer, LogTarget, LogWriter, SpanFields};
use std::hint::black_box;
use std::time::Duration;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug)]
struct DiscardingExporter;

impl LogExporter for DiscardingExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

fn logger_provider() -> SdkLoggerProvider {
    SdkLoggerProvider::builder()
        .with_batch_exporter(DiscardingExporter)
        .build()
}

fn ours(delivery: Delivery) -> (JsonLayer, LogWriter) {
    let layer = JsonLayer::builder()
        .service_name("bench")
        .target(LogTarget::Writer(Box::new(std::io::sink())))
        .delivery(delivery)
        .build()
        .expect("layer");
    let writer = layer.writer().clone();
    (layer, writer)
}

fn theirs<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_writer(std::io::sink)
}

/// Runs the event under `subscriber`, inside a span with an attached
/// OpenTelemetry context.
fn bench_event<S>(c: &mut Criterion, name: &str, tracer: &SdkTracerProvider, subscriber: S)
where
    S: Subscriber + Send + Sync + 'static,
{
    let _default = tracing::subscriber::set_default(subscriber);
    let otel_span = tracer.tracer("bench").start("request");
    let _cx = opentelemetry::Context::current_with_span(otel_span).attach();
    let span = tracing::info_span!("checkout", order = 7, user = "ann");
    let _entered = span.enter();
    c.bench_function(name, |b| {
        b.iter(|| tracing::info!(amount = 42, card = "visa", "charged"));
    });
}

fn report(name: &str, writer: &LogWriter) {
    writer.flush(Duration::from_secs(10));
    let stats = writer.stats();
    if stats.written == 0 {
        return; // filtered out
    }
    eprintln!(
        "{name}: {} lines written, {} dropped (buffer full)",
        stats.written, stats.dropped_full
    );
}

fn formatter(c: &mut Criterion) {
    let tracer = SdkTracerProvider::builder().build();

    let (layer, writer) = ours(Delivery::default());
    bench_event(
        c,
        "formatter/otel_logging_non_blocking",
        &tracer,
        tracing_subscriber::registry().with(layer),
    );
    report("formatter/otel_logging_non_blocking", &writer);

    let (layer, writer) = ours(Delivery::Blocking);
    bench_event(
        c,
        "formatter/otel_logging_blocking",
        &tracer,
        tracing_subscriber::registry().with(layer),
    );
    report("formatter/otel_logging_blocking", &writer);

    bench_event(
        c,
        "formatter/tracing_subscriber_json",
        &tracer,
        tracing_subscriber::registry().with(theirs()),
    );

    // Without the spans' fields on either side.
    let layer = JsonLayer::builder()
        .service_name("bench")
        .span_fields(SpanFields::None)
        .target(LogTarget::Writer(Box::new(std::io::sink())))
        .build()
        .expect("layer");
    let writer = layer.writer().clone();
    bench_event(
        c,
        "formatter/otel_logging_non_blocking_no_span_fields",
        &tracer,
        tracing_subscriber::registry().with(layer),
    );
    report(
        "formatter/otel_logging_non_blocking_no_span_fields",
        &writer,
    );
    bench_event(
        c,
        "formatter/tracing_subscriber_json_no_span_fields",
        &tracer,
        tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(false)
                .with_span_list(false)
                .with_writer(std::io::sink),
        ),
    );
}

fn otlp_bridge(c: &mut Criterion) {
    let tracer = SdkTracerProvider::builder().build();
    let logger = logger_provider();

    bench_event(
        c,
        "otlp_bridge/bridge_alone",
        &tracer,
        tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&logger)),
    );

    let (layer, writer) = ours(Delivery::default());
    bench_event(
        c,
        "otlp_bridge/otel_logging_non_blocking",
        &tracer,
        tracing_subscriber::registry()
            .with(OpenTelemetryTracingBridge::new(&logger))
            .with(layer),
    );
    report("otlp_bridge/otel_logging_non_blocking", &writer);

    bench_event(
        c,
        "otlp_bridge/tracing_subscriber_json",
        &tracer,
        tracing_subscriber::registry()
            .with(OpenTelemetryTracingBridge::new(&logger))
            .with(theirs()),
    );
    let _ = logger.shutdown();
}

fn full_stack(c: &mut Criterion) {
    let tracer = SdkTracerProvider::builder().build();
    let logger = logger_provider();
    let otel = || tracing_opentelemetry::layer().with_tracer(tracer.tracer("bench"));

    let (layer, writer) = ours(Delivery::default());
    bench_event(
        c,
        "full_stack/otel_logging_non_blocking",
        &tracer,
        tracing_subscriber::registry()
            .with(otel())
            .with(OpenTelemetryTracingBridge::new(&logger))
            .with(layer),
    );
    report("full_stack/otel_logging_non_blocking", &writer);

    bench_event(
        c,
        "full_stack/tracing_subscriber_json",
        &tracer,
        tracing_subscriber::registry()
            .with(otel())
            .with(OpenTelemetryTracingBridge::new(&logger))
            .with(theirs()),
    );
    let _ = logger.shutdown();
}

#[cfg(unix)]
fn dev_null(c: &mut Criterion) {
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .expect("/dev/null")
    };
    let tracer = SdkTracerProvider::builder().build();
    for (name, delivery) in [
        ("dev_null/otel_logging_non_blocking", Delivery::default()),
        ("dev_null/otel_logging_blocking", Delivery::Blocking),
    ] {
        let layer = JsonLayer::builder()
            .service_name("bench")
            .target(LogTarget::File("/dev/null".into()))
            .delivery(delivery)
            .build()
            .expect("layer");
        let writer = layer.writer().clone();
        bench_event(c, name, &tracer, tracing_subscriber::registry().with(layer));
        report(name, &writer);
    }
    let file = std::sync::Mutex::new(open());
    bench_event(
        c,
        "dev_null/tracing_subscriber_json",
        &tracer,
        tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().json().with_writer(file)),
    );
}

#[cfg(not(unix))]
fn dev_null(_: &mut Criterion) {}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = formatter, otlp_bridge, full_stack, dev_null
}
criterion_main!(benches);
