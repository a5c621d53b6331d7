//! The SDK providers both benches give the layers: spans to a processor that
//! drops them (the figures are the instrumentation's cost, not an
//! exporter's), metrics to an SDK meter provider with a reader (aggregated,
//! never exported here).

use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use std::time::Duration;

/// A tracer provider with `sampler` whose spans are dropped once ended.
pub fn tracer_provider(sampler: Sampler) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(otel_testing::DiscardSpans)
        .build()
}

/// A meter provider with a reader that never exports.
pub fn meter_provider() -> SdkMeterProvider {
    SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(InMemoryMetricExporter::default())
                .with_interval(Duration::from_secs(3600))
                .build(),
        )
        .build()
}
