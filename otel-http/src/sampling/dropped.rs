//! The span a sampler drops, made without the tracer when the provider is
//! declared to make it plainly ([`DroppedSpans::Plain`]).

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId};
use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};

/// How the global tracer provider makes a span its sampler drops: what
/// [`SpanStart`](super::SpanStart) may do instead of asking the tracer, for a
/// span that [`known_dropped`](super::known_dropped) says is dropped.
///
/// ```
/// use otel_http::sampling::{DroppedSpans, declare_dropped_spans, declared_dropped_spans};
///
/// assert_eq!(declared_dropped_spans(), DroppedSpans::ThroughTracer);
/// declare_dropped_spans(DroppedSpans::Plain);
/// assert_eq!(declared_dropped_spans(), DroppedSpans::Plain);
/// declare_dropped_spans(DroppedSpans::ThroughTracer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DroppedSpans {
    /// Nothing is known: a dropped span is started through the tracer (the
    /// default).
    #[default]
    ThroughTracer,
    /// The provider makes a dropped child span as the OpenTelemetry SDK does
    /// with its default (random) id generator and a sampler that keeps the
    /// parent's trace state: a non-recording span with the parent's trace id
    /// and trace state (for a root: a new random trace id), a new random span
    /// id, flags cleared, that no span processor ever sees ([`dropped_child`]
    /// makes the same). Only whoever
    /// installs the provider can say so; `otel-init` does for its own.
    Plain,
}

static PLAIN: AtomicBool = AtomicBool::new(false);

/// Declares how the global tracer provider makes the spans its sampler
/// drops (see [`DroppedSpans`]). Whoever installs the provider declares it,
/// beside [`declare`](super::declare), and declares
/// [`DroppedSpans::ThroughTracer`] when they replace or shut it down.
///
/// ```
/// use otel_http::sampling::{DroppedSpans, declare_dropped_spans};
///
/// // After installing an SDK provider with the default id generator:
/// declare_dropped_spans(DroppedSpans::Plain);
/// // ... and when shutting it down:
/// declare_dropped_spans(DroppedSpans::ThroughTracer);
/// ```
pub fn declare_dropped_spans(dropped: DroppedSpans) {
    PLAIN.store(dropped == DroppedSpans::Plain, Ordering::Relaxed);
}

/// What was last declared with [`declare_dropped_spans`].
///
/// ```
/// use otel_http::sampling::{DroppedSpans, declared_dropped_spans};
/// assert_eq!(declared_dropped_spans(), DroppedSpans::ThroughTracer); // nothing declared
/// ```
pub fn declared_dropped_spans() -> DroppedSpans {
    if PLAIN.load(Ordering::Relaxed) {
        DroppedSpans::Plain
    } else {
        DroppedSpans::ThroughTracer
    }
}

/// The context of the span the OpenTelemetry SDK makes, with its default id
/// generator, for a child of `parent` that its sampler drops while keeping
/// the parent's trace state (as a parent-based sampler does for an unsampled
/// parent, and `always_off` for any): `parent` with a non-recording span of
/// the parent's trace id and trace state, a new random span id, and cleared
/// flags. Under a parent with no valid span (a root), the span starts a new
/// trace: a new random trace id as well. `None` where the SDK would do
/// something else, or could: the parent is a sampled span, or telemetry is
/// suppressed in it.
///
/// This is what the trace goes on with downstream and what logs are
/// correlated with, at the cost of a random number: no sampler call, no span
/// object behind the tracer, nothing for a span processor to see (the SDK
/// calls processors for recording spans only).
///
/// ```
/// use opentelemetry::Context;
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
/// use otel_http::sampling::dropped_child;
///
/// let state = TraceState::from_key_value([("vendor", "x")]).unwrap();
/// let parent = Context::new().with_remote_span_context(SpanContext::new(
///     TraceId::from(1u128),
///     SpanId::from(2u64),
///     TraceFlags::default(),
///     true,
///     state.clone(),
/// ));
/// let cx = dropped_child(&parent).unwrap();
/// let span = cx.span();
/// let sc = span.span_context();
/// assert!(!span.is_recording());
/// assert_eq!(sc.trace_id(), TraceId::from(1u128));
/// assert_ne!(sc.span_id(), SpanId::from(2u64));
/// assert!(!sc.is_remote() && !sc.is_sampled());
/// assert_eq!(sc.trace_state(), &state);
///
/// // A root starts a trace of its own.
/// let root = dropped_child(&Context::new()).unwrap();
/// assert!(root.span().span_context().is_valid());
/// assert!(!root.span().is_recording());
/// ```
pub fn dropped_child(parent: &Context) -> Option<Context> {
    if parent.is_telemetry_suppressed() {
        return None;
    }
    let child = {
        let span = parent.span();
        let sc = span.span_context();
        if sc.is_sampled() {
            return None;
        }
        // The SDK takes the trace id of a valid parent span only.
        let trace_id = if sc.is_valid() {
            sc.trace_id()
        } else {
            new_trace_id()
        };
        SpanContext::new(
            trace_id,
            new_span_id(),
            TraceFlags::default(),
            false,
            sc.trace_state().clone(),
        )
    };
    Some(parent.with_remote_span_context(child))
}

