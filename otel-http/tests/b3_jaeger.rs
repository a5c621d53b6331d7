//! B3 and Jaeger round trips through `http::HeaderMap` carriers, and
//! property tests: valid contexts round-trip, arbitrary input never panics.

use std::collections::HashMap;

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue, StringValue};
use otel_http::carrier::{HeaderExtractor, HeaderInjector};
use otel_http::propagation::{B3Encoding, B3Propagator, JaegerPropagator};
use proptest::prelude::*;

fn propagators() -> Vec<(&'static str, Box<dyn TextMapPropagator>)> {
    vec![
        (
            "b3 single",
            Box::new(B3Propagator::new(B3Encoding::SingleHeader)),
        ),
        (
            "b3 multi",
            Box::new(B3Propagator::new(B3Encoding::MultipleHeader)),
        ),
        (
            "b3 both",
            Box::new(B3Propagator::new(B3Encoding::SingleAndMultiHeader)),
        ),
        ("jaeger", Box::new(JaegerPropagator::new())),
    ]
}

fn context(trace_id: u128, span_id: u64, sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::NOT_SAMPLED
    };
    let sc = SpanContext::new(
        TraceId::from(trace_id),
        SpanId::from(span_id),
        flags,
        false,
        TraceState::NONE,
    );
    Context::new().with_remote_span_context(sc)
}

fn round_trip(propagator: &dyn TextMapPropagator, cx: &Context) -> (HeaderMap, Context) {
    let mut headers = HeaderMap::new();
    propagator.inject_context(cx, &mut HeaderInjector(&mut headers));
    let out = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
    (headers, out)
}

fn assert_same_span_context(sent: &Context, received: &Context) {
    let (sent, received) = (sent.span(), received.span());
    let (sent, received) = (sent.span_context(), received.span_context());
    assert!(received.is_valid() && received.is_remote());
    assert_eq!(received.trace_id(), sent.trace_id());
    assert_eq!(received.span_id(), sent.span_id());
    assert_eq!(received.is_sampled(), sent.is_sampled());
}

#[test]
fn every_propagator_round_trips() {
    for (name, propagator) in propagators() {
        for (trace_id, span_id, sampled) in [
            (1, 1, true),
            (u128::MAX, u64::MAX, false),
            (0xabc << 64, 42, true),
        ] {
            let cx = context(trace_id, span_id, sampled);
            let (headers, out) = round_trip(propagator.as_ref(), &cx);
            let fields: Vec<&str> = propagator.fields().collect();
            for header in headers.keys() {
                assert!(
                    fields.contains(&header.as_str()),
                    "{name}: {header} not in fields()"
                );
            }
            assert_same_span_context(&cx, &out);
        }
    }
}

#[test]
fn b3_extracts_either_encoding_whatever_it_injects() {
    let cx = context(0x1234, 0x5678, true);
    for encoding in [B3Encoding::SingleHeader, B3Encoding::MultipleHeader] {
        let mut headers = HeaderMap::new();
        B3Propagator::new(encoding).inject_context(&cx, &mut HeaderInjector(&mut headers));
        let out = B3Propagator::default()
            .extract_with_context(&Context::new(), &HeaderExtractor(&headers));
        assert_same_span_context(&cx, &out);
    }
}

#[test]
fn b3_debug_survives_a_hop() {
    let mut incoming = HeaderMap::new();
    incoming.insert(
        "x-b3-traceid",
        HeaderValue::from_static("463ac35c9f6413ad48485a3953bb6124"),
    );
    incoming.insert("x-b3-spanid", HeaderValue::from_static("a2fb4a1d1a96d312"));
    incoming.insert("x-b3-flags", HeaderValue::from_static("1"));
    let propagator = B3Propagator::default();
    let cx = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&incoming));
    assert!(cx.span().span_context().is_sampled());
    let mut outgoing = HeaderMap::new();
    propagator.inject_context(&cx, &mut HeaderInjector(&mut outgoing));
    assert_eq!(
        outgoing["b3"],
        "463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-d"
    );
}

#[test]
fn jaeger_round_trips_baggage() {
    let cx = context(7, 8, true).with_baggage([
        KeyValue::new("user", "Zoë Smith"),
        KeyValue::new("query", "a=1&b=%20;c"),
    ]);
    let (headers, out) = round_trip(&JaegerPropagator::new(), &cx);
    assert_eq!(
        headers["uber-trace-id"],
        "00000000000000000000000000000007:0000000000000008:0:01"
    );
    assert_same_span_context(&cx, &out);
    let get = |k: &str| out.baggage().get(k).map(StringValue::as_str);
    assert_eq!(get("user"), Some("Zoë Smith"));
    assert_eq!(get("query"), Some("a=1&b=%20;c"));
    assert_eq!(out.baggage().len(), 2);
}

const HEADER_NAMES: [&str; 8] = [
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-sampled",
    "x-b3-flags",
    "uber-trace-id",
    "uberctx-k",
    "uberctx-other",
];

proptest! {
    #[test]
    fn valid_contexts_round_trip(trace_id in 1..=u128::MAX, span_id in 1..=u64::MAX, sampled: bool) {
        let cx = context(trace_id, span_id, sampled);
        for (_, propagator) in propagators() {
            let (_, out) = round_trip(propagator.as_ref(), &cx);
            assert_same_span_context(&cx, &out);
        }
    }

    /// Any combination of the formats' headers (repeats included) holding
    /// printable ASCII (anything an HTTP header may hold), or strings built
    /// from the formats' own alphabet, to reach deep into the parsers.
    #[test]
    fn header_values_never_panic(
        pairs in prop::collection::vec(
            (
                0..HEADER_NAMES.len(),
                prop_oneof![
                    "[ -~]{0,700}",
                    "[0-9a-fA-F:%3\\-dtrufals+ ]{0,80}",
                    "[0-9a-f]{16,32}-[0-9a-f]{16}(-[01d](-[0-9a-f]{0,17})?)?",
                    "[0-9a-f]{0,33}",
                    "[0-9a-f]{1,33}(:|%3A)[0-9a-f]{1,17}(:|%3A)[0-9a-f]{0,17}(:|%3A)[0-9a-f]{0,3}",
                ],
            ),
            0..8,
        ),
    ) {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            let value = HeaderValue::from_str(&value).expect("printable ASCII");
            headers.append(HeaderName::from_static(HEADER_NAMES[name]), value);
        }
        for (_, propagator) in propagators() {
            let cx = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
            let mut out = HeaderMap::new();
            propagator.inject_context(&cx, &mut HeaderInjector(&mut out));
        }
    }

    /// Any Unicode in keys and values of a plain map carrier.
    #[test]
    fn map_carriers_never_panic(entries in prop::collection::hash_map(".{0,40}", ".{0,600}", 0..8)) {
        let mut carrier: HashMap<String, String> = entries;
        for value in carrier.clone().into_values() {
            for name in ["b3", "uber-trace-id", "uberctx-\u{e9}", "x-b3-traceid"] {
                carrier.insert(name.to_owned(), value.clone());
            }
        }
        for (_, propagator) in propagators() {
            let cx = propagator.extract_with_context(&Context::new(), &carrier);
            let mut out: HashMap<String, String> = HashMap::new();
            propagator.inject_context(&cx, &mut out);
        }
    }
}
