//! Exporters, processors and readers added in code (`with_span_exporter` and
//! its siblings): next to the built-in pipelines and instead of them, with
//! the built-in pipeline's sampler, limits, resource and `tracing` bridge,
//! and flushed and shut down within the guard's one deadline.

mod common;

use common::{Harness, emit_all_signals};
use otel_init::opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _};
use otel_init::opentelemetry::metrics::MeterProvider as _;
use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
use otel_init::opentelemetry_sdk::error::OTelSdkResult;
use otel_init::opentelemetry_sdk::logs::{InMemoryLogExporter, SimpleLogProcessor};
use otel_init::opentelemetry_sdk::metrics::{InMemoryMetricExporter, ManualReader};
use otel_init::opentelemetry_sdk::trace::{
    InMemorySpanExporter, SimpleSpanProcessor, SpanData, SpanExporter,
};
use otel_init::{Telemetry, TelemetryBuilder, TelemetryGuard};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every built-in exporter off.
const NONE: [(&str, &str); 3] = [
    ("OTEL_TRACES_EXPORTER", "none"),
    ("OTEL_METRICS_EXPORTER", "none"),
    ("OTEL_LOGS_EXPORTER", "none"),
];

/// A builder that exports every signal over OTLP/gRPC to `h`'s receiver.
fn otlp_to(h: &Harness) -> TelemetryBuilder {
    let endpoint = h.receiver.grpc_endpoint();
    Telemetry::builder_from_env(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
    ])
    .without_globals()
}

fn metric_names(exporter: &InMemoryMetricExporter) -> Vec<String> {
    let exported = exporter.get_finished_metrics().expect("metrics");
    exported
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .map(|m| m.name().to_owned())
        .collect()
}

#[test]
fn an_added_span_exporter_runs_next_to_the_built_in_one() {
    let h = Harness::start();
    let added = InMemorySpanExporter::default();
    let guard = otlp_to(&h)
        .with_span_exporter(added.clone())
        .build()
        .expect("init");
    emit_all_signals(&guard);
    guard.force_flush().expect("flush");
    let names: Vec<String> = added
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .map(|s| s.name.into_owned())
        .collect();
    assert_eq!(names, ["load_cart", "checkout"]);
    h.wait_until("both spans at the collector", |r| r.spans().len() == 2);
    let report = guard.shutdown();
    assert!(report.is_clean(), "{report:?}");
    // Two spans through each exporter.
    assert_eq!(report.export.traces.exported, 4);
}

#[test]
fn instead_of_the_built_in_exporter_the_pipeline_keeps_sampler_limits_resource_and_bridge() {
    let added = InMemorySpanExporter::default();
    let guard = Telemetry::builder_from_env(&[
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "1"),
        // Children of a sampled parent only: an unsampled root is dropped.
        ("OTEL_TRACES_SAMPLER", "parentbased_always_off"),
    ])
    .service_name("extensions-test")
    .with_span_exporter(added.clone())
    .without_globals()
    .build()
    .expect("init");
    // The tracing bridge exists although no built-in exporter does.
    emit_all_signals(&guard);
    let tracer = guard.tracer_provider().expect("enabled").tracer("test");
    tracer.in_span("unsampled", |_| {});
    guard.force_flush().expect("flush");
    assert!(added.get_finished_spans().expect("spans").is_empty());

    let guard2 = Telemetry::builder_from_env(&[
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "1"),
        ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3"),
    ])
    .service_name("extensions-test")
    .with_span_exporter(added.clone())
    .without_globals()
    .build()
    .expect("init");
    emit_all_signals(&guard2);
    let tracer = guard2.tracer_provider().expect("enabled").tracer("test");
    tracer.in_span("noted", |cx| {
        use otel_init::opentelemetry::trace::TraceContextExt as _;
        cx.span()
            .set_attribute(otel_init::opentelemetry::KeyValue::new("note", "abcdefgh"));
    });
    guard2.force_flush().expect("flush");
    let spans = added.get_finished_spans().expect("spans");
    let checkout: &SpanData = spans
        .iter()
        .find(|s| s.name == "checkout")
        .expect("the tracing span reached the added exporter");
    // Our limits: one attribute kept, the others counted as dropped...
    assert_eq!(checkout.attributes.len(), 1, "{:?}", checkout.attributes);
    assert!(checkout.dropped_attributes_count > 0);
    // ...and string values cut to 3 characters.
    let long = spans
        .iter()
        .flat_map(|s| &s.attributes)
        .find(|kv| matches!(&kv.value, otel_init::opentelemetry::Value::String(v) if v.as_str().chars().count() > 3));
    assert!(long.is_none(), "{long:?}");
    let noted = spans.iter().find(|s| s.name == "noted").expect("noted");
    assert_eq!(noted.attributes[0].value.as_str(), "abc");
    let report = guard2.shutdown();
    assert_eq!(report.export.traces.exported, 3);
    drop(guard);
}

