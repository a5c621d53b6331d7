//! What the global tracer provider's sampler is known to decide before it is
//! asked, so that instrumentation can skip building the name and attributes
//! of a span that will be dropped whatever they say.
//!
//! A sampler sees a span's name and first attributes; a parent-based one
//! ignores them whenever the span has a (trusted) parent, and drops the span
//! when that parent is not sampled. At 10 % sampling nine requests in ten are
//! such spans, so the attributes built for them (the URL path, the server
//! address, the span name) are pure cost. Whoever installs the global tracer
//! provider, and only they, can say that its sampler behaves so: `otel-init`
//! declares it when its sampler is parent-based (or `always_off`) and no
//! option records dropped spans (tail or adaptive sampling). Nothing else
//! changes: the span gets its own span id and carries the trace on.
//!
//! The provider can also be declared to make its dropped spans as the SDK
//! does with its default id generator ([`DroppedSpans::Plain`]); such a span
//! is then made without the tracer ([`dropped_child`]): no sampler call, no
//! span object, the same context.
//!
//! ```
//! use opentelemetry::Context;
//! use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
//! use otel_http::sampling::{KnownDecisions, declare, known_dropped};
//!
//! let unsampled_parent = Context::new().with_remote_span_context(SpanContext::new(
//!     TraceId::from(1u128),
//!     SpanId::from(2u64),
//!     TraceFlags::default(),
//!     true,
//!     TraceState::NONE,
//! ));
//! // Nothing declared: the sampler is asked with everything, as usual.
//! assert!(!known_dropped(&unsampled_parent));
//! declare(KnownDecisions::UnsampledParentsDropped);
//! assert!(known_dropped(&unsampled_parent));
//! assert!(!known_dropped(&Context::new())); // a root: the sampler decides
//! declare(KnownDecisions::Unknown);
//! ```

mod dropped;
mod start;

pub use dropped::{DroppedSpans, declare_dropped_spans, declared_dropped_spans, dropped_child};
pub use start::SpanStart;

use crate::trust::parent_sampling_distrusted;
use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;
use std::sync::atomic::{AtomicU8, Ordering};

/// What the global tracer provider's sampler is known to decide regardless
/// of a span's name, kind and attributes.
///
/// ```
/// use otel_http::sampling::KnownDecisions;
/// assert_eq!(KnownDecisions::default(), KnownDecisions::Unknown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KnownDecisions {
    /// Nothing is known: every span is built in full for the sampler (the
    /// default, and the only safe answer for a sampler one did not write).
    #[default]
    Unknown,
    /// A span whose parent is valid, not sampled and trusted (no
    /// [`DistrustedParentSampling`](crate::trust::DistrustedParentSampling)
    /// in its context) is dropped, and not recorded either: a parent-based
    /// sampler with the default delegates for unsampled parents.
    UnsampledParentsDropped,
    /// Every span is dropped and not recorded (`always_off`).
    AllDropped,
    /// Only a child of a valid, sampled and trusted parent is sampled; every
    /// other span (a root, a child of an unsampled parent, a child of a
    /// parent whose sampling is distrusted) is dropped and not recorded:
    /// `parentbased_always_off`, or a parent-based sampler whose root
    /// sampler samples nothing.
    SampledParentsOnly,
}

static KNOWN: AtomicU8 = AtomicU8::new(0);

impl KnownDecisions {
    fn to_u8(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::UnsampledParentsDropped => 1,
            Self::AllDropped => 2,
            Self::SampledParentsOnly => 3,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::UnsampledParentsDropped,
            2 => Self::AllDropped,
            3 => Self::SampledParentsOnly,
            _ => Self::Unknown,
        }
    }
}

/// Declares what the sampler of the tracer provider just installed as the
/// global one decides (call it again with [`KnownDecisions::Unknown`] when
/// that provider is replaced). Only the code that installs the provider can
/// know this; a wrong declaration makes instrumentation start dropped spans
/// without their name and attributes, and a sampler that would have kept
/// them on those grounds would then decide without them.
///
/// ```
/// use otel_http::sampling::{KnownDecisions, declare, declared};
/// declare(KnownDecisions::AllDropped);
/// assert_eq!(declared(), KnownDecisions::AllDropped);
/// declare(KnownDecisions::Unknown);
/// ```
pub fn declare(decisions: KnownDecisions) {
    KNOWN.store(decisions.to_u8(), Ordering::Relaxed);
}

