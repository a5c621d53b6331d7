//! The provider and the export-time attachment together, on the SDK's own
//! aggregation (an in-memory exporter).

use super::{ExemplarMeterProvider, ExemplarStore, attach};
use crate::config::ExemplarFilter;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{HistogramDataPoint, exemplar, metric::Data};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use std::sync::Arc;

struct Setup {
    meters: ExemplarMeterProvider,
    store: Option<Arc<ExemplarStore>>,
    exporter: InMemoryMetricExporter,
}

fn setup(filter: ExemplarFilter) -> Setup {
    let exporter = InMemoryMetricExporter::default();
    let sdk = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let store = (filter != ExemplarFilter::AlwaysOff).then(|| Arc::new(ExemplarStore::new(filter)));
    Setup {
        meters: ExemplarMeterProvider::new(sdk, store.clone()),
        store,
        exporter,
    }
}

impl Setup {
    /// The histogram points of the last export, with exemplars attached.
    fn points(&self, name: &str) -> Vec<HistogramDataPoint> {
        self.meters.sdk().force_flush().expect("flush");
        let metrics = self.exporter.get_finished_metrics().expect("metrics");
        let Some(last) = metrics.last() else {
            return Vec::new();
        };
        let mut request = ExportMetricsServiceRequest::from(last);
        if let Some(store) = &self.store {
            attach(store, &mut request);
        }
        request
            .resource_metrics
            .into_iter()
            .flat_map(|r| r.scope_metrics)
            .flat_map(|s| s.metrics)
            .filter(|m| m.name == name)
            .flat_map(|m| match m.data {
                Some(Data::Histogram(h)) => h.data_points,
                _ => Vec::new(),
            })
            .collect()
    }
}

fn span(trace: u128, sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(trace),
        SpanId::from(trace as u64),
        flags,
        false,
        TraceState::default(),
    ))
}

fn trace_ids(point: &HistogramDataPoint) -> Vec<u128> {
    point
        .exemplars
        .iter()
        .map(|e| {
            let bytes: [u8; 16] = e.trace_id.as_slice().try_into().unwrap_or([0; 16]);
            u128::from_be_bytes(bytes)
        })
        .collect()
}

#[test]
fn histogram_points_carry_the_sampled_measurements() {
    let s = setup(ExemplarFilter::TraceBased);
    let meter = s.meters.meter("test");
    let duration = meter
        .f64_histogram("op.duration")
        .with_boundaries(vec![0.1, 1.0])
        .build();
    let get = [KeyValue::new("op", "get")];
    let put = [KeyValue::new("op", "put"), KeyValue::new("db", "x")];
    {
        let _cx = span(1, true).attach();
        duration.record(0.05, &get);
    }
    {
        let _cx = span(2, false).attach();
        duration.record(0.5, &get); // counted, not kept
    }
    {
        let _cx = span(3, true).attach();
        // Another order than the SDK's sorted one.
        duration.record(2.0, &[put[1].clone(), put[0].clone()]);
    }
    duration.record(0.5, &put); // outside a span
    let points = s.points("op.duration");
    assert_eq!(points.len(), 2);
    let find = |op: &str| {
        points
            .iter()
            .find(|p| otel_testing::attr(&p.attributes, "op").as_deref() == Some(op))
            .cloned()
            .expect(op)
    };
    let get_point = find("get");
    assert_eq!(get_point.count, 2);
    assert_eq!(trace_ids(&get_point), [1]);
    let e = &get_point.exemplars[0];
    assert_eq!(e.span_id, SpanId::from(1).to_bytes());
    assert_eq!(e.value, Some(exemplar::Value::AsDouble(0.05)));
    assert!(
        (get_point.start_time_unix_nano..=get_point.time_unix_nano).contains(&e.time_unix_nano)
    );
    assert_eq!(trace_ids(&find("put")), [3]);
}

#[test]
fn always_on_keeps_every_measurement_and_always_off_none() {
    let on = setup(ExemplarFilter::AlwaysOn);
    let h = on.meters.meter("test").u64_histogram("size").build();
    h.record(7, &[]);
    let points = on.points("size");
    assert_eq!(points[0].exemplars.len(), 1);
    assert!(
        points[0].exemplars[0].trace_id.is_empty(),
        "no span: no ids"
    );
    assert_eq!(
        points[0].exemplars[0].value,
        Some(exemplar::Value::AsInt(7))
    );

    let off = setup(ExemplarFilter::AlwaysOff);
    let h = off
        .meters
        .meter("test")
        .f64_histogram("op.duration")
        .build();
    let _cx = span(1, true).attach();
    h.record(1.0, &[]);
    let points = off.points("op.duration");
    assert_eq!(points[0].count, 1);
    assert!(points[0].exemplars.is_empty());
}

#[test]
fn bound_histograms_keep_exemplars_of_their_set() {
    let s = setup(ExemplarFilter::TraceBased);
    let h = s.meters.meter("test").f64_histogram("op.duration").build();
    let bound = h.bind(&[KeyValue::new("op", "get")]);
    bound.record(1.0);
    {
        let _cx = span(9, true).attach();
        bound.record(2.0);
    }
    let points = s.points("op.duration");
    assert_eq!(points[0].count, 2, "the SDK's bound instrument counts both");
    assert_eq!(trace_ids(&points[0]), [9]);
}

#[test]
fn other_instruments_are_the_sdks_own() {
    let s = setup(ExemplarFilter::AlwaysOn);
    let meter = s.meters.meter("test");
    let orders = meter.u64_counter("orders").with_unit("{order}").build();
    orders.add(2, &[]);
    let _gauge = meter
        .u64_observable_gauge("queue")
        .with_callback(|o| o.observe(3, &[]))
        .build();
    s.meters.sdk().force_flush().expect("flush");
    let metrics = s.exporter.get_finished_metrics().expect("metrics");
    let request = ExportMetricsServiceRequest::from(&metrics[metrics.len() - 1]);
    let names: Vec<(String, String)> = request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| (m.name.clone(), m.unit.clone()))
        .collect();
    assert!(
        names.contains(&("orders".into(), "{order}".into())),
        "{names:?}"
    );
    assert!(names.iter().any(|(n, _)| n == "queue"), "{names:?}");
}
