//! Parent-based sampling that honours the trust boundary: a parent's decision
//! is followed unless a server marked the caller's sampled flag as distrusted
//! (`otel_http::trust::IncomingPolicy::distrust_sampled_flag`); then the root
//! sampler decides, as if the span started the trace.

use super::probability::{parent_threshold, randomness, with_threshold};
use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};
use otel_http::trust::parent_sampling_distrusted;

/// Follows the parent span's sampled flag; spans without a (trusted) parent
/// are decided by `root`. This keeps traces whole: a service never keeps a
/// fragment of a trace its caller dropped, nor drops one its caller kept.
///
/// ```
/// use otel_init::opentelemetry::Context;
/// use otel_init::opentelemetry::trace::{
///     SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
/// };
/// use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
/// use otel_init::sampling::{ParentBased, RatioSampler};
///
/// let sampler = ParentBased::new(RatioSampler::new(0.0)); // keeps no new trace
/// let trace_id = TraceId::from(7u128);
/// let kept_by_caller = Context::new().with_remote_span_context(SpanContext::new(
///     trace_id,
///     SpanId::from(1u64),
///     TraceFlags::SAMPLED,
///     true,
///     TraceState::default(),
/// ));
/// let decide = |parent: Option<&Context>| {
///     sampler.should_sample(parent, trace_id, "GET /cart", &SpanKind::Server, &[], &[]).decision
/// };
/// assert_eq!(decide(Some(&kept_by_caller)), SamplingDecision::RecordAndSample);
/// assert_eq!(decide(None), SamplingDecision::Drop);
/// ```
#[derive(Debug, Clone)]
pub struct ParentBased {
    root: Box<dyn ShouldSample>,
}

impl ParentBased {
    /// Parent-based, with `root` deciding for new traces.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{SpanKind, TraceId};
    /// use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
    /// use otel_init::sampling::{ParentBased, RatioSampler};
    /// // No parent: the root sampler decides (here it keeps every trace).
    /// let sampler = ParentBased::new(RatioSampler::new(1.0));
    /// let result = sampler.should_sample(None, TraceId::from(7u128), "GET /cart", &SpanKind::Server, &[], &[]);
    /// assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    /// ```
    pub fn new(root: impl ShouldSample + 'static) -> Self {
        Self {
            root: Box::new(root),
        }
    }

    /// From an already boxed root sampler.
    ///
    /// ```
    /// use otel_init::opentelemetry_sdk::trace::ShouldSample;
    /// use otel_init::sampling::{ParentBased, RateLimitingSampler, RatioSampler};
    /// let per_second: Option<f64> = None; // e.g. from the command line
    /// let root: Box<dyn ShouldSample> = match per_second {
    ///     Some(n) => Box::new(RateLimitingSampler::new(n)),
    ///     None => Box::new(RatioSampler::new(0.1)),
    /// };
    /// let sampler = ParentBased::boxed(root);
    /// # let _ = sampler;
    /// ```
    pub fn boxed(root: Box<dyn ShouldSample>) -> Self {
        Self { root }
    }
}

impl ShouldSample for ParentBased {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let parent = parent_context.filter(|cx| cx.span().span_context().is_valid());
        let Some(cx) = parent.filter(|cx| !parent_sampling_distrusted(cx)) else {
            return self.root.should_sample(
                parent_context,
                trace_id,
                name,
                span_kind,
                attributes,
                links,
            );
        };
        let span = cx.span();
        let sc = span.span_context();
        let mut trace_state = sc.trace_state().clone();
        if sc.is_remote()
            && sc.is_sampled()
            && let Some(t) = parent_threshold(&trace_state)
            && !t.samples(randomness(trace_id, &trace_state))
        {
            // The caller's threshold contradicts its own randomness: the
            // specification says to erase it rather than propagate a wrong count.
            trace_state = with_threshold(&trace_state, None);
        }
        SamplingResult {
            decision: if sc.is_sampled() {
                SamplingDecision::RecordAndSample
            } else {
                SamplingDecision::Drop
            },
            attributes: Vec::new(),
            trace_state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::RatioSampler;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceState};
    use otel_http::trust::DistrustedParentSampling;

    fn remote(flags: TraceFlags, ts: TraceState) -> Context {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(1u128),
            SpanId::from(2u64),
            flags,
            true,
            ts,
        ))
    }

    fn decide(s: &ParentBased, cx: Option<&Context>) -> SamplingResult {
        s.should_sample(cx, TraceId::from(1u128), "s", &SpanKind::Server, &[], &[])
    }

    #[test]
    fn follows_the_parent_unless_distrusted() {
        let keep_all = ParentBased::new(RatioSampler::new(1.0));
        let keep_none = ParentBased::new(RatioSampler::new(0.0));
        let unsampled = remote(TraceFlags::default(), TraceState::default());
        let sampled = remote(TraceFlags::SAMPLED, TraceState::default());
        assert_eq!(
            decide(&keep_all, Some(&unsampled)).decision,
            SamplingDecision::Drop
        );
        assert_eq!(
            decide(&keep_none, Some(&sampled)).decision,
            SamplingDecision::RecordAndSample
        );
        let distrusted = unsampled.with_value(DistrustedParentSampling);
        assert_eq!(
            decide(&keep_all, Some(&distrusted)).decision,
            SamplingDecision::RecordAndSample
        );
        let distrusted = sampled.with_value(DistrustedParentSampling);
        assert_eq!(
            decide(&keep_none, Some(&distrusted)).decision,
            SamplingDecision::Drop
        );
        assert_eq!(
            decide(&keep_all, None).decision,
            SamplingDecision::RecordAndSample
        );
    }

    #[test]
    fn an_inconsistent_parent_threshold_is_erased() {
        // Trace id 1 has randomness 1, far below th:8 (50%): inconsistent.
        let ts = TraceState::from_key_value([("ot", "th:8"), ("x", "y")]).expect("valid");
        let r = decide(
            &ParentBased::new(RatioSampler::new(1.0)),
            Some(&remote(TraceFlags::SAMPLED, ts)),
        );
        assert_eq!(r.trace_state.get("ot"), None);
        assert_eq!(r.trace_state.get("x"), Some("y"));
        let ok = TraceState::from_key_value([("ot", "th:0")]).expect("valid");
        let r = decide(
            &ParentBased::new(RatioSampler::new(1.0)),
            Some(&remote(TraceFlags::SAMPLED, ok)),
        );
        assert_eq!(r.trace_state.get("ot"), Some("th:0"));
    }
}
