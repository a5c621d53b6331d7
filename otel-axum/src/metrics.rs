//! The server metrics of the HTTP conventions.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, Meter, UpDownCounter};
use otel_http::semconv::DURATION_BUCKETS;

#[derive(Debug, Clone)]
pub(crate) struct ServerMetrics {
    pub duration: Histogram<f64>,
    pub active: UpDownCounter<i64>,
    pub request_size: Histogram<u64>,
    pub response_size: Histogram<u64>,
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
        }
    }

    /// Records a finished request.
    pub(crate) fn finish(
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
