//! The server metrics of the HTTP conventions.
//!
//! With the `bound-instruments` feature (on by default) each attribute set is
//! bound once and found again by a cheap hash of the facts it is made of
//! ([`SeriesCache`]), instead of the SDK hashing and comparing the attribute
//! list at every measurement: for a request that was the largest part of its
//! metrics' cost.

use crate::attributes::RequestFacts;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, Meter, UpDownCounter};
use otel_http::semconv::DURATION_BUCKETS;
#[cfg(feature = "bound-instruments")]
use {
    opentelemetry::metrics::{BoundHistogram, BoundUpDownCounter},
    otel_http::series::SeriesCache,
    std::sync::Arc,
};

/// Attribute sets kept bound at most, per instrument group; others are
/// recorded unbound (the SDK's default cardinality limit is 2000 per metric).
#[cfg(feature = "bound-instruments")]
const MAX_BOUND: usize = 512;

#[derive(Debug, Clone)]
pub(crate) struct ServerMetrics {
    duration: Histogram<f64>,
    active: UpDownCounter<i64>,
    request_size: Histogram<u64>,
    response_size: Histogram<u64>,
    #[cfg(feature = "bound-instruments")]
    bound: Arc<Bound>,
}

/// What a finished request's attributes are made of.
#[cfg(feature = "bound-instruments")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    method: &'static str,
    scheme: &'static str,
    version: &'static str,
    route: Option<Arc<str>>,
    status: Option<u16>,
    error_type: Option<String>,
}

#[cfg(feature = "bound-instruments")]
struct FinishedSeries {
    duration: BoundHistogram<f64>,
    request_size: BoundHistogram<u64>,
    response_size: BoundHistogram<u64>,
}

#[cfg(feature = "bound-instruments")]
#[derive(Debug)]
struct Bound {
    finished: SeriesCache<SeriesKey, FinishedSeries>,
    active: SeriesCache<(&'static str, &'static str), Arc<BoundUpDownCounter<i64>>>,
}

/// The `http.server.active_requests` series a request was counted in, so
/// that its end finds it again without a lookup.
#[derive(Default)]
pub(crate) struct Active {
    #[cfg(feature = "bound-instruments")]
    bound: Option<Arc<BoundUpDownCounter<i64>>>,
}

impl ServerMetrics {
    pub(crate) fn new(meter: &Meter) -> Self {
        Self {
            duration: meter
                .f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP server requests.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            active: meter
                .i64_up_down_counter("http.server.active_requests")
                .with_unit("{request}")
                .with_description("Number of active HTTP server requests.")
                .build(),
            request_size: meter
                .u64_histogram("http.server.request.body.size")
                .with_unit("By")
                .with_description("Size of HTTP server request bodies.")
                .build(),
            response_size: meter
                .u64_histogram("http.server.response.body.size")
                .with_unit("By")
                .with_description("Size of HTTP server response bodies.")
                .build(),
            #[cfg(feature = "bound-instruments")]
            bound: Arc::new(Bound {
                finished: SeriesCache::new(MAX_BOUND),
                active: SeriesCache::new(MAX_BOUND),
            }),
        }
    }

    /// `http.server.active_requests` +1, when a request starts.
    pub(crate) fn start_active(&self, facts: &RequestFacts) -> Active {
        #[cfg(feature = "bound-instruments")]
        if let Some(counter) = self.bound.active.with(
            (facts.method, facts.scheme),
            || Arc::new(self.active.bind(&facts.active_attributes())),
            Arc::clone,
        ) {
            counter.add(1);
            return Active {
                bound: Some(counter),
            };
        }
        self.active.add(1, &facts.active_attributes());
        Active::default()
    }

    /// `http.server.active_requests` -1, when the request ends.
    pub(crate) fn end_active(&self, facts: &RequestFacts, active: &Active) {
        #[cfg(feature = "bound-instruments")]
        if let Some(counter) = &active.bound {
            counter.add(-1);
            return;
        }
        let _ = active;
        self.active.add(-1, &facts.active_attributes());
    }

    /// Records a finished request.
    pub(crate) fn finish(
        &self,
        seconds: f64,
        request_bytes: Option<u64>,
        response_bytes: u64,
        facts: &RequestFacts,
        status: Option<u16>,
        error_type: Option<&str>,
    ) {
        #[cfg(feature = "bound-instruments")]
        {
            let key = SeriesKey {
                method: facts.method,
                scheme: facts.scheme,
                version: facts.protocol_version,
                route: facts.route.clone(),
                status,
                error_type: error_type.map(str::to_owned),
            };
            let bind = || {
                let attributes = facts.metric_attributes(status, error_type);
                FinishedSeries {
                    duration: self.duration.bind(&attributes),
                    request_size: self.request_size.bind(&attributes),
                    response_size: self.response_size.bind(&attributes),
                }
            };
            let recorded = self.bound.finished.with(key, bind, |series| {
                series.duration.record(seconds);
                if let Some(n) = request_bytes {
                    series.request_size.record(n);
                }
                series.response_size.record(response_bytes);
            });
            if recorded.is_some() {
                return;
            }
        }
        let attributes = facts.metric_attributes(status, error_type);
        self.record_unbound(seconds, request_bytes, response_bytes, &attributes);
    }

    fn record_unbound(
        &self,
        seconds: f64,
        request_bytes: Option<u64>,
        response_bytes: u64,
        attributes: &[KeyValue],
    ) {
        self.duration.record(seconds, attributes);
        if let Some(n) = request_bytes {
            self.request_size.record(n, attributes);
        }
        self.response_size.record(response_bytes, attributes);
    }
}

#[cfg(feature = "bound-instruments")]
impl std::fmt::Debug for FinishedSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FinishedSeries").finish_non_exhaustive()
    }
}
