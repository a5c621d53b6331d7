//! `rpc.server.call.duration` and `rpc.client.call.duration` (seconds), with
//! bounded attributes: `rpc.system.name`, `rpc.method` (`_OTHER` when not
//! recognised), `rpc.status_code`, `error.type` and, on the client,
//! `server.address` / `server.port` of the target.
//!
//! With the `bound-instruments` feature (on by default) each distinct
//! attribute set is bound once (`Histogram::bind`) and kept in otel-http's
//! `SeriesCache`, keyed by the facts it is made of, so that a call costs a
//! cheap hash of those facts instead of the SDK hashing and comparing the
//! attribute list on every measurement.

use crate::code::{self, Code};
use opentelemetry::metrics::{Histogram, Meter};
use opentelemetry::{KeyValue, StringValue};
use otel_http::semconv::DURATION_BUCKETS;
use std::sync::Arc;

/// A client's target in a set's key: `server.address`, `server.port`.
type TargetKey = Option<(StringValue, Option<u16>)>;

/// What an attribute set of the duration metric is made of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SetKey {
    pub method: Option<Arc<str>>,
    pub code: Option<Code>,
    pub error_type: Option<&'static str>,
    pub target: TargetKey,
}

impl SetKey {
    fn attributes(&self) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(6);
        attrs.push(KeyValue::new("rpc.system.name", "grpc"));
        attrs.push(match &self.method {
            Some(m) => KeyValue::new("rpc.method", StringValue::from(m.clone())),
            None => KeyValue::new("rpc.method", "_OTHER"),
        });
        if let Some(code) = self.code {
            attrs.push(KeyValue::new(code::STATUS_CODE, code.name()));
        }
        if let Some(e) = self.error_type {
            attrs.push(KeyValue::new("error.type", e));
        }
        if let Some((address, port)) = &self.target {
            attrs.push(KeyValue::new("server.address", address.clone()));
            if let Some(port) = port {
                attrs.push(KeyValue::new("server.port", i64::from(*port)));
            }
        }
        attrs
    }
}

/// The duration histogram of one side, shared by the calls of a layer (one
/// reference count per call).
#[derive(Debug, Clone)]
pub(crate) struct CallMetrics(Arc<Instruments>);

#[derive(Debug)]
struct Instruments {
    duration: Histogram<f64>,
    #[cfg(feature = "bound-instruments")]
    bound: bound::BoundSets,
}

impl CallMetrics {
    fn new(duration: Histogram<f64>) -> Self {
        Self(Arc::new(Instruments {
            duration,
            #[cfg(feature = "bound-instruments")]
            bound: bound::BoundSets::default(),
        }))
    }

    pub(crate) fn server(meter: &Meter) -> Self {
        Self::new(
            meter
                .f64_histogram("rpc.server.call.duration")
                .with_unit("s")
                .with_description(
                    "Measures the duration of an incoming Remote Procedure Call (RPC).",
                )
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
        )
    }

    pub(crate) fn client(meter: &Meter) -> Self {
        Self::new(
            meter
                .f64_histogram("rpc.client.call.duration")
                .with_unit("s")
                .with_description(
                    "Measures the duration of an outgoing Remote Procedure Call (RPC).",
                )
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
        )
    }

    /// Records a call's duration. `ok` is the series of the method's
    /// successful calls, for a call that succeeded: found through the
    /// method, it costs no hash of the attribute set. `target` is the
    /// client's (`server.address`, `server.port`); `key` makes the set's key
    /// when it is needed.
    pub(crate) fn record(
        &self,
        seconds: f64,
        ok: Option<&OkSeries>,
        target: Option<(&StringValue, Option<u16>)>,
        key: impl Fn() -> SetKey,
    ) {
        let instruments = &*self.0;
        #[cfg(feature = "bound-instruments")]
        {
            if ok.is_some_and(|ok| ok.record(&instruments.duration, seconds, target, &key)) {
                return;
            }
            instruments
                .bound
                .record(&instruments.duration, seconds, key());
        }
        #[cfg(not(feature = "bound-instruments"))]
        {
            let _ = (ok, target);
            instruments.duration.record(seconds, &key().attributes());
        }
    }
}

/// The bound series of one method's successful calls (most calls), kept with
/// the method (see `Methods`): bound at the first success, for the target of
/// that call on a client.
#[derive(Debug, Default)]
pub(crate) struct OkSeries {
    #[cfg(feature = "bound-instruments")]
    bound: std::sync::OnceLock<(TargetKey, opentelemetry::metrics::BoundHistogram<f64>)>,
}

#[cfg(feature = "bound-instruments")]
impl OkSeries {
    /// Records on the bound series when `target` is the one it was bound
    /// for; `false` when it is not (the caller records otherwise).
    fn record(
        &self,
        histogram: &Histogram<f64>,
        seconds: f64,
        target: Option<(&StringValue, Option<u16>)>,
        key: &impl Fn() -> SetKey,
    ) -> bool {
        let (bound_for, bound) = self.bound.get_or_init(|| {
            let key = key();
            let bound = histogram.bind(key.attributes().as_slice());
            (key.target, bound)
        });
        let same = match (bound_for, target) {
            (None, None) => true,
            (Some((a, p)), Some((b, q))) => p == &q && a.as_str() == b.as_str(),
            _ => false,
        };
        if same {
            bound.record(seconds);
        }
        same
    }
}

#[cfg(feature = "bound-instruments")]
mod bound {
    use super::SetKey;
    use opentelemetry::metrics::{BoundHistogram, Histogram};
    use otel_http::series::SeriesCache;

