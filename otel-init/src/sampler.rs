//! `OTEL_TRACES_SAMPLER` choices turned into SDK samplers that also honour
//! the trust boundary: when a server marked the caller's sampled flag as
//! distrusted (see `otel_http::trust::IncomingPolicy::distrust_sampled_flag`),
//! the root sampler decides, as if the span started the trace.

use crate::config::SamplerKind;
use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingResult, ShouldSample};
use otel_http::trust::parent_sampling_distrusted;

/// The configured sampler, and the one that decides for distrusted parents.
#[derive(Debug, Clone)]
pub(crate) struct TrustAwareSampler {
    configured: Sampler,
    root: Sampler,
}

pub(crate) fn build(kind: SamplerKind) -> TrustAwareSampler {
    let (configured, root) = match kind {
        SamplerKind::AlwaysOn => (Sampler::AlwaysOn, Sampler::AlwaysOn),
        SamplerKind::AlwaysOff => (Sampler::AlwaysOff, Sampler::AlwaysOff),
        SamplerKind::TraceIdRatio(p) => {
            (Sampler::TraceIdRatioBased(p), Sampler::TraceIdRatioBased(p))
        }
        SamplerKind::ParentBasedAlwaysOn => (
            Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            Sampler::AlwaysOn,
        ),
        SamplerKind::ParentBasedAlwaysOff => (
            Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            Sampler::AlwaysOff,
        ),
        SamplerKind::ParentBasedTraceIdRatio(p) => (
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(p))),
            Sampler::TraceIdRatioBased(p),
        ),
    };
    TrustAwareSampler { configured, root }
}

impl ShouldSample for TrustAwareSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let sampler = match parent_context {
            Some(cx) if parent_sampling_distrusted(cx) => &self.root,
            _ => &self.configured,
        };
        sampler.should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceState};
    use opentelemetry_sdk::trace::SamplingDecision;
    use otel_http::trust::DistrustedParentSampling;

    fn decide(sampler: &TrustAwareSampler, cx: &Context) -> SamplingDecision {
        sampler
            .should_sample(
                Some(cx),
                TraceId::from(1u128),
                "s",
                &SpanKind::Server,
                &[],
                &[],
            )
            .decision
    }

    #[test]
    fn a_distrusted_parent_does_not_decide() {
        let unsampled_parent = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(1u128),
            SpanId::from(2u64),
            TraceFlags::default(),
            true,
            TraceState::default(),
        ));
        let sampler = build(SamplerKind::ParentBasedAlwaysOn);
        assert_eq!(decide(&sampler, &unsampled_parent), SamplingDecision::Drop);
        let distrusted = unsampled_parent.with_value(DistrustedParentSampling);
        assert_eq!(
            decide(&sampler, &distrusted),
            SamplingDecision::RecordAndSample
        );

        let sampled_parent = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(1u128),
            SpanId::from(2u64),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ));
        let sampler = build(SamplerKind::ParentBasedAlwaysOff);
        assert_eq!(
            decide(&sampler, &sampled_parent),
            SamplingDecision::RecordAndSample
        );
        assert_eq!(
            decide(
                &sampler,
                &sampled_parent.with_value(DistrustedParentSampling)
            ),
            SamplingDecision::Drop
        );
    }
}
