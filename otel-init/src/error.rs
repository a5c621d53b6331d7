//! Errors of initialisation and of explicit builder settings.

use std::path::PathBuf;

/// Why [`init_telemetry`](crate::init_telemetry()) or
/// [`TelemetryBuilder::init`](crate::TelemetryBuilder::init) failed.
///
/// ```
/// use otel_init::{InitError, Telemetry};
/// use std::time::Duration;
/// let error = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
///     .shutdown_timeout(Duration::ZERO)
///     .build()
///     .unwrap_err();
/// assert!(matches!(error, InitError::InvalidSetting { setting: "shutdown_timeout", .. }));
/// assert_eq!(
///     error.to_string(),
///     "invalid setting shutdown_timeout = 0ns: expected a positive duration"
/// );
///
/// let error = Telemetry::builder_from_env(&[
///     ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/no/such/ca.pem"),
///     ("OTEL_METRICS_EXPORTER", "none"),
///     ("OTEL_LOGS_EXPORTER", "none"),
/// ])
/// .without_globals()
/// .build()
/// .unwrap_err();
/// assert!(matches!(error, InitError::Tls { what: "CA certificate", .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// An explicit builder setting is invalid.
    #[error("invalid setting {setting} = {value}: expected {expected}")]
    InvalidSetting {
        /// The builder method, e.g. `sampler`.
        setting: &'static str,
        /// The value given, as Rust debug output.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// A certificate or key file could not be read or parsed.
    #[error("cannot use {what} {path:?}: {reason}")]
    Tls {
        /// Which file (`CA certificate`, `client key`, ...).
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A `tracing` subscriber is already installed globally.
    #[error("a global tracing subscriber is already set: {0}")]
    SubscriberAlreadySet(String),
    /// The background export thread could not be started.
    #[error("cannot start the export thread: {0}")]
    ExportThread(#[from] std::io::Error),
    /// An OTLP client could not be built.
    #[error("cannot build the OTLP {signal} exporter for {endpoint}: {reason}")]
    Exporter {
        /// traces, metrics or logs.
        signal: &'static str,
        /// The endpoint.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
}
