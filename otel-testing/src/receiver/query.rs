//! Reading what a receiver recorded, and waiting for it.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::OtlpReceiver;
use super::store::{ExportRequest, Received};

/// How often the `wait_for*` methods look again.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// The value of attribute `key` in `attrs` rendered as a string: string
/// values as they are, ints, bools and doubles with `to_string`. `None` when
/// the key is missing or its value is of another type (bytes, array, map).
pub fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    let value = attrs
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    match value {
        Value::StringValue(s) => Some(s.clone()),
        Value::IntValue(i) => Some(i.to_string()),
        Value::BoolValue(b) => Some(b.to_string()),
        Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

fn resource_attrs(resource: Option<&Resource>) -> Vec<KeyValue> {
    resource.map(|r| r.attributes.clone()).unwrap_or_default()
}

fn scope_name(scope: Option<&InstrumentationScope>) -> String {
    scope.map(|s| s.name.clone()).unwrap_or_default()
}

impl OtlpReceiver {
    /// Every accepted request, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.store.received()
    }

    /// How many requests reached the receiver, including failed, blackholed
    /// and undecodable ones.
    pub fn attempts(&self) -> usize {
        self.store.attempts()
    }

    /// Forgets every recorded request and resets [`attempts`](Self::attempts)
    /// (the behaviour is kept).
    pub fn clear(&self) {
        self.store.clear();
    }

    /// The accepted trace export requests, in arrival order.
    pub fn traces(&self) -> Vec<ExportTraceServiceRequest> {
        self.store.with_received(|received| {
            received
                .iter()
                .filter_map(|r| match &r.request {
                    ExportRequest::Traces(t) => Some(t.clone()),
                    _ => None,
                })
                .collect()
        })
    }

    /// The accepted metrics export requests, in arrival order.
    pub fn metrics(&self) -> Vec<ExportMetricsServiceRequest> {
        self.store.with_received(|received| {
            received
                .iter()
                .filter_map(|r| match &r.request {
                    ExportRequest::Metrics(m) => Some(m.clone()),
                    _ => None,
                })
                .collect()
        })
    }

    /// The accepted logs export requests, in arrival order.
    pub fn logs(&self) -> Vec<ExportLogsServiceRequest> {
        self.store.with_received(|received| {
            received
                .iter()
                .filter_map(|r| match &r.request {
                    ExportRequest::Logs(l) => Some(l.clone()),
                    _ => None,
                })
                .collect()
        })
    }

    /// Every received span, flattened across requests, resources and scopes.
    pub fn spans(&self) -> Vec<Span> {
        self.spans_with_resource()
            .into_iter()
            .map(|(_, _, span)| span)
            .collect()
    }

    /// Every received span with its resource attributes and instrumentation
    /// scope name (empty when absent).
    pub fn spans_with_resource(&self) -> Vec<(Vec<KeyValue>, String, Span)> {
        let mut out = Vec::new();
        for request in self.traces() {
            for rs in request.resource_spans {
                let resource = resource_attrs(rs.resource.as_ref());
                for ss in rs.scope_spans {
                    let scope = scope_name(ss.scope.as_ref());
                    for span in ss.spans {
                        out.push((resource.clone(), scope.clone(), span));
                    }
                }
            }
        }
        out
    }

    /// The first received span named `name`.
    pub fn span_named(&self, name: &str) -> Option<Span> {
        self.spans().into_iter().find(|s| s.name == name)
    }

    /// Every received metric with its resource attributes and
    /// instrumentation scope name.
    pub fn metrics_with_resource(&self) -> Vec<(Vec<KeyValue>, String, Metric)> {
        let mut out = Vec::new();
        for request in self.metrics() {
            for rm in request.resource_metrics {
                let resource = resource_attrs(rm.resource.as_ref());
                for sm in rm.scope_metrics {
                    let scope = scope_name(sm.scope.as_ref());
                    for metric in sm.metrics {
                        out.push((resource.clone(), scope.clone(), metric));
                    }
                }
            }
        }
        out
    }

    /// The names of the received metrics, deduplicated, in order of first
    /// arrival.
    pub fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (_, _, metric) in self.metrics_with_resource() {
            if !names.contains(&metric.name) {
                names.push(metric.name);
            }
        }
        names
    }

    /// Every received log record, flattened.
    pub fn log_records(&self) -> Vec<LogRecord> {
        self.log_records_with_resource()
            .into_iter()
            .map(|(_, _, record)| record)
            .collect()
    }

    /// Every received log record with its resource attributes and
    /// instrumentation scope name.
    pub fn log_records_with_resource(&self) -> Vec<(Vec<KeyValue>, String, LogRecord)> {
        let mut out = Vec::new();
        for request in self.logs() {
            for rl in request.resource_logs {
                let resource = resource_attrs(rl.resource.as_ref());
                for sl in rl.scope_logs {
                    let scope = scope_name(sl.scope.as_ref());
                    for record in sl.log_records {
                        out.push((resource.clone(), scope.clone(), record));
                    }
                }
            }
        }
        out
    }

    /// Polls `f` every 20 ms until it returns true (then true) or `timeout`
    /// passes (then false). Yields to the runtime between polls, so it works
    /// on a current-thread runtime.
    pub async fn wait_for<F: Fn(&Self) -> bool>(&self, timeout: Duration, f: F) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if f(self) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until at least `n` spans were received.
    pub async fn wait_for_spans(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.spans().len() >= n).await
    }

    /// Waits until a span named `name` was received and returns it.
    pub async fn wait_for_span(&self, name: &str, timeout: Duration) -> Option<Span> {
        self.wait_for(timeout, |r| r.span_named(name).is_some())
            .await
            .then(|| self.span_named(name))
            .flatten()
    }

    /// Waits until a metric named `name` was received.
    pub async fn wait_for_metric(&self, name: &str, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.metric_names().iter().any(|n| n == name))
            .await
    }

    /// Waits until at least `n` log records were received.
    pub async fn wait_for_log_records(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.log_records().len() >= n).await
    }

    /// Waits until at least `n` requests were accepted.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.store.with_received(|v| v.len()) >= n)
            .await
    }

    /// Waits until at least `n` requests arrived, failed ones included.
    pub async fn wait_for_attempts(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.attempts() >= n).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.to_string(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    #[test]
    fn attr_renders_scalars() {
        let attrs = vec![
            kv("s", Value::StringValue("x".into())),
            kv("i", Value::IntValue(42)),
            kv("b", Value::BoolValue(true)),
            kv("d", Value::DoubleValue(1.5)),
            kv("bytes", Value::BytesValue(vec![1])),
        ];
        assert_eq!(attr(&attrs, "s").as_deref(), Some("x"));
        assert_eq!(attr(&attrs, "i").as_deref(), Some("42"));
        assert_eq!(attr(&attrs, "b").as_deref(), Some("true"));
        assert_eq!(attr(&attrs, "d").as_deref(), Some("1.5"));
        assert_eq!(attr(&attrs, "bytes"), None);
        assert_eq!(attr(&attrs, "missing"), None);
    }
}
