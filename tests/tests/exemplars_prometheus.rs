//! Exemplars through a real Prometheus server: an axum service instrumented
//! with otel-axum serves its metrics with otel-init's Prometheus exporter and
//! sends its spans to the real rotel collector (forwarding to an OTLP
//! receiver). Prometheus, started with `--enable-feature=exemplar-storage`,
//! scrapes it in OpenMetrics; the exemplars `/api/v1/query_exemplars` returns
//! for `http_server_request_duration_seconds_bucket` name traces of sampled
//! requests whose spans reached the collector, and no unsampled request.

use axum::Router;
use axum::routing::get;
use otel_testing::{Prometheus, ThroughRotel, hex, require_prometheus};
use serde_json::Value;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const WAIT: Duration = Duration::from_secs(60);

/// One request in the trace `trace`, sampled or not by its caller.
async fn call(address: SocketAddr, path: &str, trace: &str, sampled: bool) -> String {
    let flags = if sampled { "01" } else { "00" };
    let mut tcp = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: shop\r\ntraceparent: 00-{trace}-00f067aa0ba902b7-{flags}\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.expect("read");
    response
}

fn trace(n: u8) -> String {
    format!("{n:02x}{}", "cd".repeat(15))
}

/// The `trace_id` labels of the exemplars Prometheus stored.
fn exemplar_traces(prometheus: &Prometheus) -> Vec<String> {
    let series = prometheus
        .query_exemplars("http_server_request_duration_seconds_bucket")
        .expect("query_exemplars");
    series
        .iter()
        .flat_map(|s| s["exemplars"].as_array().cloned().unwrap_or_default())
        .filter_map(|e: Value| e["labels"]["trace_id"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn prometheus_stores_exemplars_that_link_to_exported_traces() {
    if require_prometheus().is_none() {
        return;
    }
    let Some(ThroughRotel { rotel, receiver }) = ThroughRotel::start(1) else {
        return;
    };
    let endpoint = rotel.grpc_endpoint();
    let telemetry = otel_init::Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_METRICS_EXPORTER", "prometheus"),
        ("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "0"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .without_globals()
    .build()
    .expect("valid settings");
    let metrics_address = telemetry
        .prometheus_address()
        .expect("the exporter listens");
    let prometheus = Prometheus::start_with(metrics_address, true).expect("prometheus starts");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let layer = otel_axum::OtelLayer::builder()
        .tracer_provider(telemetry.tracer_provider().expect("tracer provider"))
        .meter_provider(telemetry.exemplar_meter_provider().expect("metrics are on"))
        .propagator(otel_http::propagation::W3cTraceContextPropagator::new())
        .build();
    let app = Router::new()
        .route("/cart", get(|| async { "cart" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                "slow"
            }),
        )
        .layer(layer);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let service = listener.local_addr().expect("address");
    rt.spawn(async move { axum::serve(listener, app).await });

    let sampled: Vec<String> = (1..=4).map(trace).collect();
    let unsampled: Vec<String> = (11..=14).map(trace).collect();
    let deadline = Instant::now() + WAIT;
    let mut stored = Vec::new();
    // Requests until a scrape has carried exemplars of both routes (each
    // scrape shows the latest exemplar of each bucket).
    while stored.len() < 2 && Instant::now() < deadline {
        rt.block_on(async {
            for (i, (s, u)) in sampled.iter().zip(&unsampled).enumerate() {
                let path = if i % 2 == 0 { "/cart" } else { "/slow" };
                assert!(
                    call(service, path, u, false)
                        .await
                        .starts_with("HTTP/1.0 200")
                );
                assert!(
                    call(service, path, s, true)
                        .await
                        .starts_with("HTTP/1.0 200")
                );
            }
        });
        std::thread::sleep(Duration::from_millis(1500));
        stored = exemplar_traces(&prometheus);
    }
    assert!(
        !stored.is_empty(),
        "Prometheus stored exemplars; log:\n{}",
        prometheus.log()
    );

    telemetry.force_flush().expect("flush");
    assert!(
        receiver.wait_for(Duration::from_secs(30), |r| r.spans().len()
            >= sampled.len())
    );
    let reached: HashSet<String> = receiver.spans().iter().map(|s| hex(&s.trace_id)).collect();
    for t in &stored {
        assert!(
            reached.contains(t),
            "{t}: a trace that reached the collector ({reached:?})"
        );
        assert!(sampled.contains(t), "{t}: a sampled request's trace");
    }
    assert!(unsampled.iter().all(|t| !reached.contains(t)));

    drop(prometheus);
    assert!(telemetry.shutdown().completed);
}
