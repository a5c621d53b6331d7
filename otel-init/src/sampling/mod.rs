//! Samplers: which traces are kept.
//!
//! Head samplers decide when a span starts, from what is known then (the
//! trace id, the parent's decision, the span's name, kind and first
//! attributes):
//! - [`RatioSampler`]: a fraction of traces, consistent across services
//!   (`ot=th:` in `tracestate`, the specification's threshold algorithm);
//! - [`RateLimitingSampler`]: at most N traces per second (lock-free token bucket);
//! - [`RuleSampler`]: ordered rules on kind, name and attributes such as
//!   `http.route`, each with a ratio, a rate or both;
//! - [`ParentBased`]: follows the caller's decision so traces stay whole,
//!   and lets the root sampler decide where the trust policy says so.
//!
//! Two options look at outcomes, which a head sampler cannot know:
//! - [`TailSampling`]: holds a trace's spans in this process until its local
//!   root ends, then keeps the fragment if a span failed, if the root was slow,
//!   or if the head sampler chose it;
//! - [`Adaptive`]: raises the head ratio while the recent error rate is high.
//!
//! Everything is configurable through `OTEL_TRACES_SAMPLER`/`_ARG` and
//! `OTEL_INIT_*` variables or the builder; see `docs/sampling.md`.
//!
//! ```no_run
//! use otel_init::sampling::{Action, Adaptive, Rule, RuleSampler, TailSampling};
//! use otel_init::{SamplerKind, Telemetry};
//! use std::time::Duration;
//!
//! // Health checks never, checkout always, 10% of the rest (at most 100 traces/s),
//! // and every error and every request slower than 5 s.
//! let rules = RuleSampler::new([
//!     Rule::route("/healthz").then(Action::never()),
//!     Rule::route("/checkout*").then(Action::always()),
//!     Rule::any().then(Action::ratio(0.1).max_per_second(100.0)),
//! ]);
//! let _telemetry = Telemetry::builder()
//!     .sampler(SamplerKind::ParentBasedRules(rules))
//!     .tail_sampling(TailSampling::new().keep_slower_than(Duration::from_secs(5)))
//!     .adaptive_sampling(Adaptive::above(0.1))
//!     .init()?;
//! # Ok::<(), otel_init::InitError>(())
//! ```

mod adaptive;
mod parent;
pub(crate) mod probability;
mod rate;
mod ratio;
mod rules;
mod tail;

pub use adaptive::Adaptive;
pub use parent::ParentBased;
pub use rate::{RateLimiter, RateLimitingSampler};
pub use ratio::RatioSampler;
pub use rules::{Action, Rule, RuleSampler};
pub use tail::{TailReport, TailSampling};

pub(crate) use adaptive::ErrorRate;
pub(crate) use tail::{Fanout, OutcomeProcessor, TailStats};

use crate::config::SamplerKind;
use adaptive::{AdaptiveSampler, is_new_local_root};
use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};
use otel_http::sampling::KnownDecisions;
use std::sync::Arc;

/// The sampler for a [`SamplerKind`].
pub(crate) fn head_sampler(kind: &SamplerKind) -> Box<dyn ShouldSample> {
    let root = |kind: &SamplerKind| -> Box<dyn ShouldSample> {
        match kind {
            SamplerKind::AlwaysOn | SamplerKind::ParentBasedAlwaysOn => Box::new(Sampler::AlwaysOn),
            SamplerKind::AlwaysOff | SamplerKind::ParentBasedAlwaysOff => {
                Box::new(Sampler::AlwaysOff)
            }
            SamplerKind::TraceIdRatio(p) | SamplerKind::ParentBasedTraceIdRatio(p) => {
                Box::new(RatioSampler::new(*p))
            }
            SamplerKind::RateLimited(n) | SamplerKind::ParentBasedRateLimited(n) => {
                Box::new(RateLimitingSampler::new(*n))
            }
            SamplerKind::Rules(r) | SamplerKind::ParentBasedRules(r) => Box::new(r.clone()),
        }
    };
    let parent_based = matches!(
        kind,
        SamplerKind::ParentBasedAlwaysOn
            | SamplerKind::ParentBasedAlwaysOff
            | SamplerKind::ParentBasedTraceIdRatio(_)
            | SamplerKind::ParentBasedRateLimited(_)
            | SamplerKind::ParentBasedRules(_)
    );
    if parent_based {
        Box::new(ParentBased::boxed(root(kind)))
    } else {
        root(kind)
    }
}

