//! Every standard variable, valid and invalid, with the warning text asserted.

use otel_init::config::{
    BatchConfig, Compression, Config, DiagLevel, ExporterKind, PropagatorKind, Protocol,
    SamplerKind, Signal, TemporalityPreference,
};
use std::path::PathBuf;
use std::time::Duration;

fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_source(&vars)
}

/// The one warning a single bad variable produces, as text.
fn warning(vars: &[(&str, &str)]) -> String {
    let c = config(vars);
    assert_eq!(
        c.warnings.len(),
        1,
        "expected one warning for {vars:?}, got {:?}",
        c.warnings
    );
    c.warnings[0].to_string()
}

#[test]
fn nothing_set_gives_the_spec_defaults_and_no_warning() {
    let c = config(&[]);
    assert!(c.warnings.is_empty());
    assert!(!c.sdk_disabled);
    assert_eq!(c.service_name, None);
    assert_eq!(c.log_level, DiagLevel::Info);
    assert_eq!(
        c.propagators,
        vec![PropagatorKind::TraceContext, PropagatorKind::Baggage]
    );
    assert_eq!(c.sampler, SamplerKind::ParentBasedAlwaysOn);
    for kinds in [&c.traces_exporters, &c.metrics_exporters, &c.logs_exporters] {
        assert_eq!(kinds, &vec![ExporterKind::Otlp]);
    }
    assert_eq!(c.span_batch, BatchConfig::SPANS);
    assert_eq!(c.span_batch.max_queue_size, 2048);
    assert_eq!(c.span_batch.max_export_batch_size, 512);
    assert_eq!(c.span_batch.schedule_delay, Duration::from_millis(5000));
    assert_eq!(c.span_batch.export_timeout, Duration::from_millis(30000));
    assert_eq!(c.log_batch.schedule_delay, Duration::from_millis(1000));
    assert_eq!(c.metric_export_interval, Duration::from_secs(60));
    assert_eq!(c.metric_export_timeout, Duration::from_secs(30));
    assert_eq!(c.temporality, TemporalityPreference::Cumulative);
    assert_eq!(c.limits.span_attribute_count, 128);
    assert_eq!(c.limits.span_event_count, 128);
    assert_eq!(c.limits.span_link_count, 128);
    assert_eq!(c.limits.span_attribute_value_length, None);
    assert_eq!(c.limits.log_attribute_count, 128);
    assert_eq!(c.otlp_traces.protocol, Protocol::HttpProtobuf);
    assert_eq!(c.otlp_traces.endpoint, "http://localhost:4318/v1/traces");
    assert_eq!(c.otlp_metrics.endpoint, "http://localhost:4318/v1/metrics");
    assert_eq!(c.otlp_logs.endpoint, "http://localhost:4318/v1/logs");
    assert_eq!(c.otlp_traces.timeout, Duration::from_secs(10));
    assert_eq!(c.otlp_traces.compression, None);
}

#[test]
fn empty_values_are_unset() {
    let vars: Vec<(&str, &str)> = [
        "OTEL_SDK_DISABLED",
        "OTEL_SERVICE_NAME",
        "OTEL_TRACES_SAMPLER",
        "OTEL_PROPAGATORS",
        "OTEL_TRACES_EXPORTER",
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_LOG_LEVEL",
    ]
    .iter()
    .map(|k| (*k, ""))
    .collect();
    let c = config(&vars);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.propagators.len(), 2);
    assert_eq!(c.traces_exporters, vec![ExporterKind::Otlp]);
}

#[test]
fn sdk_disabled_is_a_strict_boolean() {
    assert!(config(&[("OTEL_SDK_DISABLED", "true")]).sdk_disabled);
    assert!(config(&[("OTEL_SDK_DISABLED", "TRUE")]).sdk_disabled);
    assert!(!config(&[("OTEL_SDK_DISABLED", "false")]).sdk_disabled);
    assert!(!config(&[("OTEL_SDK_DISABLED", "1")]).sdk_disabled);
    assert_eq!(
        warning(&[("OTEL_SDK_DISABLED", "1")]),
        r#"invalid value "1" for OTEL_SDK_DISABLED: expected "true" or "false"; using false"#
    );
}

