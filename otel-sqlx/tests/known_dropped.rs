//! A query in a trace the global provider is declared to drop, and to make
//! plainly (`otel_http::sampling`, as otel-init declares for its provider),
//! starts no span at all: the sampler is never asked. Its duration is still
//! recorded. One test: the declarations and the global provider are
//! process-wide.
#![cfg(feature = "sqlite")]

use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use otel_http::sampling::{DroppedSpans, KnownDecisions, declare, declare_dropped_spans};
use otel_sqlx::InstrumentedPool;
use otel_testing::AskedSampler;

fn parent(flags: TraceFlags) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
        SpanId::from(7u64),
        flags,
        true,
        Default::default(),
    ))
}

/// The number of `db.client.operation.duration` measurements.
fn durations(exporter: &InMemoryMetricExporter) -> u64 {
    let metrics = exporter.get_finished_metrics().expect("metrics");
    let Some(last) = metrics.last() else {
        return 0;
    };
    last.scope_metrics()
        .flat_map(|scope| scope.metrics())
        .filter(|metric| metric.name() == "db.client.operation.duration")
        .map(|metric| match metric.data() {
            AggregatedMetrics::F64(MetricData::Histogram(histogram)) => histogram
                .data_points()
                .map(|point| point.count())
                .sum::<u64>(),
            _ => 0,
        })
        .sum()
}

#[tokio::test]
async fn a_plainly_dropped_query_starts_no_span_and_still_counts() {
    let asked = AskedSampler::default();
    let (provider, exporter) = asked.install_global();
    let metrics = InMemoryMetricExporter::default();
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    let pool = InstrumentedPool::builder(
        sqlx::SqlitePool::connect("sqlite::memory:")
            .await
            .expect("pool"),
    )
    .meter_provider(meters.clone())
    .build();
    let query = |cx: Context| {
        let pool = pool.clone();
        async move {
            sqlx::query("SELECT 1")
                .fetch_one(&pool)
                .await
                .expect("query");
        }
        .with_context(cx)
    };

    // Nothing declared: the span is started through the tracer.
    query(parent(TraceFlags::default())).await;
    // Declared as otel-init declares it: no span for an unsampled trace...
    declare(KnownDecisions::UnsampledParentsDropped);
    declare_dropped_spans(DroppedSpans::Plain);
    query(parent(TraceFlags::default())).await;
    // ...but a sampled one is asked about, as always.
    query(parent(TraceFlags::SAMPLED)).await;
    declare_dropped_spans(DroppedSpans::ThroughTracer);
    declare(KnownDecisions::Unknown);

    // (The first query may also wait for the pool's first connection long
    // enough for an "acquire connection" span: not what this is about.)
    let asked = asked.asked();
    let selects = asked.iter().filter(|(name, _)| name == "SELECT").count();
    assert_eq!(selects, 2, "{asked:?}");
    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.iter().filter(|s| s.name == "SELECT").count(), 2);
    meters.force_flush().expect("flush metrics");
    assert_eq!(durations(&metrics), 3, "every query's duration recorded");
}
