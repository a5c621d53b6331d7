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

// ---------------------------------------------------------------------------
// The random flag, the Level 2 tracestate and baggage encoding, through the
// SDK's spans as a service would send them on.
// ---------------------------------------------------------------------------

mod through_the_sdk {
    use super::*;
    use opentelemetry::trace::{Link, SpanKind, Tracer, TracerProvider};
    use opentelemetry_sdk::trace::{
        Sampler, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample,
    };
    use otel_http::trust::IncomingPolicy;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn tracer(sampler: impl ShouldSample + 'static) -> opentelemetry_sdk::trace::SdkTracer {
        SdkTracerProvider::builder()
            .with_sampler(sampler)
            .build()
            .tracer("t")
    }

    /// What a service sends downstream for `incoming` headers: the server span
    /// is a child of the extracted context, the client span a child of it.
    fn forwarded(
        tracer: &opentelemetry_sdk::trace::SdkTracer,
        incoming: &[(&str, &str)],
        policy: &IncomingPolicy,
    ) -> http::HeaderMap {
        let p = composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]);
        let parent = policy.extract_headers(&p, &headers(incoming), false).parent;
        let server = parent.with_span(tracer.start_with_context("server", &parent));
        let client = server.with_span(tracer.start_with_context("client", &server));
        inject(&client)
    }

    fn flags_of(out: &http::HeaderMap) -> String {
        let tp = out["traceparent"].to_str().expect("ascii");
        assert!(tp.starts_with(&format!("00-{TRACE}-")), "{tp}");
        tp[53..].to_owned()
    }

    // W3C Trace Context Level 2, 3.2.2.5.2 (random trace id flag): a
    // participant that continues a trace forwards the flag it received.
    // opentelemetry_sdk 0.33 clears every flag of an unsampled child span.
    #[test]
    fn the_callers_random_flag_is_forwarded_sampled_or_not() {
        let policies = [
            IncomingPolicy::new(),
            IncomingPolicy::new().drop_baggage(),
            IncomingPolicy::new().distrust_sampled_flag(),
        ];
        for (incoming, sampler, expected) in [
            (
                "02",
                Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
                "02",
            ),
            (
                "03",
                Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
                "03",
            ),
            ("02", Sampler::AlwaysOn, "03"),
            ("03", Sampler::AlwaysOff, "02"),
            ("00", Sampler::AlwaysOff, "00"),
            ("01", Sampler::AlwaysOn, "01"),
            ("ff", Sampler::AlwaysOff, "02"),
        ] {
            let tracer = tracer(sampler.clone());
            let tp = format!("00-{TRACE}-00f067aa0ba902b7-{incoming}");
            for policy in &policies {
                let out = forwarded(&tracer, &[("traceparent", &tp), ("baggage", "k=v")], policy);
                assert_eq!(
                    flags_of(&out),
                    expected,
                    "{incoming} with {sampler:?}, {policy:?}"
                );
            }
        }
    }

    // 3.2.2.5.2: a trace id from a random generator SHOULD carry the flag;
    // the SDK's default id generator is random.
    #[test]
    fn traces_started_here_carry_the_random_flag() {
        for (sampler, expected) in [(Sampler::AlwaysOn, 0x03), (Sampler::AlwaysOff, 0x02)] {
            let tracer = tracer(sampler);
            let root = Context::new().with_span(tracer.start_with_context("root", &Context::new()));
            let client = root.with_span(tracer.start_with_context("client", &root));
            for cx in [&root, &client] {
                let out = inject(cx);
                let tp = out["traceparent"].to_str().expect("ascii");
                assert_eq!(u8::from_str_radix(&tp[53..], 16), Ok(expected), "{tp}");
                let mut plain = http::HeaderMap::new();
                W3cTraceContextPropagator::new()
                    .random_trace_ids(false)
                    .inject_context(cx, &mut HeaderInjector(&mut plain));
                let tp = plain["traceparent"].to_str().expect("ascii");
                assert_eq!(
                    u8::from_str_radix(&tp[53..], 16),
                    Ok(expected & 0x01),
                    "{tp}"
                );
            }
        }
    }

    // B3 and Jaeger say nothing about randomness: no random flag is invented.
    #[test]
    fn a_trace_continued_from_b3_is_not_claimed_random() {
        let tracer = tracer(Sampler::AlwaysOff);
        let p = composite(&[PropagatorName::B3, PropagatorName::TraceContext]);
        let h = headers(&[("b3", &format!("{TRACE}-00f067aa0ba902b7-1"))]);
        let parent = p.extract_with_context(&Context::new(), &HeaderExtractor(&h));
        let child = parent.with_span(tracer.start_with_context("s", &parent));
        assert_eq!(flags_of(&inject(&child)), "00");
    }

    /// A sampler that writes its own tracestate member, as a vendor would.
    #[derive(Debug, Clone)]
    struct Marking;

    impl ShouldSample for Marking {
        fn should_sample(
            &self,
            parent: Option<&Context>,
            _: TraceId,
            _: &str,
            _: &SpanKind,
            _: &[KeyValue],
            _: &[Link],
        ) -> SamplingResult {
            let state = parent
                .map(|cx| cx.span().span_context().trace_state().clone())
                .unwrap_or_default();
            SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: state.insert("mine", "1").expect("valid"),
            }
        }
    }

    // 3.3.1.3.1 (key): Level 2 keys travel unchanged through the service,
    // although opentelemetry's TraceState rejects some of them; 3.5: once the
    // span's own state changes, that is what is sent.
    #[test]
    fn level_2_keys_survive_the_service_unless_the_state_changes() {
        let long_tenant = format!("{}@{}", "t".repeat(241), "v".repeat(14));
        let list = format!("foo@=1,foo@@bar=2,{long_tenant}=3,congo=t61");
        let tp = format!("00-{TRACE}-00f067aa0ba902b7-01");
        let incoming = [("traceparent", tp.as_str()), ("tracestate", list.as_str())];
        let out = forwarded(
            &tracer(Sampler::ParentBased(Box::new(Sampler::AlwaysOn))),
            &incoming,
            &IncomingPolicy::new(),
        );
        assert_eq!(out["tracestate"], list.as_str());
        let out = forwarded(&tracer(Marking), &incoming, &IncomingPolicy::new());
        // The span's own state: our member first, then what TraceState holds.
        assert_eq!(out["tracestate"], "mine=1,foo@=1,congo=t61");
    }

    // 3.3.1.3.1: a key that begins with `@`, or is over 256 characters,
    // invalidates the list; the traceparent is still used (3.3).
    #[test]
    fn bad_keys_still_invalidate_the_list() {
        let tp = format!("00-{TRACE}-00f067aa0ba902b7-01");
        for list in ["a=1,@b=2".to_owned(), format!("a=1,{}=2", "k".repeat(257))] {
            let out = forwarded(
                &tracer(Sampler::AlwaysOn),
                &[("traceparent", &tp), ("tracestate", &list)],
                &IncomingPolicy::new(),
            );
            assert!(out.contains_key("traceparent"));
            assert!(!out.contains_key("tracestate"), "{list}");
        }
    }

    /// A Level 2 key: `(lcalpha / DIGIT) 0*255(keychar)` with `@` a keychar.
    fn level2_key() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9_*/@-]{0,40}"
    }

    proptest! {
        // 3.3.1.3.1 and 3.3.1.4: any valid list of unique Level 2 keys
        // reaches the next hop unchanged.
        #[test]
        fn level_2_lists_are_forwarded_unchanged(
            members in proptest::collection::btree_map(level2_key(), "[!-+--<>-~]{1,12}", 1..12),
            flags in 0u8..4,
        ) {
            let list = members.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            let tp = format!("00-{TRACE}-00f067aa0ba902b7-{flags:02x}");
            let out = forwarded(
                &tracer(Sampler::ParentBased(Box::new(Sampler::AlwaysOn))),
                &[("traceparent", &tp), ("tracestate", &list)],
                &IncomingPolicy::new(),
            );
            prop_assert_eq!(out["tracestate"].to_str().expect("ascii"), list.as_str());
            prop_assert_eq!(flags_of(&out), format!("{flags:02x}"));
        }

        // 3.3.1.4: a repeated key keeps its leftmost member and the rest of the list.
        #[test]
        fn duplicates_keep_the_leftmost_member(
            keys in proptest::collection::vec("[a-e]@?", 1..20),
        ) {
            let members: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("{k}={i}")).collect();
            let mut expected: Vec<&str> = Vec::new();
            let mut seen: Vec<&str> = Vec::new();
            for (k, m) in keys.iter().zip(&members) {
                if !seen.contains(&k.as_str()) {
                    seen.push(k);
                    expected.push(m);
                }
            }
            let tp = format!("00-{TRACE}-00f067aa0ba902b7-01");
            let out = forwarded(
                &tracer(Sampler::AlwaysOn),
                &[("traceparent", &tp), ("tracestate", &members.join(","))],
                &IncomingPolicy::new(),
            );
            prop_assert_eq!(out["tracestate"].to_str().expect("ascii"), expected.join(","));
        }

        // 3.2.2.5.2: whatever the sampler decides, the caller's random flag
        // goes out as it came in; the sampled flag is the span's decision.
        #[test]
        fn the_random_flag_survives_any_sampling_decision(flags in 0u8..=255, sample in any::<bool>()) {
            let sampler = if sample { Sampler::AlwaysOn } else { Sampler::AlwaysOff };
            let tp = format!("00-{TRACE}-00f067aa0ba902b7-{flags:02x}");
            let out = forwarded(&tracer(sampler), &[("traceparent", &tp)], &IncomingPolicy::new());
            let sent = u8::from_str_radix(&flags_of(&out), 16).expect("hex");
            prop_assert_eq!(sent, (flags & 0x02) | u8::from(sample));
        }

        // W3C Baggage, "value": percent-encoded octets that are not UTF-8
        // decode to U+FFFD; nothing is dropped.
        #[test]
        fn baggage_values_decode_like_utf8_lossy(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            let encoded: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
            let h = headers(&[("baggage", &format!("k={encoded}"))]);
            let cx = W3cBaggagePropagator::new().extract_with_context(&Context::new(), &HeaderExtractor(&h));
            let expected = String::from_utf8_lossy(&bytes);
            let got = cx.baggage().get("k").map(|v| v.as_str().to_owned());
            prop_assert_eq!(got.as_deref(), Some(&*expected));
        }

        // W3C Baggage, "value", and interop: `+` always goes out as `%2B`,
        // so form decoders (Python's unquote_plus) read the same value.
        #[test]
        fn baggage_never_sends_a_bare_plus(value in "[ -~]{0,24}") {
            let out = inject(&Context::new().with_baggage([KeyValue::new("k", value.clone())]));
            let header = out["baggage"].to_str().expect("ascii");
            prop_assert!(!header.contains('+'), "{}", header);
            let back = W3cBaggagePropagator::new().extract_with_context(&Context::new(), &HeaderExtractor(&out));
            prop_assert_eq!(back.baggage().get("k").map(|v| v.as_str().to_owned()), Some(value));
        }
    }
}
