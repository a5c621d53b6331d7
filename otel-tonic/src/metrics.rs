//! `rpc.server.call.duration` and `rpc.client.call.duration` (seconds), with
//! bounded attributes: `rpc.system.name`, `rpc.method` (`_OTHER` when not
//! recognised), `rpc.response.status_code`, `error.type` and, on the client,
//! `server.address` / `server.port` of the configured target.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, Meter};
use otel_http::semconv::DURATION_BUCKETS;

/// The duration histogram of one side.
#[derive(Debug, Clone)]
pub(crate) struct CallMetrics {
    duration: Histogram<f64>,
}

impl CallMetrics {
    pub(crate) fn server(meter: &Meter) -> Self {
        Self {
            duration: meter
                .f64_histogram("rpc.server.call.duration")
                .with_unit("s")
                .with_description(
                    "Measures the duration of an incoming Remote Procedure Call (RPC).",
                )
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
        }
    }

    pub(crate) fn client(meter: &Meter) -> Self {
        Self {
            duration: meter
                .f64_histogram("rpc.client.call.duration")
                .with_unit("s")
                .with_description(
                    "Measures the duration of an outgoing Remote Procedure Call (RPC).",
                )
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
        }
    }

    pub(crate) fn record(&self, seconds: f64, attributes: &[KeyValue]) {
        self.duration.record(seconds, attributes);
    }
}
