//! Attribute value-length and log attribute-count limits, which
//! opentelemetry_sdk does not apply itself.

use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as ProtoKeyValue, any_value};
use opentelemetry_sdk::trace::SpanData;

/// The first `max` characters of `s`, if it has more.
pub(crate) fn char_prefix(s: &str, max: usize) -> Option<&str> {
    s.char_indices().nth(max).map(|(cut, _)| &s[..cut])
}

/// The longest prefix of `s` of at most `max` characters, if `s` is longer.
fn truncated(s: &str, max: usize) -> Option<String> {
    char_prefix(s, max).map(str::to_owned)
}

fn truncate_value(value: &mut Value, max: usize) {
    match value {
        Value::String(s) => {
            if let Some(t) = truncated(s.as_str(), max) {
                *s = StringValue::from(t);
            }
        }
        Value::Array(Array::String(items)) => {
            for s in items.iter_mut() {
                if let Some(t) = truncated(s.as_str(), max) {
                    *s = StringValue::from(t);
                }
            }
        }
        _ => {}
    }
}

fn truncate_all(attrs: &mut [KeyValue], max: usize) {
    for kv in attrs {
        truncate_value(&mut kv.value, max);
    }
}

/// Applies `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` to a finished span, its events and links.
pub(crate) fn limit_span(span: &mut SpanData, max: usize) {
    truncate_all(&mut span.attributes, max);
    for event in span.events.events.iter_mut() {
        truncate_all(&mut event.attributes, max);
    }
    for link in span.links.links.iter_mut() {
        truncate_all(&mut link.attributes, max);
    }
}

fn truncate_any(value: &mut AnyValue, max: usize) {
    match &mut value.value {
        Some(any_value::Value::StringValue(s)) => {
            if let Some(t) = truncated(s, max) {
                *s = t;
            }
        }
        Some(any_value::Value::ArrayValue(a)) => {
            for v in a.values.iter_mut() {
                truncate_any(v, max);
            }
        }
        Some(any_value::Value::KvlistValue(kv)) => {
            for kv in kv.values.iter_mut() {
                if let Some(v) = kv.value.as_mut() {
                    truncate_any(v, max);
                }
            }
        }
        _ => {}
    }
}

/// Applies the log record attribute limits to an encoded record's attributes.
/// Returns how many attributes were dropped.
pub(crate) fn limit_log_attributes(
    attrs: &mut Vec<ProtoKeyValue>,
    max_len: Option<usize>,
    max_count: usize,
) -> u32 {
    let dropped = attrs.len().saturating_sub(max_count);
    attrs.truncate(max_count);
    if let Some(max) = max_len {
        for kv in attrs.iter_mut() {
            if let Some(v) = kv.value.as_mut() {
                truncate_any(v, max);
            }
        }
    }
    dropped as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_character_boundaries() {
        assert_eq!(truncated("héllo", 2).as_deref(), Some("hé"));
        assert_eq!(truncated("abc", 3), None);
        let mut v = Value::Array(Array::String(vec!["abcdef".into(), "x".into()]));
        truncate_value(&mut v, 3);
        assert_eq!(
            v,
            Value::Array(Array::String(vec!["abc".into(), "x".into()]))
        );
        let mut n = Value::I64(123456);
        truncate_value(&mut n, 1);
        assert_eq!(n, Value::I64(123456));
    }

    #[test]
    fn log_attributes_are_counted_and_truncated() {
        let kv = |k: &str, v: &str| ProtoKeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
            ..Default::default()
        };
        let mut attrs = vec![kv("a", "123456"), kv("b", "1"), kv("c", "1")];
        assert_eq!(limit_log_attributes(&mut attrs, Some(4), 2), 1);
        assert_eq!(attrs, vec![kv("a", "1234"), kv("b", "1")]);
    }
}
