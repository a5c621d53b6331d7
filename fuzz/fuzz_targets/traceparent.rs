#![no_main]
#[path = "common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use otel_http::propagation::{W3cTraceContextPropagator, parse_traceparent};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Some(tp) = parse_traceparent(s) {
            assert!(tp.flags.to_u8() <= 3);
        }
    }
    common::round_trip(
        &W3cTraceContextPropagator::new(),
        &common::headers(&["traceparent"], data),
    );
});
