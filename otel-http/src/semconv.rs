//! Pieces of the stable HTTP semantic conventions both server and client
//! instrumentation need: method normalisation, URL redaction, histogram buckets.

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

/// Query parameters whose values the conventions say must be redacted.
const SENSITIVE_QUERY_KEYS: [&str; 7] = [
    "AWSAccessKeyId",
    "Signature",
    "sig",
    "X-Goog-Signature",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
];

/// Redacts a query string: the values of the conventions' sensitive keys become `REDACTED`.
///
/// ```
/// use otel_http::semconv::redact_query;
/// assert_eq!(redact_query("a=1&sig=abc&X-Amz-Signature=x"), "a=1&sig=REDACTED&X-Amz-Signature=REDACTED");
/// ```
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SENSITIVE_QUERY_KEYS.contains(&k) => format!("{k}=REDACTED"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `url.full` for telemetry: credentials become `REDACTED:REDACTED` and
/// sensitive query values `REDACTED`; the fragment is dropped.
///
/// ```
/// use otel_http::semconv::redact_url;
/// assert_eq!(
///     redact_url("https://user:pw@example.com/p?sig=s3cret&q=1#frag"),
///     "https://REDACTED:REDACTED@example.com/p?sig=REDACTED&q=1"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let without_fragment = url.split('#').next().unwrap_or(url);
    let (base, query) = match without_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (without_fragment, None),
    };
    let mut out = match base.find("://") {
        Some(i) => {
            let rest = &base[i + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{}REDACTED:REDACTED@{}", &base[..i + 3], &rest[at + 1..]),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(&redact_query(q));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_cases() {
        let cases = [
            ("http://a.com/x", "http://a.com/x"),
            ("http://u@a.com/x", "http://REDACTED:REDACTED@a.com/x"),
            ("http://u:p@a.com", "http://REDACTED:REDACTED@a.com"),
            (
                "http://a.com/x?AWSAccessKeyId=k&Signature=s",
                "http://a.com/x?AWSAccessKeyId=REDACTED&Signature=REDACTED",
            ),
            ("http://a.com/@notuser?x=1", "http://a.com/@notuser?x=1"),
            ("http://a.com/x?sig", "http://a.com/x?sig"),
            (
                "http://a.com/x?signature=lowercase-kept",
                "http://a.com/x?signature=lowercase-kept",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact_url(input), want, "{input}");
        }
    }

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
