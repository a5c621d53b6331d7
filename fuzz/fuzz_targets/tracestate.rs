#![no_main]
#[path = "common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use otel_http::propagation::{W3cTraceContextPropagator, parse_tracestate};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let parts: Vec<&str> = s.split('\n').collect();
        if let Some(ts) = parse_tracestate(&parts) {
            assert!(ts.header().split(',').count() <= 32);
        }
    }
    let mut h = common::headers(&["tracestate"], data);
    h.insert(
        "traceparent",
        http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    );
    common::round_trip(&W3cTraceContextPropagator::new(), &h);
});
