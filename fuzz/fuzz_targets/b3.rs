#![no_main]
#[path = "common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use otel_http::propagation::{B3Encoding, B3Propagator};

fuzz_target!(|data: &[u8]| {
    let names = [
        "b3",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-sampled",
        "x-b3-flags",
        "x-b3-parentspanid",
    ];
    let h = common::headers(&names, data);
    for encoding in [
        B3Encoding::SingleHeader,
        B3Encoding::MultipleHeader,
        B3Encoding::SingleAndMultiHeader,
    ] {
        common::round_trip(&B3Propagator::new(encoding), &h);
    }
});
