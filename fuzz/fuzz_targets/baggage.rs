#![no_main]
#[path = "common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use otel_http::propagation::{W3cBaggagePropagator, parse_baggage};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let parts: Vec<&str> = s.split('\n').collect();
        let members = parse_baggage(&parts);
        assert!(members.len() <= 64);
    }
    common::round_trip(
        &W3cBaggagePropagator::new(),
        &common::headers(&["baggage"], data),
    );
});