/// What the sampler built from `kind` decides without looking at a span's
/// name or attributes, declared to the instrumentation crates
/// ([`otel_http::sampling`]) so that they skip building them for spans that
/// are dropped anyway. `records_dropped`: tail or adaptive sampling, which
/// record spans the head sampler drops, so nothing is known then. The tests
/// below hold every kind's declaration against the sampler's own decisions.
pub(crate) fn known_decisions(kind: &SamplerKind, records_dropped: bool) -> KnownDecisions {
    if records_dropped {
        return KnownDecisions::Unknown;
    }
    // A ratio too small for any threshold samples nothing.
    let samples_nothing = |ratio: f64| probability::Threshold::from_probability(ratio).is_none();
    match kind {
        SamplerKind::AlwaysOff => KnownDecisions::AllDropped,
        SamplerKind::TraceIdRatio(p) if samples_nothing(*p) => KnownDecisions::AllDropped,
        // ParentBased with a root sampler that samples nothing: only a
        // valid, trusted, sampled parent means a sampled span.
        SamplerKind::ParentBasedAlwaysOff => KnownDecisions::SampledParentsOnly,
        SamplerKind::ParentBasedTraceIdRatio(p) if samples_nothing(*p) => {
            KnownDecisions::SampledParentsOnly
        }
        // ParentBased: a valid, trusted, unsampled parent means Drop.
        SamplerKind::ParentBasedAlwaysOn
        | SamplerKind::ParentBasedTraceIdRatio(_)
        | SamplerKind::ParentBasedRateLimited(_)
        | SamplerKind::ParentBasedRules(_) => KnownDecisions::UnsampledParentsDropped,
        SamplerKind::AlwaysOn
        | SamplerKind::TraceIdRatio(_)
        | SamplerKind::RateLimited(_)
        | SamplerKind::Rules(_) => KnownDecisions::Unknown,
    }
}

/// The head sampler with the outcome-based options applied, and what the
/// span processor needs to apply them.
pub(crate) struct SamplingSetup {
    pub(crate) sampler: Box<dyn ShouldSample>,
    pub(crate) tail: Option<(TailSampling, Arc<TailStats>)>,
    pub(crate) error_rate: Option<Arc<ErrorRate>>,
}

pub(crate) fn setup(
    head: Box<dyn ShouldSample>,
    tail: Option<TailSampling>,
    adaptive: Option<Adaptive>,
) -> SamplingSetup {
    let error_rate = adaptive.map(|a| Arc::new(ErrorRate::new(a)));
    let mut sampler = head;
    if let Some(rate) = &error_rate {
        sampler = Box::new(AdaptiveSampler {
            base: sampler,
            rate: rate.clone(),
        });
    }
    let record = match (&tail, &error_rate) {
        (Some(_), _) => Some(RecordScope::AllSpans),
        (None, Some(_)) => Some(RecordScope::LocalRoots),
        (None, None) => None,
    };
    if let Some(scope) = record {
        sampler = Box::new(RecordDropped {
            inner: sampler,
            scope,
        });
    }
    SamplingSetup {
        sampler,
        tail: tail.map(|t| (t, Arc::new(TailStats::default()))),
        error_rate,
    }
}

#[derive(Debug, Clone, Copy)]
enum RecordScope {
    /// Tail sampling needs every span of a fragment.
    AllSpans,
    /// The adaptive sampler needs each request's outcome.
    LocalRoots,
}

/// Turns `Drop` into `RecordOnly` so that the span processor sees the span's
/// outcome; such spans are recorded but not exported unless tail sampling keeps them.
#[derive(Debug, Clone)]
struct RecordDropped {
    inner: Box<dyn ShouldSample>,
    scope: RecordScope,
}

