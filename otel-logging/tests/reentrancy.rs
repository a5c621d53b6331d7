//! An event logged while another is being formatted (by a field's `Debug`
//! implementation) is written too, instead of being lost or deadlocking.

mod common;

use common::line;
use otel_logging::JsonLayer;
use serde_json::Value;
use std::fmt;
use tracing::info;

/// Formatting this value logs an event itself.
struct LogsWhileFormatted;

impl fmt::Debug for LogsWhileFormatted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        info!("nested event");
        f.write_str("outer value")
    }
}

#[test]
fn an_event_logged_while_formatting_another_is_written_too() {
    // A scoped subscriber (`with_default`) hides itself from events logged
    // while it dispatches one, and while any scoped subscriber exists in the
    // process, so does the global one: this test has its binary to itself.
    use tracing_subscriber::layer::SubscriberExt;
    let buffer = otel_logging::MemoryBuffer::new();
    let layer = JsonLayer::builder()
        .target(otel_logging::LogTarget::Memory(buffer.clone()))
        .build()
        .expect("layer");
    let writer = layer.writer().clone();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("the only global subscriber of this binary");
    std::thread::spawn(|| info!(value = ?LogsWhileFormatted, "outer"))
        .join()
        .expect("thread");
    assert!(writer.flush(std::time::Duration::from_secs(5)));
    let lines: Vec<Value> = buffer
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(line(&lines, "outer")["value"], "outer value");
    line(&lines, "nested event");
}
