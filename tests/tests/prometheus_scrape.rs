//! A real Prometheus server (Debian's `prometheus` package) scrapes an axum
//! service that serves its metrics with otel-init's Prometheus exporter
//! (`OTEL_METRICS_EXPORTER=prometheus`), and PromQL through Prometheus' HTTP
//! API finds the request-duration histogram of otel-axum, by route, under
//! the name the compatibility specification gives it, next to `target_info`.

use axum::Router;
use axum::routing::get;
use otel_testing::{Prometheus, require_prometheus};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const WAIT: Duration = Duration::from_secs(60);

async fn call(address: std::net::SocketAddr, path: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.0\r\nHost: shop\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.expect("read");
    response
}

fn routes(result: &[Value]) -> Vec<String> {
    let mut routes: Vec<String> = result
        .iter()
        .filter_map(|s| s["metric"]["http_route"].as_str().map(str::to_owned))
        .collect();
    routes.sort();
    routes.dedup();
    routes
}

#[test]
fn prometheus_scrapes_request_durations_by_route() {
    if require_prometheus().is_none() {
        return;
    }
    let telemetry = otel_init::Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_TRACES_EXPORTER", "none"),
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
    let prometheus = Prometheus::start(metrics_address).expect("prometheus starts");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let layer = otel_axum::OtelLayer::builder()
        .tracer_provider(telemetry.tracer_provider().expect("tracer provider"))
        .meter_provider(telemetry.meter_provider().expect("metrics are on"))
        .build();
    let app = Router::new()
        .route("/cart", get(|| async { "cart" }))
        .route("/items/{id}", get(|| async { "item" }))
        .layer(layer);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let service = listener.local_addr().expect("address");
    rt.spawn(async move { axum::serve(listener, app).await });
    rt.block_on(async {
        for path in ["/cart", "/cart", "/items/1", "/items/2", "/items/3"] {
            assert!(call(service, path).await.starts_with("HTTP/1.0 200"));
        }
    });

    // Every bucket series of both routes, with the name and labels Prometheus stored.
    let buckets = prometheus
        .wait_for("http_server_request_duration_seconds_bucket", WAIT, |r| {
            routes(r) == ["/cart", "/items/{id}"]
        })
        .expect("buckets by route");
    let cart_inf = buckets
        .iter()
        .find(|s| s["metric"]["http_route"] == "/cart" && s["metric"]["le"] == "+Inf")
        .expect("the +Inf bucket of /cart");
    assert_eq!(cart_inf["value"][1], "2", "{cart_inf}");
    assert_eq!(
        cart_inf["metric"]["otel_scope_name"], "otel-axum",
        "{cart_inf}"
    );
    assert_eq!(
        cart_inf["metric"]["http_request_method"], "GET",
        "{cart_inf}"
    );
    assert_eq!(cart_inf["metric"]["job"], "service", "{cart_inf}");

    // The histogram works in PromQL: a quantile per route.
    let p99 = prometheus
        .query("histogram_quantile(0.99, sum by (le, http_route) (http_server_request_duration_seconds_bucket))")
        .expect("query");
    assert_eq!(routes(&p99), ["/cart", "/items/{id}"], "{p99:?}");
    let count = prometheus
        .query("sum by (http_route) (http_server_request_duration_seconds_count)")
        .expect("query");
    let items = count
        .iter()
        .find(|s| s["metric"]["http_route"] == "/items/{id}")
        .expect("/items count");
    assert_eq!(items["value"][1], "3", "{count:?}");

    // The resource, once, as target_info; the up-down counter as a gauge.
    let target = prometheus
        .wait_for("target_info", WAIT, |r| !r.is_empty())
        .expect("target_info");
    assert_eq!(target.len(), 1, "{target:?}");
    assert_eq!(target[0]["metric"]["service_name"], "shop", "{target:?}");
    let active = prometheus
        .wait_for("http_server_active_requests", WAIT, |r| !r.is_empty())
        .expect("active requests");
    assert_eq!(active[0]["value"][1], "0", "{active:?}");
    // Every scrape was accepted (OpenMetrics, as Prometheus negotiates it).
    let up = prometheus.query("up").expect("query");
    assert_eq!(up[0]["value"][1], "1", "{up:?}");

    // The text format (what a scraper gets without an Accept header) passes
    // promtool's parser and linter.
    let text = rt.block_on(call(metrics_address, "/metrics"));
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    otel_testing::prometheus::check_metrics(body).expect("promtool accepts the text format");

    drop(prometheus);
    assert!(telemetry.shutdown().completed);
}
