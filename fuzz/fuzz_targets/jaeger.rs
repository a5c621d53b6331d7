#![no_main]
#[path = "common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use otel_http::propagation::JaegerPropagator;

fuzz_target!(|data: &[u8]| {
    let h = common::headers(&["uber-trace-id", "uberctx-user", "uberctx-a%20b"], data);
    common::round_trip(&JaegerPropagator::new(), &h);
});
