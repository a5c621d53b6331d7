//! Pieces of the stable HTTP semantic conventions both server and client
//! instrumentation need: method normalisation and histogram buckets (URL
//! redaction is in [`redact`](crate::redact)).

/// Bucket boundaries, in seconds, of `http.server.request.duration` and
/// `http.client.request.duration`.
///
/// ```
/// use otel_http::semconv::DURATION_BUCKETS;
/// assert_eq!(DURATION_BUCKETS.first(), Some(&0.005)); // 5 ms
/// assert_eq!(DURATION_BUCKETS.last(), Some(&10.0));
/// assert!(DURATION_BUCKETS.windows(2).all(|w| w[0] < w[1]));
/// ```
pub const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The method as the conventions want it: a known method as is, anything else
/// as `_OTHER`, plus the original when it differs (`http.request.method_original`).
///
/// ```
/// use otel_http::semconv::normalize_method;
/// assert_eq!(normalize_method(&http::Method::GET), ("GET", None));
/// let purge = http::Method::from_bytes(b"PURGE").unwrap();
/// assert_eq!(normalize_method(&purge), ("_OTHER", Some("PURGE")));
/// ```
pub fn normalize_method(method: &http::Method) -> (&'static str, Option<&str>) {
    let known = match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        http::Method::PATCH => "PATCH",
        http::Method::CONNECT => "CONNECT",
        http::Method::TRACE => "TRACE",
        _ if method.as_str() == "QUERY" => "QUERY",
        _ => return ("_OTHER", Some(method.as_str())),
    };
    (known, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        for m in [
            "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE", "QUERY",
        ] {
            let method = http::Method::from_bytes(m.as_bytes()).expect("method");
            assert_eq!(normalize_method(&method), (m, None));
        }
        let lower = http::Method::from_bytes(b"get").expect("method");
        assert_eq!(normalize_method(&lower), ("_OTHER", Some("get")));
    }
}