#[test]
fn an_added_span_exporter_gets_the_resource() {
    let added = InMemorySpanExporter::default();
    let guard = Telemetry::builder_from_env(&NONE)
        .service_name("resource-test")
        .with_span_exporter(added.clone())
        .without_globals()
        .build()
        .expect("init");
    let tracer = guard.tracer_provider().expect("enabled").tracer("test");
    tracer.in_span("work", |_| {});
    guard.force_flush().expect("flush");
    assert_eq!(added.get_finished_spans().expect("spans").len(), 1);
    // The in-memory exporter keeps the resource it was given.
    let debug = format!("{added:?}");
    assert!(debug.contains("resource-test"), "{debug}");
    assert!(guard.shutdown().is_clean());
}

#[test]
fn an_added_span_processor_sees_start_and_end() {
    let added = InMemorySpanExporter::default();
    let guard = Telemetry::builder_from_env(&NONE)
        .with_span_processor(SimpleSpanProcessor::new(added.clone()))
        .without_globals()
        .build()
        .expect("init");
    let tracer = guard.tracer_provider().expect("enabled").tracer("test");
    tracer.in_span("work", |_| {});
    // The simple processor exports as each span ends, without a flush.
    assert_eq!(added.get_finished_spans().expect("spans").len(), 1);
    assert!(guard.shutdown().completed);
}

