//! Prometheus scrape benchmark: wall time of one scrape over loopback HTTP
//! (a new connection each, HTTP/1.0, as a simple scraper does), for the
//! same instruments and values recorded into two meter providers:
//! - `otel-init text` and `otel-init openmetrics`: otel-init's exporter
//!   (`OTEL_METRICS_EXPORTER=prometheus`), each format by its `Accept` header;
//! - `peer`: opentelemetry-prometheus 0.33.1 with the prometheus 0.14 crate's
//!   `TextEncoder`, served by a minimal axum 0.8 route on its own runtime
//!   (opentelemetry-prometheus has no server: its README's set-up, gather and
//!   encode per request);
//! - `baseline 404`: otel-init's server answering a path it does not serve:
//!   the HTTP and connection cost alone.
//!
//! The data: an HTTP server's duration histogram (14 buckets) over 20 routes
//! × 3 methods × 2 status codes (120 series), a counter with 50 series and an
//! up-down counter with 10. Rounds interleave the cases; the summary gives
//! the median per case and otel-init's text scrape over the peer's.
//! `PROMETHEUS_BENCH_ROUNDS` (default 7) × 200 scrapes per case.
//!
//! Run with `cargo bench -p otel-init --bench prometheus`.

use axum::Router;
use axum::routing::get;
use otel_init::opentelemetry::KeyValue;
use otel_init::opentelemetry::metrics::{Meter, MeterProvider as _};
use otel_init::opentelemetry_sdk::Resource;
use otel_init::opentelemetry_sdk::metrics::SdkMeterProvider;
use otel_init::{Telemetry, TelemetryGuard};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const SCRAPES: u32 = 200;
const BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

fn record(meter: &Meter) {
    let duration = meter
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .with_description("Duration of HTTP server requests.")
        .with_boundaries(BOUNDS.to_vec())
        .build();
    for route in 0..20 {
        for method in ["GET", "POST", "PUT"] {
            for status in [200i64, 500] {
                let attributes = [
                    KeyValue::new("http.route", format!("/api/v1/resource{route}/{{id}}")),
                    KeyValue::new("http.request.method", method),
                    KeyValue::new("http.response.status_code", status),
                    KeyValue::new("url.scheme", "http"),
                ];
                for i in 0..10 {
                    duration.record(0.003 * f64::from(i + route), &attributes);
                }
            }
        }
    }
    let orders = meter.u64_counter("orders").with_unit("{order}").build();
    for sku in 0..50 {
        orders.add(sku + 1, &[KeyValue::new("sku", format!("SKU-{sku}"))]);
    }
    let active = meter
        .i64_up_down_counter("http.server.active_requests")
        .build();
    for shard in 0..10 {
        active.add(shard, &[KeyValue::new("shard", shard)]);
    }
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "bench"),
            KeyValue::new("service.version", "1.0.0"),
        ])
        .build()
}

fn ours() -> TelemetryGuard {
    let guard = Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "bench"),
        ("OTEL_RESOURCE_ATTRIBUTES", "service.version=1.0.0"),
        ("OTEL_INIT_RESOURCE_DETECTORS", "none"),
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "prometheus"),
        ("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "0"),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_LOG_LEVEL", "warn"),
    ])
    .without_globals()
    .build()
    .expect("valid settings");
    record(
        &guard
            .meter_provider()
            .expect("metrics on")
            .meter("otel-axum"),
    );
    guard
}

/// The peer: opentelemetry-prometheus into a prometheus Registry, served by axum.
fn peer(rt: &tokio::runtime::Runtime) -> (SdkMeterProvider, SocketAddr) {
    let registry = prometheus::Registry::new();
    let exporter = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .build()
        .expect("exporter");
    let provider = SdkMeterProvider::builder()
        .with_resource(resource())
        .with_reader(exporter)
        .build();
    record(&provider.meter("otel-axum"));
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let registry = registry.clone();
            async move {
                let families = registry.gather();
                prometheus::TextEncoder::new()
                    .encode_to_string(&families)
                    .unwrap_or_default()
            }
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let address = listener.local_addr().expect("address");
    rt.spawn(async move { axum::serve(listener, app).await });
    (provider, address)
}

/// One scrape; the body's length.
fn scrape(address: SocketAddr, path: &str, accept: &str) -> usize {
    let mut tcp = TcpStream::connect(address).expect("connect");
    write!(
        tcp,
        "GET {path} HTTP/1.0\r\nHost: b\r\nAccept: {accept}\r\n\r\n"
    )
    .expect("send");
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).expect("read");
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response");
    response.len() - head_end - 4
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("PROMETHEUS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(7);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let guard = ours();
    let ours = guard.prometheus_address().expect("listening");
    let (_peer_provider, peer) = peer(&rt);
    let text = "text/plain;version=0.0.4";
    let om = "application/openmetrics-text;version=1.0.0";
    let cases: [(&str, SocketAddr, &str, &str); 4] = [
        ("otel-init text", ours, "/metrics", text),
        ("otel-init openmetrics", ours, "/metrics", om),
        (
            "peer: opentelemetry-prometheus 0.33.1 + prometheus 0.14 TextEncoder, axum 0.8",
            peer,
            "/metrics",
            text,
        ),
        ("baseline 404 (HTTP alone)", ours, "/none", text),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut sizes = vec![0usize; cases.len()];
    for _ in 0..rounds {
        for (i, (_, address, path, accept)) in cases.iter().enumerate() {
            sizes[i] = scrape(*address, path, accept); // warm-up
            let start = Instant::now();
            for _ in 0..SCRAPES {
                scrape(*address, path, accept);
            }
            times[i].push(start.elapsed() / SCRAPES);
        }
    }
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    for (i, (name, ..)) in cases.iter().enumerate() {
        println!(
            "{name:<80} {:>9.1} µs per scrape, {:>6} bytes",
            medians[i].as_secs_f64() * 1e6,
            sizes[i]
        );
    }
    println!(
        "otel-init text / peer: {:.2}x the wall time per scrape ({rounds} rounds of {SCRAPES}, medians)",
        medians[0].as_secs_f64() / medians[2].as_secs_f64()
    );
    drop(guard);
}
