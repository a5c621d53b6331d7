//! Where the OpenMetrics encoder gets exemplars from.
//!
//! The SDK (0.33) never fills the exemplars of its data points, so they come
//! from a side store through [`ExemplarSource`]. The encoder asks once per
//! histogram bucket and once per counter sample, and only when it writes
//! OpenMetrics (the Prometheus text format has no exemplars).
//!
//! A series is identified by [`SeriesKey`]: the instrumentation scope's name,
//! the instrument's name (as the application spelled it, before any
//! Prometheus translation) and the data point's attributes exactly as the SDK
//! reports them (sorted by key, without duplicates). Bucket `i` is the SDK's
//! bucket `i`: `(bounds[i-1], bounds[i]]`, the last one `(bounds[last], +Inf)`.
//!
//! A bucket without an exemplar reuses the nearest lower bucket's (the
//! specification's rule for pull exporters); the source need not do that.
//!
//! export/mod.rs hands `prometheus::start` the exemplar store
//! (`crate::metrics::prometheus::source`), or [`NoExemplars`] under
//! `OTEL_METRICS_EXEMPLAR_FILTER=always_off`.

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, TraceId};
use std::time::SystemTime;

/// One series of one instrument.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeriesKey<'a> {
    /// The instrumentation scope's (meter's) name.
    pub scope: &'a str,
    /// The instrument's name, untranslated.
    pub instrument: &'a str,
    /// The data point's attributes, as the SDK reports them.
    pub attributes: &'a [&'a KeyValue],
}

/// A measurement that links a bucket or counter to the trace it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar {
    /// The trace that recorded the measurement.
    pub trace_id: TraceId,
    /// The span that recorded it.
    pub span_id: SpanId,
    /// The measured value.
    pub value: f64,
    /// When it was measured.
    pub time: SystemTime,
}

/// Looks exemplars up at scrape time. Both methods default to "none", so an
/// implementation overrides only what it stores. Called on the export thread,
/// never on the request path; an implementation must not block.
pub(crate) trait ExemplarSource: Send + Sync + 'static {
    /// The exemplar of histogram bucket `bucket` of `series`, if any.
    fn histogram_bucket(&self, series: &SeriesKey<'_>, bucket: usize) -> Option<Exemplar> {
        let _ = (series, bucket);
        None
    }

    /// The exemplar of the monotonic counter `series`, if any.
    fn counter(&self, series: &SeriesKey<'_>) -> Option<Exemplar> {
        let _ = series;
        None
    }
}

/// The default source: no exemplars.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoExemplars;

impl ExemplarSource for NoExemplars {}
