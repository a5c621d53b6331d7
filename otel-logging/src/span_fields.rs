//! The fields of the enclosing spans: recorded once per span as JSON text
//! (so an event only copies bytes), and written flat or as a list.

use crate::fields::{FieldWriter, Member};
use crate::layout::Layout;
use tracing::field::Visit;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// Which fields of the enclosing spans each line carries.
///
/// ```
/// use otel_logging::{JsonLayer, SpanFields};
/// let layer = JsonLayer::builder().span_fields(SpanFields::Nested).build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpanFields {
    /// None: only the event's own fields (the cheapest).
    None,
    /// Every field of every enclosing span, at the same level as the event's
    /// fields. On a name clash the event wins, then the innermost span.
    #[default]
    Flatten,
    /// `"spans":[{"name":"checkout","order":42},{"name":"load_cart"}]`, from
    /// the root to the innermost span.
    Nested,
}

/// The JSON text of a span's fields, kept in the span's extensions.
#[derive(Debug, Default)]
pub(crate) struct RecordedSpanFields {
    json: Vec<u8>,
    members: Vec<Member>,
}

impl RecordedSpanFields {
    /// Records `values` (the span's attributes, or a later `Span::record`);
    /// a field recorded again replaces its earlier value.
    pub(crate) fn record(&mut self, layout: &Layout, values: &dyn RecordValues) {
        let first_new = self.members.len();
        values.record_into(&mut FieldWriter {
            layout,
            out: &mut self.json,
            members: &mut self.members,
            message: None,
            skip_log_fields: false,
            allow: layout.span_field_allowlist.as_deref(),
            beside_span_name: layout.span_fields == SpanFields::Nested,
        });
        if first_new > 0 && self.members.len() > first_new {
            let new: Vec<&'static str> = self.members[first_new..].iter().map(|m| m.name).collect();
            let mut index = 0;
            self.members.retain(|m| {
                index += 1;
                index > first_new || !new.contains(&m.name)
            });
            self.compact_if_mostly_stale();
        }
    }

    fn compact_if_mostly_stale(&mut self) {
        let live: usize = self.members.iter().map(|m| m.end - m.start).sum();
        if live * 2 >= self.json.len() {
            return;
        }
        let mut json = Vec::with_capacity(live);
        for m in &mut self.members {
            let start = json.len();
            json.extend_from_slice(&self.json[m.start..m.end]);
            *m = Member {
                name: m.name,
                start,
                end: json.len(),
            };
        }
        self.json = json;
    }

    /// Appends the members whose names are not yet in `written`, adding them to it.
    fn write_new(&self, out: &mut Vec<u8>, written: &mut Vec<&'static str>) {
        for m in &self.members {
            if !written.contains(&m.name) {
                out.extend_from_slice(&self.json[m.start..m.end]);
                written.push(m.name);
            }
        }
    }

    /// Appends every member.
    fn write_all(&self, out: &mut Vec<u8>) {
        for m in &self.members {
            out.extend_from_slice(&self.json[m.start..m.end]);
        }
    }
}

/// `Attributes` and `Record` both hand their values to a visitor.
pub(crate) trait RecordValues {
    fn record_into(&self, visitor: &mut dyn Visit);
}

impl RecordValues for tracing::span::Attributes<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor);
    }
}

impl RecordValues for tracing::span::Record<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor);
    }
}

/// Flatten: the innermost span first, each field name once; `written` holds
/// the names already on the line (the event's own fields).
pub(crate) fn write_flat<'a, R: LookupSpan<'a> + 'a>(
    out: &mut Vec<u8>,
    written: &mut Vec<&'static str>,
    scope: impl Iterator<Item = SpanRef<'a, R>>,
) {
    for span in scope {
        if let Some(fields) = span.extensions().get::<RecordedSpanFields>() {
            fields.write_new(out, written);
        }
    }
}

/// Nested: `,"spans":[{"name":"root",...},...]`, root first.
pub(crate) fn write_nested<'a, R: LookupSpan<'a> + 'a>(
    out: &mut Vec<u8>,
    layout: &Layout,
    scope: impl Iterator<Item = SpanRef<'a, R>>,
) {
    let start = out.len();
    out.extend_from_slice(&layout.spans);
    let mut empty = true;
    for span in scope {
        if !empty {
            out.push(b',');
        }
        empty = false;
        out.extend_from_slice(b"{\"name\":");
        crate::escape::push_quoted(out, span.name());
        if let Some(fields) = span.extensions().get::<RecordedSpanFields>() {
            fields.write_all(out);
        }
        out.push(b'}');
    }
    if empty {
        out.truncate(start);
    } else {
        out.push(b']');
    }
}