#[test]
fn service_name_and_resource_attributes() {
    let c = config(&[
        ("OTEL_SERVICE_NAME", "checkout"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=prod,team=a%2Cb%20c",
        ),
    ]);
    assert_eq!(c.service_name.as_deref(), Some("checkout"));
    assert_eq!(
        c.resource_attributes,
        vec![
            ("deployment.environment.name".to_owned(), "prod".to_owned()),
            ("team".to_owned(), "a,b c".to_owned())
        ]
    );
    assert_eq!(
        warning(&[("OTEL_RESOURCE_ATTRIBUTES", "a=1,broken")]),
        r#"invalid value "a=1,broken" for OTEL_RESOURCE_ATTRIBUTES: expected comma-separated key=value pairs with percent-encoded values (bad member "broken"); ignoring the variable"#
    );
    assert!(
        config(&[("OTEL_RESOURCE_ATTRIBUTES", "a=1,broken")])
            .resource_attributes
            .is_empty()
    );
}

#[test]
fn log_level() {
    assert_eq!(
        config(&[("OTEL_LOG_LEVEL", "debug")]).log_level,
        DiagLevel::Debug
    );
    assert_eq!(
        config(&[("OTEL_LOG_LEVEL", "ERROR")]).log_level,
        DiagLevel::Error
    );
    assert_eq!(
        config(&[("OTEL_LOG_LEVEL", "none")]).log_level,
        DiagLevel::Off
    );
    assert_eq!(
        warning(&[("OTEL_LOG_LEVEL", "loud")]),
        r#"invalid value "loud" for OTEL_LOG_LEVEL: expected one of none, off, error, warn, info, debug, trace; using the default"#
    );
}

#[test]
fn propagators() {
    assert_eq!(
        config(&[("OTEL_PROPAGATORS", "baggage")]).propagators,
        vec![PropagatorKind::Baggage]
    );
    assert_eq!(
        config(&[("OTEL_PROPAGATORS", "tracecontext, baggage,tracecontext")]).propagators,
        vec![PropagatorKind::TraceContext, PropagatorKind::Baggage]
    );
    assert!(
        config(&[("OTEL_PROPAGATORS", "none")])
            .propagators
            .is_empty()
    );
    // Only unknown entries: the default stays rather than no propagation at all.
    assert_eq!(config(&[("OTEL_PROPAGATORS", "xray")]).propagators.len(), 2);
    assert_eq!(
        config(&[("OTEL_PROPAGATORS", "B3, b3multi,jaeger")]).propagators,
        vec![
            PropagatorKind::B3,
            PropagatorKind::B3Multi,
            PropagatorKind::Jaeger
        ]
    );
    let c = config(&[("OTEL_PROPAGATORS", "tracecontext,xray")]);
    assert_eq!(c.propagators, vec![PropagatorKind::TraceContext]);
    assert_eq!(
        c.warnings[0].to_string(),
        r#"invalid value "xray" for OTEL_PROPAGATORS: expected a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger or none; ignoring this entry"#
    );
}

#[test]
fn samplers_and_their_argument() {
    let s = |v: &[(&str, &str)]| config(v).sampler;
    assert_eq!(
        s(&[("OTEL_TRACES_SAMPLER", "always_on")]),
        SamplerKind::AlwaysOn
    );
    assert_eq!(
        s(&[("OTEL_TRACES_SAMPLER", "always_off")]),
        SamplerKind::AlwaysOff
    );
    assert_eq!(
        s(&[("OTEL_TRACES_SAMPLER", "parentbased_always_off")]),
        SamplerKind::ParentBasedAlwaysOff
    );
    assert_eq!(
        s(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1")
        ]),
        SamplerKind::ParentBasedTraceIdRatio(0.1)
    );
    assert_eq!(
        s(&[("OTEL_TRACES_SAMPLER", "traceidratio")]),
        SamplerKind::TraceIdRatio(1.0)
    );
    assert_eq!(
        warning(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5")
        ]),
        r#"invalid value "1.5" for OTEL_TRACES_SAMPLER_ARG: expected a sampling probability from 0.0 to 1.0; using 1.0"#
    );
    assert_eq!(
        warning(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "half")
        ]),
        r#"invalid value "half" for OTEL_TRACES_SAMPLER_ARG: expected a sampling probability from 0.0 to 1.0; using 1.0"#
    );
    // The argument of a sampler that takes none is ignored silently.
    assert!(
        config(&[
            ("OTEL_TRACES_SAMPLER", "always_on"),
            ("OTEL_TRACES_SAMPLER_ARG", "x")
        ])
        .warnings
        .is_empty()
    );
    assert_eq!(
        warning(&[("OTEL_TRACES_SAMPLER", "sometimes")]),
        r#"invalid value "sometimes" for OTEL_TRACES_SAMPLER: expected one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, ratelimited, parentbased_ratelimited, rules, parentbased_rules; using the default"#
    );
    assert_eq!(
        s(&[("OTEL_TRACES_SAMPLER", "sometimes")]),
        SamplerKind::ParentBasedAlwaysOn
    );
}