impl ShouldSample for RecordDropped {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let mut result =
            self.inner
                .should_sample(parent_context, trace_id, name, span_kind, attributes, links);
        if result.decision == SamplingDecision::Drop {
            let record = match self.scope {
                RecordScope::AllSpans => true,
                RecordScope::LocalRoots => is_new_local_root(parent_context),
            };
            if record {
                result.decision = SamplingDecision::RecordOnly;
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceState};

    fn kinds() -> Vec<SamplerKind> {
        let rules = RuleSampler::new([Rule::any().then(Action::always())]);
        vec![
            SamplerKind::AlwaysOn,
            SamplerKind::AlwaysOff,
            SamplerKind::TraceIdRatio(1.0),
            SamplerKind::TraceIdRatio(0.5),
            SamplerKind::TraceIdRatio(0.0),
            SamplerKind::ParentBasedAlwaysOn,
            SamplerKind::ParentBasedAlwaysOff,
            SamplerKind::ParentBasedTraceIdRatio(1.0),
            SamplerKind::ParentBasedTraceIdRatio(0.5),
            SamplerKind::ParentBasedTraceIdRatio(0.0),
            SamplerKind::RateLimited(1000.0),
            SamplerKind::ParentBasedRateLimited(1000.0),
            SamplerKind::Rules(rules.clone()),
            SamplerKind::ParentBasedRules(rules),
        ]
    }

    fn parent(flags: TraceFlags, remote: bool) -> Context {
        let sc = SpanContext::new(
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
            SpanId::from(7u64),
            flags,
            remote,
            TraceState::NONE,
        );
        Context::new().with_remote_span_context(sc)
    }

    fn decision(sampler: &dyn ShouldSample, cx: Option<&Context>) -> SamplingDecision {
        let attributes = [KeyValue::new("http.route", "/checkout")];
        sampler
            .should_sample(
                cx,
                TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
                "GET /checkout",
                &SpanKind::Server,
                &attributes,
                &[],
            )
            .decision
    }

    /// Every kind of parent a span can be started in: none (a root),
    /// sampled or not, remote or local, with its sampling distrusted.
    fn parents() -> Vec<Context> {
        use otel_http::trust::DistrustedParentSampling;
        let mut all = vec![Context::new()];
        for flags in [
            TraceFlags::default(),
            TraceFlags::SAMPLED,
            TraceFlags::new(0x02),
        ] {
            for remote in [true, false] {
                all.push(parent(flags, remote));
            }
            all.push(parent(flags, true).with_value(DistrustedParentSampling));
        }
        all
    }

    // What is declared must be what the sampler does: a wrong declaration
    // would drop the attributes of spans the sampler keeps, or the spans.
    #[test]
    fn declarations_match_the_samplers_decisions() {
        for kind in kinds() {
            for records_dropped in [false, true] {
                let known = known_decisions(&kind, records_dropped);
                let tail = records_dropped.then(TailSampling::new);
                let setup = setup(head_sampler(&kind), tail, None);
                let sampler = setup.sampler.as_ref();
                for cx in parents() {
                    if known.drops(&cx) {
                        assert_eq!(
                            decision(sampler, Some(&cx)),
                            SamplingDecision::Drop,
                            "{kind:?}, {:?}",
                            cx.span().span_context()
                        );
                    }
                }
                if known.drops(&Context::new()) {
                    assert_eq!(decision(sampler, None), SamplingDecision::Drop, "{kind:?}");
                }
                if records_dropped {
                    assert_eq!(known, KnownDecisions::Unknown);
                }
            }
        }
        for (kind, known) in [
            (SamplerKind::AlwaysOff, KnownDecisions::AllDropped),
            (SamplerKind::TraceIdRatio(0.0), KnownDecisions::AllDropped),
            (SamplerKind::TraceIdRatio(0.5), KnownDecisions::Unknown),
            (
                SamplerKind::ParentBasedAlwaysOff,
                KnownDecisions::SampledParentsOnly,
            ),
            (
                SamplerKind::ParentBasedTraceIdRatio(0.0),
                KnownDecisions::SampledParentsOnly,
            ),
            (
                SamplerKind::ParentBasedTraceIdRatio(0.5),
                KnownDecisions::UnsampledParentsDropped,
            ),
            (
                SamplerKind::ParentBasedAlwaysOn,
                KnownDecisions::UnsampledParentsDropped,
            ),
        ] {
            assert_eq!(known_decisions(&kind, false), known, "{kind:?}");
        }
        // A root sampler alone does not follow the parent: nothing is known.
        for kind in [SamplerKind::AlwaysOn, SamplerKind::TraceIdRatio(1.0)] {
            assert_eq!(known_decisions(&kind, false), KnownDecisions::Unknown);
            let sampler = head_sampler(&kind);
            let cx = parent(TraceFlags::default(), true);
            assert_ne!(
                decision(sampler.as_ref(), Some(&cx)),
                SamplingDecision::Drop
            );
        }
    }

    /// Counts what reaches a span processor.
    #[derive(Debug, Default, Clone)]
    struct Seen(Arc<std::sync::atomic::AtomicUsize>);

    impl opentelemetry_sdk::trace::SpanProcessor for Seen {
        fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &Context) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        fn on_end(&self, _: opentelemetry_sdk::trace::SpanData) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(
            &self,
            _: std::time::Duration,
        ) -> opentelemetry_sdk::error::OTelSdkResult {
            Ok(())
        }
    }

