//! Log records and metrics as plain lines on stderr.

use super::super::logs::{LogItem, encode};
use super::super::pipeline::{BatchSink, BoxFuture};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1 as metric_v1;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use std::fmt::Write as _;
use std::io::Write as _;

fn any(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn attrs(list: &[KeyValue]) -> String {
    list.iter()
        .map(|kv| format!("{}={}", kv.key, any(&kv.value)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Prints log records, one line each.
pub(crate) struct ConsoleLogSink {
    pub(crate) resource: ResourceAttributesWithSchema,
}

impl BatchSink<LogItem> for ConsoleLogSink {
    fn export(&mut self, batch: Vec<LogItem>) -> BoxFuture<'_, Result<(), String>> {
        let mut out = String::new();
        for rl in encode(&batch, &self.resource, None, usize::MAX) {
            for sl in rl.scope_logs {
                let scope = sl.scope.map(|s| s.name).unwrap_or_default();
                for r in sl.log_records {
                    let _ = write!(
                        out,
                        "log {} {} {}: {}",
                        crate::time::rfc3339_nanos(r.time_unix_nano.max(r.observed_time_unix_nano)),
                        if r.severity_text.is_empty() {
                            "-"
                        } else {
                            &r.severity_text
                        },
                        scope,
                        any(&r.body)
                    );
                    if !r.attributes.is_empty() {
                        let _ = write!(out, " {}", attrs(&r.attributes));
                    }
                    if !r.trace_id.is_empty() {
                        let _ = write!(
                            out,
                            " trace_id={} span_id={}",
                            hex(&r.trace_id),
                            hex(&r.span_id)
                        );
                    }
                    out.push('\n');
                }
            }
        }
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
        Box::pin(async { Ok(()) })
    }
}

/// Prints one line per metric data point.
pub(crate) fn print_metrics(request: &ExportMetricsServiceRequest) {
    let mut out = String::new();
    for rm in &request.resource_metrics {
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                let unit = if m.unit.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", m.unit)
                };
                match &m.data {
                    Some(metric::Data::Sum(metric_v1::Sum { data_points, .. }))
                    | Some(metric::Data::Gauge(metric_v1::Gauge { data_points, .. })) => {
                        let kind = if matches!(m.data, Some(metric::Data::Sum(_))) {
                            "sum"
                        } else {
                            "gauge"
                        };
                        for p in data_points {
                            let _ = writeln!(
                                out,
                                "metric {}{unit} {kind} {} {}",
                                m.name,
                                number(&p.value),
                                attrs(&p.attributes)
                            );
                        }
                    }
                    Some(metric::Data::Histogram(h)) => {
                        for p in &h.data_points {
                            let _ = writeln!(
                                out,
                                "metric {}{unit} histogram count={} sum={} {}",
                                m.name,
                                p.count,
                                p.sum.unwrap_or_default(),
                                attrs(&p.attributes)
                            );
                        }
                    }
                    Some(other) => {
                        let _ = writeln!(out, "metric {}{unit} {other:?}", m.name);
                    }
                    None => {}
                }
            }
        }
    }
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

fn number(v: &Option<number_data_point::Value>) -> String {
    match v {
        Some(number_data_point::Value::AsInt(i)) => i.to_string(),
        Some(number_data_point::Value::AsDouble(d)) => d.to_string(),
        None => String::new(),
    }
}