#[test]
fn exporter_selection() {
    let c = config(&[
        ("OTEL_TRACES_EXPORTER", "otlp,console"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "console"),
    ]);
    assert_eq!(
        c.traces_exporters,
        vec![ExporterKind::Otlp, ExporterKind::Console]
    );
    assert!(c.metrics_exporters.is_empty());
    assert_eq!(c.logs_exporters, vec![ExporterKind::Console]);
    assert_eq!(
        warning(&[("OTEL_TRACES_EXPORTER", "zipkin")]),
        r#"invalid value "zipkin" for OTEL_TRACES_EXPORTER: expected a comma-separated list of otlp, console or none; ignoring this entry"#
    );
    assert_eq!(
        config(&[("OTEL_METRICS_EXPORTER", "prometheus")]).metrics_exporters,
        vec![ExporterKind::Prometheus]
    );
    assert_eq!(
        warning(&[("OTEL_LOGS_EXPORTER", "prometheus")]),
        r#"invalid value "prometheus" for OTEL_LOGS_EXPORTER: expected otlp, console or none (prometheus exports metrics only); ignoring this entry"#
    );
    assert_eq!(
        warning(&[("OTEL_METRICS_EXPORTER", "statsd")]),
        r#"invalid value "statsd" for OTEL_METRICS_EXPORTER: expected a comma-separated list of otlp, prometheus, console or none; ignoring this entry"#
    );
}

#[test]
fn batch_processor_variables() {
    let c = config(&[
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "0"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
        ("OTEL_BLRP_EXPORT_TIMEOUT", "2000"),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "10"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "5"),
    ]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(
        c.span_batch,
        BatchConfig {
            schedule_delay: Duration::from_millis(100),
            export_timeout: Duration::MAX,
            max_queue_size: 64,
            max_export_batch_size: 16
        }
    );
    assert_eq!(
        c.log_batch,
        BatchConfig {
            schedule_delay: Duration::from_millis(50),
            export_timeout: Duration::from_millis(2000),
            max_queue_size: 10,
            max_export_batch_size: 5
        }
    );
    assert_eq!(
        warning(&[("OTEL_BSP_MAX_QUEUE_SIZE", "-1")]),
        r#"invalid value "-1" for OTEL_BSP_MAX_QUEUE_SIZE: expected an integer from 1 to 4294967295; using the default"#
    );
    assert_eq!(
        warning(&[("OTEL_BSP_MAX_QUEUE_SIZE", "0")]),
        r#"invalid value "0" for OTEL_BSP_MAX_QUEUE_SIZE: expected an integer from 1 to 4294967295; using the default"#
    );
    assert_eq!(
        warning(&[("OTEL_BSP_EXPORT_TIMEOUT", "-10")]),
        r#"invalid value "-10" for OTEL_BSP_EXPORT_TIMEOUT: expected a non-negative integer number of milliseconds (0 = no limit); using the default"#
    );
    assert_eq!(
        warning(&[("OTEL_BLRP_SCHEDULE_DELAY", "soon")]),
        r#"invalid value "soon" for OTEL_BLRP_SCHEDULE_DELAY: expected an integer from 0 to 86400000; using the default"#
    );
    assert_eq!(
        config(&[("OTEL_BSP_SCHEDULE_DELAY", "0")])
            .span_batch
            .schedule_delay,
        Duration::from_millis(1)
    );
    let c = config(&[
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200"),
    ]);
    assert_eq!(c.span_batch.max_export_batch_size, 100);
    // A queue smaller than the default batch quietly shrinks the batch.
    let c = config(&[("OTEL_BSP_MAX_QUEUE_SIZE", "100")]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.span_batch.max_export_batch_size, 100);
    let c = config(&[
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200"),
    ]);
    assert_eq!(
        c.warnings[0].to_string(),
        r#"invalid value "200" for OTEL_BSP_MAX_EXPORT_BATCH_SIZE: expected a batch size no larger than OTEL_BSP_MAX_QUEUE_SIZE (100); using 100"#
    );
}

