//! Exporters, processors and readers of `opentelemetry_sdk` added in code,
//! next to or instead of the pipelines the environment configures.
//!
//! Each `with_*` method adds; none replaces. What the environment (or
//! `traces_exporters`, `metrics_exporters`, `logs_exporters`) configures
//! still runs beside it, so "instead of" is said there:
//! `OTEL_TRACES_EXPORTER=none` or `.traces_exporters([])`. The provider
//! itself (sampler, span limits, resource, the `tracing` bridge) is built
//! whenever a signal has anything to export to, built-in or added.

use super::*;
use opentelemetry_sdk::logs::{LogExporter, LogProcessor};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::trace::{SpanExporter, SpanProcessor};

impl TelemetryBuilder {
    /// Adds a span exporter of any kind (opentelemetry-otlp's `SpanExporter`,
    /// a vendor's) behind the SDK's batch span processor, configured like
    /// the built-in pipeline: queue size, batch size and schedule delay from
    /// `OTEL_BSP_*` or [`span_batch`](Self::span_batch). It gets the spans the
    /// sampler (and tail sampling) keeps, with the resource and span limits
    /// of the built-in pipeline; what it exports or fails to export counts
    /// in [`TelemetryGuard::export_report`].
    ///
    /// It runs next to the exporters the environment names; to use it
    /// instead of them, turn those off with `OTEL_TRACES_EXPORTER=none` or
    /// [`traces_exporters([])`](Self::traces_exporters). Its flush and
    /// shutdown are bounded by the guard's one deadline, after the
    /// built-in pipeline's. `OTEL_SDK_DISABLED=true` drops it with the rest.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// use otel_init::opentelemetry_sdk::trace::InMemorySpanExporter;
    /// let exporter = InMemorySpanExporter::default(); // a test exporter; any SpanExporter works
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"), // instead of the built-in exporter
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .with_span_exporter(exporter.clone())
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// tracer.in_span("GET /cart", |_| {});
    /// telemetry.force_flush()?;
    /// assert_eq!(exporter.get_finished_spans()?[0].name, "GET /cart");
    /// assert!(telemetry.shutdown().is_clean());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_span_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.extensions.add_span_exporter(exporter);
        self
    }

    /// Adds a span processor of any kind, as is: it sees each recorded
    /// span's start and end, next to the built-in exporters (behind tail
    /// sampling when that is on). Its flush and shutdown are bounded by the
    /// guard's one deadline, after the built-in pipeline's; a processor that
    /// exports decides its own batching, and what it exports is not counted
    /// in [`TelemetryGuard::export_report`].
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// use otel_init::opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};
    /// let exporter = InMemorySpanExporter::default();
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "console"), // still prints the waterfall
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// tracer.in_span("GET /cart", |_| {});
    /// assert_eq!(exporter.get_finished_spans()?.len(), 1); // exported as the span ended
    /// let report = telemetry.shutdown();
    /// assert_eq!(report.export.traces.exported, 1); // the console's span
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_span_processor<P: SpanProcessor + 'static>(mut self, processor: P) -> Self {
        self.extensions.add_span_processor(processor);
        self
    }

    /// Adds a log record exporter of any kind behind the SDK's batch log
    /// processor, configured like the built-in pipeline (`OTEL_BLRP_*` or
    /// [`log_batch`](Self::log_batch)). It gets the records of the `tracing`
    /// events that the filter lets through, with the resource; what it
    /// exports or fails to export counts in [`TelemetryGuard::export_report`].
    ///
    /// It runs next to the exporters the environment names; to use it
    /// instead, turn those off with `OTEL_LOGS_EXPORTER=none` or
    /// [`logs_exporters([])`](Self::logs_exporters). The logger provider
    /// and the `tracing` bridge exist as soon as one exporter or processor
    /// is added. Flush and shutdown are bounded as for spans.
    ///
    /// ```
    /// use otel_init::opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
    /// use otel_init::opentelemetry_sdk::logs::InMemoryLogExporter;
    /// let exporter = InMemoryLogExporter::default();
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .with_log_exporter(exporter.clone())
    /// .without_globals()
    /// .build()?;
    /// let logger = telemetry.logger_provider().expect("a log exporter was added").logger("doc");
    /// let mut record = logger.create_log_record();
    /// record.set_body("order placed".into());
    /// logger.emit(record);
    /// telemetry.force_flush()?;
    /// assert_eq!(exporter.get_emitted_logs()?.len(), 1);
    /// assert_eq!(telemetry.shutdown().export.logs.exported, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_log_exporter<E: LogExporter + 'static>(mut self, exporter: E) -> Self {
        self.extensions.add_log_exporter(exporter);
        self
    }

    /// Adds a log record processor of any kind, as is, after the built-in
    /// ones (which then copy each record instead of taking it). Its flush and
    /// shutdown are bounded by the guard's one deadline; what it exports is
    /// not counted in [`TelemetryGuard::export_report`].
    ///
    /// ```
    /// use otel_init::opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
    /// use otel_init::opentelemetry_sdk::logs::{InMemoryLogExporter, SimpleLogProcessor};
    /// let exporter = InMemoryLogExporter::default();
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .with_log_processor(SimpleLogProcessor::new(exporter.clone()))
    /// .without_globals()
    /// .build()?;
    /// let logger = telemetry.logger_provider().expect("a processor was added").logger("doc");
    /// let mut record = logger.create_log_record();
    /// record.set_body("order placed".into());
    /// logger.emit(record);
    /// assert_eq!(exporter.get_emitted_logs()?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_log_processor<P: LogProcessor + 'static>(mut self, processor: P) -> Self {
        self.extensions.add_log_processor(processor);
        self
    }

    /// Adds a push metric exporter of any kind behind the SDK's periodic
    /// reader, which collects every `OTEL_METRIC_EXPORT_INTERVAL` (or
    /// [`metric_export_interval`](Self::metric_export_interval)), once more
    /// at shutdown, and on [`TelemetryGuard::force_flush`]. The exporter's
    /// own temporality applies (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`
    /// is the built-in exporter's). What it exports is not counted in
    /// [`TelemetryGuard::export_report`].
    ///
    /// It runs next to the exporters the environment names; to use it
    /// instead, turn those off with `OTEL_METRICS_EXPORTER=none` or
    /// [`metrics_exporters([])`](Self::metrics_exporters). Flush and
    /// shutdown are bounded by the guard's one deadline.
    ///
    /// ```
    /// use otel_init::opentelemetry::metrics::MeterProvider as _;
    /// use otel_init::opentelemetry_sdk::metrics::InMemoryMetricExporter;
    /// let exporter = InMemoryMetricExporter::default();
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .with_metric_exporter(exporter.clone())
    /// .without_globals()
    /// .build()?;
    /// let meter = telemetry.meter_provider().expect("a metric exporter was added").meter("doc");
    /// meter.u64_counter("orders").build().add(1, &[]);
    /// telemetry.force_flush()?;
    /// let exported = exporter.get_finished_metrics()?;
    /// let names: Vec<&str> = exported.iter()
    ///     .flat_map(|rm| rm.scope_metrics())
    ///     .flat_map(|sm| sm.metrics())
    ///     .map(|m| m.name())
    ///     .collect();
    /// assert_eq!(names, ["orders"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_metric_exporter<E: PushMetricExporter>(mut self, exporter: E) -> Self {
        self.extensions.add_metric_exporter(exporter);
        self
    }

    /// Adds a metric reader of any kind: a pull exporter (Prometheus), the
    /// SDK's `ManualReader`, or a `PeriodicReader` set up your own way. It
    /// reads the same instruments and resource as the built-in exporters;
    /// its flush and shutdown are bounded by the guard's one deadline.
    ///
    /// The SDK names the [`MetricReader`] trait only with its
    /// `experimental_metrics_custom_reader` feature, which otel-init turns
    /// on (it adds no dependency).
    ///
    /// ```
    /// use otel_init::opentelemetry::metrics::MeterProvider as _;
    /// use otel_init::opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader};
    /// use std::time::Duration;
    /// let exporter = InMemoryMetricExporter::default();
    /// // A reader set up your own way: here, every 10 s whatever the environment says.
    /// let reader = PeriodicReader::builder(exporter.clone())
    ///     .with_interval(Duration::from_secs(10))
    ///     .build();
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .with_metric_reader(reader)
    /// .without_globals()
    /// .build()?;
    /// let meter = telemetry.meter_provider().expect("a reader was added").meter("doc");
    /// meter.u64_counter("orders").build().add(1, &[]);
    /// telemetry.force_flush()?;
    /// assert_eq!(exporter.get_finished_metrics()?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_metric_reader<R: MetricReader>(mut self, reader: R) -> Self {
        self.extensions.add_metric_reader(reader);
        self
    }
}
