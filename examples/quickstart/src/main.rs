//! The quick-start service: one call at `main`, then ordinary `tracing` code.
//!
//! ```text
//! cargo run -p quickstart                                    # trace printed as a waterfall on stderr
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run -p quickstart   # exported over OTLP
//! ```

use otel_init::opentelemetry::{KeyValue, global};
use otel_init::tracing::{info, instrument, warn};
use otel_init::{ExporterKind, Telemetry};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), otel_init::InitError> {
    let mut telemetry =
        Telemetry::builder().crate_identity(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    if !otlp_configured() {
        // No collector configured: show the trace in the terminal instead.
        telemetry = telemetry
            .traces_exporters([ExporterKind::Console])
            .metrics_exporters([])
            .logs_exporters([]);
    }
    let telemetry = telemetry.init()?;

    let orders = global::meter("quickstart")
        .u64_counter("quickstart.orders")
        .build();
    for order in 1..=2 {
        checkout(order).await;
        orders.add(1, &[KeyValue::new("payment.method", "card")]);
    }

    let report = telemetry.shutdown();
    info!(?report.export, "telemetry shut down");
    Ok(())
}

/// True when an `OTEL_*` variable names an OTLP endpoint or exporter.
fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_TRACES_EXPORTER",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|v| !v.is_empty()))
}

#[instrument(fields(otel.kind = "server", http.request.method = "POST", http.route = "/checkout"))]
async fn checkout(order: u32) {
    info!(order, "checkout started");
    load_cart(order).await;
    if charge_card(order).await.is_err() {
        warn!(order, "payment declined");
    }
    info!(order, "checkout finished");
}

#[instrument(fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "SELECT"))]
async fn load_cart(order: u32) {
    tokio::time::sleep(Duration::from_millis(15)).await;
}

#[instrument(fields(otel.kind = "client", server.address = "payments.internal"), err)]
async fn charge_card(order: u32) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(30)).await;
    if order.is_multiple_of(2) {
        Err("card declined".to_owned())
    } else {
        Ok(())
    }
}
