//! The span a sampler drops, made without the tracer when the provider is
//! declared to make it plainly ([`DroppedSpans::Plain`]).

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags};
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
    /// and trace state, a new random span id, flags cleared, that no span
    /// processor ever sees ([`dropped_child`] makes the same). Only whoever
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
/// parent): `parent` with a non-recording span of the parent's trace id and
/// trace state, a new random span id, and cleared flags. `None` where the
/// SDK would do something else, or could: the parent is not a valid
/// unsampled span, or telemetry is suppressed in it.
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
/// ```
pub fn dropped_child(parent: &Context) -> Option<Context> {
    if parent.is_telemetry_suppressed() {
        return None;
    }
    let child = {
        let span = parent.span();
        let sc = span.span_context();
        if !sc.is_valid() || sc.is_sampled() {
            return None;
        }
        SpanContext::new(
            sc.trace_id(),
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

/// A random, non-zero span id (wyrand: one multiply per id, statistically
/// sound; span ids need to be unique, not secret).
fn new_span_id() -> SpanId {
    loop {
        let id = STATE.with(|state| {
            let x = state.get().wrapping_add(0xa076_1d64_78bd_642f);
            state.set(x);
            let product = u128::from(x) * u128::from(x ^ 0xe703_7ed1_a0b4_28db);
            ((product >> 64) as u64) ^ (product as u64)
        });
        if id != 0 {
            return SpanId::from(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::tests::parent;
    use std::collections::HashSet;

    #[test]
    fn only_a_valid_unsampled_unsuppressed_parent_gets_a_plain_child() {
        assert!(dropped_child(&parent(TraceFlags::default())).is_some());
        assert!(dropped_child(&parent(TraceFlags::SAMPLED)).is_none());
        assert!(dropped_child(&Context::new()).is_none(), "a root");
        let suppressed = parent(TraceFlags::default()).with_telemetry_suppressed();
        assert!(dropped_child(&suppressed).is_none());
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
