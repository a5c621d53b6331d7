//! One `otel-init` call per service, exactly as a real service would do it.

use crate::config::Role;
use otel_init::{InitError, Telemetry, TelemetryGuard};

/// Initialises telemetry for `role`: `service.name` is the role (unless
/// `OTEL_SERVICE_NAME` says otherwise; the launcher sets it to the role),
/// OTLP when an endpoint is configured, console waterfalls otherwise.
pub fn init(role: Role) -> Result<TelemetryGuard, InitError> {
    let builder = Telemetry::builder()
        .crate_identity(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .service_name(role.service_name())
        // No collector configured: show the traces in the terminal instead.
        .console_unless_collector_configured();
    crate::sampling::apply(builder).init()
}
