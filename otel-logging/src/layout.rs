//! The constant parts of every line, escaped once when the layer is built.

use crate::escape::push_escaped;
use crate::field_names::{FieldNames, LevelCase};
use crate::span_fields::SpanFields;
use crate::trace_context::IdsOutsideTrace;

/// Pre-escaped key fragments and the options that shape a line.
#[derive(Debug)]
pub(crate) struct Layout {
    /// `{"timestamp":"`
    pub open: Vec<u8>,
    /// `","level":"`
    pub level: Vec<u8>,
    pub level_case: LevelCase,
    /// `,"SeverityNumber":`
    pub severity_number: Option<Vec<u8>>,
    /// `,"target":"`
    pub target: Option<Vec<u8>>,
    /// `,"message":"`
    pub message: Vec<u8>,
    /// `,"trace_id":"`
    pub trace_id: Vec<u8>,
    /// `","span_id":"`
    pub span_id: Vec<u8>,
    /// `","trace_flags":"`
    pub trace_flags: Option<Vec<u8>>,
    /// The service name and the static fields, e.g. `,"service.name":"checkout"`.
    pub constant: Vec<u8>,
    /// `,"Attributes":{`
    pub attributes: Option<Vec<u8>>,
    /// `,"spans":[`
    pub spans: Vec<u8>,
    /// Top-level keys that event and span fields must not take.
    pub reserved: Vec<Box<str>>,
    /// Bit `n` is set when a reserved key is `n` bytes long (63 for longer
    /// ones): most field names are cleared without comparing strings.
    pub reserved_lengths: u64,
    pub span_fields: SpanFields,
    pub span_field_allowlist: Option<Vec<Box<str>>>,
    pub ids_outside_trace: IdsOutsideTrace,
}

/// Everything the builder collected that shapes a line.
pub(crate) struct LayoutOptions {
    pub names: FieldNames,
    pub service_name: Option<String>,
    pub static_fields: Vec<(String, String)>,
    pub span_fields: SpanFields,
    pub span_field_allowlist: Option<Vec<String>>,
    pub ids_outside_trace: IdsOutsideTrace,
}

fn key(prefix: &str, name: &str, suffix: &str) -> Vec<u8> {
    let mut out = prefix.as_bytes().to_vec();
    push_escaped(&mut out, name);
    out.extend_from_slice(suffix.as_bytes());
    out
}

fn string_member(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(&key(",\"", name, "\":\""));
    push_escaped(out, value);
    out.push(b'"');
}

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

impl Layout {
    pub(crate) fn new(options: LayoutOptions) -> Self {
        let names = &options.names;
        let mut constant = Vec::new();
        if let Some(service) = &options.service_name {
            match &names.resource {
                Some(resource) => {
                    constant.extend_from_slice(&key(",\"", resource, "\":{\""));
                    push_escaped(&mut constant, &names.service_name);
                    constant.extend_from_slice(b"\":\"");
                    push_escaped(&mut constant, service);
                    constant.extend_from_slice(b"\"}");
                }
                None => string_member(&mut constant, &names.service_name, service),
            }
        }
        let mut reserved: Vec<Box<str>> = Vec::new();
        if names.attributes.is_none() {
            reserved.extend(names.top_level_keys().into_iter().map(Box::from));
            reserved.extend(options.static_fields.iter().map(|(k, _)| k.as_str().into()));
        }
        for (name, value) in &options.static_fields {
            string_member(&mut constant, name, value);
        }
        Self {
            open: key("{\"", &names.timestamp, "\":\""),
            level: key("\",\"", &names.level, "\":\""),
            level_case: names.level_case,
            severity_number: names
                .severity_number
                .as_deref()
                .map(|n| key(",\"", n, "\":")),
            target: names.target.as_deref().map(|n| key(",\"", n, "\":\"")),
            message: key(",\"", &names.message, "\":\""),
            trace_id: key(",\"", &names.trace_id, "\":\""),
            span_id: key("\",\"", &names.span_id, "\":\""),
            trace_flags: names
                .trace_flags
                .as_deref()
                .map(|n| key("\",\"", n, "\":\"")),
            constant,
            attributes: names.attributes.as_deref().map(|n| key(",\"", n, "\":{")),
            spans: key(",\"", &names.spans, "\":["),
            reserved_lengths: reserved
                .iter()
                .fold(0, |mask, key| mask | length_bit(key.len())),
            reserved,
            span_fields: options.span_fields,
            span_field_allowlist: options
                .span_field_allowlist
                .map(|names| names.into_iter().map(String::into_boxed_str).collect()),
            ids_outside_trace: options.ids_outside_trace,
        }
    }

    /// Whether a field called `name` must be renamed `fields.<name>`.
    pub(crate) fn is_reserved(&self, name: &str) -> bool {
        self.reserved_lengths & length_bit(name.len()) != 0
            && self.reserved.iter().any(|r| **r == *name)
    }
}
