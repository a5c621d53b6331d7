//! The instrumentation scope both sides report.

use opentelemetry::InstrumentationScope;

/// The semantic-conventions version this crate follows: 1.45, whose RPC
/// conventions are a Release Candidate, the stage before stable
/// (`rpc.system.name`, `rpc.method`, `rpc.status_code`,
/// `rpc.{server,client}.call.duration`).
pub(crate) const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.45.0";

pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(SCHEMA_URL)
        .build()
}
