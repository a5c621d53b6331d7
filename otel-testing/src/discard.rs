//! [`DiscardSpans`]: a span processor that drops every span it is given,
//! for benchmarks that measure an instrumentation's cost without an
//! exporter's.

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use std::time::Duration;

/// Ends spans and drops them, like an exporter that costs nothing: the SDK
/// still builds each sampled span's data and hands it over.
///
/// ```
/// use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
///
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
///     .with_span_processor(otel_testing::DiscardSpans)
///     .build();
/// provider.tracer("bench").start("work").end();
/// assert!(provider.force_flush().is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardSpans;

impl SpanProcessor for DiscardSpans {
    fn on_start(&self, _: &mut Span, _: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        std::hint::black_box(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}
