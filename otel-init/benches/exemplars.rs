//! Exemplar benchmark, one run: nanoseconds per histogram measurement through
//! the meter provider otel-init installs (`exemplar_meter_provider`, the
//! default filter `trace_based`) against the bare SDK histogram of the same
//! `SdkMeterProvider` (`meter_provider`), with the attributes of an
//! `http.server.request.duration` measurement:
//!
//! - `record/*`: `Histogram::record(value, &attributes)` (the SDK hashes the
//!   attributes per call; a sampled measurement is also hashed by the store);
//! - `bound/*`: `BoundHistogram::record(value)` (otel-axum, otel-reqwest and
//!   otel-sqlx record durations this way);
//!
//! each with no span current, an unsampled span current (the path of every
//! unsampled request) and a sampled one (kept as an exemplar).
//!
//! Run with `cargo bench -p otel-init --bench exemplars`; instructions per
//! measurement (deterministic, unlike timings on a shared machine) with
//! `sh otel-init/benches/exemplars_instructions.sh` after
//! `cargo bench -p otel-init --bench exemplars --no-run`.

use criterion::Criterion;
use otel_init::opentelemetry::metrics::{Histogram, MeterProvider as _};
use otel_init::opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use otel_init::opentelemetry::{Context, KeyValue};
use otel_init::{Telemetry, TelemetryGuard};
use std::hint::black_box;
use std::time::Duration;

fn attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.route", "/items/{id}"),
        KeyValue::new("http.response.status_code", 200),
        KeyValue::new("network.protocol.version", "1.1"),
        KeyValue::new("url.scheme", "http"),
    ]
}

/// Metrics on (console, exported only at shutdown), traces and logs off.
fn telemetry() -> TelemetryGuard {
    Telemetry::builder_from_env(&[
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "console"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "3600000"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .without_globals()
    .build()
    .expect("telemetry")
}

/// The current context of each case: none, an unsampled span, a sampled one.
fn contexts() -> [(&'static str, Option<Context>); 3] {
    let span = |flags| {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
            SpanId::from(0x00f0_67aa_0ba9_02b7),
            flags,
            false,
            TraceState::default(),
        ))
    };
    [
        ("no_span", None),
        ("unsampled", Some(span(TraceFlags::default()))),
        ("sampled", Some(span(TraceFlags::SAMPLED))),
    ]
}

fn histograms(telemetry: &TelemetryGuard) -> [(&'static str, Histogram<f64>); 2] {
    let sdk = telemetry
        .meter_provider()
        .expect("metrics on")
        .meter("bench");
    let wrapped = telemetry
        .exemplar_meter_provider()
        .expect("metrics on")
        .meter("bench");
    [
        ("sdk", sdk.f64_histogram("sdk.duration").build()),
        (
            "exemplars",
            wrapped.f64_histogram("exemplars.duration").build(),
        ),
    ]
}

/// `EXEMPLARS_CASE=<group>/<provider>/<context> EXEMPLARS_N=<n>`: that case
/// alone, `n` times, without criterion (for `exemplars_instructions.sh`).
fn one_case(case: &str, n: usize) {
    let telemetry = telemetry();
    let attrs = attributes();
    let histograms = histograms(&telemetry);
    let mut parts = case.split('/');
    let (group, provider, context) = (parts.next(), parts.next(), parts.next());
    let h = &histograms
        .iter()
        .find(|(name, _)| Some(*name) == provider)
        .expect("provider sdk or exemplars")
        .1;
    let cx = contexts()
        .into_iter()
        .find(|(name, _)| Some(*name) == context)
        .expect("context no_span, unsampled or sampled")
        .1;
    let _current = cx.map(Context::attach);
    let bound = h.bind(&attrs);
    let mut value = 0.0;
    for _ in 0..n {
        value = (value + 0.0137) % 12.0;
        match group {
            Some("record") => h.record(black_box(value), black_box(&attrs)),
            _ => bound.record(black_box(value)),
        }
    }
    drop(telemetry);
}

fn main() {
    if let (Ok(case), Ok(n)) = (
        std::env::var("EXEMPLARS_CASE"),
        std::env::var("EXEMPLARS_N"),
    ) {
        return one_case(&case, n.parse().expect("EXEMPLARS_N: a count"));
    }
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let telemetry = telemetry();
    let attrs = attributes();
    let histograms = histograms(&telemetry);

    let mut group = c.benchmark_group("record");
    for (context, cx) in contexts() {
        let _current = cx.map(Context::attach);
        for (provider, h) in &histograms {
            let mut value = 0.0;
            group.bench_function(format!("{provider}/{context}"), |b| {
                b.iter(|| {
                    // Spread over the buckets, as request durations are.
                    value = (value + 0.0137) % 12.0;
                    h.record(black_box(value), black_box(&attrs));
                })
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("bound");
    for (context, cx) in contexts() {
        let _current = cx.map(Context::attach);
        for (provider, h) in &histograms {
            let bound = h.bind(&attrs);
            let mut value = 0.0;
            group.bench_function(format!("{provider}/{context}"), |b| {
                b.iter(|| {
                    value = (value + 0.0137) % 12.0;
                    bound.record(black_box(value));
                })
            });
        }
    }
    group.finish();
    c.final_summary();
    drop(telemetry);
}
