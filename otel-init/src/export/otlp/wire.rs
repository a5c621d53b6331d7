//! Protobuf wire format for OTLP requests written straight from the SDK's
//! data (see [`super::span_wire`]): the primitives, attribute lists, the
//! instrumentation scope and the resource, each as a length function and a
//! writer that agree with each other.

use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

/// The resource of every batch, encoded once.
#[derive(Debug, Clone)]
pub(crate) struct EncodedResource {
    /// The content of the `Resource` message.
    pub(super) resource: Vec<u8>,
    pub(super) schema_url: String,
}

impl EncodedResource {
    pub(crate) fn new(resource: &opentelemetry_sdk::Resource) -> Self {
        let mut out = Vec::new();
        for (key, value) in resource.iter() {
            key_value(&mut out, 1, key.as_str(), value);
        }
        Self {
            resource: out,
            schema_url: resource.schema_url().unwrap_or_default().to_owned(),
        }
    }
}

// ------------------------------------------------ the request's framing

/// The items of one instrumentation scope in a request. `name` is the
/// scope's own name, or for logs the record's target.
pub(super) struct ScopeGroup<'a> {
    pub name: &'a str,
    pub scope: &'a InstrumentationScope,
    /// Indices of the items, in batch order.
    pub members: Vec<usize>,
}

impl ScopeGroup<'_> {
    fn schema_url(&self) -> &str {
        self.scope.schema_url().unwrap_or_default()
    }

    /// Whether an item of scope `scope` named `name` belongs here: the same
    /// scope on the wire (a missing version or schema is an empty one).
    fn holds(&self, name: &str, scope: &InstrumentationScope) -> bool {
        same(self.name, name)
            && same(
                self.scope.version().unwrap_or_default(),
                scope.version().unwrap_or_default(),
            )
            && same(self.schema_url(), scope.schema_url().unwrap_or_default())
            && self.scope.attributes().eq(scope.attributes())
    }
}

/// Whether two texts are equal, at once when they are the same text (a
/// scope's names are usually `&'static str` copied into every item).
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
}

/// The items' indices per scope, scopes in order of first appearance. A
/// batch holds few scopes and runs of items of one scope: the last group
/// matched is tried first, then the others.
pub(super) fn group_by_scope<'a>(
    scopes: impl Iterator<Item = (&'a str, &'a InstrumentationScope)>,
) -> Vec<ScopeGroup<'a>> {
    // Most batches hold one scope: its list is sized for the whole batch
    // at once rather than grown.
    let items = scopes.size_hint().0;
    let mut groups: Vec<ScopeGroup<'a>> = Vec::new();
    let mut last = 0;
    for (i, (name, scope)) in scopes.enumerate() {
        let found = if groups.get(last).is_some_and(|g| g.holds(name, scope)) {
            Some(last)
        } else {
            groups.iter().position(|g| g.holds(name, scope))
        };
        match found {
            Some(g) => {
                groups[g].members.push(i);
                last = g;
            }
            None => {
                let mut members = Vec::with_capacity(if groups.is_empty() { items } else { 1 });
                members.push(i);
                last = groups.len();
                groups.push(ScopeGroup {
                    name,
                    scope,
                    members,
                });
            }
        }
    }
    groups
}

/// An `ExportTraceServiceRequest` or `ExportLogsServiceRequest` (they share
/// their field numbers): one resource entry holding `groups`, item `i`
/// written by `write_item`. Written in one pass: each length is filled in
/// after its content (see [`delimited`]). `capacity` is a guess of the
/// size, to allocate once in the common case.
pub(super) fn encode_grouped(
    resource: &EncodedResource,
    groups: &[ScopeGroup<'_>],
    capacity: usize,
    mut write_item: impl FnMut(&mut Vec<u8>, usize),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity + resource.resource.len() + 64);
    // Export*ServiceRequest.resource_spans / resource_logs = 1
    delimited(&mut out, 1, 3, |out| {
        // Resource*.resource = 1
        header(out, 1, resource.resource.len());
        out.extend_from_slice(&resource.resource);
        for g in groups {
            // Resource*.scope_spans / scope_logs = 2
            delimited(out, 2, 3, |out| {
                // Scope*.scope = 1
                header(out, 1, scope_len(g.name, g.scope));
                scope(out, g.name, g.scope);
                for &i in &g.members {
                    // Scope*.spans / log_records = 2
                    delimited(out, 2, 2, |out| write_item(out, i));
                }
                // Scope*.schema_url = 3
                string(out, 3, g.schema_url());
            });
        }
        // Resource*.schema_url = 3
        string(out, 3, &resource.schema_url);
    });
    out
}

