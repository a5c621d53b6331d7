//! Shared by the integration tests: an SDK pipeline (otel-init, no globals)
//! exporting over OTLP/gRPC to an in-process receiver on its own runtime, the
//! database code on another runtime, and helpers to read spans and metrics.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry::trace::{
    FutureExt as _, Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric, number_data_point};
use opentelemetry_proto::tonic::trace::v1::Span;
use otel_init::{Telemetry, TelemetryGuard};
use otel_sqlx::{InstrumentedDatabase, InstrumentedPool, InstrumentedPoolBuilder};
use otel_testing::OtlpReceiver;

pub use otel_testing::attr;

pub const PG_ADDR: &str = "127.0.0.1:5432";
pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const MARIADB_ADDR: &str = "127.0.0.1:3306";
pub const MARIADB_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// Proto span kinds.
pub const INTERNAL: i32 = 1;
pub const CLIENT: i32 = 3;
/// Proto status code for errors.
pub const STATUS_ERROR: i32 = 2;

/// A receiver and an SDK pipeline exporting to it.
pub struct Env {
    receiver_rt: tokio::runtime::Runtime,
    pub receiver: OtlpReceiver,
    guard: Option<TelemetryGuard>,
}

impl Env {
    pub fn start() -> Self {
        Self::start_exporting_to(|receiver| receiver.grpc_endpoint())
    }

    /// Like [`start`](Self::start), exporting to the endpoint `endpoint`
    /// derives from the receiver (e.g. a collector forwarding to it).
    pub fn start_exporting_to(endpoint: impl FnOnce(&OtlpReceiver) -> String) -> Self {
        let receiver_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("receiver runtime");
        let receiver = receiver_rt
            .block_on(OtlpReceiver::start())
            .expect("receiver");
        let guard = telemetry_to(&endpoint(&receiver));
        Env {
            receiver_rt,
            receiver,
            guard: Some(guard),
        }
    }

    pub fn guard(&self) -> &TelemetryGuard {
        self.guard.as_ref().expect("telemetry running")
    }

    /// An instrumented-pool builder wired to this pipeline, with a span for
    /// every wait for a connection (however short) so that tests can check
    /// them.
    pub fn instrumented<DB: InstrumentedDatabase>(
        &self,
        pool: sqlx::Pool<DB>,
    ) -> InstrumentedPoolBuilder<DB> {
        let guard = self.guard();
        InstrumentedPool::builder(pool)
            .tracer_provider(guard.tracer_provider().expect("tracer provider").clone())
            .meter_provider(guard.meter_provider().expect("meter provider").clone())
            .acquire_span_threshold(Duration::ZERO)
    }

    /// Runs `test` on a fresh multi-thread runtime (the database side).
    pub fn run<F: Future>(&self, test: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("test runtime")
            .block_on(test)
    }

    /// Runs `body` inside a root span `name` (made current with the
    /// OpenTelemetry context API) and returns the root's span id.
    pub async fn in_root<F: Future>(&self, name: &'static str, body: F) -> (Vec<u8>, F::Output) {
        let tracer = self
            .guard()
            .tracer_provider()
            .expect("tracer")
            .tracer("tests");
        let span = tracer.start(name);
        let id = span.span_context().span_id().to_bytes().to_vec();
        let cx = Context::current_with_span(span);
        let output = body.with_context(cx.clone()).await;
        cx.span().end();
        (id, output)
    }

    /// Shuts the pipeline down (flushing everything) and returns the spans
    /// the receiver got.
    pub fn finish(&mut self) -> Vec<Span> {
        if let Some(guard) = self.guard.take() {
            let report = guard.shutdown();
            assert!(report.is_clean(), "{report:?}");
        }
        let spans = self.receiver.spans();
        if std::env::var_os("OTEL_SQLX_TEST_PRINT").is_some() {
            print_spans(&spans);
        }
        spans
    }

    /// Waits until `check` holds for the receiver (e.g. metrics arrived).
    pub fn wait_until(&self, what: &str, check: impl Fn(&OtlpReceiver) -> bool) {
        let ok = self
            .receiver_rt
            .block_on(self.receiver.wait_for(Duration::from_secs(15), check));
        assert!(
            ok,
            "timed out waiting for {what}; spans {:?}, metrics {:?}",
            self.receiver
                .spans()
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>(),
            self.receiver.metric_names()
        );
    }
}

fn telemetry_to(endpoint: &str) -> TelemetryGuard {
    Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "otel-sqlx-tests"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ])
    .without_globals()
    .build()
    .expect("telemetry")
}