#[test]
fn metric_reader_variables() {
    let c = config(&[
        ("OTEL_METRIC_EXPORT_INTERVAL", "1500"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "700"),
        ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta"),
    ]);
    assert!(c.warnings.is_empty());
    assert_eq!(c.metric_export_interval, Duration::from_millis(1500));
    assert_eq!(c.metric_export_timeout, Duration::from_millis(700));
    assert_eq!(c.temporality, TemporalityPreference::Delta);
    assert_eq!(
        warning(&[("OTEL_METRIC_EXPORT_INTERVAL", "0")]),
        r#"invalid value "0" for OTEL_METRIC_EXPORT_INTERVAL: expected a positive integer number of milliseconds; using the default"#
    );
    assert_eq!(
        warning(&[(
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "sometimes"
        )]),
        r#"invalid value "sometimes" for OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: expected one of cumulative, delta, lowmemory; using the default"#
    );
}

#[test]
fn limits() {
    let c = config(&[
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "20"),
        ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "50"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "3"),
        ("OTEL_SPAN_LINK_COUNT_LIMIT", "4"),
        ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "5"),
        ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "6"),
        ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "7"),
    ]);
    assert!(c.warnings.is_empty());
    let l = c.limits;
    assert_eq!(l.span_attribute_value_length, Some(50));
    assert_eq!(l.span_attribute_count, 20);
    assert_eq!(l.span_event_count, 3);
    assert_eq!(l.span_link_count, 4);
    assert_eq!(l.event_attribute_count, 5);
    assert_eq!(l.link_attribute_count, 6);
    assert_eq!(l.log_attribute_value_length, Some(100));
    assert_eq!(l.log_attribute_count, 7);
    assert_eq!(
        warning(&[("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "many")]),
        r#"invalid value "many" for OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: expected an integer from 0 to 4294967295; using the default"#
    );
    assert_eq!(
        warning(&[("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-3")]),
        r#"invalid value "-3" for OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: expected an integer from 0 to 4294967295; using the default"#
    );
}

#[test]
fn otlp_endpoints_generic_and_per_signal() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/"),
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            "http://logs:9999/custom/path",
        ),
    ]);
    assert_eq!(c.otlp_traces.endpoint, "https://collector:4318/v1/traces");
    assert_eq!(c.otlp_metrics.endpoint, "https://collector:4318/v1/metrics");
    assert_eq!(c.otlp_logs.endpoint, "http://logs:9999/custom/path");

    let c = config(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"),
    ]);
    assert_eq!(c.otlp_traces.protocol, Protocol::Grpc);
    assert_eq!(c.otlp_traces.endpoint, "http://collector:4317");
    assert_eq!(c.otlp_metrics.protocol, Protocol::HttpJson);
    assert_eq!(c.otlp_metrics.endpoint, "http://collector:4317/v1/metrics");
    assert_eq!(
        config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])
            .otlp_logs
            .endpoint,
        "http://localhost:4317"
    );

    assert_eq!(
        warning(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")]),
        r#"invalid value "collector:4318" for OTEL_EXPORTER_OTLP_ENDPOINT: expected an absolute http:// or https:// URL (the scheme is missing or is not http or https); using the default endpoint"#
    );
    assert_eq!(
        warning(&[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "/v1/metrics")]),
        r#"invalid value "/v1/metrics" for OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: expected an absolute http:// or https:// URL (no scheme); ignoring it"#
    );
    // A bad per-signal value falls back to the generic one, not to the default.
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "nope"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-1"),
    ]);
    assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
    assert_eq!(c.otlp_traces.protocol, Protocol::Grpc);
    assert_eq!(c.otlp_traces.endpoint, "http://collector:4317");
    assert_eq!(c.otlp_traces.timeout, Duration::from_millis(3000));
    assert_eq!(
        warning(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift")]),
        r#"invalid value "thrift" for OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: expected one of grpc, http/protobuf, http/json; ignoring it"#
    );
}