/// A length-delimited field whose content `content` writes, its length not
/// known beforehand: `reserve` bytes are kept for the length and it is
/// written there afterwards. When it takes more or fewer bytes (a content
/// under 128 bytes with two reserved, or over 16 KiB), the content is moved
/// to make it fit: the encoding stays the minimal one that `prost` writes.
#[inline]
pub(super) fn delimited(
    out: &mut Vec<u8>,
    tag: u32,
    reserve: usize,
    content: impl FnOnce(&mut Vec<u8>),
) {
    key(out, tag, WIRE_DELIMITED);
    let at = out.len();
    out.resize(at + reserve, 0);
    content(out);
    let len = out.len() - at - reserve;
    let need = varint_len(len as u64);
    if need > reserve {
        out.splice(at..at, std::iter::repeat_n(0, need - reserve));
    } else if need < reserve {
        out.drain(at..at + (reserve - need));
    }
    let mut value = len as u64;
    for byte in &mut out[at..at + need] {
        *byte = (value as u8 & 0x7f) | 0x80;
        value >>= 7;
    }
    out[at + need - 1] &= 0x7f;
}

// ---------------------------------------------------- scope and times

/// The `InstrumentationScope` message, named `name` (the scope's own name,
/// or for logs the record's target).
pub(super) fn scope_len(name: &str, scope: &InstrumentationScope) -> usize {
    string_len(name)
        + string_len(scope.version().unwrap_or_default())
        + scope
            .attributes()
            .map(|kv| delimited_len(key_value_len(kv.key.as_str(), &kv.value)))
            .sum::<usize>()
}

pub(super) fn scope(out: &mut Vec<u8>, name: &str, scope: &InstrumentationScope) {
    string(out, 1, name);
    string(out, 2, scope.version().unwrap_or_default());
    for kv in scope.attributes() {
        key_value(out, 3, kv.key.as_str(), &kv.value);
    }
}

pub(super) fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

pub(super) fn attributes_len(attributes: &[KeyValue]) -> usize {
    attributes
        .iter()
        .map(|kv| delimited_len(key_value_len(kv.key.as_str(), &kv.value)))
        .sum()
}

// ------------------------------------------------------ KeyValue, AnyValue

#[inline]
pub(super) fn key_value_len(key: &str, value: &Value) -> usize {
    string_len(key) + delimited_len(any_value_len(value))
}

/// `KeyValue` as field `tag` of the enclosing message.
pub(super) fn key_value(out: &mut Vec<u8>, tag: u32, key: &str, value: &Value) {
    if let Value::String(s) = value
        && short_string_key_value(out, tag, key.as_bytes(), s.as_str().as_bytes())
    {
        return;
    }
    let value_len = any_value_len(value);
    header(out, tag, string_len(key) + delimited_len(value_len));
    string(out, 1, key);
    header(out, 2, value_len);
    any_value(out, value);
}

/// The common attribute, a short key and a short string: when the whole
/// `KeyValue` is under 128 bytes every length is one byte, and the keys and
/// lengths are written as they are, without the general case's length
/// computations. Returns whether it wrote it.
#[inline]
fn short_string_key_value(out: &mut Vec<u8>, tag: u32, key: &[u8], value: &[u8]) -> bool {
    // AnyValue.string_value = 1
    let any_value = 2 + value.len();
    // KeyValue.key = 1 (absent when empty), KeyValue.value = 2
    let content = if key.is_empty() { 0 } else { 2 + key.len() } + 2 + any_value;
    if content >= 128 || tag >= 16 {
        return false;
    }
    out.reserve(2 + content);
    out.extend_from_slice(&[(tag << 3 | WIRE_DELIMITED) as u8, content as u8]);
    if !key.is_empty() {
        out.extend_from_slice(&[1 << 3 | WIRE_DELIMITED as u8, key.len() as u8]);
        out.extend_from_slice(key);
    }
    out.extend_from_slice(&[
        2 << 3 | WIRE_DELIMITED as u8,
        any_value as u8,
        1 << 3 | WIRE_DELIMITED as u8,
        value.len() as u8,
    ]);
    out.extend_from_slice(value);
    true
}

/// The text of a value of a kind this encoder does not know (the API's
/// `Value` is non-exhaustive), sent as a string rather than dropped.
fn fallback_text(value: &Value) -> Cow<'_, str> {
    value.as_str()
}

#[inline]
pub(super) fn any_value_len(value: &Value) -> usize {
    match value {
        // A oneof member is written even when it holds its default.
        Value::Bool(_) => 2,
        Value::I64(v) => 1 + varint_len(*v as u64),
        Value::F64(_) => 1 + 8,
        Value::String(s) => delimited_len(s.as_str().len()),
        Value::Array(array) => delimited_len(array_len(array)),
        other => delimited_len(fallback_text(other).len()),
    }
}

