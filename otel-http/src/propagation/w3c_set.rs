//! The W3C propagators (Trace Context, Baggage, or both: otel-init's
//! default) as [`composite`](super::composite) builds them, recognised
//! wherever they are used (the global propagator included) and read straight
//! from a `HeaderMap`: no `Vec` per header, no calls through `dyn Extractor`,
//! the same result.
//!
//! Recognition needs no declaration that could go stale: a composite of
//! these names lists its fields from a static of this module, so a
//! propagator whose first field points into one of them is such a composite
//! (no other code can hand out a pointer into these private statics).

use super::{PropagatorName, W3cBaggagePropagator, W3cTraceContextPropagator};
use crate::carrier::{self, HeaderInjector};
use http::HeaderMap;
use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use std::sync::LazyLock;

static TRACE_CONTEXT: LazyLock<[String; 2]> =
    LazyLock::new(|| ["traceparent".to_owned(), "tracestate".to_owned()]);
static BAGGAGE: LazyLock<[String; 1]> = LazyLock::new(|| ["baggage".to_owned()]);
static BOTH: LazyLock<[String; 3]> = LazyLock::new(|| {
    [
        "traceparent".to_owned(),
        "tracestate".to_owned(),
        "baggage".to_owned(),
    ]
});

/// Which of the two W3C propagators a composite holds (at least one, and
/// nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct W3cSet {
    trace_context: bool,
    baggage: bool,
}

const SETS: [W3cSet; 3] = [
    W3cSet {
        trace_context: true,
        baggage: false,
    },
    W3cSet {
        trace_context: false,
        baggage: true,
    },
    W3cSet {
        trace_context: true,
        baggage: true,
    },
];

impl W3cSet {
    /// The set `names` make, if they are W3C propagators only.
    pub(crate) fn of(names: &[PropagatorName]) -> Option<Self> {
        let mut set = W3cSet {
            trace_context: false,
            baggage: false,
        };
        for name in names {
            match name {
                PropagatorName::TraceContext => set.trace_context = true,
                PropagatorName::Baggage => set.baggage = true,
                _ => return None,
            }
        }
        (set.trace_context || set.baggage).then_some(set)
    }

