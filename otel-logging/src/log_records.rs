//! Records of the `log` crate, which many dependencies still use, turned into
//! `tracing` events so that every layer (JSON lines, the OTLP bridge) sees them.

use std::fmt;
use tracing_log::AsLog;

/// Another `log` logger was installed first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCaptureError(String);

impl fmt::Display for LogCaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot capture `log` records: {}", self.0)
    }
}

impl std::error::Error for LogCaptureError {}

/// Installs tracing-log's `LogTracer` as the `log` crate's logger, so that
/// `log::info!(...)` in dependencies becomes a `tracing` event with the
/// record's own target and level. Records up to the level the current
/// `tracing` subscriber lets through are converted: call it after installing
/// the subscriber. Fails if a `log` logger is already installed (only one
/// can be, per process).
///
/// ```
/// let _ = otel_logging::capture_log_records();
/// ```
pub fn capture_log_records() -> Result<(), LogCaptureError> {
    tracing_log::LogTracer::builder()
        .with_max_level(tracing::level_filters::LevelFilter::current().as_log())
        .init()
        .map_err(|e| LogCaptureError(e.to_string()))
}