/// The spans named `name`.
pub fn named<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.name == name).collect()
}

/// The only span named `name`.
pub fn one<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    let found = named(spans, name);
    assert_eq!(
        found.len(),
        1,
        "expected one span {name:?}, got {}: {:?}",
        found.len(),
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    found[0]
}

/// Attribute `key` of `span` as a string.
pub fn a(span: &Span, key: &str) -> Option<String> {
    attr(&span.attributes, key)
}

/// Attribute `key` of `span` as an integer.
pub fn int(span: &Span, key: &str) -> Option<i64> {
    a(span, key).and_then(|v| v.parse().ok())
}

pub fn duration(span: &Span) -> Duration {
    Duration::from_nanos(
        span.end_time_unix_nano
            .saturating_sub(span.start_time_unix_nano),
    )
}

pub fn is_error(span: &Span) -> bool {
    span.status.as_ref().is_some_and(|s| s.code == STATUS_ERROR)
}

pub fn status_message(span: &Span) -> String {
    span.status
        .as_ref()
        .map(|s| s.message.clone())
        .unwrap_or_default()
}

/// Every data point value of the sum / gauge `name`, with its attributes.
pub fn number_points(
    metrics: &[(Vec<KeyValue>, String, Metric)],
    name: &str,
) -> Vec<(Vec<KeyValue>, f64)> {
    let mut points = Vec::new();
    for (_, _, metric) in metrics.iter().filter(|(_, _, m)| m.name == name) {
        let data_points = match &metric.data {
            Some(metric::Data::Sum(sum)) => &sum.data_points,
            Some(metric::Data::Gauge(gauge)) => &gauge.data_points,
            _ => continue,
        };
        for point in data_points {
            let value = match point.value {
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                Some(number_data_point::Value::AsDouble(d)) => d,
                None => continue,
            };
            points.push((point.attributes.clone(), value));
        }
    }
    points
}

/// The latest (count, sum, bounds) of the histogram `name` whose attributes
/// include `filter`.
pub fn histogram(
    metrics: &[(Vec<KeyValue>, String, Metric)],
    name: &str,
    filter: (&str, &str),
) -> Option<(u64, f64, Vec<f64>)> {
    let mut latest = None;
    for (_, _, metric) in metrics.iter().filter(|(_, _, m)| m.name == name) {
        if let Some(metric::Data::Histogram(h)) = &metric.data {
            for point in &h.data_points {
                if attr(&point.attributes, filter.0).as_deref() == Some(filter.1) {
                    latest = Some((
                        point.count,
                        point.sum.unwrap_or(0.0),
                        point.explicit_bounds.clone(),
                    ));
                }
            }
        }
    }
    latest
}

/// The latest (bounds, bucket counts) of the histogram `name` whose
/// attributes include `filter`.
pub fn histogram_buckets(
    metrics: &[(Vec<KeyValue>, String, Metric)],
    name: &str,
    filter: (&str, &str),
) -> Option<(Vec<f64>, Vec<u64>)> {
    let mut latest = None;
    for (_, _, metric) in metrics.iter().filter(|(_, _, m)| m.name == name) {
        if let Some(metric::Data::Histogram(h)) = &metric.data {
            for point in &h.data_points {
                if attr(&point.attributes, filter.0).as_deref() == Some(filter.1) {
                    latest = Some((point.explicit_bounds.clone(), point.bucket_counts.clone()));
                }
            }
        }
    }
    latest
}

/// Prints spans with their attributes (set OTEL_SQLX_TEST_PRINT to see them).
pub fn print_spans(spans: &[Span]) {
    let mut sorted: Vec<&Span> = spans.iter().collect();
    sorted.sort_by_key(|s| s.start_time_unix_nano);
    let start = sorted.first().map_or(0, |s| s.start_time_unix_nano);
    for span in sorted {
        let attributes: Vec<String> = span
            .attributes
            .iter()
            .map(|kv| {
                format!(
                    "{}={}",
                    kv.key,
                    attr(std::slice::from_ref(kv), &kv.key).unwrap_or_default()
                )
            })
            .collect();
        eprintln!(
            "{:>9.3} ms +{:>9.3} ms  {:<28} kind={} parent={} status={:?} {}",
            (span.start_time_unix_nano - start) as f64 / 1e6,
            duration(span).as_secs_f64() * 1e3,
            span.name,
            span.kind,
            hex(&span.parent_span_id),
            span.status.as_ref().map(|s| (s.code, s.message.clone())),
            attributes.join(" ")
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