/// What was last [`declare`]d.
///
/// ```
/// use otel_http::sampling::{KnownDecisions, declared};
/// assert_eq!(declared(), KnownDecisions::Unknown);
/// ```
pub fn declared() -> KnownDecisions {
    KnownDecisions::from_u8(KNOWN.load(Ordering::Relaxed))
}

/// Whether a span started now in `parent` with the global tracer provider
/// is known to be dropped, whatever its name and attributes: instrumentation
/// may then start it with a fixed name and no attributes. It is still worth
/// checking `is_recording()` on the span it gets and adding them if so (the
/// global provider may have been replaced without a new declaration):
/// [`SpanStart`] does all of this.
///
/// ```
/// use opentelemetry::Context;
/// use otel_http::sampling::{KnownDecisions, declare, known_dropped};
/// declare(KnownDecisions::AllDropped);
/// assert!(known_dropped(&Context::new()));
/// declare(KnownDecisions::Unknown);
/// assert!(!known_dropped(&Context::new()));
/// ```
pub fn known_dropped(parent: &Context) -> bool {
    declared().drops(parent)
}

impl KnownDecisions {
    /// Whether a span started in `parent` is dropped under these decisions,
    /// whatever its name and attributes ([`known_dropped`] asks it of the
    /// declared ones).
    ///
    /// ```
    /// use opentelemetry::Context;
    /// use otel_http::sampling::KnownDecisions;
    /// let root = Context::new();
    /// assert!(KnownDecisions::SampledParentsOnly.drops(&root));
    /// assert!(!KnownDecisions::UnsampledParentsDropped.drops(&root)); // the root sampler decides
    /// ```
    pub fn drops(self, parent: &Context) -> bool {
        let parent_sampled = |parent: &Context| {
            let span = parent.span();
            let sc = span.span_context();
            sc.is_valid().then(|| sc.is_sampled())
        };
        match self {
            KnownDecisions::Unknown => false,
            KnownDecisions::AllDropped => true,
            KnownDecisions::UnsampledParentsDropped => {
                parent_sampled(parent) == Some(false) && !parent_sampling_distrusted(parent)
            }
            KnownDecisions::SampledParentsOnly => {
                parent_sampled(parent) != Some(true) || parent_sampling_distrusted(parent)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::DistrustedParentSampling;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use std::sync::Mutex;

    /// Held by every test that declares something: the declaration is
    /// process-wide and the tests run in parallel.
    pub(super) static DECLARATION: Mutex<()> = Mutex::new(());

    /// A remote parent span with `flags`.
    pub(super) fn parent(flags: TraceFlags) -> Context {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(1u128),
            SpanId::from(2u64),
            flags,
            true,
            TraceState::NONE,
        ))
    }

    #[test]
    fn only_what_was_declared_is_assumed() {
        let _declaration = DECLARATION.lock().unwrap_or_else(|e| e.into_inner());
        let unsampled = parent(TraceFlags::default());
        let sampled = parent(TraceFlags::SAMPLED);
        let distrusted = unsampled.with_value(DistrustedParentSampling);
        for cx in [&unsampled, &sampled, &distrusted, &Context::new()] {
            assert!(!known_dropped(cx));
        }
        declare(KnownDecisions::UnsampledParentsDropped);
        assert!(known_dropped(&unsampled));
        assert!(!known_dropped(&sampled));
        assert!(!known_dropped(&distrusted), "the root sampler decides");
        assert!(
            !known_dropped(&Context::new()),
            "a root: the sampler decides"
        );
        declare(KnownDecisions::AllDropped);
        for cx in [&unsampled, &sampled, &distrusted, &Context::new()] {
            assert!(known_dropped(cx));
        }
        declare(KnownDecisions::SampledParentsOnly);
        let distrusted_sampled = sampled.with_value(DistrustedParentSampling);
        for cx in [
            &unsampled,
            &distrusted,
            &distrusted_sampled,
            &Context::new(),
        ] {
            assert!(known_dropped(cx));
        }
        assert!(!known_dropped(&sampled));
        declare(KnownDecisions::Unknown);
        assert!(!known_dropped(&unsampled));
    }
}
