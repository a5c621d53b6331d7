//! The exemplars of exported histograms, for assertions: which trace and
//! span each links to, by metric.

use crate::OtlpReceiver;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{exemplar, metric::Data};

/// One exemplar of a histogram data point, its ids in lowercase hex (empty
/// when it was recorded outside a span).
#[derive(Debug, Clone, PartialEq)]
pub struct ExemplarSeen {
    /// The data point's attributes.
    pub attributes: Vec<KeyValue>,
    /// The trace id, 32 hex digits.
    pub trace_id: String,
    /// The span id, 16 hex digits.
    pub span_id: String,
    /// The measurement (an integer one as `f64`).
    pub value: f64,
    /// When it was recorded, Unix nanoseconds.
    pub time_unix_nano: u64,
}

/// Every exemplar of the histogram `name` in what `receiver` received, each
/// once (a cumulative export repeats the ones of earlier exports).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
/// // Nothing received yet.
/// assert!(otel_testing::histogram_exemplars(&receiver, "http.server.request.duration").is_empty());
/// # }
/// ```
pub fn histogram_exemplars(receiver: &OtlpReceiver, name: &str) -> Vec<ExemplarSeen> {
    let mut out: Vec<ExemplarSeen> = Vec::new();
    for (_, _, metric) in receiver.metrics_with_resource() {
        if metric.name != name {
            continue;
        }
        let Some(Data::Histogram(histogram)) = metric.data else {
            continue;
        };
        for point in histogram.data_points {
            for e in point.exemplars {
                let seen = ExemplarSeen {
                    attributes: point.attributes.clone(),
                    trace_id: hex(&e.trace_id),
                    span_id: hex(&e.span_id),
                    value: match e.value {
                        Some(exemplar::Value::AsDouble(v)) => v,
                        Some(exemplar::Value::AsInt(v)) => v as f64,
                        None => f64::NAN,
                    },
                    time_unix_nano: e.time_unix_nano,
                };
                if !out.contains(&seen) {
                    out.push(seen);
                }
            }
        }
    }
    out
}

/// Lowercase hex, as trace ids are written.
///
/// ```
/// assert_eq!(otel_testing::hex(&[0x0a, 0xff]), "0aff");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
