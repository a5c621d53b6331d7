//! Export time: the exemplars of each histogram data point, attached to the
//! OTLP request that the SDK's data was encoded into.

use super::key;
use super::reservoir::{Exemplar, MeasuredValue};
use super::store::ExemplarStore;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{self as proto, exemplar, metric::Data};

/// Gives each histogram data point of `request` the exemplars its series
/// kept within the point's time window (from its start time to its time).
pub(crate) fn attach(store: &ExemplarStore, request: &mut ExportMetricsServiceRequest) {
    for scope_metrics in request
        .resource_metrics
        .iter_mut()
        .flat_map(|r| r.scope_metrics.iter_mut())
    {
        let scope = scope_metrics.scope.as_ref().map_or("", |s| s.name.as_str());
        for metric in &mut scope_metrics.metrics {
            let Some(Data::Histogram(histogram)) = &mut metric.data else {
                continue;
            };
            let Some(reservoirs) = store.find(scope, &metric.name) else {
                continue;
            };
            for point in &mut histogram.data_points {
                let Some(series) = reservoirs.existing(key::of_proto(&point.attributes)) else {
                    continue;
                };
                point.exemplars = series
                    .within(point.start_time_unix_nano, point.time_unix_nano)
                    .into_iter()
                    .map(to_proto)
                    .collect();
            }
        }
    }
}

/// The OTLP form of an exemplar: no ids when it was recorded outside a span.
pub(crate) fn to_proto(e: Exemplar) -> proto::Exemplar {
    let (trace_id, span_id) = if e.has_trace() {
        (e.trace_id.to_vec(), e.span_id.to_vec())
    } else {
        (Vec::new(), Vec::new())
    };
    proto::Exemplar {
        filtered_attributes: Vec::new(),
        time_unix_nano: e.time_unix_nano,
        span_id,
        trace_id,
        value: Some(match e.value {
            MeasuredValue::F64(v) => exemplar::Value::AsDouble(v),
            MeasuredValue::U64(v) => exemplar::Value::AsInt(i64::try_from(v).unwrap_or(i64::MAX)),
        }),
    }
}
