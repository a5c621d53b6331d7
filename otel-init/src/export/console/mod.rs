//! The `console` exporter: human-readable output on stderr for development.
//! Spans are printed as one waterfall per trace; log records and metrics as lines.

mod lines;
mod waterfall;

pub(crate) use lines::{ConsoleLogSink, print_metrics};
pub(crate) use waterfall::ConsoleSpanSink;
pub use waterfall::render_trace;
