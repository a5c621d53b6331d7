//! JSON logs that join their traces.
//!
//! [`JsonLayer`] is a `tracing-subscriber` layer that writes one compact JSON
//! object per event, with the `trace_id` and `span_id` of the current
//! OpenTelemetry span, so that Loki's derived field
//! `"trace_id":"([0-9a-f]{32})"` links each line to its trace in Tempo, and
//! Tempo's "logs for this span" finds the lines of a trace:
//!
//! ```text
//! {"timestamp":"2025-03-01T09:30:12.345678Z","level":"INFO","target":"shop::checkout","message":"charged","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01","service.name":"checkout","amount":42,"order":7}
//! ```
//!
//! - **Ids**: 32 and 16 lowercase hex digits, equal to the exported span's,
//!   present for unsampled traces too (`trace_flags` `00`); outside a trace
//!   the keys are left out, or zeros ([`IdsOutsideTrace`]).
//! - **Content**: RFC 3339 UTC timestamp with microseconds and `Z`, level,
//!   target, message, the event's fields, the fields of the enclosing spans
//!   ([`SpanFields`]), `service.name`, and constant fields you add.
//! - **Shapes**: the keys above, Elastic Common Schema or the OpenTelemetry
//!   log data model ([`FieldNames`]).
//! - **Safe for hostile values**: quotes, backslashes, control characters
//!   (newlines cannot forge a line, escape sequences cannot reach a
//!   terminal), U+2028/U+2029 and invalid UTF-8 are escaped or replaced;
//!   fields cannot shadow the keys above.
//! - **Never stalls the request path**: the event's thread formats into a
//!   reused per-thread buffer and copies the line into a bounded buffer; a
//!   background thread writes it to stdout, stderr or a file. When the
//!   buffer is full, lines are dropped and counted ([`LogWriter::stats`]).
//!   Lines still waiting are written when the process exits normally;
//!   [`flush_all`] flushes at a point of your choosing.
//! - **`log` records** from dependencies: [`capture_log_records`].
//!
//! ```
//! use otel_logging::{JsonLayer, LogTarget, MemoryBuffer};
//! use std::time::Duration;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let buffer = MemoryBuffer::new(); // LogTarget::Stdout in a service
//! let layer = JsonLayer::builder()
//!     .service_name("checkout")
//!     .target(LogTarget::Memory(buffer.clone()))
//!     .build()?;
//! let writer = layer.writer().clone();
//! let subscriber = tracing_subscriber::registry().with(layer);
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info_span!("checkout", order = 7).in_scope(|| {
//!         tracing::warn!(amount = 42, "card \"declined\"");
//!     });
//! });
//! writer.flush(Duration::from_secs(5));
//! let line = &buffer.lines()[0];
//! assert!(line.starts_with(r#"{"timestamp":""#));
//! assert!(line.contains(r#","level":"WARN","#));
//! assert!(line.contains(r#","message":"card \"declined\"","#));
//! assert!(line.ends_with(r#","service.name":"checkout","amount":42,"order":7}"#));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! With `otel-init`, nothing is needed: `init()` installs this layer when
//! standard output is not a terminal (`OTEL_INIT_LOG_FORMAT` overrides), with
//! the resource's `service.name`. `docs/logging.md` describes the lines, the
//! OTLP log records, and the Grafana settings that link logs and traces.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

mod builder;
mod escape;
mod field_names;
mod fields;
mod layer;
mod layout;
mod line;
mod log_format;
mod log_records;
mod span_fields;
mod timestamp;
mod trace_context;
mod writer;

pub use builder::JsonLayerBuilder;
pub use field_names::{FieldNames, LevelCase};
pub use layer::JsonLayer;
pub use log_format::{LogFormat, UnknownLogFormat};
pub use log_records::{LogCaptureError, capture_log_records};
pub use span_fields::SpanFields;
pub use trace_context::IdsOutsideTrace;
pub use writer::{Delivery, LogTarget, LogWriter, MemoryBuffer, WriterStats, flush_all};
