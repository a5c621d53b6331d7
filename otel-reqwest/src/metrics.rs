//! The client metric of the HTTP conventions: `http.client.request.duration`.
//!
//! Each distinct attribute set is bound once (`Histogram::bind`) and kept in a
//! small map keyed by the facts it is made of, so that a call costs a cheap
//! hash of those facts instead of the SDK hashing and comparing the attribute
//! list on every measurement.

use crate::attributes::{Outcome, RequestFacts};
use opentelemetry::StringValue;
use opentelemetry::metrics::{BoundHistogram, Histogram, Meter};
use otel_http::semconv::DURATION_BUCKETS;
use otel_http::series::SeriesCache;
use std::borrow::Cow;
use std::sync::Arc;

/// Attribute sets kept bound at most; others are recorded unbound (the SDK's
/// default cardinality limit is 2000 per metric).
const MAX_BOUND: usize = 256;

/// What the metric's attributes are made of (`error.type` of a status >= 400
/// is the status itself, so only a transport error's class is part of the key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SetKey {
    method: &'static str,
    address: Option<StringValue>,
    port: Option<u16>,
    status: Option<u16>,
    version: Option<&'static str>,
    transport_error: Option<&'static str>,
}

impl SetKey {
    fn of(facts: &RequestFacts, outcome: &Outcome) -> Self {
        Self {
            method: facts.method,
            address: facts.server_address.clone(),
            port: facts.server_port,
            status: outcome.status,
            version: outcome.protocol_version,
            transport_error: match outcome.error_type {
                Some(Cow::Borrowed(class)) => Some(class),
                _ => None,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ClientMetrics {
    duration: Histogram<f64>,
    bound: Arc<SeriesCache<SetKey, BoundHistogram<f64>>>,
}

impl ClientMetrics {
    pub(crate) fn new(meter: &Meter) -> Self {
        Self {
            duration: meter
                .f64_histogram("http.client.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP client requests.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            bound: Arc::new(SeriesCache::new(MAX_BOUND)),
        }
    }

    /// Records one finished send (each resend is measured on its own).
    pub(crate) fn record(&self, seconds: f64, facts: &RequestFacts, outcome: &Outcome) {
        let key = SetKey::of(facts, outcome);
        let bind = || {
            self.duration
                .bind(facts.metric_attributes(outcome).as_slice())
        };
        if self
            .bound
            .with(key, bind, |histogram| histogram.record(seconds))
            .is_none()
        {
            // More attribute sets than MAX_BOUND: the SDK's own limit applies.
            let attributes = facts.metric_attributes(outcome);
            self.duration.record(seconds, attributes.as_slice());
        }
    }

    #[cfg(test)]
    fn bound_sets(&self) -> usize {
        self.bound.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    fn facts(url: &str) -> RequestFacts {
        let request =
            reqwest::Request::new(reqwest::Method::GET, reqwest::Url::parse(url).expect("url"));
        RequestFacts::of(&request, None)
    }

    /// Each attribute set's (count, sum), as the SDK exports them.
    fn points(exporter: &InMemoryMetricExporter) -> Vec<(Vec<String>, u64, f64)> {
        let mut out = Vec::new();
        for resource in exporter.get_finished_metrics().expect("metrics") {
            for scope in resource.scope_metrics() {
                for metric in scope.metrics() {
                    if let AggregatedMetrics::F64(MetricData::Histogram(h)) = metric.data() {
                        for point in h.data_points() {
                            let mut attrs: Vec<String> = point
                                .attributes()
                                .map(|kv| format!("{}={}", kv.key, kv.value))
                                .collect();
                            attrs.sort();
                            out.push((attrs, point.count(), point.sum()));
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    #[test]
    fn bound_and_unbound_sets_are_all_recorded() {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        let metrics = ClientMetrics::new(&provider.meter("test"));
        let ok = Outcome {
            status: Some(200),
            protocol_version: Some("1.1"),
            error_type: None,
        };
        let failed = Outcome {
            status: Some(503),
            protocol_version: Some("1.1"),
            error_type: Some(Cow::Owned("503".into())),
        };
        let timeout = Outcome {
            error_type: Some(Cow::Borrowed("timeout")),
            ..Outcome::default()
        };
        let a = facts("http://a.example/x");
        metrics.record(1.0, &a, &ok);
        metrics.record(2.0, &a, &ok);
        metrics.record(4.0, &a, &failed);
        metrics.record(8.0, &facts("http://b.example:8080/"), &timeout);
        assert_eq!(metrics.bound_sets(), 3);
        // Past the cap, sets are recorded without binding.
        for i in 0..MAX_BOUND {
            metrics.record(0.5, &facts(&format!("http://h{i}.example/")), &ok);
        }
        assert_eq!(metrics.bound_sets(), MAX_BOUND);
        provider.force_flush().expect("flush");
        let points = points(&exporter);
        assert_eq!(points.len(), 3 + MAX_BOUND);
        let find = |needle: &str| {
            points
                .iter()
                .find(|(attrs, _, _)| attrs.iter().any(|a| a == needle))
                .map(|(attrs, count, sum)| (attrs.clone(), *count, *sum))
                .expect(needle)
        };
        let (attrs, count, sum) = find("http.response.status_code=200");
        assert_eq!((count, sum), (2, 3.0));
        assert!(attrs.contains(&"server.address=a.example".to_owned()));
        let (attrs, count, _) = find("error.type=503");
        assert_eq!(count, 1);
        assert!(attrs.contains(&"http.response.status_code=503".to_owned()));
        let (attrs, _, sum) = find("error.type=timeout");
        assert_eq!(sum, 8.0);
        assert!(attrs.contains(&"server.port=8080".to_owned()));
        let last = format!("server.address=h{}.example", MAX_BOUND - 1);
        assert_eq!(find(&last).1, 1, "the set past the cap is recorded too");
    }
}
