//! Export over each OTLP protocol to an in-process receiver: every signal,
//! resource, headers, compression, per-signal endpoints, retries, limits.

mod common;

use common::{Harness, emit_all_signals, fast_retry};
use otel_init::Telemetry;
use otel_testing::{Behavior, Transport, attr};

fn assert_all_signals_arrived(h: &Harness, transport: Transport) {
    h.wait_until("a span, a log record and a metric", |r| {
        r.span_named("checkout").is_some()
            && !r.log_records().is_empty()
            && r.metric_names().iter().any(|n| n == "test.orders")
    });
    let spans = h.receiver.spans_with_resource();
    let (resource, scope, checkout) = spans
        .iter()
        .find(|(_, _, s)| s.name == "checkout")
        .expect("checkout span");
    assert_eq!(
        attr(resource, "service.name").as_deref(),
        Some("export-test")
    );
    assert_eq!(
        attr(resource, "deployment.environment.name").as_deref(),
        Some("ci test")
    );
    assert!(attr(resource, "service.instance.id").is_some());
    assert_eq!(
        attr(resource, "telemetry.sdk.language").as_deref(),
        Some("rust")
    );
    // The default resource detectors ran (host, os, process).
    for key in ["host.name", "host.arch", "os.type", "process.pid"] {
        assert!(attr(resource, key).is_some(), "resource lacks {key}");
    }
    assert_eq!(attr(resource, "os.type").as_deref(), Some("linux"));
    assert_eq!(scope, "otel-init");
    assert_eq!(attr(&checkout.attributes, "order").as_deref(), Some("42"));
    let child = spans
        .iter()
        .find(|(_, _, s)| s.name == "load_cart")
        .map(|(_, _, s)| s.clone())
        .expect("child span");
    assert_eq!(child.parent_span_id, checkout.span_id);
    assert_eq!(child.trace_id, checkout.trace_id);

    let logs = h.receiver.log_records_with_resource();
    let (log_resource, _, log) = &logs[0];
    assert_eq!(
        attr(log_resource, "service.name").as_deref(),
        Some("export-test")
    );
    assert_eq!(log.severity_text, "WARN");
    assert_eq!(log.trace_id, checkout.trace_id, "log carries the trace id");
    assert_eq!(log.span_id, child.span_id, "log carries the span id");

    for req in h.receiver.requests() {
        assert_eq!(req.transport, transport);
        assert_eq!(req.header("x-api-key"), Some("s3cret=1"));
        assert!(
            req.header("user-agent")
                .is_some_and(|ua| ua.contains("OTel-OTLP-Exporter-Rust")),
            "{:?}",
            req.headers
        );
    }
}

fn run_protocol(protocol: &str, endpoint: &str, transport: Transport) {
    let h = Harness::start();
    let base = match transport {
        Transport::Grpc => h.receiver.grpc_endpoint(),
        _ => h.receiver.http_endpoint(),
    };
    let endpoint = format!("{base}{endpoint}");
    let guard = Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "export-test"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=ci%20test",
        ),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=s3cret%3D1"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
    ])
    .without_globals()
    .build()
    .expect("init");
    emit_all_signals(&guard);
    let report = guard.shutdown();
    assert!(report.is_clean(), "{report:?}");
    assert_all_signals_arrived(&h, transport);
    assert_eq!(report.export.traces.exported, 2);
    assert_eq!(report.export.logs.exported, 1);
}

#[test]
fn grpc_exports_every_signal() {
    run_protocol("grpc", "", Transport::Grpc);
}

#[test]
fn http_protobuf_exports_every_signal() {
    run_protocol("http/protobuf", "/", Transport::HttpProtobuf);
}

#[test]
fn http_json_exports_every_signal() {
    run_protocol("http/json", "", Transport::HttpJson);
}

