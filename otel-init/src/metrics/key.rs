//! The key of a series: a hash of its attribute set that is the same whether
//! it is computed from the API's attributes at record time or from the OTLP
//! data point's attributes at export time, and whatever their order.
//!
//! Each attribute is hashed on its own (a word-at-a-time hash over the key
//! and a tagged value, then a 64-bit finalizer) and the hashes are added, so that the
//! order the caller gives does not matter (the SDK sorts the attributes it
//! exports). A set with a repeated key, which the SDK reduces to one, gets
//! another key: its series simply gets no exemplars.

use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as ProtoKeyValue, any_value};

/// The key of the attribute set of a measurement.
pub(crate) fn of_attributes<'a>(attributes: impl IntoIterator<Item = &'a KeyValue>) -> u64 {
    attributes.into_iter().fold(0u64, |sum, kv| {
        let mut h = WordHash::new();
        h.tagged(KEY, kv.key.as_str().as_bytes());
        hash_value(&mut h, &kv.value);
        sum.wrapping_add(h.finish())
    })
}

/// The key of the attribute set of an exported data point.
pub(crate) fn of_proto(attributes: &[ProtoKeyValue]) -> u64 {
    attributes.iter().fold(0u64, |sum, kv| {
        let mut h = WordHash::new();
        h.tagged(KEY, kv.key.as_bytes());
        hash_any(&mut h, kv.value.as_ref());
        sum.wrapping_add(h.finish())
    })
}

// Tags: the same for a value and its OTLP form.
const KEY: u8 = 0;
const BOOL: u8 = 1;
const INT: u8 = 2;
const DOUBLE: u8 = 3;
const STRING: u8 = 4;
const ARRAY: u8 = 5;
const OTHER: u8 = 9;

fn hash_value(h: &mut WordHash, value: &Value) {
    match value {
        Value::Bool(b) => h.tagged(BOOL, &[u8::from(*b)]),
        Value::I64(i) => h.tagged(INT, &i.to_le_bytes()),
        Value::F64(f) => h.tagged(DOUBLE, &f.to_bits().to_le_bytes()),
        Value::String(s) => h.tagged(STRING, s.as_str().as_bytes()),
        Value::Array(array) => {
            h.bytes(&[ARRAY]);
            match array {
                Array::Bool(v) => v.iter().for_each(|b| h.tagged(BOOL, &[u8::from(*b)])),
                Array::I64(v) => v.iter().for_each(|i| h.tagged(INT, &i.to_le_bytes())),
                Array::F64(v) => v
                    .iter()
                    .for_each(|f| h.tagged(DOUBLE, &f.to_bits().to_le_bytes())),
                Array::String(v) => v
                    .iter()
                    .for_each(|s| h.tagged(STRING, s.as_str().as_bytes())),
                _ => h.bytes(&[OTHER]),
            }
        }
        _ => h.bytes(&[OTHER]),
    }
}

fn hash_any(h: &mut WordHash, value: Option<&AnyValue>) {
    use any_value::Value as V;
    match value.and_then(|v| v.value.as_ref()) {
        Some(V::BoolValue(b)) => h.tagged(BOOL, &[u8::from(*b)]),
        Some(V::IntValue(i)) => h.tagged(INT, &i.to_le_bytes()),
        Some(V::DoubleValue(f)) => h.tagged(DOUBLE, &f.to_bits().to_le_bytes()),
        Some(V::StringValue(s)) => h.tagged(STRING, s.as_bytes()),
        Some(V::ArrayValue(array)) => {
            h.bytes(&[ARRAY]);
            for v in &array.values {
                hash_any(h, Some(v));
            }
        }
        _ => h.bytes(&[OTHER]),
    }
}

/// A word-at-a-time multiplicative hash (FxHash's step) over a tagged,
/// length-prefixed encoding of each part, finished by MurmurHash3's
/// finalizer so that the sum of several mixes every bit. The attribute
/// values come from the application's code and the number of series is
/// capped, so no keyed hash is needed.
struct WordHash(u64);

impl WordHash {
    const SEED: u64 = 0xcbf2_9ce4_8422_2325;
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn new() -> Self {
        Self(Self::SEED)
    }

    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(Self::K);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            // Always 8 bytes: one load.
            self.word(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Little-endian, zero-padded, without a copy to a buffer.
            self.word(rest.iter().rev().fold(0, |w, b| (w << 8) | u64::from(*b)));
        }
    }

    fn tagged(&mut self, tag: u8, bytes: &[u8]) {
        self.word(u64::from(tag) | ((bytes.len() as u64) << 8));
        self.bytes(bytes);
    }

    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::StringValue;

    fn proto(attributes: &[KeyValue]) -> Vec<ProtoKeyValue> {
        attributes.iter().map(ProtoKeyValue::from).collect()
    }

    #[test]
    fn the_api_and_the_otlp_form_have_the_same_key() {
        let attributes = [
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.response.status_code", 200),
            KeyValue::new("ratio", 0.5),
            KeyValue::new("secure", true),
            KeyValue::new(
                "tags",
                Value::Array(Array::String(vec![StringValue::from("a"), "b".into()])),
            ),
            KeyValue::new("ids", Value::Array(Array::I64(vec![1, 2]))),
        ];
        assert_eq!(of_attributes(&attributes), of_proto(&proto(&attributes)));
    }

    #[test]
    fn order_does_not_matter_but_values_and_types_do() {
        let a = [KeyValue::new("a", "1"), KeyValue::new("b", "2")];
        let b = [KeyValue::new("b", "2"), KeyValue::new("a", "1")];
        assert_eq!(of_attributes(&a), of_attributes(&b));
        let other_value = [KeyValue::new("a", "1"), KeyValue::new("b", "3")];
        assert_ne!(of_attributes(&a), of_attributes(&other_value));
        let other_type = [KeyValue::new("a", 1), KeyValue::new("b", "2")];
        assert_ne!(of_attributes(&a), of_attributes(&other_type));
        // A key and a value do not run into each other.
        assert_ne!(
            of_attributes(&[KeyValue::new("ab", "c")]),
            of_attributes(&[KeyValue::new("a", "bc")])
        );
        assert_ne!(of_attributes(&[]), of_attributes(&[KeyValue::new("", "")]));
    }
}
