//! The otlp-prometheus example, run as a process: its spans, exported by
//! opentelemetry-otlp's `SpanExporter` (added with otel-init's
//! `with_span_exporter`), reach the real rotel collector; its `/metrics`
//! endpoint serves the request-duration histogram in OpenMetrics; it stops
//! gracefully on SIGTERM.

use otel_testing::ThroughRotel;
use otel_testing::service::{ServiceProcess, http_get};
use std::time::Duration;

const NAMES: [&str; 3] = ["ada", "grace", "edsger"];

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
    let buckets: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration_seconds_bucket{"))
        .collect();
    assert!(!buckets.is_empty(), "{metrics}");

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
    let status = service.stop(Duration::from_secs(30));
    assert!(status.success(), "{status}\n{}", service.output());
}