    // otel-init declares `DroppedSpans::Plain` with its provider: a span
    // known to be dropped is made by `dropped_child` instead of the SDK.
    // Held here against the SDK with each sampler that declares drops: the
    // same trace id, flags, trace state and remoteness, no recording, and
    // nothing for a span processor.
    #[test]
    fn plain_dropped_children_are_what_the_sdk_makes() {
        use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
        use otel_http::sampling::dropped_child;
        let state = TraceState::from_key_value([("ot", "th:8"), ("vendor", "x")]).expect("valid");
        for kind in kinds() {
            if known_decisions(&kind, false) == KnownDecisions::Unknown {
                continue;
            }
            let seen = Seen::default();
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_sampler(setup(head_sampler(&kind), None, None).sampler)
                .with_span_processor(seen.clone())
                .build();
            let tracer = provider.tracer("test");
            let known = known_decisions(&kind, false);
            let stated = |cx: Context| {
                let sc = cx.span().span_context().clone();
                if !sc.is_valid() {
                    return cx; // a root
                }
                // The parent's trace state, with a threshold and a vendor's entry.
                cx.with_remote_span_context(SpanContext::new(
                    sc.trace_id(),
                    sc.span_id(),
                    sc.trace_flags(),
                    sc.is_remote(),
                    state.clone(),
                ))
            };
            let mut compared = 0;
            for parent in parents().into_iter().map(stated) {
                if !known.drops(&parent) {
                    continue;
                }
                let Some(plain) = dropped_child(&parent) else {
                    // A sampled parent distrusted: through the tracer.
                    assert!(parent.span().span_context().is_sampled(), "{kind:?}");
                    continue;
                };
                compared += 1;
                let mut sdk = tracer
                    .span_builder("GET /checkout")
                    .with_kind(SpanKind::Server)
                    .start_with_context(&tracer, &parent);
                let plain = plain.span();
                let (ours, theirs) = (plain.span_context(), sdk.span_context().clone());
                let case = format!("{kind:?}, parent {:?}", parent.span().span_context());
                assert!(!sdk.is_recording() && !plain.is_recording(), "{case}");
                if parent.span().span_context().is_valid() {
                    assert_eq!(ours.trace_id(), theirs.trace_id(), "{case}");
                } else {
                    // A root: a new trace each, ours and the SDK's.
                    assert_ne!(ours.trace_id(), theirs.trace_id(), "{case}");
                }
                assert_eq!(ours.trace_flags(), theirs.trace_flags(), "{case}");
                assert_eq!(ours.is_remote(), theirs.is_remote(), "{case}");
                assert_eq!(ours.trace_state(), theirs.trace_state(), "{case}");
                assert!(ours.is_valid() && theirs.is_valid(), "{case}");
                sdk.end();
                plain.end();
            }
            assert!(compared > 0, "{kind:?}: nothing made plainly");
            assert_eq!(
                seen.0.load(std::sync::atomic::Ordering::Relaxed),
                0,
                "{kind:?}"
            );
        }
    }
}