thread_local! {
    /// A wyrand generator per thread, seeded from the standard library's
    /// per-thread random hash keys (taken from the operating system).
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    hasher.finish()
}

/// The next random 64 bits of this thread's wyrand generator (one multiply
/// per number, statistically sound; ids need to be unique, not secret).
fn next_random() -> u64 {
    STATE.with(|state| {
        let x = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(x);
        let product = u128::from(x) * u128::from(x ^ 0xe703_7ed1_a0b4_28db);
        ((product >> 64) as u64) ^ (product as u64)
    })
}

/// A random, non-zero span id.
fn new_span_id() -> SpanId {
    loop {
        let id = next_random();
        if id != 0 {
            return SpanId::from(id);
        }
    }
}

/// A random, non-zero trace id: all of its 128 bits random, as the SDK's
/// default id generator makes them (so the W3C random flag may be sent for
/// it, as for the SDK's).
fn new_trace_id() -> TraceId {
    loop {
        let id = (u128::from(next_random()) << 64) | u128::from(next_random());
        if id != 0 {
            return TraceId::from(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::tests::parent;
    use std::collections::HashSet;

    #[test]
    fn only_an_unsampled_or_absent_unsuppressed_parent_gets_a_plain_child() {
        assert!(dropped_child(&parent(TraceFlags::default())).is_some());
        assert!(dropped_child(&parent(TraceFlags::SAMPLED)).is_none());
        let suppressed = parent(TraceFlags::default()).with_telemetry_suppressed();
        assert!(dropped_child(&suppressed).is_none());
        assert!(dropped_child(&Context::new().with_telemetry_suppressed()).is_none());
    }

    #[test]
    fn a_root_gets_a_new_trace() {
        #[derive(Debug, PartialEq)]
        struct Value(u8);
        let mut trace_ids = HashSet::new();
        for _ in 0..1000 {
            let root = dropped_child(&Context::new().with_value(Value(3))).expect("a root");
            assert_eq!(root.get::<Value>(), Some(&Value(3)));
            let span = root.span();
            let sc = span.span_context();
            assert!(sc.is_valid() && !sc.is_remote() && !span.is_recording());
            assert_eq!(sc.trace_flags(), TraceFlags::default());
            assert_eq!(sc.trace_state(), &opentelemetry::trace::TraceState::NONE);
            trace_ids.insert(sc.trace_id());
        }
        assert_eq!(trace_ids.len(), 1000, "a new trace id each time");
    }

    #[test]
    fn the_child_keeps_the_parents_values() {
        #[derive(Debug, PartialEq)]
        struct Value(u8);
        let cx = parent(TraceFlags::new(0x02)).with_value(Value(7));
        let child = dropped_child(&cx).expect("unsampled parent");
        assert_eq!(child.get::<Value>(), Some(&Value(7)));
        // The random flag is cleared too, as the SDK clears it.
        assert_eq!(
            child.span().span_context().trace_flags(),
            TraceFlags::default()
        );
    }

    #[test]
    fn span_ids_are_non_zero_and_distinct_across_threads() {
        let ids = |n| (0..n).map(|_| new_span_id()).collect::<Vec<_>>();
        let mut seen: HashSet<SpanId> = ids(10_000).into_iter().collect();
        let other = std::thread::spawn(move || ids(10_000))
            .join()
            .expect("thread");
        seen.extend(other);
        assert_eq!(seen.len(), 20_000);
        assert!(!seen.contains(&SpanId::INVALID));
    }
}
