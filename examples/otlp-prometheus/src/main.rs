//! An axum service that exports its spans with opentelemetry-otlp's
//! `SpanExporter`, added through otel-init's `with_span_exporter` instead of
//! the built-in OTLP client, and serves its metrics to Prometheus. In
//! OpenMetrics, each bucket of `http_server_request_duration_seconds` carries
//! an exemplar naming the trace of a sampled request that fell in it
//! (`OTEL_METRICS_EXEMPLAR_FILTER`, `trace_based` by default).
//!
//! ```text
//! OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://localhost:4317 cargo run -p otlp-prometheus
//! curl http://127.0.0.1:3000/hello/ada
//! curl -H 'Accept: application/openmetrics-text; version=1.0.0' http://localhost:9464/metrics
//! ```
//!
//! opentelemetry-otlp reads `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_ENDPOINT`, default `http://localhost:4317`) itself.
//! The metrics are served on `OTEL_EXPORTER_PROMETHEUS_HOST`:`_PORT` (default
//! `localhost:9464`; port 0 picks a free one, and the address is printed).
//! Log records are not exported (they are printed on stdout).
//! `OTLP_PROMETHEUS_ADDR` sets the service's address (default `127.0.0.1:3000`).

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use otel_axum::OtelLayer;
use otel_init::{ExporterKind, Telemetry};
use tracing::info;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Made inside the Tokio runtime: tonic's channel lives on it, and the
    // SDK's batch span processor exports through it.
    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    let telemetry = Telemetry::builder()
        .crate_identity(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        // Spans through opentelemetry-otlp only, instead of the built-in exporter.
        .traces_exporters([])
        .with_span_exporter(spans)
        // Metrics: a /metrics endpoint for Prometheus to scrape.
        .metrics_exporters([ExporterKind::Prometheus])
        .logs_exporters([])
        .init()?;
    if let Some(address) = telemetry.prometheus_address() {
        info!("Prometheus metrics on http://{address}/metrics");
    }

    let app = Router::new()
        .route("/hello/{name}", get(hello))
        .layer(OtelLayer::new());
    let addr =
        std::env::var("OTLP_PROMETHEUS_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    info!("listening on http://{}", listener.local_addr()?);
    // SIGTERM or Ctrl-C: the server drains, then the guard flushes the spans.
    axum::serve(listener, app)
        .with_graceful_shutdown(otel_init::shutdown_signal())
        .await?;

    let report = telemetry.shutdown();
    info!(?report.export, "telemetry shut down");
    Ok(())
}

async fn hello(Path(name): Path<String>) -> String {
    info!(%name, "greeting");
    format!("Hello, {name}!\n")
}
