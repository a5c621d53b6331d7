// Shared by the fuzz targets: headers from raw bytes, and a round trip.
use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use otel_http::carrier::{HeaderExtractor, HeaderInjector};

/// Splits `data` on 0xFF into values of `name` (so repeated headers are fuzzed too).
pub fn headers(names: &[&'static str], data: &[u8]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (i, part) in data.split(|b| *b == 0xff).enumerate() {
        let name = names[i % names.len()];
        if let Ok(v) = http::HeaderValue::from_bytes(part) {
            h.append(http::HeaderName::from_static(name), v);
        }
    }
    h
}

/// Extracts, injects what was extracted, and extracts again: nothing may
/// panic, and a context that survived once must survive twice unchanged.
pub fn round_trip(p: &dyn TextMapPropagator, h: &http::HeaderMap) {
    use opentelemetry::trace::TraceContextExt;
    let cx = p.extract_with_context(&Context::new(), &HeaderExtractor(h));
    let mut out = http::HeaderMap::new();
    p.inject_context(&cx, &mut HeaderInjector(&mut out));
    let again = p.extract_with_context(&Context::new(), &HeaderExtractor(&out));
    let (a, b) = (
        cx.span().span_context().clone(),
        again.span().span_context().clone(),
    );
    if a.is_valid() {
        assert_eq!(a.trace_id(), b.trace_id());
        assert_eq!(a.span_id(), b.span_id());
        assert_eq!(a.is_sampled(), b.is_sampled());
    }
}
