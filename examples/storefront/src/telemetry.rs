//! One `otel-init` call per service, exactly as a real service would do it.

use crate::config::Role;
use otel_init::{ExporterKind, InitError, Telemetry, TelemetryGuard};

/// Initialises telemetry for `role`: `service.name` is the role (unless
/// `OTEL_SERVICE_NAME` says otherwise; the launcher sets it to the role),
/// OTLP when an endpoint is configured, console waterfalls otherwise.
pub fn init(role: Role) -> Result<TelemetryGuard, InitError> {
    let mut builder = Telemetry::builder()
        .crate_identity(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .service_name(role.service_name());
    if !otlp_configured() {
        // No collector configured: show the traces in the terminal instead.
        builder = builder
            .traces_exporters([ExporterKind::Console])
            .metrics_exporters([])
            .logs_exporters([]);
    }
    builder = crate::sampling::apply(builder);
    builder.init()
}

/// True when an `OTEL_*` variable names an OTLP endpoint or an exporter.
pub fn otlp_configured() -> bool {
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
