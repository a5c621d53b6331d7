//! The W3C propagators through real `http::HeaderMap` carriers: repeated
//! headers, invalid forms dropping tracestate, flag handling, limits, and
//! property tests that valid contexts round-trip.

use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use otel_http::carrier::{HeaderExtractor, HeaderInjector};
use otel_http::propagation::{
    PropagatorName, W3cBaggagePropagator, W3cTraceContextPropagator, composite,
};
use proptest::prelude::*;

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            http::HeaderValue::from_str(v).expect("value"),
        );
    }
    h
}

fn extract(pairs: &[(&str, &str)]) -> SpanContext {
    let h = headers(pairs);
    W3cTraceContextPropagator::new()
        .extract_with_context(&Context::new(), &HeaderExtractor(&h))
        .span()
        .span_context()
        .clone()
}

fn inject(cx: &Context) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    composite(&[PropagatorName::TraceContext, PropagatorName::Baggage])
        .inject_context(cx, &mut HeaderInjector(&mut h));
    h
}

#[test]
fn repeated_traceparent_headers_are_invalid() {
    assert!(extract(&[("traceparent", TP)]).is_valid());
    assert!(!extract(&[("traceparent", TP), ("traceparent", TP)]).is_valid());
    // A comma-joined pair is not a valid single value either.
    assert!(!extract(&[("traceparent", &format!("{TP},{TP}"))]).is_valid());
}

#[test]
fn repeated_tracestate_headers_are_one_list() {
    let sc = extract(&[
        ("traceparent", TP),
        ("tracestate", "a=1,b=2"),
        ("tracestate", "c=3"),
    ]);
    assert_eq!(sc.trace_state().header(), "a=1,b=2,c=3");
}

#[test]
fn tracestate_without_a_valid_traceparent_is_dropped() {
    let bad = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1";
    let sc = extract(&[("traceparent", bad), ("tracestate", "a=1")]);
    assert!(!sc.is_valid());
    assert_eq!(sc.trace_state().header(), "");
    let sc = extract(&[("tracestate", "a=1")]);
    assert!(!sc.is_valid());
}

#[test]
fn a_bad_tracestate_never_invalidates_traceparent() {
    let sc = extract(&[("traceparent", TP), ("tracestate", "UPPER=1")]);
    assert!(sc.is_valid());
    assert_eq!(sc.trace_state().header(), "");
}

#[test]
fn flags_round_trip_with_the_random_bit() {
    for (flags, sampled) in [("00", false), ("01", true), ("02", false), ("03", true)] {
        let value = format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}");
        let sc = extract(&[("traceparent", &value)]);
        assert!(sc.is_remote());
        assert_eq!(sc.is_sampled(), sampled, "{flags}");
        let out = inject(&Context::new().with_remote_span_context(sc));
        assert_eq!(
            out["traceparent"],
            value.as_str(),
            "flags {flags} kept on the way out"
        );
    }
}

#[test]
fn the_sdk_keeps_the_random_flag_in_child_spans() {
    use opentelemetry::trace::{Tracer, TracerProvider};
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let tracer = provider.tracer("t");
    let parent = Context::new().with_remote_span_context(extract(&[(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
    )]));
    let span = tracer.start_with_context("child", &parent);
    let child = parent.with_span(span);
    let out = inject(&child);
    let value = out["traceparent"].to_str().expect("ascii");
    assert!(
        value.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{value}"
    );
    assert!(
        value.ends_with("-03"),
        "sampled and random both forwarded: {value}"
    );
}

#[test]
fn baggage_headers_count_together_and_never_partially() {
    let first: Vec<String> = (0..40).map(|i| format!("a{i}=1")).collect();
    let second: Vec<String> = (0..40).map(|i| format!("b{i}=2")).collect();
    let h = headers(&[
        ("baggage", &first.join(",")),
        ("baggage", &second.join(",")),
    ]);
    let cx =
        W3cBaggagePropagator::new().extract_with_context(&Context::new(), &HeaderExtractor(&h));
    assert_eq!(cx.baggage().len(), 64);
    assert!(cx.baggage().get("a0").is_some() && cx.baggage().get("b23").is_some());
    assert!(cx.baggage().get("b24").is_none());
}

#[test]
fn injected_baggage_stays_within_limits() {
    let many: Vec<KeyValue> = (0..100)
        .map(|i| KeyValue::new(format!("k{i}"), "v"))
        .collect();
    let out = inject(&Context::new().with_baggage(many));
    let header = out["baggage"].to_str().expect("ascii");
    assert!(header.split(',').count() <= 64);
    assert!(header.len() <= 8192);
}

fn valid_ids() -> impl Strategy<Value = (u128, u64, u8)> {
    (1u128.., 1u64.., 0u8..4)
}

fn member_key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_*/-]{0,20}"
}

proptest! {
    #[test]
    fn valid_trace_contexts_round_trip(
        (trace, span, flags) in valid_ids(),
        state in proptest::collection::btree_map(member_key(), "[!-+--<>-~]{1,20}", 0..8),
    ) {
        let ts = TraceState::from_key_value(state.iter().map(|(k, v)| (k.as_str(), v.as_str()))).expect("valid tracestate");
        let sc = SpanContext::new(TraceId::from(trace), SpanId::from(span), TraceFlags::new(flags), true, ts);
        let out = inject(&Context::new().with_remote_span_context(sc.clone()));
        let back = W3cTraceContextPropagator::new()
            .extract_with_context(&Context::new(), &HeaderExtractor(&out));
        let back = back.span().span_context().clone();
        prop_assert_eq!(back.trace_id(), sc.trace_id());
        prop_assert_eq!(back.span_id(), sc.span_id());
        prop_assert_eq!(back.trace_flags(), sc.trace_flags());
        prop_assert_eq!(back.trace_state().header(), sc.trace_state().header());
    }

    #[test]
    fn baggage_round_trips(entries in proptest::collection::btree_map("[a-zA-Z0-9_.-]{1,12}", "\\PC{0,16}", 0..10)) {
        let cx = Context::new().with_baggage(entries.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())));
        let out = inject(&cx);
        let back = W3cBaggagePropagator::new().extract_with_context(&Context::new(), &HeaderExtractor(&out));
        prop_assert_eq!(back.baggage().len(), entries.len());
        for (k, v) in &entries {
            prop_assert_eq!(back.baggage().get(k.as_str()).map(|s| s.as_str().to_owned()), Some(v.clone()));
        }
    }

    #[test]
    fn arbitrary_headers_never_panic(tp in "\\PC{0,80}", ts in "\\PC{0,300}", bg in "\\PC{0,300}") {
        let mut h = http::HeaderMap::new();
        for (k, v) in [("traceparent", &tp), ("tracestate", &ts), ("baggage", &bg)] {
            if let Ok(v) = http::HeaderValue::from_str(v) {
                h.insert(k, v);
            }
        }
        let p = composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]);
        let cx = p.extract_with_context(&Context::new(), &HeaderExtractor(&h));
        let _ = inject(&cx);
    }
}
