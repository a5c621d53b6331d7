//! The W3C Trace Context propagator: `traceparent` and `tracestate`.

use super::traceparent::{format_traceparent, parse_traceparent};
use super::tracestate::{format_tracestate, parse_tracestate};
use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// W3C Trace Context Level 2, strictly: every malformed `traceparent` is
/// rejected (the request starts a new trace), repeated `traceparent` headers
/// are invalid, the random flag is kept, and `tracestate` obeys its limits.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use otel_http::carrier::{HeaderExtractor, HeaderInjector};
/// use otel_http::propagation::W3cTraceContextPropagator;
///
/// let propagator = W3cTraceContextPropagator::new();
/// let mut incoming = http::HeaderMap::new();
/// incoming.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03".parse().unwrap());
/// let cx = propagator.extract(&HeaderExtractor(&incoming));
/// assert!(cx.span().span_context().is_remote());
///
/// let mut outgoing = http::HeaderMap::new();
/// propagator.inject_context(&cx, &mut HeaderInjector(&mut outgoing));
/// assert_eq!(outgoing["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct W3cTraceContextPropagator {
    _private: (),
}

impl W3cTraceContextPropagator {
    /// The propagator (the same as [`Default`]): it reads and writes
    /// `traceparent` and `tracestate`.
    ///
    /// ```
    /// use opentelemetry::propagation::TextMapPropagator;
    /// use otel_http::propagation::W3cTraceContextPropagator;
    ///
    /// let propagator = W3cTraceContextPropagator::new();
    /// assert_eq!(propagator.fields().collect::<Vec<_>>(), ["traceparent", "tracestate"]);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The remote span context in `extractor`, if it carries a valid one.
    /// An invalid `tracestate` is dropped without losing the `traceparent`.
    ///
    /// ```
    /// use otel_http::carrier::HeaderExtractor;
    /// use otel_http::propagation::W3cTraceContextPropagator;
    ///
    /// let propagator = W3cTraceContextPropagator::new();
    /// let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("traceparent", parent.parse().unwrap());
    /// headers.insert("tracestate", "Upper=case-key-is-invalid".parse().unwrap());
    /// let sc = propagator.extract_span_context(&HeaderExtractor(&headers)).unwrap();
    /// assert!(sc.is_remote() && sc.is_sampled());
    /// assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
    /// assert_eq!(sc.trace_state().header(), "");
    ///
    /// // Two traceparent headers: neither is trusted.
    /// headers.append("traceparent", parent.parse().unwrap());
    /// assert!(propagator.extract_span_context(&HeaderExtractor(&headers)).is_none());
    /// ```
    pub fn extract_span_context(&self, extractor: &dyn Extractor) -> Option<SpanContext> {
        let parents = extractor.get_all(TRACEPARENT)?;
        let [value] = parents.as_slice() else {
            return None; // repeated traceparent headers are invalid
        };
        let parent = parse_traceparent(value)?;
        let state = extractor
            .get_all(TRACESTATE)
            .and_then(|values| parse_tracestate(&values))
            .unwrap_or_default();
        Some(SpanContext::new(
            parent.trace_id,
            parent.parent_id,
            parent.flags,
            true,
            state,
        ))
    }
}

impl TextMapPropagator for W3cTraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        injector.set(
            TRACEPARENT,
            format_traceparent(sc.trace_id(), sc.span_id(), sc.trace_flags()),
        );
        if let Some(state) = format_tracestate(sc.trace_state()) {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match self.extract_span_context(extractor) {
            Some(sc) => cx.with_remote_span_context(sc),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        fields()
    }
}

fn fields() -> FieldIter<'static> {
    static NAMES: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]);
    FieldIter::new(names)
}
