//! The otlp-prometheus example, run as a process: its spans, exported by
//! opentelemetry-otlp's `SpanExporter` (added with otel-init's
//! `with_span_exporter`), reach the real rotel collector; its `/metrics`
//! endpoint serves the request-duration histogram in OpenMetrics with
//! exemplars that name those spans' traces; it stops gracefully on SIGTERM.

use otel_testing::service::{ServiceProcess, http_get};
use otel_testing::{ThroughRotel, hex};
use std::time::Duration;

const NAMES: [&str; 3] = ["ada", "grace", "edsger"];

/// The `trace_id`s of the exemplars on the OpenMetrics lines of `family`'s
/// buckets: `name_bucket{…} 3 # {trace_id="…",span_id="…"} 0.0012 1.7e9`.
fn bucket_exemplar_trace_ids(openmetrics: &str, family: &str) -> Vec<String> {
    let bucket = format!("{family}_bucket{{");
    openmetrics
        .lines()
        .filter(|l| l.starts_with(&bucket))
        .filter_map(|l| l.split_once(" # {").map(|(_, exemplar)| exemplar))
        .filter_map(|e| e.split("trace_id=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn its_spans_reach_rotel_through_opentelemetry_otlp() {
    let Some(chain) = ThroughRotel::start(1) else {
        return;
    };
    let [exe] = otel_testing::workspace_binaries("otlp-prometheus", ["otlp-prometheus"]);
    let traces_endpoint = chain.rotel.grpc_endpoint();
    let mut service = ServiceProcess::start(
        &exe,
        &[
            ("OTLP_PROMETHEUS_ADDR", "127.0.0.1:0"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                traces_endpoint.as_str(),
            ),
            ("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", "0"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let addr = service.listening_address(Duration::from_secs(30));
    let metrics_line =
        service.wait_for_line("Prometheus metrics on http://", Duration::from_secs(5));
    let metrics_addr = metrics_line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {metrics_line}"))
        .to_owned();
    for name in NAMES {
        let (status, body) = http_get(&addr, &format!("/hello/{name}"), &[]).expect("GET /hello");
        assert_eq!(
            (status, body.as_str()),
            (200, format!("Hello, {name}!\n").as_str())
        );
    }

    let (status, metrics) = http_get(
        &metrics_addr,
        "/metrics",
        &[("accept", "application/openmetrics-text; version=1.0.0")],
    )
    .expect("GET /metrics");
    assert_eq!(status, 200, "{metrics}");
    let buckets = metrics
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration_seconds_bucket{"))
        .count();
    assert!(buckets > 0, "{metrics}");
    // Sampled requests (the default filter, trace_based): exemplars.
    let exemplars = bucket_exemplar_trace_ids(&metrics, "http_server_request_duration_seconds");
    assert!(!exemplars.is_empty(), "no exemplar on a bucket:\n{metrics}");

    let receiver = &chain.receiver;
    let arrived = receiver.wait_for(Duration::from_secs(20), |r| {
        r.spans()
            .iter()
            .filter(|s| s.name == "GET /hello/{name}")
            .count()
            == NAMES.len()
    });
    assert!(
        arrived,
        "spans that reached rotel: {:?}\nservice:\n{}\nrotel:\n{}",
        receiver.spans().iter().map(|s| &s.name).collect::<Vec<_>>(),
        service.output(),
        chain.rotel.log()
    );
    // Each exemplar names one of the traces that reached the collector.
    let traces: Vec<String> = receiver
        .spans()
        .iter()
        .filter(|s| s.name == "GET /hello/{name}")
        .map(|s| hex(&s.trace_id))
        .collect();
    for trace_id in &exemplars {
        assert!(traces.contains(trace_id), "{trace_id} not in {traces:?}");
    }

    let status = service.stop(Duration::from_secs(30));
    assert!(status.success(), "{status}\n{}", service.output());
}
