//! The client metric of the HTTP conventions: `http.client.request.duration`.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, Meter};
use otel_http::semconv::DURATION_BUCKETS;

#[derive(Debug, Clone)]
pub(crate) struct ClientMetrics {
    duration: Histogram<f64>,
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
        }
    }

    /// Records one finished send (each resend is measured on its own).
    pub(crate) fn record(&self, seconds: f64, attributes: &[KeyValue]) {
        self.duration.record(seconds, attributes);
    }
}
