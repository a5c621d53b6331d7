//! Opt-in metadata capture: the allow-listed request and response metadata
//! keys as span attributes, `rpc.request.metadata.<key>` and
//! `rpc.response.metadata.<key>` (semconv 1.45's names; older conventions had
//! `rpc.grpc.request.metadata.<key>`), each a string array of every value.
//!
//! The allow-list is otel-http's (`otel_http::headers::allow_list`): keys
//! lowercased, and the credential-bearing ones (`authorization`, `cookie`,
//! ...) never captured, whatever the list says. A binary key (`-bin`) is
//! recorded as it travels, the base64 text of its value, never decoded.

use http::{HeaderMap, HeaderName};
use opentelemetry::{Array, KeyValue, Value};
use std::sync::Arc;

/// The attribute prefix of request metadata.
pub(crate) const REQUEST: &str = "rpc.request.metadata.";
/// The attribute prefix of response metadata.
pub(crate) const RESPONSE: &str = "rpc.response.metadata.";

/// The keys to capture, `None` when there are none (the common case costs
/// one branch per call).
pub(crate) type Keys = Option<Arc<[HeaderName]>>;

/// An allow-list from user-given keys: lowercased, invalid and
/// never-captured keys left out.
pub(crate) fn keys<I, S>(names: I) -> Keys
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let list = otel_http::headers::allow_list(names);
    (!list.is_empty()).then(|| Arc::from(list))
}

/// Pushes the allow-listed keys present in `metadata` onto `attrs`.
pub(crate) fn capture(
    attrs: &mut Vec<KeyValue>,
    prefix: &str,
    metadata: &HeaderMap,
    keys: &[HeaderName],
) {
    otel_http::headers::capture(attrs, prefix, metadata, keys);
}

/// Adds the allow-listed keys of `metadata` to `captured`, appending the
/// values of a key captured before (response metadata comes in the headers
/// and again in the trailers).
pub(crate) fn merge(captured: &mut Vec<KeyValue>, metadata: &HeaderMap, keys: &[HeaderName]) {
    let mut more = Vec::new();
    capture(&mut more, RESPONSE, metadata, keys);
    for kv in more {
        match captured.iter_mut().find(|c| c.key == kv.key) {
            Some(existing) => {
                if let (Value::Array(Array::String(values)), Value::Array(Array::String(add))) =
                    (&mut existing.value, kv.value)
                {
                    values.extend(add);
                }
            }
            None => captured.push(kv),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::StringValue;

    #[test]
    fn credentials_are_never_kept_and_keys_are_lowercased() {
        let keys = keys(["Authorization", "cookie", "X-Tenant", "bad key"]).expect("keys");
        assert_eq!(&*keys, [HeaderName::from_static("x-tenant")]);
        assert!(super::keys(["authorization", "Set-Cookie"]).is_none());
    }

    #[test]
    fn trailers_add_to_the_values_of_the_headers() {
        let keys = keys(["x-a", "x-b"]).expect("keys");
        let mut headers = HeaderMap::new();
        headers.insert("x-a", "1".parse().expect("value"));
        let mut trailers = HeaderMap::new();
        trailers.insert("x-a", "2".parse().expect("value"));
        trailers.insert("x-b", "3".parse().expect("value"));
        let mut captured = Vec::new();
        merge(&mut captured, &headers, &keys);
        merge(&mut captured, &trailers, &keys);
        let strings = |v: &[&str]| {
            Value::Array(Array::String(
                v.iter().map(|s| StringValue::from(s.to_string())).collect(),
            ))
        };
        assert_eq!(captured.len(), 2);
        assert_eq!(captured[0].key.as_str(), "rpc.response.metadata.x-a");
        assert_eq!(captured[0].value, strings(&["1", "2"]));
        assert_eq!(captured[1].key.as_str(), "rpc.response.metadata.x-b");
        assert_eq!(captured[1].value, strings(&["3"]));
    }
}
