//! One event as one line: the head (time, level, target, message), the ids,
//! the constant fields, then the event's and the spans' fields.

use crate::escape::{push_escaped, push_hex};
use crate::field_names::LevelCase;
use crate::fields::{FieldWriter, Member};
use crate::layout::Layout;
use crate::span_fields::{self, SpanFields};
use crate::timestamp::TimestampCache;
use crate::trace_context::{Ids, IdsOutsideTrace};
use std::time::SystemTime;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Buffers reused from event to event (one set per thread).
#[derive(Default)]
pub(crate) struct Scratch {
    pub line: Vec<u8>,
    fields: Vec<u8>,
    members: Vec<Member>,
    written: Vec<&'static str>,
    clock: TimestampCache,
}

impl Scratch {
    /// Buffers that grew past this are dropped after the event.
    const KEEP_CAPACITY: usize = 64 << 10;

    pub(crate) fn is_oversized(&self) -> bool {
        self.line.capacity() > Self::KEEP_CAPACITY
    }
}

/// Formats `event` into `s.line`, ending with `\n`.
pub(crate) fn format<S>(
    s: &mut Scratch,
    layout: &Layout,
    event: &Event<'_>,
    ctx: &Context<'_, S>,
    ids: Option<Ids>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Scratch {
        line,
        fields,
        members,
        written,
        clock,
    } = s;
    line.clear();
    fields.clear();
    members.clear();
    written.clear();

    let normalized = event.normalized_metadata();
    let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
    push_head(line, clock, layout, meta);
    event.record(&mut FieldWriter {
        layout,
        out: fields,
        members,
        message: Some(&mut *line),
        skip_log_fields: normalized.is_some(),
        allow: None,
        beside_span_name: false,
    });
    let ids = ids.or(match layout.ids_outside_trace {
        IdsOutsideTrace::Omit => None,
        IdsOutsideTrace::Zeros => Some(Ids::ZERO),
    });
    if let Some(ids) = ids {
        push_ids(line, layout, &ids);
    }
    line.extend_from_slice(&layout.constant);

    let container_start = line.len();
    if let Some(open) = &layout.attributes {
        line.extend_from_slice(open);
    }
    let content_start = line.len();
    line.extend_from_slice(fields);
    match layout.span_fields {
        SpanFields::None => {}
        SpanFields::Flatten => {
            if let Some(scope) = ctx.event_scope(event) {
                written.extend(members.iter().map(|m| m.name));
                span_fields::write_flat(line, written, scope);
            }
        }
        SpanFields::Nested => {
            if let Some(scope) = ctx.event_scope(event) {
                span_fields::write_nested(line, layout, scope.from_root());
            }
        }
    }
    if layout.attributes.is_some() {
        if line.len() == content_start {
            line.truncate(container_start);
        } else {
            // Every member starts with a comma; the first one must not.
            line.remove(content_start);
            line.push(b'}');
        }
    }
    line.extend_from_slice(b"}\n");
}

/// `{"timestamp":"...","level":"INFO","target":"..."` (the message follows
/// when the fields are visited).
fn push_head(line: &mut Vec<u8>, clock: &mut TimestampCache, layout: &Layout, meta: &Metadata<'_>) {
    line.extend_from_slice(&layout.open);
    clock.push(line, SystemTime::now());
    line.extend_from_slice(&layout.level);
    line.extend_from_slice(level_text(meta.level(), layout.level_case).as_bytes());
    line.push(b'"');
    if let Some(key) = &layout.severity_number {
        line.extend_from_slice(key);
        line.extend_from_slice(severity_number(meta.level()).as_bytes());
    }
    if let Some(key) = &layout.target {
        line.extend_from_slice(key);
        push_escaped(line, meta.target());
        line.push(b'"');
    }
}

/// `,"trace_id":"...","span_id":"...","trace_flags":"01"`
fn push_ids(line: &mut Vec<u8>, layout: &Layout, ids: &Ids) {
    line.extend_from_slice(&layout.trace_id);
    push_hex(line, &ids.trace_id);
    line.extend_from_slice(&layout.span_id);
    push_hex(line, &ids.span_id);
    if let Some(key) = &layout.trace_flags {
        line.extend_from_slice(key);
        push_hex(line, &[ids.flags]);
    }
    line.push(b'"');
}

fn level_text(level: &Level, case: LevelCase) -> &'static str {
    match (case, *level) {
        (LevelCase::Upper, l) => l.as_str(),
        (LevelCase::Lower, Level::TRACE) => "trace",
        (LevelCase::Lower, Level::DEBUG) => "debug",
        (LevelCase::Lower, Level::INFO) => "info",
        (LevelCase::Lower, Level::WARN) => "warn",
        (LevelCase::Lower, _) => "error",
    }
}

/// The OpenTelemetry severity number of a level (the first of its range).
fn severity_number(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "1",
        Level::DEBUG => "5",
        Level::INFO => "9",
        Level::WARN => "13",
        _ => "17",
    }
}
