//! Allow-listed HTTP headers as span attributes (`http.request.header.<name>`,
//! `http.response.header.<name>`), with the credentials-bearing headers never
//! captured, whatever the allow-list says.
//!
//! ```
//! use opentelemetry::{Array, StringValue, Value};
//! use otel_http::headers::{allow_list, capture};
//!
//! // "Cookie" is asked for but never captured.
//! let allowed = allow_list(["X-Tenant", "Cookie"]);
//! let mut headers = http::HeaderMap::new();
//! headers.append("x-tenant", "acme".parse().unwrap());
//! headers.append("x-tenant", "globex".parse().unwrap());
//! headers.insert("cookie", "session=secret".parse().unwrap());
//!
//! let mut attrs = Vec::new();
//! capture(&mut attrs, "http.request.header.", &headers, &allowed);
//! assert_eq!(attrs.len(), 1);
//! assert_eq!(attrs[0].key.as_str(), "http.request.header.x-tenant");
//! assert_eq!(
//!     attrs[0].value,
//!     Value::Array(Array::String(vec![StringValue::from("acme"), StringValue::from("globex")]))
//! );
//! ```

use http::{HeaderMap, HeaderName};
use opentelemetry::{Array, KeyValue, StringValue, Value};

/// Headers that are never captured: they carry credentials. Lowercase, as
/// [`HeaderName`] stores them.
///
/// ```
/// use otel_http::headers::{NEVER_CAPTURED, allow_list, capturable};
/// for name in NEVER_CAPTURED {
///     assert!(!capturable(&http::HeaderName::from_static(name)));
/// }
/// // Whatever their spelling in the allow-list.
/// assert!(allow_list(["Set-Cookie", "PROXY-AUTHORIZATION"]).is_empty());
/// ```
pub const NEVER_CAPTURED: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Whether a header may ever be captured.
///
/// ```
/// assert!(!otel_http::headers::capturable(&http::header::COOKIE));
/// assert!(otel_http::headers::capturable(&http::HeaderName::from_static("x-request-id")));
/// ```
pub fn capturable(name: &HeaderName) -> bool {
    !NEVER_CAPTURED.contains(&name.as_str())
}

/// Turns user-given names into an allow-list: lowercased, invalid names and
/// never-captured headers left out.
///
/// ```
/// let list = otel_http::headers::allow_list(["X-Request-Id", "Authorization", "bad name"]);
/// assert_eq!(list, [http::HeaderName::from_static("x-request-id")]);
/// ```
pub fn allow_list<I, S>(names: I) -> Vec<HeaderName>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    names
        .into_iter()
        .filter_map(|n| {
            HeaderName::from_bytes(n.as_ref().trim().to_ascii_lowercase().as_bytes()).ok()
        })
        .filter(capturable)
        .collect()
}

/// Pushes `{prefix}{name}` = every value, for the allow-listed headers present.
///
/// ```
/// use otel_http::headers::capture;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-request-id", "r1".parse().unwrap());
/// let mut attrs = Vec::new();
/// capture(&mut attrs, "http.request.header.", &headers, &[http::HeaderName::from_static("x-request-id")]);
/// assert_eq!(attrs[0].key.as_str(), "http.request.header.x-request-id");
/// ```
pub fn capture(
    attrs: &mut Vec<KeyValue>,
    prefix: &str,
    headers: &HeaderMap,
    allowed: &[HeaderName],
) {
    for name in allowed {
        if !capturable(name) {
            continue;
        }
        let values: Vec<StringValue> = headers
            .get_all(name)
            .iter()
            .map(|v| StringValue::from(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        if !values.is_empty() {
            attrs.push(KeyValue::new(
                format!("{prefix}{}", name.as_str()),
                Value::Array(Array::String(values)),
            ));
        }
    }
}