#[test]
fn added_span_exporters_get_what_tail_sampling_keeps() {
    use otel_init::opentelemetry::trace::{Span as _, Status};
    let added = InMemorySpanExporter::default();
    let guard = Telemetry::builder_from_env(&[
        ("OTEL_TRACES_SAMPLER", "always_off"),
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .tail_sampling(otel_init::sampling::TailSampling::new())
    .with_span_exporter(added.clone())
    .without_globals()
    .build()
    .expect("init");
    let tracer = guard.tracer_provider().expect("enabled").tracer("test");
    tracer.in_span("fine", |_| {});
    let mut failed = tracer.start("failed");
    failed.set_status(Status::error("boom"));
    failed.end();
    guard.force_flush().expect("flush");
    let names: Vec<String> = added
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .map(|s| s.name.into_owned())
        .collect();
    assert_eq!(names, ["failed"]);
    assert!(guard.shutdown().is_clean());
}

fn emit_log(guard: &TelemetryGuard, body: &'static str) {
    let logger = guard.logger_provider().expect("logs are on").logger("test");
    let mut record = logger.create_log_record();
    record.set_body(body.into());
    logger.emit(record);
}

fn bodies(exporter: &InMemoryLogExporter) -> Vec<Option<AnyValue>> {
    exporter
        .get_emitted_logs()
        .expect("logs")
        .into_iter()
        .map(|l| l.record.body().cloned())
        .collect()
}

#[test]
fn an_added_log_exporter_runs_next_to_the_built_in_one() {
    let h = Harness::start();
    let added = InMemoryLogExporter::default();
    let guard = otlp_to(&h)
        .with_log_exporter(added.clone())
        .build()
        .expect("init");
    emit_all_signals(&guard);
    guard.force_flush().expect("flush");
    assert_eq!(added.get_emitted_logs().expect("logs").len(), 1);
    h.wait_until("the record at the collector", |r| {
        r.log_records().len() == 1
    });
    let report = guard.shutdown();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.export.logs.exported, 2);
}

#[test]
fn an_added_log_exporter_alone_gets_the_tracing_events() {
    let added = InMemoryLogExporter::default();
    let guard = Telemetry::builder_from_env(&NONE)
        .with_log_exporter(added.clone())
        .without_globals()
        .build()
        .expect("init");
    emit_all_signals(&guard); // a tracing event, through the log bridge
    guard.force_flush().expect("flush");
    let logs = added.get_emitted_logs().expect("logs");
    assert_eq!(logs.len(), 1);
    assert!(
        logs[0].record.trace_context().is_some(),
        "the record names its span"
    );
    assert!(guard.shutdown().is_clean());
}

#[test]
fn an_added_log_processor_after_the_built_in_one_sees_the_whole_record() {
    // The built-in processor takes the record when it is the last one.
    let h = Harness::start();
    let added = InMemoryLogExporter::default();
    let guard = otlp_to(&h)
        .with_log_processor(SimpleLogProcessor::new(added.clone()))
        .build()
        .expect("init");
    emit_log(&guard, "order placed");
    assert_eq!(bodies(&added), [Some(AnyValue::from("order placed"))]);
    guard.force_flush().expect("flush");
    h.wait_until("the record at the collector", |r| {
        r.log_records().len() == 1
    });
    assert!(guard.shutdown().is_clean());
}

#[test]
fn added_metric_exporters_and_readers_read_the_same_instruments() {
    let h = Harness::start();
    let pushed = InMemoryMetricExporter::default();
    let reader = SharedReader(Arc::new(ManualReader::builder().build()));
    let guard = otlp_to(&h)
        .with_metric_exporter(pushed.clone())
        .with_metric_reader(reader.clone())
        .build()
        .expect("init");
    emit_all_signals(&guard);
    guard.force_flush().expect("flush");
    assert_eq!(metric_names(&pushed), ["test.orders"]);
    let mut collected = otel_init::opentelemetry_sdk::metrics::data::ResourceMetrics::default();
    use otel_init::opentelemetry_sdk::metrics::reader::MetricReader as _;
    reader.collect(&mut collected).expect("collect");
    assert_eq!(
        collected.scope_metrics().flat_map(|s| s.metrics()).count(),
        1
    );
    h.wait_until("the metric at the collector", |r| {
        r.metric_names().contains(&"test.orders".to_owned())
    });
    assert!(guard.shutdown().is_clean());
}

#[test]
fn an_added_metric_exporter_alone_makes_the_meter_provider() {
    let pushed = InMemoryMetricExporter::default();
    let guard = Telemetry::builder_from_env(&NONE)
        .with_metric_exporter(pushed.clone())
        .without_globals()
        .build()
        .expect("init");
    let meter = guard.meter_provider().expect("a metric exporter was added");
    meter
        .meter("test")
        .u64_counter("orders")
        .build()
        .add(1, &[]);
    // The periodic reader collects once more at shutdown.
    assert!(guard.shutdown().is_clean());
    assert_eq!(metric_names(&pushed), ["orders"]);
}

#[test]
fn sdk_disabled_drops_what_was_added() {
    let added = InMemorySpanExporter::default();
    let guard = Telemetry::builder_from_env(&[("OTEL_SDK_DISABLED", "true")])
        .with_span_exporter(added.clone())
        .with_log_exporter(InMemoryLogExporter::default())
        .with_metric_exporter(InMemoryMetricExporter::default())
        .without_globals()
        .build()
        .expect("init");
    assert!(guard.tracer_provider().is_none());
    assert!(guard.logger_provider().is_none());
    assert!(guard.meter_provider().is_none());
}

/// A ManualReader the test can also collect from.
#[derive(Debug, Clone)]
struct SharedReader(Arc<ManualReader>);

impl otel_init::opentelemetry_sdk::metrics::reader::MetricReader for SharedReader {
    fn register_pipeline(
        &self,
        pipeline: std::sync::Weak<otel_init::opentelemetry_sdk::metrics::Pipeline>,
    ) {
        self.0.register_pipeline(pipeline)
    }
    fn collect(
        &self,
        rm: &mut otel_init::opentelemetry_sdk::metrics::data::ResourceMetrics,
    ) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(
        &self,
        kind: otel_init::opentelemetry_sdk::metrics::InstrumentKind,
    ) -> otel_init::opentelemetry_sdk::metrics::Temporality {
        self.0.temporality(kind)
    }
}

/// A span exporter that records its calls, and may block forever in one.
#[derive(Debug, Clone, Default)]
struct Recording {
    calls: Arc<Mutex<Vec<String>>>,
    block_in: Option<&'static str>,
}

impl Recording {
    fn blocking_in(call: &'static str) -> Self {
        Self {
            block_in: Some(call),
            ..Self::default()
        }
    }

    fn record(&self, call: &str) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call.to_owned());
        }
        if self.block_in == Some(call) {
            loop {
                std::thread::park();
            }
        }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl SpanExporter for Recording {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.record(&format!("export {}", batch.len()));
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.record("shutdown");
        Ok(())
    }
}