    fn field_storage(self) -> &'static [String] {
        match (self.trace_context, self.baggage) {
            (true, false) => &*TRACE_CONTEXT,
            (false, true) => &*BAGGAGE,
            _ => &*BOTH,
        }
    }

    /// The header names, from this set's static.
    pub(crate) fn fields(self) -> FieldIter<'static> {
        FieldIter::new(self.field_storage())
    }

    /// The names of the propagators in the set, in the order otel-init
    /// composes them.
    pub(crate) fn names(self) -> Vec<PropagatorName> {
        let mut names = Vec::with_capacity(2);
        if self.trace_context {
            names.push(PropagatorName::TraceContext);
        }
        if self.baggage {
            names.push(PropagatorName::Baggage);
        }
        names
    }

    /// The set `propagator` is, if it is a composite of W3C propagators
    /// built by [`composite`](super::composite).
    pub(crate) fn recognise(propagator: &dyn TextMapPropagator) -> Option<Self> {
        let first = propagator.fields().next()?.as_ptr();
        SETS.into_iter()
            .find(|set| set.field_storage()[0].as_ptr() == first)
    }

    /// What the composite's `inject_context(cx, &mut HeaderInjector(headers))`
    /// does (each propagator writes its own headers).
    pub(crate) fn inject(self, cx: &Context, headers: &mut HeaderMap) {
        if self.trace_context {
            // `composite()` makes its trace context propagator with random
            // trace ids (`W3cTraceContextPropagator::new()`).
            W3cTraceContextPropagator::inject_into_headers(cx, headers, true);
        }
        if self.baggage {
            W3cBaggagePropagator::new().inject_context(cx, &mut HeaderInjector(headers));
        }
    }

    /// What the composite's `extract_with_context(&Context::new(), ..)`
    /// gives for `headers` (the two propagators write different parts of
    /// the context, so their order does not matter).
    pub(crate) fn extract(self, headers: &HeaderMap) -> Context {
        let (traceparent, [tracestates, baggage]) = carrier::w3c_values(headers);
        let mut cx = Context::new();
        if self.trace_context {
            // `composite()` makes its trace context propagator with random
            // trace ids (`W3cTraceContextPropagator::new()`).
            cx = W3cTraceContextPropagator::extract_from_values(
                &cx,
                traceparent.single(),
                tracestates.as_slice(),
                true,
            );
        }
        if self.baggage {
            cx = W3cBaggagePropagator::extract_from_values(&cx, baggage.as_slice());
        }
        cx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::HeaderExtractor;
    use crate::propagation::{composite, incoming::IncomingTrace};
    use opentelemetry::baggage::BaggageExt;
    use opentelemetry::propagation::TextMapCompositePropagator;
    use opentelemetry::trace::TraceContextExt;
    use proptest::prelude::*;

    #[test]
    fn only_composites_of_w3c_propagators_are_recognised() {
        use PropagatorName::{B3, Baggage, TraceContext};
        let both = W3cSet::of(&[TraceContext, Baggage]);
        assert!(both.is_some());
        for (names, set) in [
            (&[TraceContext, Baggage][..], both),
            (&[Baggage, TraceContext], both),
            (&[TraceContext], W3cSet::of(&[TraceContext])),
            (&[Baggage], W3cSet::of(&[Baggage])),
            (&[TraceContext, B3], None),
            (&[B3], None),
        ] {
            assert_eq!(W3cSet::recognise(&composite(names)), set, "{names:?}");
        }
        // The same propagators composed elsewhere, or alone: not recognised.
        let stock = TextMapCompositePropagator::new(vec![
            Box::new(W3cTraceContextPropagator::new()),
            Box::new(W3cBaggagePropagator::new()),
        ]);
        assert_eq!(W3cSet::recognise(&stock), None);
        assert_eq!(W3cSet::recognise(&W3cTraceContextPropagator::new()), None);
        // Fields are still the propagators' fields.
        let reversed = composite(&[Baggage, TraceContext]);
        let mut fields: Vec<&str> = reversed.fields().collect();
        fields.sort_unstable();
        assert_eq!(fields, ["baggage", "traceparent", "tracestate"]);
    }

    #[test]
    fn a_recognised_set_names_the_propagators_that_compose_it_again() {
        for set in SETS {
            assert_eq!(W3cSet::of(&set.names()), Some(set));
            assert_eq!(W3cSet::recognise(&composite(&set.names())), Some(set));
        }
    }

    fn header_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_vec()),
            Just(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02".to_vec()),
            Just(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00".to_vec()),
            Just(b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01".to_vec()),
            Just(b"a=1,b@vendor=2,t@vendorwithalongname=3".to_vec()),
            Just(b"a=1,A=2".to_vec()),
            Just(b"user=alice;p=1,tier=gold".to_vec()),
            Just(b"bad key=1,ok=%2B".to_vec()),
            Just(b"\xff\xfe".to_vec()),
            Just(b"".to_vec()),
            "[ -~]{0,60}".prop_map(String::into_bytes),
        ]
    }

    fn headers() -> impl Strategy<Value = HeaderMap> {
        let name = prop_oneof![
            Just("traceparent"),
            Just("tracestate"),
            Just("baggage"),
            Just("x-other")
        ];
        // Up to twelve other headers too: small maps are walked, large ones
        // looked up (`carrier::w3c_values`).
        (
            proptest::collection::vec((name, header_value()), 0..6),
            0..12usize,
        )
            .prop_map(|(pairs, others)| {
                let mut headers = HeaderMap::new();
                for i in 0..others {
                    if let Ok(name) = http::HeaderName::from_bytes(format!("x-{i}").as_bytes()) {
                        headers.append(name, http::HeaderValue::from(i));
                    }
                }
                for (name, value) in pairs {
                    if let Ok(value) = http::HeaderValue::from_bytes(&value) {
                        headers.append(name, value);
                    }
                }
                headers
            })
    }

    type Summary = (
        opentelemetry::trace::SpanContext,
        Option<IncomingTrace>,
        Vec<String>,
    );

    fn summary(cx: &Context) -> Summary {
        let mut baggage: Vec<String> = cx
            .baggage()
            .iter()
            .map(|(k, (v, m))| format!("{k}={v};{}", m.as_str()))
            .collect();
        baggage.sort_unstable();
        (
            cx.span().span_context().clone(),
            cx.get::<IncomingTrace>().cloned(),
            baggage,
        )
    }

    proptest! {
        // The direct reading gives what the composite gives through the
        // extractor, for any mix of valid, invalid and repeated headers.
        #[test]
        fn reading_the_headers_directly_gives_what_the_composite_gives(headers in headers()) {
            for names in [
                &[PropagatorName::TraceContext, PropagatorName::Baggage][..],
                &[PropagatorName::TraceContext],
                &[PropagatorName::Baggage],
            ] {
                let propagator = composite(names);
                let set = W3cSet::recognise(&propagator).expect("recognised");
                let through_extractor =
                    propagator.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
                prop_assert_eq!(summary(&set.extract(&headers)), summary(&through_extractor));
            }
        }
    }

    /// A span context to inject: `None` keeps the extracted one; otherwise a
    /// child (local or remote) of the extracted trace, or of another.
    fn child() -> impl Strategy<Value = Option<(bool, u128, u64, u8, bool)>> {
        proptest::option::of((
            any::<bool>(),
            prop_oneof![Just(0u128), Just(7u128), any::<u128>()],
            any::<u64>(),
            0..4u8,
            any::<bool>(),
        ))
    }

    fn injected(
        cx: &Context,
        inject: impl FnOnce(&Context, &mut HeaderMap),
    ) -> (HeaderMap, Vec<bool>) {
        let mut headers = HeaderMap::new();
        inject(cx, &mut headers);
        let sensitive = headers
            .values()
            .map(http::HeaderValue::is_sensitive)
            .collect();
        (headers, sensitive)
    }

    proptest! {
        // Writing straight into the map gives the headers (and their
        // never-indexed marks) the composite writes through the injector,
        // for contexts extracted from any mix of headers, and children of
        // them or of other traces.
        #[test]
        fn injecting_directly_writes_what_the_composite_writes(
            headers in headers(),
            child in child(),
        ) {
            for names in [
                &[PropagatorName::TraceContext, PropagatorName::Baggage][..],
                &[PropagatorName::TraceContext],
                &[PropagatorName::Baggage],
            ] {
                let propagator = composite(names);
                let mut cx = propagator.extract(&HeaderExtractor(&headers));
                if let Some((same_trace, trace, span, flags, remote)) = child {
                    let extracted = cx.span().span_context().clone();
                    let trace_id = if same_trace {
                        extracted.trace_id()
                    } else {
                        opentelemetry::trace::TraceId::from(trace)
                    };
                    let child = opentelemetry::trace::SpanContext::new(
                        trace_id,
                        opentelemetry::trace::SpanId::from(span),
                        opentelemetry::trace::TraceFlags::new(flags),
                        remote,
                        extracted.trace_state().clone(),
                    );
                    cx = cx.with_remote_span_context(child);
                }
                let direct = injected(&cx, |cx, h| crate::propagation::inject_headers(&propagator, cx, h));
                let through_injector = injected(&cx, |cx, h| {
                    propagator.inject_context(cx, &mut HeaderInjector(h));
                });
                prop_assert_eq!(direct, through_injector);
            }
        }
    }
}
