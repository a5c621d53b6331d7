//! Writes `tracing` field values as JSON members, straight into a buffer.

use crate::escape::{EscapingWriter, Lossy, push_escaped, push_quoted};
use crate::layout::Layout;
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};

/// Where one member (`,"key":value`) sits in a buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    pub name: &'static str,
    pub start: usize,
    pub end: usize,
}

/// A [`Visit`] that appends `,"key":value` for each field.
pub(crate) struct FieldWriter<'a> {
    pub layout: &'a Layout,
    /// Receives the members.
    pub out: &'a mut Vec<u8>,
    /// Where each member went.
    pub members: &'a mut Vec<Member>,
    /// For events: the `message` field is written here as a string, after
    /// the layout's message key. `None` for spans, where it is a plain field.
    pub message: Option<&'a mut Vec<u8>>,
    /// Leaves out `log.target`, `log.file`, ... of records from the `log`
    /// crate (they are used for the target instead).
    pub skip_log_fields: bool,
    /// Only these fields are written (span field allowlist).
    pub allow: Option<&'a [Box<str>]>,
    /// Span fields of [`SpanFields::Nested`](crate::SpanFields::Nested) sit
    /// next to the span's `name`, which they must not take.
    pub beside_span_name: bool,
}

impl FieldWriter<'_> {
    /// Writes `,"key":` and returns true, or returns false if the field is
    /// left out.
    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.skip_log_fields && name.starts_with("log.") {
            return false;
        }
        if let Some(allow) = self.allow
            && !allow.iter().any(|a| **a == *name)
        {
            return false;
        }
        self.out.extend_from_slice(b",\"");
        if self.layout.is_reserved(name) || (self.beside_span_name && name == "name") {
            self.out.extend_from_slice(b"fields.");
        }
        push_escaped(self.out, name);
        self.out.extend_from_slice(b"\":");
        true
    }

    fn member(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.out.len();
        if self.key(field) {
            write(self.out);
            self.members.push(Member {
                name: field.name(),
                start,
                end: self.out.len(),
            });
        }
    }

    /// The message, when `field` is it: written as a string wherever it goes.
    fn message(&mut self, field: &Field, value: fmt::Arguments<'_>) -> bool {
        if field.name() != "message" {
            return false;
        }
        let Some(out) = self.message.as_deref_mut() else {
            return false;
        };
        out.extend_from_slice(&self.layout.message);
        let _ = EscapingWriter(out).write_fmt(value);
        out.push(b'"');
        true
    }

    fn display(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if !self.message(field, value) {
            self.member(field, |out| {
                out.push(b'"');
                let _ = EscapingWriter(out).write_fmt(value);
                out.push(b'"');
            });
        }
    }

    fn number(&mut self, field: &Field, text: &str) {
        if !self.message(field, format_args!("{text}")) {
            self.member(field, |out| out.extend_from_slice(text.as_bytes()));
        }
    }
}

impl Visit for FieldWriter<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.display(field, format_args!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.message(field, format_args!("{value}")) {
            self.member(field, |out| push_quoted(out, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.display(field, format_args!("{value}"));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.display(field, format_args!("{}", Lossy(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.number(field, itoa::Buffer::new().format(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.number(field, itoa::Buffer::new().format(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.number(field, itoa::Buffer::new().format(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.number(field, itoa::Buffer::new().format(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.number(field, ryu::Buffer::new().format_finite(value));
        } else {
            // NaN and infinities are not JSON numbers.
            self.display(field, format_args!("{value}"));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.number(field, if value { "true" } else { "false" });
    }
}
