//! One call at `main` and every span, metric and log record of the service
//! reaches an OpenTelemetry Collector, Jaeger, Tempo or any OTLP backend,
//! configured by the standard `OTEL_*` environment variables.
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() -> Result<(), otel_init::InitError> {
//!     // service.name and service.version default to this crate's name and version.
//!     let _telemetry = otel_init::init_telemetry!()?;
//!     tracing::info!("ready");
//!     Ok(())
//! } // `_telemetry` drops here: queued telemetry is flushed within the shutdown timeout.
//! ```
//!
//! What it does that opentelemetry-rust leaves to each application:
//! - every SDK environment variable of the specification, including
//!   `OTEL_SDK_DISABLED`, `OTEL_PROPAGATORS`, exporter selection and the
//!   attribute value-length limits; each bad value gives one warning naming the
//!   variable, the value and what is accepted, then the default applies;
//! - OTLP over gRPC, HTTP/protobuf and HTTP/JSON with retries per the
//!   specification (retryable codes only, exponential backoff with jitter,
//!   `Retry-After`), TLS with a custom CA and client certificates;
//! - exporting on a dedicated thread with bounded queues: the application never
//!   waits for the collector, and what is dropped is counted
//!   ([`TelemetryGuard::export_report`]) and warned about once when it starts and
//!   once when it stops;
//! - a `console` exporter that prints each trace as a waterfall;
//! - a Prometheus exporter (`OTEL_METRICS_EXPORTER=prometheus`): `/metrics` in
//!   the text format or OpenMetrics, names translated as the specification's
//!   Prometheus compatibility says;
//! - a guard whose shutdown is bounded in time on any Tokio runtime flavour, or none.
//!
//! The crate re-exports `opentelemetry`, `opentelemetry_sdk`, `tracing` and
//! `tracing_subscriber`, so that metrics, events and spans
//! (`otel_init::tracing::info!`) need no direct dependency. `#[instrument]` is
//! the exception: its expansion names `::tracing`, so a crate that uses it
//! depends on `tracing` (0.1) directly.
//!
//! See `docs/configuration.md` for every variable and its default.
//!
//! # Features
//!
//! Every feature is on by default, so that `otel-init` exports over whatever
//! protocol the environment names. A service that knows its collector can
//! turn off what it does not use (for example
//! `otel-init = { version = "...", default-features = false, features = ["http-proto"] }`
//! builds no tonic, no rustls and no flate2):
//!
//! | Feature | What it adds | Dependencies it brings |
//! |---|---|---|
//! | `grpc` | `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` | tonic (client channel), tonic-types, h2 |
//! | `http-proto` | `http/protobuf`, the specification's default protocol | none beyond the core (hyper HTTP/1 client, prost) |
//! | `http-json` | `http/json` | serde, serde_json |
//! | `tls` | `https://` endpoints, with the system's roots, `OTEL_EXPORTER_OTLP_CERTIFICATE` and client certificates; HTTP/2 over TLS for OTLP/HTTP | rustls (ring), hyper-rustls, rustls-native-certs, tonic's TLS with `grpc` |
//! | `gzip` | `OTEL_EXPORTER_OTLP_COMPRESSION=gzip` | flate2 |
//! | `prometheus` | `OTEL_METRICS_EXPORTER=prometheus`: a `/metrics` endpoint for Prometheus to scrape (text format and OpenMetrics) | none beyond the core (hyper's HTTP/1 server half) |
//!
//! At least one of `grpc`, `http-proto` and `http-json` is required. With no
//! protocol configured, the default is `http/protobuf`, else `grpc`, else
//! `http/json`, whichever is built in ([`Protocol::built_in_default`]).
//!
//! A setting that needs a feature the build lacks is never an error: `init`
//! succeeds and one warning on stderr names the variable, its value and the
//! missing feature. A protocol that is not built in, or an `https://` endpoint
//! without `tls`, disables the OTLP exporter of that signal (the other signals
//! and the console exporter work as configured); gzip without `gzip` sends
//! uncompressed; certificate files without `tls` are ignored.
//!
//! ```
//! // With the default features every protocol is built in.
//! for p in [otel_init::Protocol::Grpc, otel_init::Protocol::HttpProtobuf, otel_init::Protocol::HttpJson] {
//!     assert!(p.is_built_in(), "{} needs the `{}` feature", p.as_str(), p.cargo_feature());
//! }
//! ```
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

mod builder;
pub mod config;
mod diag;
mod error;
pub mod export;
mod globals;
mod guard;
pub mod metrics;
mod propagation;
mod redact;
mod resource;
pub mod sampling;
mod signal;
mod subscriber;
mod time;

pub use builder::{Telemetry, TelemetryBuilder};
pub use config::{
    Config, ConfigWarning, ExporterKind, PropagatorKind, Protocol, ResourceDetector, SamplerKind,
    Signal,
};
pub use error::InitError;
pub use export::{ExportReport, RetryPolicy, SignalReport};
pub use guard::{ShutdownReport, TelemetryGuard};
pub use signal::{StopSignal, shutdown_signal, wait_for_stop_signal};
pub use subscriber::BoxedLayer;

/// Re-exported so that users need no direct dependency (and no version skew).
///
/// ```
/// use otel_init::opentelemetry::{KeyValue, global};
/// let orders = global::meter("checkout").u64_counter("orders").build();
/// orders.add(1, &[KeyValue::new("payment.method", "card")]);
/// ```
pub use opentelemetry;
/// Re-exported SDK, for custom samplers and processors.
///
/// ```
/// use otel_init::opentelemetry_sdk::trace::Sampler;
/// let builder = otel_init::Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
///     .custom_sampler(Sampler::TraceIdRatioBased(0.5));
/// # let _ = builder;
/// ```
pub use opentelemetry_sdk;
/// Re-exported so that events and spans need no direct dependency.
///
/// `#[instrument]` is the exception: its expansion names `::tracing`, so a
/// crate that uses it needs `tracing` as a direct dependency (the same 0.1
/// version, so that both resolve to one crate).
///
/// ```
/// use otel_init::tracing;
/// let span = tracing::info_span!("reserve", sku = "A-1");
/// span.in_scope(|| tracing::info!(quantity = 2, "reserved"));
/// ```
pub use tracing;
/// Re-exported for users who compose their own subscriber.
///
/// ```
/// use otel_init::tracing_subscriber::{EnvFilter, layer::SubscriberExt as _};
/// let subscriber = otel_init::tracing_subscriber::registry()
///     .with(EnvFilter::new("info"))
///     .with(otel_init::tracing_subscriber::fmt::layer());
/// otel_init::tracing::subscriber::with_default(subscriber, || otel_init::tracing::info!("composed"));
/// ```
pub use tracing_subscriber;

/// Configures telemetry from the environment and installs the `tracing`
/// subscriber. Keep the returned guard alive until the program ends.
///
/// `service.name` falls back to `unknown_service:<executable>`; the
/// [`init_telemetry!`] macro uses the calling crate's name instead.
///
/// ```no_run
/// let _telemetry = otel_init::init_telemetry()?;
/// # Ok::<(), otel_init::InitError>(())
/// ```
pub fn init_telemetry() -> Result<TelemetryGuard, InitError> {
    Telemetry::builder().init()
}

/// [`init_telemetry()`] with the calling crate's name and version as the
/// defaults for `service.name` and `service.version`.
///
/// ```no_run
/// let _telemetry = otel_init::init_telemetry!()?;
/// # Ok::<(), otel_init::InitError>(())
/// ```
#[macro_export]
macro_rules! init_telemetry {
    () => {
        $crate::Telemetry::builder()
            .crate_identity(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
            .init()
    };
}