pub(super) fn any_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Bool(v) => {
            key(out, 2, WIRE_VARINT);
            out.push(u8::from(*v));
        }
        Value::I64(v) => {
            key(out, 3, WIRE_VARINT);
            varint(out, *v as u64);
        }
        Value::F64(v) => {
            key(out, 4, WIRE_FIXED64);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::String(s) => oneof_string(out, s),
        Value::Array(array) => {
            header(out, 5, array_len(array));
            array_values(out, array);
        }
        other => {
            let text = fallback_text(other);
            header(out, 1, text.len());
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// `AnyValue.string_value`, written even when empty (a oneof member).
#[inline]
pub(super) fn oneof_string(out: &mut Vec<u8>, s: &StringValue) {
    header(out, 1, s.as_str().len());
    out.extend_from_slice(s.as_str().as_bytes());
}

/// The content of the `ArrayValue` message: `values = 1`, each an `AnyValue`.
pub(super) fn array_len(array: &Array) -> usize {
    match array {
        Array::Bool(v) => v.len() * delimited_len(2),
        Array::I64(v) => v
            .iter()
            .map(|i| delimited_len(1 + varint_len(*i as u64)))
            .sum(),
        Array::F64(v) => v.len() * delimited_len(1 + 8),
        Array::String(v) => v
            .iter()
            .map(|s| delimited_len(delimited_len(s.as_str().len())))
            .sum(),
        other => fallback_array(other)
            .iter()
            .map(|s| delimited_len(delimited_len(s.len())))
            .sum(),
    }
}

pub(super) fn array_values(out: &mut Vec<u8>, array: &Array) {
    match array {
        Array::Bool(v) => {
            for b in v {
                header(out, 1, 2);
                key(out, 2, WIRE_VARINT);
                out.push(u8::from(*b));
            }
        }
        Array::I64(v) => {
            for i in v {
                header(out, 1, 1 + varint_len(*i as u64));
                key(out, 3, WIRE_VARINT);
                varint(out, *i as u64);
            }
        }
        Array::F64(v) => {
            for f in v {
                header(out, 1, 1 + 8);
                key(out, 4, WIRE_FIXED64);
                out.extend_from_slice(&f.to_le_bytes());
            }
        }
        Array::String(v) => {
            for s in v {
                header(out, 1, delimited_len(s.as_str().len()));
                oneof_string(out, s);
            }
        }
        other => {
            for s in fallback_array(other) {
                header(out, 1, delimited_len(s.len()));
                header(out, 1, s.len());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
}

/// An array of a kind this encoder does not know, as one string (see
/// [`fallback_text`]).
fn fallback_array(array: &Array) -> Vec<String> {
    vec![array.to_string()]
}

// ------------------------------------------------------------- wire format

pub(super) const WIRE_VARINT: u32 = 0;
pub(super) const WIRE_FIXED64: u32 = 1;
pub(super) const WIRE_DELIMITED: u32 = 2;
pub(super) const WIRE_FIXED32: u32 = 5;

/// Bytes of `value` as a varint (prost's formula).
#[inline]
pub(super) fn varint_len(value: u64) -> usize {
    ((((value | 1).leading_zeros() ^ 63) * 9 + 73) / 64) as usize
}

#[inline]
pub(super) fn varint(out: &mut Vec<u8>, mut value: u64) {
    if value < 0x80 {
        out.push(value as u8);
        return;
    }
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[inline]
pub(super) fn key(out: &mut Vec<u8>, tag: u32, wire_type: u32) {
    varint(out, u64::from(tag << 3 | wire_type));
}

/// A length-delimited field of `len` content bytes, its key included (every
/// tag written with this is below 16: a one-byte key).
#[inline]
pub(super) fn delimited_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// Key and length of a length-delimited field; the content follows.
#[inline]
pub(super) fn header(out: &mut Vec<u8>, tag: u32, len: usize) {
    key(out, tag, WIRE_DELIMITED);
    varint(out, len as u64);
}

/// A proto3 string field: nothing when empty.
#[inline]
pub(super) fn string_len(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        delimited_len(s.len())
    }
}

#[inline]
pub(super) fn string(out: &mut Vec<u8>, tag: u32, s: &str) {
    if !s.is_empty() {
        header(out, tag, s.len());
        out.extend_from_slice(s.as_bytes());
    }
}

#[inline]
pub(super) fn bytes(out: &mut Vec<u8>, tag: u32, b: &[u8]) {
    header(out, tag, b.len());
    out.extend_from_slice(b);
}

/// A proto3 varint field (integer or enum): nothing when zero.
#[inline]
pub(super) fn varint_field_len(value: u64) -> usize {
    if value == 0 { 0 } else { 1 + varint_len(value) }
}

#[inline]
pub(super) fn varint_field(out: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        key(out, tag, WIRE_VARINT);
        varint(out, value);
    }
}

/// A proto3 `fixed64` or `fixed32` field, given as its little-endian bytes:
/// nothing when zero.
#[inline]
pub(super) fn fixed_field_len<const N: usize>(le_bytes: [u8; N]) -> usize {
    if le_bytes == [0; N] { 0 } else { 1 + N }
}

#[inline]
pub(super) fn fixed_field<const N: usize>(out: &mut Vec<u8>, tag: u32, le_bytes: [u8; N]) {
    if le_bytes != [0; N] {
        key(out, tag, if N == 8 { WIRE_FIXED64 } else { WIRE_FIXED32 });
        out.extend_from_slice(&le_bytes);
    }
}
