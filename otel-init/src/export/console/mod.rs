//! The `console` exporter: human-readable output on stderr for development.
//! Spans are printed as one waterfall per trace; log records and metrics as lines.
//! `OTEL_{TRACES,METRICS,LOGS}_EXPORTER=console` selects it, alone or with `otlp`.
//! `OTEL_INIT_CONSOLE_IDS=true` (or [`TelemetryBuilder::console_ids`](crate::TelemetryBuilder::console_ids))
//! adds each span's trace id, span id, parent span id, flags and tracestate.
//!
//! ```
//! use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
//! let telemetry = otel_init::Telemetry::builder_from_env(&[
//!     ("OTEL_TRACES_EXPORTER", "console"),
//!     ("OTEL_METRICS_EXPORTER", "none"),
//!     ("OTEL_LOGS_EXPORTER", "none"),
//! ])
//! .without_globals()
//! .build()?;
//! let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
//! tracer.in_span("GET /cart", |_| tracer.in_span("SELECT cart", |_| {}));
//! // Prints on stderr:
//! // trace 5b8efff798038103d269b633813fc60c · 2 spans · 1.2 ms
//! //   GET /cart                  SERVER ...
//! //     SELECT cart              ...
//! assert_eq!(telemetry.shutdown().export.traces.exported, 2);
//! # Ok::<(), otel_init::InitError>(())
//! ```

mod assemble;
mod lines;
mod waterfall;

pub(crate) use assemble::ConsoleSpanSink;
pub(crate) use lines::{ConsoleLogSink, print_metrics};
pub use waterfall::render_trace;
