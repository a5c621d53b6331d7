//! Builds without some cargo features (scripts/feature-sets.sh runs these
//! with `--no-default-features --features http-proto` and `--features grpc`):
//! what the build has exports, what it lacks is warned about and skipped,
//! never an error or a panic.

#![cfg(any(feature = "http-proto", feature = "grpc"))]

mod common;

use common::{Harness, emit_all_signals};
use otel_init::Telemetry;
use otel_testing::Transport;

/// The protocol and receiver endpoint this build exports over.
fn built_in(h: &Harness) -> (&'static str, String, Transport) {
    if cfg!(feature = "http-proto") {
        (
            "http/protobuf",
            h.receiver.http_endpoint(),
            Transport::HttpProtobuf,
        )
    } else {
        ("grpc", h.receiver.grpc_endpoint(), Transport::Grpc)
    }
}

/// Inits from `vars` (no error expected), emits every signal, shuts down
/// cleanly; the report says what was exported.
fn run(vars: &[(&str, &str)]) -> otel_init::ShutdownReport {
    let guard = Telemetry::builder_from_env(&vars)
        .without_globals()
        .build()
        .expect("a setting this build lacks a feature for is no error");
    emit_all_signals(&guard);
    let report = guard.shutdown();
    assert!(report.is_clean(), "{report:?}");
    report
}

#[test]
fn the_built_in_transport_exports_every_signal() {
    let h = Harness::start();
    let (protocol, endpoint, transport) = built_in(&h);
    let report = run(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
    ]);
    assert_eq!(report.export.traces.exported, 2);
    assert_eq!(report.export.logs.exported, 1);
    h.wait_until("a span, a log record and a metric", |r| {
        r.span_named("checkout").is_some()
            && !r.log_records().is_empty()
            && r.metric_names().iter().any(|n| n == "test.orders")
    });
    assert!(
        h.receiver
            .requests()
            .iter()
            .all(|r| r.transport == transport)
    );
}

#[test]
fn the_default_protocol_is_one_this_build_has() {
    let protocol = otel_init::Protocol::built_in_default();
    assert!(protocol.is_built_in(), "{protocol:?}");
    let config = otel_init::config::Config::from_source(&[]);
    assert_eq!(config.otlp(otel_init::Signal::Traces).protocol, protocol);
}

/// gRPC for traces in a build without `grpc`: traces are skipped (a
/// warning on stderr), logs still go over HTTP.
#[cfg(all(not(feature = "grpc"), feature = "http-proto"))]
#[test]
fn grpc_without_the_feature_skips_only_that_signal() {
    let h = Harness::start();
    let endpoint = h.receiver.http_endpoint();
    let report = run(&[
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_METRICS_EXPORTER", "none"),
    ]);
    h.wait_until("the log record", |r| !r.log_records().is_empty());
    assert!(h.receiver.span_named("checkout").is_none());
    assert_eq!(report.export.traces.exported, 0);
    assert_eq!(report.export.logs.exported, 1);
}

/// `https://` in a build without `tls`: nothing is sent, init succeeds.
#[cfg(not(feature = "tls"))]
#[test]
fn https_without_tls_skips_the_exporter() {
    let report = run(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:9"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ]);
    assert_eq!(report.export.traces.exported, 0);
}

/// gzip in a build without `gzip`: sent uncompressed, and accepted.
#[cfg(all(not(feature = "gzip"), feature = "http-proto"))]
#[test]
fn gzip_without_the_feature_sends_uncompressed() {
    let h = Harness::start();
    let endpoint = h.receiver.http_endpoint();
    let report = run(&[
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ]);
    assert_eq!(report.export.traces.exported, 2);
    h.wait_until("the span", |r| r.span_named("checkout").is_some());
    for req in h.receiver.requests() {
        assert_eq!(req.header("content-encoding"), None);
    }
}

/// `OTEL_METRICS_EXPORTER=prometheus,otlp` in a build without `prometheus`:
/// nothing listens, init succeeds, the OTLP exporter still gets the metrics.
#[cfg(all(not(feature = "prometheus"), feature = "http-proto"))]
#[test]
fn prometheus_without_the_feature_serves_nothing() {
    let h = Harness::start();
    let endpoint = h.receiver.http_endpoint();
    let guard = Telemetry::builder_from_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_METRICS_EXPORTER", "prometheus,otlp"),
        ("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "0"),
    ])
    .without_globals()
    .build()
    .expect("a setting this build lacks a feature for is no error");
    assert_eq!(guard.prometheus_address(), None);
    emit_all_signals(&guard);
    let report = guard.shutdown();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.export.metrics.exported, 1);
}