#[test]
fn otlp_headers_timeout_compression_and_tls_files() {
    let c = config(&[
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api-key=secret%3D1,X-Tenant=acme",
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=traces-only"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "100"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem"),
        ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/etc/key.pem"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
            "/etc/cert.pem",
        ),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(
        c.otlp_metrics.headers,
        vec![
            ("api-key".into(), "secret=1".into()),
            ("x-tenant".into(), "acme".into())
        ]
    );
    assert_eq!(
        c.otlp_traces.headers,
        vec![("api-key".into(), "traces-only".into())]
    );
    assert_eq!(c.otlp_traces.timeout, Duration::from_millis(2500));
    assert_eq!(c.otlp_logs.timeout, Duration::from_millis(100));
    assert_eq!(c.otlp_traces.compression, Some(Compression::Gzip));
    assert_eq!(c.otlp_metrics.compression, None);
    assert_eq!(
        c.otlp(Signal::Logs).certificate,
        Some(PathBuf::from("/etc/ca.pem"))
    );
    assert_eq!(
        c.otlp_traces.client_key,
        Some(PathBuf::from("/etc/key.pem"))
    );
    assert_eq!(c.otlp_logs.client_key, None);
    assert!(c.otlp_traces.insecure);

    assert_eq!(
        warning(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")]),
        r#"invalid value "zstd" for OTEL_EXPORTER_OTLP_COMPRESSION: expected gzip or none; ignoring it"#
    );
    assert_eq!(
        warning(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "-1")]),
        r#"invalid value "-1" for OTEL_EXPORTER_OTLP_TIMEOUT: expected a non-negative integer number of milliseconds (0 = no limit); using the default"#
    );
    assert_eq!(
        warning(&[("OTEL_EXPORTER_OTLP_HEADERS", "good=1,bad")]),
        r#"invalid value "(member 2 not shown)" for OTEL_EXPORTER_OTLP_HEADERS: expected comma-separated name=value pairs with percent-encoded values; this member has no '=' between the name and the value; ignoring it"#
    );
    assert_eq!(
        warning(&[("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "bad header=1")]),
        r#"invalid value "bad...=(value not shown)" for OTEL_EXPORTER_OTLP_LOGS_HEADERS: expected comma-separated name=value pairs with percent-encoded values; this header has a name that is not a valid HTTP header name; ignoring it"#
    );
    assert_eq!(
        warning(&[("OTEL_EXPORTER_OTLP_INSECURE", "yes")]),
        r#"invalid value "yes" for OTEL_EXPORTER_OTLP_INSECURE: expected "true" or "false"; using false"#
    );
}

#[test]
fn export_warning_interval() {
    assert_eq!(config(&[]).export_warning_interval, Duration::from_secs(60));
    assert_eq!(
        config(&[("OTEL_INIT_EXPORT_WARNING_INTERVAL_MS", "5000")]).export_warning_interval,
        Duration::from_secs(5)
    );
    assert_eq!(
        warning(&[("OTEL_INIT_EXPORT_WARNING_INTERVAL_MS", "0")]),
        r#"invalid value "0" for OTEL_INIT_EXPORT_WARNING_INTERVAL_MS: expected a positive integer number of milliseconds; using the default"#
    );
}

/// A header warning names the variable, the header (or the member's
/// position when it has no name) and the problem; never the value.
#[test]
fn header_warnings_never_show_the_value() {
    for (variable, raw, shown, problem) in [
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization:Bearer TOK",
            "(member 1 not shown)",
            "':' is not the separator",
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "x-tenant=acme,api-key=TOK%zz",
            "api-key=(value not shown)",
            "a '%' not followed by two hexadecimal digits",
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            "api-key=TOK%FF",
            "api-key=(value not shown)",
            "percent-decodes to invalid UTF-8",
        ),
        (
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            "x-token=TOK%0A",
            "x-token=(value not shown)",
            "characters an HTTP header cannot hold",
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "=TOK",
            "(member 1 not shown)",
            "no name before '='",
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "Bearer TOK=x",
            "Bearer...=(value not shown)",
            "not a valid HTTP header name",
        ),
    ] {
        let c = config(&[(variable, raw)]);
        assert_eq!(c.warnings.len(), 1, "{raw}: {:?}", c.warnings);
        let w = &c.warnings[0];
        let text = w.to_string();
        assert_eq!(w.variable, variable);
        assert_eq!(w.value, shown, "{text}");
        assert!(text.contains(problem), "{text}");
        assert!(
            !text.contains("TOK") && !format!("{w:?}").contains("TOK"),
            "{text}"
        );
    }
    // The valid headers of the same variable are kept.
    let c = config(&[("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=acme,api-key=TOK%zz")]);
    assert_eq!(c.otlp_traces.headers, [("x-tenant".into(), "acme".into())]);
}

/// Endpoints are URLs: the signal path goes after the generic endpoint's
/// path and before its query; fragments and user-info are dropped with a
/// warning; mistakes are warned with the variable's name, and neither
/// user-info nor query values are echoed.
#[test]
fn endpoint_table() {
    const GENERIC: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
    const TRACES: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    const DEFAULT: &str = "http://localhost:4318/v1/traces";
    for (variable, raw, traces, warning) in [
        (
            GENERIC,
            "http://h:4318/?k=v",
            "http://h:4318/v1/traces?k=v",
            None,
        ),
        (GENERIC, "http://h:4318", "http://h:4318/v1/traces", None),
        (GENERIC, "http://h:4318/", "http://h:4318/v1/traces", None),
        (GENERIC, "http://h:4318//", "http://h:4318/v1/traces", None),
        (
            GENERIC,
            "http://h:4318/otlp/",
            "http://h:4318/otlp/v1/traces",
            None,
        ),
        (
            GENERIC,
            "http://[::1]:4318",
            "http://[::1]:4318/v1/traces",
            None,
        ),
        (
            GENERIC,
            "https://[2001:db8::1]/",
            "https://[2001:db8::1]/v1/traces",
            None,
        ),
        (
            GENERIC,
            "http://h:4318/#frag",
            "http://h:4318/v1/traces",
            Some(
                r#"invalid value "http://h:4318/#REDACTED" for OTEL_EXPORTER_OTLP_ENDPOINT: expected a URL without a #fragment (it is never sent); using the URL without it"#,
            ),
        ),
        (
            GENERIC,
            "https://user:TOK@h:4318",
            "https://h:4318/v1/traces",
            Some(
                r#"invalid value "https://REDACTED:REDACTED@h:4318" for OTEL_EXPORTER_OTLP_ENDPOINT: expected a URL without a user name or password"#,
            ),
        ),
        (
            GENERIC,
            "h:4318",
            DEFAULT,
            Some(
                r#"for OTEL_EXPORTER_OTLP_ENDPOINT: expected an absolute http:// or https:// URL (the scheme is missing"#,
            ),
        ),
        (
            GENERIC,
            "http://h:99999?token=TOK",
            DEFAULT,
            Some(
                r#"invalid value "http://h:99999?token=REDACTED" for OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:// or https:// URL with a port from 1 to 65535; using the default endpoint"#,
            ),
        ),
        (
            GENERIC,
            "http://[::1:4318",
            DEFAULT,
            Some("IPv6 addresses in brackets"),
        ),
        // Per-signal endpoints are used as is, query included.
        (
            TRACES,
            "http://h:4318/ingest?k=v",
            "http://h:4318/ingest?k=v",
            None,
        ),
        (
            TRACES,
            "http://h:4318/v1/traces/",
            "http://h:4318/v1/traces/",
            None,
        ),
        (
            TRACES,
            "http://h:port/v1/traces",
            DEFAULT,
            Some(
                r#"for OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: expected an http:// or https:// URL with a port from 1 to 65535; ignoring it"#,
            ),
        ),
    ] {
        let c = config(&[(variable, raw)]);
        assert_eq!(c.otlp_traces.endpoint, traces, "{raw}");
        match warning {
            None => assert!(c.warnings.is_empty(), "{raw}: {:?}", c.warnings),
            Some(expected) => {
                assert_eq!(c.warnings.len(), 1, "{raw}: {:?}", c.warnings);
                let text = c.warnings[0].to_string();
                assert!(text.contains(expected), "{raw}: {text}");
                assert!(!text.contains("TOK"), "{text}");
            }
        }
    }
    // gRPC: the generic endpoint is used as is, query and all.
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        (GENERIC, "http://[::1]:4317"),
    ]);
    assert_eq!(c.otlp_logs.endpoint, "http://[::1]:4317");
}
