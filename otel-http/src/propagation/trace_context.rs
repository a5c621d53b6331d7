//! The W3C Trace Context propagator: `traceparent` and `tracestate`.

use super::incoming;
use super::traceparent::{parse_traceparent_bytes, traceparent_bytes};
use super::tracestate::{ParsedTraceState, parse_list, truncate};
use crate::carrier;
use http::{HeaderMap, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use std::sync::Arc;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// W3C Trace Context Level 2, strictly: every malformed `traceparent` is
/// rejected (the request starts a new trace), repeated `traceparent` headers
/// are invalid, the random flag is kept, and `tracestate` obeys its limits.
///
/// What the SDK's span context loses on the way through the service, the
/// propagator keeps in the [`Context`] beside it and sends on: the caller's
/// random flag (an unsampled child span of opentelemetry_sdk 0.33 has its
/// flags cleared) and a `tracestate` list that opentelemetry's `TraceState`
/// cannot hold (Level 2 keys with several `@`, or more than 13 characters
/// after one), as long as the span's trace state is unchanged. A trace this
/// process starts is sent with the random flag, since the SDK's trace ids are
/// random (see [`random_trace_ids`](Self::random_trace_ids)).
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
#[derive(Debug, Clone, Copy)]
pub struct W3cTraceContextPropagator {
    random_trace_ids: bool,
}

impl Default for W3cTraceContextPropagator {
    fn default() -> Self {
        Self {
            random_trace_ids: true,
        }
    }
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

    /// Whether the trace ids of traces this process starts are random, as
    /// the SDK's default id generator makes them (the default: `true`). Such
    /// traces are sent with the random flag (`02`), as Level 2 says they
    /// SHOULD be (section 3.2.2.5.2); set `false` with an id generator whose
    /// ids are not random. The flag a caller sent is forwarded either way.
    ///
    /// ```
    /// use opentelemetry::propagation::TextMapPropagator;
    /// use opentelemetry::trace::{TraceContextExt, TraceFlags};
    /// use opentelemetry::Context;
    /// use otel_http::carrier::HeaderInjector;
    /// use otel_http::propagation::W3cTraceContextPropagator;
    ///
    /// // A root span started here, as the SDK makes it: flags 01 (sampled), not remote.
    /// use opentelemetry::trace::{Tracer, TracerProvider};
    /// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    /// let span = provider.tracer("doc").start_with_context("root", &Context::new());
    /// let cx = Context::new().with_span(span);
    /// assert_eq!(cx.span().span_context().trace_flags(), TraceFlags::SAMPLED);
    /// let sent = |propagator: W3cTraceContextPropagator| {
    ///     let mut headers = http::HeaderMap::new();
    ///     propagator.inject_context(&cx, &mut HeaderInjector(&mut headers));
    ///     headers["traceparent"].to_str().unwrap().to_owned()
    /// };
    /// assert!(sent(W3cTraceContextPropagator::new()).ends_with("-03"));
    /// assert!(sent(W3cTraceContextPropagator::new().random_trace_ids(false)).ends_with("-01"));
    /// ```
    pub fn random_trace_ids(mut self, random: bool) -> Self {
        self.random_trace_ids = random;
        self
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
        self.extract_parts(extractor).map(|(sc, _)| sc)
    }

    /// The remote span context and the whole `tracestate` list when the span
    /// context's trace state could not hold all of it.
    fn extract_parts(&self, extractor: &dyn Extractor) -> Option<(SpanContext, Option<Arc<str>>)> {
        let parents = extractor.get_all(TRACEPARENT)?;
        let [value] = parents.as_slice() else {
            return None; // repeated traceparent headers are invalid
        };
        parts(value.as_bytes(), extractor.get_all(TRACESTATE).as_deref())
    }

    /// [`extract_with_context`](TextMapPropagator::extract_with_context)
    /// from a `HeaderMap`'s values themselves (`carrier::w3c_values`),
    /// without the extractor's `Vec` per header. `random_trace_ids` is the
    /// propagator's (see [`random_trace_ids`](Self::random_trace_ids)).
    pub(crate) fn extract_from_values(
        cx: &Context,
        traceparent: Option<&[u8]>,
        tracestates: Option<&[&str]>,
        random_trace_ids: bool,
    ) -> Context {
        // Absent, or repeated (invalid).
        let Some(value) = traceparent else {
            return cx.clone();
        };
        match parts(value, tracestates) {
            Some((sc, full)) => incoming::record(cx.clone(), &sc, full, random_trace_ids)
                .with_remote_span_context(sc),
            None => cx.clone(),
        }
    }
}

/// The remote span context of one `traceparent` value and every
/// `tracestate` value, and the whole `tracestate` list when the span
/// context's trace state could not hold all of it.
fn parts(
    traceparent: &[u8],
    tracestates: Option<&[&str]>,
) -> Option<(SpanContext, Option<Arc<str>>)> {
    let parent = parse_traceparent_bytes(traceparent)?;
    let ParsedTraceState { state, full } = tracestates.and_then(parse_list).unwrap_or_default();
    let sc = SpanContext::new(parent.trace_id, parent.parent_id, parent.flags, true, state);
    Some((sc, full))
}

/// Hands `send` what a propagator sends for `cx`: the `traceparent` value
/// and the `tracestate` list, if any; nothing without a valid span context.
#[inline]
fn to_send(cx: &Context, random_trace_ids: bool, send: impl FnOnce(&[u8; 55], Option<String>)) {
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return;
    }
    let flags = incoming::flags_to_send(cx, sc, random_trace_ids);
    let traceparent = traceparent_bytes(sc.trace_id(), sc.span_id(), flags);
    send(
        &traceparent,
        incoming::tracestate_to_send(cx, sc).and_then(truncate),
    );
}

impl W3cTraceContextPropagator {
    /// [`inject_context`](TextMapPropagator::inject_context) into a
    /// `HeaderMap` itself: the `traceparent` value is made as a
    /// `HeaderValue` at once, without the string, the check that it is
    /// UTF-8 and the injector's lookup of the header's name. Marked
    /// never-indexed, as [`HeaderInjector`](crate::carrier::HeaderInjector)
    /// marks it.
    pub(crate) fn inject_into_headers(
        cx: &Context,
        headers: &mut HeaderMap,
        random_trace_ids: bool,
    ) {
        to_send(cx, random_trace_ids, |traceparent, tracestate| {
            if let Ok(mut value) = HeaderValue::from_bytes(traceparent) {
                value.set_sensitive(true);
                headers.insert(carrier::TRACEPARENT.clone(), value);
            }
            if let Some(value) = tracestate.and_then(|state| HeaderValue::try_from(state).ok()) {
                headers.insert(carrier::TRACESTATE.clone(), value);
            }
        });
    }
}

impl TextMapPropagator for W3cTraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        to_send(cx, self.random_trace_ids, |traceparent, tracestate| {
            // Only ASCII hex digits and '-': the check cannot fail.
            injector.set(
                TRACEPARENT,
                String::from_utf8(traceparent.to_vec()).unwrap_or_default(),
            );
            if let Some(state) = tracestate {
                injector.set(TRACESTATE, state);
            }
        });
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match self.extract_parts(extractor) {
            Some((sc, full)) => incoming::record(cx.clone(), &sc, full, self.random_trace_ids)
                .with_remote_span_context(sc),
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
