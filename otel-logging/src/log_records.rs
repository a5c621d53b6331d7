//! Records of the `log` crate, which many dependencies still use, turned into
//! `tracing` events so that every layer (JSON lines, the OTLP bridge) sees them.

use std::fmt;
use tracing_log::AsLog;

/// Another `log` logger was installed first (the error of
/// [`capture_log_records`]).
///
/// ```
/// otel_logging::capture_log_records().expect("the first logger of this process");
/// let second = otel_logging::capture_log_records().unwrap_err();
/// assert!(second.to_string().starts_with("cannot capture `log` records: "));
/// ```
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
/// use otel_logging::{JsonLayer, LogTarget, MemoryBuffer};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let buffer = MemoryBuffer::new();
/// let layer = JsonLayer::builder().target(LogTarget::Memory(buffer.clone())).build()?;
/// let writer = layer.writer().clone();
/// tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();
/// otel_logging::capture_log_records().expect("no other `log` logger");
///
/// // What a dependency logging through the `log` crate does:
/// tracing_log::log::warn!(target: "hyper::proto", "connection reset");
/// writer.flush(std::time::Duration::from_secs(5));
/// assert!(buffer.lines()[0].contains(r#""level":"WARN","target":"hyper::proto","message":"connection reset""#));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn capture_log_records() -> Result<(), LogCaptureError> {
    tracing_log::LogTracer::builder()
        .with_max_level(tracing::level_filters::LevelFilter::current().as_log())
        .init()
        .map_err(|e| LogCaptureError(e.to_string()))
}