    /// At most this many sets are bound; the others are recorded unbound.
    pub(super) const MAX_BOUND: usize = 256;

    /// The bound sets of one histogram (otel-http's cache).
    #[derive(Debug)]
    pub(super) struct BoundSets(SeriesCache<SetKey, BoundHistogram<f64>>);

    impl Default for BoundSets {
        fn default() -> Self {
            Self(SeriesCache::new(MAX_BOUND))
        }
    }

    impl BoundSets {
        pub(super) fn record(&self, histogram: &Histogram<f64>, seconds: f64, key: SetKey) {
            let attributes = || key.attributes();
            let recorded = self.0.with(
                key.clone(),
                || histogram.bind(attributes().as_slice()),
                |bound| bound.record(seconds),
            );
            if recorded.is_none() {
                histogram.record(seconds, attributes().as_slice());
            }
        }

        #[cfg(test)]
        pub(super) fn len(&self) -> usize {
            self.0.len()
        }
    }
}

#[cfg(all(test, feature = "bound-instruments"))]
mod tests {
    use super::*;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    type Point = (Vec<String>, u64, f64);

    /// Every data point of the histograms: attributes as `key=value`, count, sum.
    fn points(provider: &SdkMeterProvider, exporter: &InMemoryMetricExporter) -> Vec<Point> {
        provider.force_flush().expect("flush");
        let mut points = Vec::new();
        for rm in exporter.get_finished_metrics().expect("metrics") {
            for sm in rm.scope_metrics() {
                for m in sm.metrics() {
                    if let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() {
                        for p in h.data_points() {
                            let attrs: Vec<String> = p
                                .attributes()
                                .map(|kv| format!("{}={}", kv.key, kv.value))
                                .collect();
                            points.push((attrs, p.count(), p.sum()));
                        }
                    }
                }
            }
        }
        points
    }

    fn provider() -> (SdkMeterProvider, InMemoryMetricExporter) {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        (provider, exporter)
    }

    #[test]
    fn bound_and_unbound_sets_are_all_recorded() {
        let (provider, exporter) = provider();
        let metrics = CallMetrics::client(&provider.meter("test"));
        let key = |method: &str, code: Code| SetKey {
            method: Some(Arc::from(method)),
            code: Some(code),
            error_type: (code != Code::OK).then_some(code.name()),
            target: Some((StringValue::from("payment.internal"), Some(50051))),
        };
        metrics.record(1.0, None, None, || key("a.B/C", Code::OK));
        metrics.record(2.0, None, None, || key("a.B/C", Code::OK));
        metrics.record(4.0, None, None, || key("a.B/C", Code::UNAVAILABLE));
        assert_eq!(metrics.0.bound.len(), 2);
        for i in 0..bound::MAX_BOUND {
            metrics.record(0.5, None, None, || key(&format!("a.B/M{i}"), Code::OK));
        }
        assert_eq!(metrics.0.bound.len(), bound::MAX_BOUND);
        let points = points(&provider, &exporter);
        assert_eq!(
            points.len(),
            2 + bound::MAX_BOUND,
            "the sets past the cap are recorded too"
        );
        let ok = points
            .iter()
            .find(|(a, _, _)| {
                a.contains(&"rpc.method=a.B/C".to_owned())
                    && a.contains(&"rpc.status_code=OK".to_owned())
            })
            .expect("the OK set");
        assert_eq!((ok.1, ok.2), (2, 3.0));
        assert!(ok.0.contains(&"server.address=payment.internal".to_owned()));
        assert!(ok.0.contains(&"server.port=50051".to_owned()));
        let failed = points
            .iter()
            .find(|(a, _, _)| a.contains(&"error.type=UNAVAILABLE".to_owned()))
            .expect("the failed set");
        assert_eq!(failed.1, 1);
    }

    // A method's successful calls go to its own bound series, for the target
    // it was bound for; another target's successes, and failures, go through
    // the hashed sets: each lands in its own data point.
    #[test]
    fn a_methods_ok_series_serves_its_target_only() {
        let (provider, exporter) = provider();
        let metrics = CallMetrics::client(&provider.meter("test"));
        let ok = OkSeries::default();
        let payment = StringValue::from("payment.internal");
        let refund = StringValue::from("refund.internal");
        let key = |address: &StringValue, code: Code| SetKey {
            method: Some(Arc::from("a.B/C")),
            code: Some(code),
            error_type: (code != Code::OK).then_some(code.name()),
            target: Some((address.clone(), Some(50051))),
        };
        let at = |address| Some((address, Some(50051)));
        metrics.record(1.0, Some(&ok), at(&payment), || key(&payment, Code::OK));
        metrics.record(2.0, Some(&ok), at(&payment), || key(&payment, Code::OK));
        metrics.record(4.0, Some(&ok), at(&refund), || key(&refund, Code::OK));
        metrics.record(8.0, None, at(&payment), || key(&payment, Code::INTERNAL));
        assert_eq!(metrics.0.bound.len(), 2, "the other target and the failure");
        let mut sums: Vec<(bool, bool, u64, f64)> = points(&provider, &exporter)
            .into_iter()
            .map(|(a, count, sum)| {
                (
                    a.contains(&"server.address=payment.internal".to_owned()),
                    a.contains(&"rpc.status_code=OK".to_owned()),
                    count,
                    sum,
                )
            })
            .collect();
        sums.sort_by(|a, b| a.3.total_cmp(&b.3));
        assert_eq!(
            sums,
            [
                (true, true, 2, 3.0),
                (false, true, 1, 4.0),
                (true, false, 1, 8.0)
            ]
        );
    }
}