#[test]
fn per_signal_endpoints_protocols_headers_and_gzip() {
    let traces = Harness::start();
    let rest = Harness::start();
    let traces_url = traces.receiver.grpc_endpoint();
    let metrics_url = format!("{}/v1/metrics", rest.receiver.http_endpoint());
    let logs_url = format!("{}/v1/logs", rest.receiver.http_endpoint());
    let guard = Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "per-signal"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"), // overridden for every signal
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces_url.as_str()),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "tenant=traces"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", metrics_url.as_str()),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs_url.as_str()),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "tenant=default"),
    ])
    .without_globals()
    .build()
    .expect("init");
    emit_all_signals(&guard);
    assert!(guard.shutdown().is_clean());

    traces.wait_until("spans", |r| r.spans().len() == 2);
    for req in traces.receiver.requests() {
        assert_eq!(req.transport, Transport::Grpc);
        assert_eq!(req.header("tenant"), Some("traces"));
        assert_eq!(req.header("grpc-encoding"), Some("gzip"));
    }
    rest.wait_until("metrics and logs", |r| {
        !r.log_records().is_empty() && !r.metric_names().is_empty()
    });
    assert!(rest.receiver.spans().is_empty());
    for req in rest.receiver.requests() {
        assert_eq!(req.header("tenant"), Some("default"));
        match req.signal {
            otel_testing::Signal::Metrics => {
                assert_eq!(req.transport, Transport::HttpProtobuf);
                assert_eq!(req.header("content-encoding"), None);
            }
            otel_testing::Signal::Logs => {
                assert_eq!(req.transport, Transport::HttpJson);
                assert_eq!(req.header("content-encoding"), Some("gzip"));
            }
            otel_testing::Signal::Traces => panic!("no spans expected here"),
        }
    }
}