#[test]
fn an_added_exporter_exports_then_shuts_down() {
    let recording = Recording::default();
    let guard = Telemetry::builder_from_env(&NONE)
        .with_span_exporter(recording.clone())
        .without_globals()
        .build()
        .expect("init");
    let tracer = guard.tracer_provider().expect("enabled").tracer("test");
    tracer.in_span("work", |_| {});
    let report = guard.shutdown();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(recording.calls(), ["export 1", "shutdown"]);
}

#[test]
fn an_added_exporter_that_blocks_in_shutdown_does_not_hold_up_the_guard() {
    let timeout = Duration::from_secs(1);
    let blocking = Recording::blocking_in("shutdown");
    let h = Harness::start();
    let guard = otlp_to(&h)
        .with_span_exporter(blocking.clone())
        .shutdown_timeout(timeout)
        .build()
        .expect("init");
    emit_all_signals(&guard);
    let start = Instant::now();
    let report = guard.shutdown();
    let elapsed = start.elapsed();
    // Bounded by the deadline (with room for a loaded machine), not forever.
    assert!(
        elapsed < timeout + Duration::from_secs(2),
        "took {elapsed:?}"
    );
    assert!(!report.completed, "{report:?}");
    let named = report
        .errors
        .iter()
        .any(|e| e.contains("with_span_exporter(") && e.contains("did not finish"));
    assert!(named, "{report:?}");
    // The built-in pipeline delivered everything first.
    assert_eq!(h.receiver.spans().len(), 2);
    assert_eq!(h.receiver.log_records().len(), 1);
    assert_eq!(blocking.calls(), ["export 2", "shutdown"]);
}

/// A span processor whose flush never returns.
#[derive(Debug)]
struct StuckFlush;

impl otel_init::opentelemetry_sdk::trace::SpanProcessor for StuckFlush {
    fn on_start(
        &self,
        _span: &mut otel_init::opentelemetry_sdk::trace::Span,
        _cx: &otel_init::opentelemetry::Context,
    ) {
    }
    fn on_end(&self, _span: SpanData) {}
    fn force_flush(&self) -> OTelSdkResult {
        loop {
            std::thread::park();
        }
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[test]
fn a_stuck_added_processor_does_not_hold_up_force_flush() {
    let timeout = Duration::from_secs(1);
    let guard = Telemetry::builder_from_env(&NONE)
        .with_span_processor(StuckFlush)
        .shutdown_timeout(timeout)
        .without_globals()
        .build()
        .expect("init");
    let start = Instant::now();
    let result = guard.force_flush();
    let elapsed = start.elapsed();
    assert!(
        elapsed < timeout + Duration::from_secs(2),
        "took {elapsed:?}"
    );
    let error = result.expect_err("the flush did not finish");
    assert!(error.contains("StuckFlush"), "{error}");
    // Shutdown afterwards is not affected by the flush that timed out.
    assert!(guard.shutdown().completed);
}
