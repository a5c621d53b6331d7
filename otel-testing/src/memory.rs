//! [`InMemory`]: a tracer provider and a meter provider that keep what they
//! record in the process, for a test to read back.

use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use std::time::Duration;

/// Spans (the SDK's default sampler: parent-based, always on; exported as
/// each ends) and metrics (read on [`histogram_sum`](Self::histogram_sum))
/// kept in memory.
///
/// ```
/// use opentelemetry::metrics::MeterProvider as _;
/// use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
///
/// let memory = otel_testing::InMemory::new();
/// memory.tracer.tracer("doc").start("work").end();
/// let histogram = memory.meters.meter("doc").f64_histogram("work.duration").build();
/// histogram.record(0.25, &[]);
/// histogram.record(0.5, &[]);
/// assert_eq!(memory.spans.get_finished_spans().unwrap().len(), 1);
/// assert_eq!(memory.histogram_sum("work.duration"), 0.75);
/// ```
#[derive(Debug)]
pub struct InMemory {
    /// The ended spans.
    pub spans: InMemorySpanExporter,
    /// The provider whose spans `spans` keeps.
    pub tracer: SdkTracerProvider,
    /// The metrics, as of each export.
    pub metrics: InMemoryMetricExporter,
    /// The provider whose metrics `metrics` keeps.
    pub meters: SdkMeterProvider,
}

impl Default for InMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemory {
    /// Both providers, with nothing recorded yet.
    ///
    /// ```
    /// let memory = otel_testing::InMemory::new();
    /// assert!(memory.spans.get_finished_spans().unwrap().is_empty());
    /// ```
    pub fn new() -> Self {
        let spans = InMemorySpanExporter::default();
        let tracer = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let metrics = InMemoryMetricExporter::default();
        let meters = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        Self {
            spans,
            tracer,
            metrics,
            meters,
        }
    }

    /// The one span ended so far.
    ///
    /// # Panics
    ///
    /// Unless exactly one span has ended (a test's assertion).
    ///
    /// ```
    /// use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    /// let memory = otel_testing::InMemory::new();
    /// memory.tracer.tracer("doc").start("work").end();
    /// assert_eq!(memory.only_span().name, "work");
    /// ```
    pub fn only_span(&self) -> SpanData {
        let mut spans = self.spans.get_finished_spans().unwrap_or_default();
        assert_eq!(spans.len(), 1, "one span: {spans:#?}");
        spans.remove(0)
    }

    /// Exports the metrics now and returns the sum of every data point of
    /// the `f64` histogram `name` (0 without one).
    ///
    /// ```
    /// let memory = otel_testing::InMemory::new();
    /// assert_eq!(memory.histogram_sum("nothing.recorded"), 0.0);
    /// ```
    pub fn histogram_sum(&self, name: &str) -> f64 {
        // A failed flush leaves the last export, which the sum then reads.
        let _ = self.meters.force_flush();
        histogram_sum(&self.metrics, name)
    }
}

/// Whether the SERVER span of one call is the child of its CLIENT span (the
/// context went across), once both have ended in `spans` (waiting up to
/// 5 s: a server span can end just after the client has read the
/// response); the spans are then forgotten, for the next call.
///
/// # Panics
///
/// When either span has not ended within 5 s (a test's assertion).
///
/// ```
/// use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _};
/// use opentelemetry::Context;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let memory = otel_testing::InMemory::new();
/// let tracer = memory.tracer.tracer("doc");
/// let client = tracer.span_builder("call").with_kind(SpanKind::Client).start(&tracer);
/// let cx = Context::current_with_span(client);
/// tracer.span_builder("serve").with_kind(SpanKind::Server).start_with_context(&tracer, &cx);
/// drop(cx);
/// assert!(otel_testing::server_joined_client(&memory.spans).await);
/// assert!(memory.spans.get_finished_spans().unwrap().is_empty(), "forgotten");
/// # }
/// ```
pub async fn server_joined_client(spans: &InMemorySpanExporter) -> bool {
    let ended = |kind: &SpanKind| {
        spans
            .get_finished_spans()
            .unwrap_or_default()
            .into_iter()
            .find(|s| s.span_kind == *kind)
    };
    for _ in 0..500 {
        if let (Some(client), Some(server)) = (ended(&SpanKind::Client), ended(&SpanKind::Server)) {
            spans.reset();
            return server.parent_span_id == client.span_context.span_id()
                && server.span_context.trace_id() == client.span_context.trace_id();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "no CLIENT and SERVER span in {:#?}",
        spans.get_finished_spans().unwrap_or_default()
    );
}

/// The sum of every data point of the `f64` histogram `name` in the last
/// export `exporter` holds (cumulative temporality: the last export has it
/// all); 0 without one.
///
/// ```
/// use opentelemetry_sdk::metrics::InMemoryMetricExporter;
/// assert_eq!(otel_testing::histogram_sum(&InMemoryMetricExporter::default(), "x"), 0.0);
/// ```
pub fn histogram_sum(exporter: &InMemoryMetricExporter, name: &str) -> f64 {
    let exports = exporter.get_finished_metrics().unwrap_or_default();
    let Some(last) = exports.last() else {
        return 0.0;
    };
    last.scope_metrics()
        .flat_map(|scope| scope.metrics())
        .filter(|metric| metric.name() == name)
        .map(|metric| match metric.data() {
            AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                h.data_points().map(|p| p.sum()).sum::<f64>()
            }
            _ => 0.0,
        })
        .sum()
}

/// How long a span lasted: its end time less its start time (zero for a span
/// that ended before it started).
///
/// ```
/// use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
/// let memory = otel_testing::InMemory::new();
/// memory.tracer.tracer("doc").start("work").end();
/// let span = &memory.spans.get_finished_spans().unwrap()[0];
/// assert!(otel_testing::lasted(span) < std::time::Duration::from_secs(1));
/// ```
pub fn lasted(span: &SpanData) -> Duration {
    span.end_time
        .duration_since(span.start_time)
        .unwrap_or_default()
}