fn traces_only(h: &Harness, protocol: &str) -> otel_init::TelemetryBuilder {
    let endpoint = if protocol == "grpc" {
        h.receiver.grpc_endpoint()
    } else {
        h.receiver.http_endpoint()
    };
    Telemetry::builder_from_env(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .without_globals()
    .retry_policy(fast_retry())
}

fn one_span(guard: &otel_init::TelemetryGuard) {
    use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    let tracer = guard.tracer_provider().expect("tracer").tracer("t");
    tracer.in_span("retried", |_| {});
}

#[test]
fn transient_failures_are_retried_until_accepted() {
    for protocol in ["grpc", "http/protobuf"] {
        let h = Harness::start();
        h.receiver
            .set_behavior(Behavior::FailTimes { n: 2, status: 503 });
        let guard = traces_only(&h, protocol).build().expect("init");
        one_span(&guard);
        let report = guard.shutdown();
        assert!(report.is_clean(), "{protocol}: {report:?}");
        assert_eq!(h.receiver.attempts(), 3, "{protocol}");
        assert_eq!(h.receiver.spans().len(), 1, "{protocol}");
    }
}

#[test]
fn permanent_failures_are_not_retried_and_are_counted() {
    for (protocol, behavior) in [
        (
            "http/protobuf",
            Behavior::FailHttp {
                status: 400,
                retry_after: None,
            },
        ),
        ("grpc", Behavior::FailGrpc(tonic::Code::InvalidArgument)),
        ("grpc", Behavior::FailGrpc(tonic::Code::ResourceExhausted)),
    ] {
        let h = Harness::start();
        h.receiver.set_behavior(behavior.clone());
        let guard = traces_only(&h, protocol).build().expect("init");
        one_span(&guard);
        let report = guard.shutdown();
        assert_eq!(h.receiver.attempts(), 1, "{protocol} {behavior:?}");
        assert_eq!(report.export.traces.failed, 1, "{protocol} {behavior:?}");
        assert_eq!(report.export.traces.exported, 0);
    }
}

#[test]
fn http_429_with_retry_after_is_retried_until_attempts_run_out() {
    let h = Harness::start();
    h.receiver.set_behavior(Behavior::FailHttp {
        status: 429,
        retry_after: Some(0),
    });
    let guard = traces_only(&h, "http/protobuf").build().expect("init");
    one_span(&guard);
    let report = guard.shutdown();
    // Every attempt was refused with 429 + Retry-After: 0, so all four were made.
    assert_eq!(h.receiver.attempts(), 4);
    assert_eq!(report.export.traces.failed, 1);
}

#[test]
fn attribute_value_length_limit_is_applied() {
    let h = Harness::start();
    let endpoint = h.receiver.http_endpoint();
    let guard = Telemetry::builder_from_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "5"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .without_globals()
    .build()
    .expect("init");
    {
        use otel_init::opentelemetry::KeyValue;
        use otel_init::opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
        let tracer = guard.tracer_provider().expect("tracer").tracer("t");
        let mut span = tracer.start("limited");
        span.set_attribute(KeyValue::new("long", "abcdefghij"));
        span.set_attribute(KeyValue::new("count", 1234567_i64));
        span.end();
    }
    assert!(guard.shutdown().is_clean());
    let span = h.receiver.span_named("limited").expect("span");
    assert_eq!(attr(&span.attributes, "long").as_deref(), Some("abcde"));
    assert_eq!(attr(&span.attributes, "count").as_deref(), Some("1234567"));
}

#[test]
fn sdk_disabled_exports_nothing() {
    let h = Harness::start();
    let endpoint = h.receiver.http_endpoint();
    let guard = Telemetry::builder_from_env(&[
        ("OTEL_SDK_DISABLED", "true"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
    ])
    .without_globals()
    .build()
    .expect("init");
    assert!(guard.tracer_provider().is_none());
    assert!(guard.meter_provider().is_none());
    assert!(guard.logger_provider().is_none());
    emit_all_signals(&guard);
    let report = guard.shutdown();
    assert!(report.is_clean());
    assert_eq!(report.export.traces.exported, 0);
    assert_eq!(h.receiver.attempts(), 0);
}

#[test]
fn no_span_is_lost_on_graceful_shutdown() {
    let h = Harness::start();
    let guard = traces_only(&h, "grpc")
        .span_batch(otel_init::config::BatchConfig {
            schedule_delay: std::time::Duration::from_secs(60),
            export_timeout: std::time::Duration::from_secs(30),
            max_queue_size: 20_000,
            max_export_batch_size: 512,
        })
        .shutdown_timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("init");
    {
        use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
        let tracer = guard.tracer_provider().expect("tracer").tracer("t");
        for _ in 0..10_000 {
            tracer.in_span("bulk", |_| {});
        }
    }
    let report = guard.shutdown();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.export.traces.exported, 10_000);
    assert_eq!(h.receiver.spans().len(), 10_000);
}

#[test]
fn invalid_builder_settings_are_typed_errors() {
    let err = Telemetry::builder_from_env(&[])
        .sampler(otel_init::SamplerKind::TraceIdRatio(2.0))
        .build()
        .expect_err("ratio 2.0 is invalid");
    assert_eq!(
        err.to_string(),
        "invalid setting sampler = TraceIdRatio(2.0): expected a ratio from 0.0 to 1.0"
    );
    let err = Telemetry::builder_from_env(&[])
        .otlp_endpoint("localhost:4317")
        .build()
        .expect_err("relative endpoint");
    assert!(
        err.to_string()
            .starts_with("invalid setting otlp_endpoint = \"localhost:4317\""),
        "{err}"
    );
    let err = Telemetry::builder_from_env(&[])
        .otlp_header("bad header", "x")
        .build()
        .expect_err("bad header");
    assert!(matches!(
        err,
        otel_init::InitError::InvalidSetting {
            setting: "otlp_header",
            ..
        }
    ));
    let err =
        Telemetry::builder_from_env(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")])
            .without_globals()
            .build()
            .expect_err("missing CA file");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}

/// With two logs exporters, the last one's processor takes each record
/// instead of copying it: whichever place OTLP has, it gets the whole record.
#[test]
fn every_logs_exporter_gets_the_whole_record_in_either_order() {
    use otel_init::opentelemetry::logs::{
        AnyValue, LogRecord as _, Logger as _, LoggerProvider as _,
    };
    for exporters in ["otlp,console", "console,otlp"] {
        let h = Harness::start();
        let endpoint = h.receiver.grpc_endpoint();
        let guard = Telemetry::builder_from_env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", exporters),
        ])
        .without_globals()
        .build()
        .expect("init");
        let logger = guard
            .logger_provider()
            .expect("logs are on")
            .logger("orders");
        for n in 0..3_i64 {
            let mut record = logger.create_log_record();
            record.set_body(AnyValue::from(format!("order {n} placed")));
            record.add_attribute("order.id", n);
            logger.emit(record);
        }
        let report = guard.shutdown();
        assert!(report.is_clean(), "{exporters}: {report:?}");
        let mut records = h.receiver.log_records();
        records.sort_by_key(|r| attr(&r.attributes, "order.id"));
        assert_eq!(records.len(), 3, "{exporters}");
        for (n, record) in records.iter().enumerate() {
            let body = record.body.as_ref().and_then(|b| b.value.clone());
            assert_eq!(
                body,
                Some(otel_testing::opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(format!("order {n} placed"))),
                "{exporters}"
            );
            assert_eq!(
                attr(&record.attributes, "order.id"),
                Some(n.to_string()),
                "{exporters}"
            );
        }
    }
}
