//! The exemplars of a Prometheus scrape: the store answers the OpenMetrics
//! encoder's per-bucket lookups (see `export::prometheus::ExemplarSource`).

use super::key;
use super::store::ExemplarStore;
use crate::export::prometheus::{Exemplar, ExemplarSource, NoExemplars, SeriesKey};
use opentelemetry::trace::{SpanId, TraceId};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

impl ExemplarSource for ExemplarStore {
    /// The latest exemplar of the bucket that links to a trace (one kept
    /// outside a sampled span, under `always_on`, links to nothing and is
    /// left out).
    fn histogram_bucket(&self, series: &SeriesKey<'_>, bucket: usize) -> Option<Exemplar> {
        let kept = self
            .find(series.scope, series.instrument)?
            .existing(key::of_attributes(series.attributes.iter().copied()))?
            .in_bucket(bucket)
            .filter(|e| e.has_trace())?;
        Some(Exemplar {
            trace_id: TraceId::from_bytes(kept.trace_id),
            span_id: SpanId::from_bytes(kept.span_id),
            value: kept.value.as_f64(),
            time: UNIX_EPOCH + Duration::from_nanos(kept.time_unix_nano),
        })
    }
}

/// What the Prometheus exporter asks for exemplars: the store, or nothing
/// under `always_off`.
pub(crate) fn source(store: Option<&Arc<ExemplarStore>>) -> Arc<dyn ExemplarSource> {
    match store {
        Some(store) => store.clone(),
        None => Arc::new(NoExemplars),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ExemplarFilter;
    use crate::metrics::reservoir::MeasuredValue;
    use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceFlags, TraceState};
    use opentelemetry::{Context, KeyValue};

    #[test]
    fn a_bucket_answers_with_its_latest_traced_exemplar() {
        let store = ExemplarStore::new(ExemplarFilter::AlwaysOn);
        let h = store.histogram("otel-axum", "http.server.request.duration", &[0.1, 1.0]);
        let route = KeyValue::new("http.route", "/a");
        let method = KeyValue::new("http.request.method", "GET");
        h.offer(MeasuredValue::F64(0.5), &[route.clone(), method.clone()]); // no span
        {
            let sc = SpanContext::new(
                TraceId::from(5),
                SpanId::from(6),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            );
            let _cx = Context::new().with_remote_span_context(sc).attach();
            h.offer(MeasuredValue::F64(0.05), &[route.clone(), method.clone()]);
        }
        // The encoder's form: the SDK's sorted attributes.
        let attributes = [&method, &route];
        let series = SeriesKey {
            scope: "otel-axum",
            instrument: "http.server.request.duration",
            attributes: &attributes,
        };
        let first = store.histogram_bucket(&series, 0).expect("bucket 0");
        assert_eq!(
            (first.trace_id, first.span_id),
            (TraceId::from(5), SpanId::from(6))
        );
        assert_eq!(first.value, 0.05);
        assert!(first.time > UNIX_EPOCH);
        assert_eq!(
            store.histogram_bucket(&series, 1),
            None,
            "kept outside a span"
        );
        assert_eq!(store.histogram_bucket(&series, 2), None, "nothing kept");
        let other = SeriesKey {
            instrument: "http.client.request.duration",
            ..series
        };
        assert_eq!(store.histogram_bucket(&other, 0), None);
    }
}
